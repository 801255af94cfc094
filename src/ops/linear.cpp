// linear: y = x W^T, dx += dy W, dw += dy^T x, each one cached oneDNN matmul primitive.
// Legend: N rows, I in features, O out features; a matmul is C_MxN (+)= A_MxK @ B_KxN.
#include "ops/linear.h"
#include "util/profiler.h"

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

namespace sg {

namespace {

MatmulPrecision g_precision = MatmulPrecision::fp32;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}
dnnl::stream& cpu_stream() {
  static dnnl::stream stream(cpu_engine());
  return stream;
}

// Everything that selects a primitive. A transposed operand is stored as its transpose
// (row-major), which the memory descriptor expresses through strides, so no copy is made.
// oneDNN fixes its thread partitioning when a primitive is created, so the OpenMP thread
// count is part of the key: omp_set_num_threads takes effect on the next call.
// `packed_b`: B in whatever layout oneDNN asks for (format_tag::any), see packed_weight().
struct MatmulKey {
  int64_t M, K, N;
  bool trans_a, trans_b, bf16, accumulate;
  int threads;
  bool packed_b = false;
  auto tie() const {
    return std::tie(M, K, N, trans_a, trans_b, bf16, accumulate, threads, packed_b);
  }
  bool operator<(const MatmulKey& o) const { return tie() < o.tie(); }
};

struct Matmul {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul prim;
};

// Row-major [rows, cols], or when `trans` the row-major [cols, rows] buffer viewed transposed.
dnnl::memory::desc matrix_desc(int64_t rows, int64_t cols, bool trans, dnnl::memory::data_type dt) {
  const dnnl::memory::dims strides =
      trans ? dnnl::memory::dims{1, rows} : dnnl::memory::dims{cols, 1};
  return dnnl::memory::desc({rows, cols}, dt, strides);
}

const Matmul& get_matmul(const MatmulKey& k) {
  static std::map<MatmulKey, Matmul> cache;
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(k);
  if (it != cache.end()) return it->second;
  using dt = dnnl::memory::data_type;
  const dt in = k.bf16 ? dt::bf16 : dt::f32;
  const dnnl::matmul::desc desc(
      matrix_desc(k.M, k.K, k.trans_a, in),
      k.packed_b ? dnnl::memory::desc({k.K, k.N}, in, dnnl::memory::format_tag::any)
                 : matrix_desc(k.K, k.N, k.trans_b, in),
      matrix_desc(k.M, k.N, false, dt::f32));
  dnnl::primitive_attr attr;
  if (k.accumulate) {  // C += A B: the sum post-op adds the previous content of C
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  dnnl::matmul::primitive_desc pd(desc, attr, cpu_engine());
  dnnl::matmul prim(pd);
  return cache.emplace(k, Matmul{pd, prim}).first->second;
}

// fp32 operands as a bf16 matmul reads them: round-to-nearest-even copies in scratch
// buffers kept between calls, one per slot (a weight converted on the fly and the
// activations of the same call need different slots). All conversions of a call share
// one parallel region: one fork/join instead of one per operand.
enum Slot { kWeight, kX, kDy, kCount };
struct Operand {
  const float* x;
  int64_t n;  // 0 for an operand that is not needed
  Slot slot;
};
template <size_t S>
std::array<const bf16*, S> to_bf16_scratch(const std::array<Operand, S>& in) {
  static thread_local std::array<std::vector<bf16>, kCount> scratch;
  std::array<bf16*, S> dst;
  std::array<const bf16*, S> out;
  for (size_t k = 0; k < S; ++k) {
    std::vector<bf16>& buf = scratch[in[k].slot];
    if (static_cast<int64_t>(buf.size()) < in[k].n) buf.resize(in[k].n);
    out[k] = dst[k] = buf.data();
  }
#pragma omp parallel
  for (size_t k = 0; k < S; ++k) {
#pragma omp for schedule(static) nowait
    for (int64_t i = 0; i < in[k].n; ++i) dst[k][i] = float_to_bf16(in[k].x[i]);
  }
  return out;
}

// C_MxN (+)= op(A) op(B), op(A) = A_MxK or A_KxM^T, op(B) = B_KxN or B_NxK^T; A and B
// are both fp32 or both bf16.
void matmul(float* C, const void* A, const void* B, int64_t M, int64_t K, int64_t N, bool trans_a,
            bool trans_b, bool accumulate, bool bf16) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // empty sum: oneDNN rejects zero dims, the answer is known
    if (!accumulate) std::fill_n(C, M * N, 0.0f);
    return;
  }
  const Matmul& mm =
      get_matmul({M, K, N, trans_a, trans_b, bf16, accumulate, omp_get_max_threads()});
  auto& engine = cpu_engine();
  // oneDNN takes non-const handles but only reads src and weights.
  dnnl::memory a_mem(mm.pd.src_desc(), engine, const_cast<void*>(A));
  dnnl::memory b_mem(mm.pd.weights_desc(), engine, const_cast<void*>(B));
  dnnl::memory c_mem(mm.pd.dst_desc(), engine, C);
  mm.prim.execute(cpu_stream(),
                  {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
  cpu_stream().wait();
}

// A weight Var's bf16 copy reordered into the layout `md` that a packed_b primitive asks
// for, redone only when the Var changes (once per optimizer step) or asks for another
// layout. On avx512_core_bf16 the packed forward measured 2-17% faster than the strided
// plain layout at the TinyStories shapes (most for the logits; docs/PERFORMANCE.md); AMX
// kernels pack their weights too. Entries of Vars that no longer exist are dropped.
struct PackedWeight {
  std::weak_ptr<Var> owner;
  uint64_t version = 0;
  dnnl::memory::desc md;
  dnnl::memory mem;
};
// `transposed`: the operand is W^T [I, O] (forward), else W [O, I] (backward dx).
const void* packed_weight(const VarP& w, const dnnl::memory::desc& md, int64_t I, int64_t O,
                          bool transposed) {
  static std::map<std::pair<const Var*, bool>, PackedWeight> cache;
  for (auto it = cache.begin(); it != cache.end();)
    it = it->second.owner.expired() ? cache.erase(it) : std::next(it);
  PackedWeight& e = cache[{w.get(), transposed}];
  if (e.owner.lock() != w || e.version != w->version || e.md != md || !e.mem) {
    // W [O, I] row-major, read as the operand [I, O] through strides when transposed.
    const auto bf = dnnl::memory::data_type::bf16;
    dnnl::memory plain(transposed ? matrix_desc(I, O, true, bf) : matrix_desc(O, I, false, bf),
                       cpu_engine(), const_cast<bf16*>(w->bf16_value()));
    dnnl::memory packed(md, cpu_engine());
    dnnl::reorder(plain, packed).execute(cpu_stream(), plain, packed);
    cpu_stream().wait();
    e = {w, w->version, md, packed};
  }
  return e.mem.get_data_handle();
}

// C_MxN (+)= A_MxK (bf16, row-major) times the packed weight: w^T (forward, K = I, N = O)
// or w (backward dx, K = O, N = I).
void matmul_packed(float* C, const bf16* A, const VarP& w, int64_t M, int64_t K, int64_t N,
                   bool transposed, bool accumulate) {
  const Matmul& mm =
      get_matmul({M, K, N, false, transposed, true, accumulate, omp_get_max_threads(), true});
  const int64_t I = transposed ? K : N, O = transposed ? N : K;
  dnnl::memory a_mem(mm.pd.src_desc(), cpu_engine(), const_cast<bf16*>(A));
  dnnl::memory b_mem(mm.pd.weights_desc(), cpu_engine(),
                     const_cast<void*>(packed_weight(w, mm.pd.weights_desc(), I, O, transposed)));
  dnnl::memory c_mem(mm.pd.dst_desc(), cpu_engine(), C);
  mm.prim.execute(cpu_stream(),
                  {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
  cpu_stream().wait();
}

// y = x w^T with bf16 operands and w packed (packed_weight()).
void linear_forward_packed(float* y_NxO, const float* x_NxI, const VarP& w, int64_t N, int64_t I,
                           int64_t O) {
  ScopedTimer timer(OpKind::matmul);
  const auto [x] = to_bf16_scratch<1>({{{x_NxI, N * I, kX}}});
  matmul_packed(y_NxO, x, w, N, I, O, true, false);
}

// linear_backward_bf16 with the dx product on the packed w.
void linear_backward_packed(float* dx_NxI, float* dw_OxI, const float* dy_NxO, const float* x_NxI,
                            const VarP& w, int64_t N, int64_t I, int64_t O, bool accumulate_dx,
                            bool accumulate_dw) {
  ScopedTimer timer(OpKind::matmul);
  const auto [dy, x] =
      to_bf16_scratch<2>({{{dy_NxO, N * O, kDy}, {x_NxI, dw_OxI ? N * I : 0, kX}}});
  if (dx_NxI) matmul_packed(dx_NxI, dy, w, N, O, I, false, accumulate_dx);       // dx (+)= dy w
  if (dw_OxI) matmul(dw_OxI, dy, x, O, N, I, true, false, accumulate_dw, true);  // dw (+)= dy^T x
}

}  // namespace

void set_matmul_precision(MatmulPrecision p) { g_precision = p; }
MatmulPrecision matmul_precision() { return g_precision; }

void linear_forward(float* y_NxO, const float* x_NxI, const float* w_OxI, int64_t N, int64_t I,
                    int64_t O) {
  if (g_precision == MatmulPrecision::bf16) {
    const auto [w] = to_bf16_scratch<1>({{{w_OxI, O * I, kWeight}}});
    return linear_forward_bf16(y_NxO, x_NxI, w, N, I, O);
  }
  ScopedTimer timer(OpKind::matmul);
  matmul(y_NxO, x_NxI, w_OxI, N, I, O, false, true, false, false);  // y = x w^T
}

void linear_backward(float* dx_NxI, float* dw_OxI, const float* dy_NxO, const float* x_NxI,
                     const float* w_OxI, int64_t N, int64_t I, int64_t O, bool accumulate_dx,
                     bool accumulate_dw) {
  if (g_precision == MatmulPrecision::bf16) {
    const auto [w] = to_bf16_scratch<1>({{{w_OxI, dx_NxI ? O * I : 0, kWeight}}});
    return linear_backward_bf16(dx_NxI, dw_OxI, dy_NxO, x_NxI, w, N, I, O, accumulate_dx,
                                accumulate_dw);
  }
  ScopedTimer timer(OpKind::matmul);
  if (dx_NxI) matmul(dx_NxI, dy_NxO, w_OxI, N, O, I, false, false, accumulate_dx, false);
  if (dw_OxI) matmul(dw_OxI, dy_NxO, x_NxI, O, N, I, true, false, accumulate_dw, false);
}

void linear_forward_bf16(float* y_NxO, const float* x_NxI, const bf16* w_OxI, int64_t N, int64_t I,
                         int64_t O) {
  ScopedTimer timer(OpKind::matmul);
  const auto [x] = to_bf16_scratch<1>({{{x_NxI, N * I, kX}}});
  matmul(y_NxO, x, w_OxI, N, I, O, false, true, false, true);  // y = x w^T
}

void linear_backward_bf16(float* dx_NxI, float* dw_OxI, const float* dy_NxO, const float* x_NxI,
                          const bf16* w_OxI, int64_t N, int64_t I, int64_t O, bool accumulate_dx,
                          bool accumulate_dw) {
  ScopedTimer timer(OpKind::matmul);
  const auto [dy, x] =
      to_bf16_scratch<2>({{{dy_NxO, N * O, kDy}, {x_NxI, dw_OxI ? N * I : 0, kX}}});
  if (dx_NxI)
    matmul(dx_NxI, dy, w_OxI, N, O, I, false, false, accumulate_dx, true);       // dx (+)= dy w
  if (dw_OxI) matmul(dw_OxI, dy, x, O, N, I, true, false, accumulate_dw, true);  // dw (+)= dy^T x
}

VarP linear(Tape& tape, const VarP& x, const VarP& w) {
  SG_CHECK(w->value.rank() == 2, "linear: weight has shape ", shape_str(w->value.shape()),
           ", expected [out, in]");
  const int64_t O = w->value.dim(0), I = w->value.dim(1);
  SG_CHECK(x->value.rank() >= 1 && x->value.dim(-1) == I, "linear: x has shape ",
           shape_str(x->value.shape()), ", expected [..., ", I, "] to match weight ",
           shape_str(w->value.shape()));
  const int64_t N = shape_numel(Shape(x->value.shape().begin(), x->value.shape().end() - 1));
  Shape out_shape = x->value.shape();
  out_shape.back() = O;
  VarP y = make_var(Tensor::empty(out_shape), tape.needs_grad(x, w));
  // In bf16 the weight is read through its bf16 copy, converted once per optimizer step,
  // and in the forward through that copy packed for oneDNN, also once per step.
  const bool bf16 = matmul_precision() == MatmulPrecision::bf16;
  const bool packed = bf16 && N > 0 && I > 0 && O > 0;  // oneDNN rejects empty dims
  if (packed)
    linear_forward_packed(y->value.data(), x->value.data(), w, N, I, O);
  else if (bf16)
    linear_forward_bf16(y->value.data(), x->value.data(), w->bf16_value(), N, I, O);
  else
    linear_forward(y->value.data(), x->value.data(), w->value.data(), N, I, O);
  if (y->requires_grad)
    tape.record_backward(y, [x, w, y, N, I, O, bf16,
                             packed] {      // backward in the forward's precision
      bool acc_dx = false, acc_dw = false;  // set before the call reads them
      float* dx = x->grad_for(acc_dx);
      float* dw = w->grad_for(acc_dw);
      if (packed)
        linear_backward_packed(dx, dw, y->grad.data(), x->value.data(), w, N, I, O, acc_dx, acc_dw);
      else if (bf16)
        linear_backward_bf16(dx, dw, y->grad.data(), x->value.data(), w->bf16_value(), N, I, O,
                             acc_dx, acc_dw);
      else {
        const MatmulPrecisionScope fp32(MatmulPrecision::fp32);  // whatever is set now
        linear_backward(dx, dw, y->grad.data(), x->value.data(), w->value.data(), N, I, O, acc_dx,
                        acc_dw);
      }
    });
  return y;
}

}  // namespace sg
