#include "dist/grad_reducer.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>

#include "dist/comm.h"
#include "util/error.h"

namespace sg::dist {

namespace {

// Layer index of a parameter named "layers.<i>.…", -1 for the others.
int64_t layer_of(const std::string& name) {
  if (name.rfind("layers.", 0) != 0) return -1;
  return std::stoll(name.substr(7, name.find('.', 7) - 7));
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

struct GradReducer::Bucket {
  size_t first_param = 0, end_param = 0;  // [first, end) in ParamStore order
  int64_t offset = 0, n = 0;              // floats in the accumulator
  int64_t layer = -1;                     // completes at marks[layer]; -1: at the end
  bool added = false;
  int phase = 0;                    // 0 idle, 1 alltoall pending, 2 allgather pending
  std::vector<int> counts, displs;  // per rank chunk of this bucket
  std::vector<float> recv;          // R copies of this rank's chunk
  MPI_Request req = MPI_REQUEST_NULL;
  // Its own communicator: ranks start phase 2 of different buckets in whatever order
  // their transfers finish, and MPI matches collectives by order per communicator.
  MPI_Comm comm = MPI_COMM_NULL;
};

GradReducer::GradReducer(const ParamStore& params, int64_t n_layers) : params_(params) {
  const auto& all = params.all();
  const int R = size();
  int64_t offset = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const int64_t layer = layer_of(all[i].name);
    SG_CHECK(layer < n_layers, "gradient buckets: parameter ", all[i].name, " names layer ", layer,
             " of a model with ", n_layers, " layers");
    if (buckets_.empty() || buckets_.back().layer != layer) {
      Bucket b;
      b.first_param = i;
      b.offset = offset;
      b.layer = layer;
      buckets_.push_back(std::move(b));
    }
    buckets_.back().end_param = i + 1;
    buckets_.back().n += all[i].var->value.numel();
    offset += all[i].var->value.numel();
  }
  for (Bucket& b : buckets_) {
    SG_CHECK(b.n < (int64_t{1} << 31), "gradient bucket of ", b.n,
             " floats exceeds MPI's int count");
    b.counts.resize(R);
    b.displs.resize(R);
    for (int c = 0; c < R; ++c) {
      b.displs[c] = static_cast<int>(b.n * c / R);
      b.counts[c] = static_cast<int>(b.n * (c + 1) / R) - b.displs[c];
    }
    if (R == 1) continue;
    b.recv.resize(static_cast<size_t>(b.counts[rank()]) * R);
    check(MPI_Comm_dup(MPI_COMM_WORLD, &b.comm), "Comm_dup (gradient buckets)");
  }
  numel_ = offset;
  stats_.grad_bytes = offset * static_cast<int64_t>(sizeof(float));
  stats_.wire_bytes = R > 1 ? stats_.grad_bytes * 2 * (R - 1) / R : 0;
}

GradReducer::~GradReducer() {
  for (Bucket& b : buckets_) {
    if (b.req != MPI_REQUEST_NULL) MPI_Request_free(&b.req);
    if (b.comm != MPI_COMM_NULL) MPI_Comm_free(&b.comm);
  }
}

size_t GradReducer::buckets() const { return buckets_.size(); }

void GradReducer::arm(const std::vector<size_t>& layer_marks) {
  marks_ = layer_marks;
  armed_ = true;
  // One process, one micro-batch: the parameters' grads already are the sum. Skipping
  // the accumulator changes no bit (0 + g == g; a -0 becoming +0 changes no AdamW result).
  in_place_ = size() == 1 && !accumulated_;
}

void GradReducer::add(Bucket& b) {
  // Allocated on first use: one process with one micro-batch per step never needs it.
  if (acc_.empty()) acc_.assign(numel_, 0.0f);
  const auto& all = params_.all();
  float* acc = acc_.data() + b.offset;
  for (size_t i = b.first_param; i < b.end_param; ++i) {
    Var& v = *all[i].var;
    const int64_t n = v.value.numel();
    if (v.has_grad()) {
      const float* g = v.grad.data();
#pragma omp parallel for simd if (n > (1 << 16))
      for (int64_t j = 0; j < n; ++j) acc[j] += g[j];
      v.grad.zero();
    }
    acc += n;
  }
  b.added = true;
  accumulated_ = true;
}

void GradReducer::start(Bucket& b) {
  if (size() == 1) return;
  const int R = size();
  std::vector<int> recv_counts(R, b.counts[rank()]), recv_displs(R);
  for (int r = 0; r < R; ++r) recv_displs[r] = r * b.counts[rank()];
  check(MPI_Ialltoallv(acc_.data() + b.offset, b.counts.data(), b.displs.data(), MPI_FLOAT,
                       b.recv.data(), recv_counts.data(), recv_displs.data(), MPI_FLOAT, b.comm,
                       &b.req),
        "Ialltoallv (gradient reduction)");
  b.phase = 1;
}

// This rank's chunk: the copies from ranks 0..R-1 added in that order, then shared.
void GradReducer::phase2(Bucket& b) {
  const int R = size(), me = rank();
  const int64_t n = b.counts[me];
  float* out = acc_.data() + b.offset + b.displs[me];
  std::memcpy(out, b.recv.data(), n * sizeof(float));
  for (int r = 1; r < R; ++r) {
    const float* src = b.recv.data() + r * n;
#pragma omp parallel for simd if (n > (1 << 16))
    for (int64_t j = 0; j < n; ++j) out[j] += src[j];  // per element still in rank order
  }
  check(MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, acc_.data() + b.offset, b.counts.data(),
                        b.displs.data(), MPI_FLOAT, b.comm, &b.req),
        "Iallgatherv (gradient reduction)");
  b.phase = 2;
}

// OpenMPI moves non-blocking collectives forward only inside MPI calls: poke them.
void GradReducer::progress() {
  for (Bucket& b : buckets_) {
    if (b.phase == 0) continue;
    int done = 0;
    check(MPI_Test(&b.req, &done, MPI_STATUS_IGNORE), "Test (gradient reduction)");
    if (!done) continue;
    if (b.phase == 1)
      phase2(b);
    else
      b.phase = 0;
  }
}

void GradReducer::after_backward_step(size_t record_index) {
  if (!armed_ || in_place_) return;
  for (auto it = buckets_.rbegin(); it != buckets_.rend(); ++it) {
    if (it->added || it->layer < 0 || record_index > marks_.at(it->layer)) continue;
    add(*it);
    start(*it);
  }
  if (size() > 1) progress();
}

void GradReducer::micro_batch_done() {
  if (in_place_) return;
  for (auto it = buckets_.rbegin(); it != buckets_.rend(); ++it) {
    if (!it->added) {
      add(*it);
      if (armed_) start(*it);
    }
    if (!armed_) it->added = false;  // more micro-batches will add into it
  }
}

void GradReducer::finish() {
  const auto t0 = std::chrono::steady_clock::now();
  if (in_place_) {
    in_place_ = armed_ = false;
    stats_.exposed_ms = 0;
    return;
  }
  if (size() > 1) {
    for (Bucket& b : buckets_) {
      if (b.phase == 1) {
        check(MPI_Wait(&b.req, MPI_STATUS_IGNORE), "Wait (gradient reduction)");
        phase2(b);
      }
    }
    for (Bucket& b : buckets_) {
      if (b.phase == 2) check(MPI_Wait(&b.req, MPI_STATUS_IGNORE), "Wait (gradient reduction)");
      b.phase = 0;
    }
  }
  stats_.exposed_ms = ms_since(t0);
  const auto& all = params_.all();
  const float* acc = acc_.data();
  for (const Param& p : all) {
    Tensor& g = p.var->grad_or_zeros();
    std::memcpy(g.data(), acc, g.numel() * sizeof(float));
    acc += g.numel();
  }
  std::fill(acc_.begin(), acc_.end(), 0.0f);
  for (Bucket& b : buckets_) b.added = false;
  armed_ = accumulated_ = false;
}

double GradReducer::blocking_reduce_ms() {
  if (acc_.empty()) acc_.assign(numel_, 0.0f);
  const auto t0 = std::chrono::steady_clock::now();
  for (Bucket& b : buckets_) start(b);
  for (Bucket& b : buckets_)
    if (b.phase == 1) {
      check(MPI_Wait(&b.req, MPI_STATUS_IGNORE), "Wait (gradient reduction)");
      phase2(b);
    }
  for (Bucket& b : buckets_) {
    if (b.phase == 2) check(MPI_Wait(&b.req, MPI_STATUS_IGNORE), "Wait (gradient reduction)");
    b.phase = 0;
  }
  const double ms = ms_since(t0);
  std::fill(acc_.begin(), acc_.end(), 0.0f);
  return ms;
}

}  // namespace sg::dist
