// The reports of `sgatlin bench` (see bench_ops.h). Each op case is one small function
// returning a BenchCase; add a case by writing one and listing it in ops_cases().
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "train/bench_ops.h"

#include "dist/comm.h"
#include "ops/attention.h"
#include "ops/linear.h"
#include "ops/sparse_experts.h"
#include "tensor/rng.h"
#include "train/bench.h"
#include "train/bench_distributed.h"
#include "train/precision.h"
#include "train/run_config.h"

namespace sg {

namespace {

struct BenchCase {
  std::string name;
  double flops;               // per rep
  std::function<void()> run;  // one rep; owns its inputs
};

VarP random_var(const Shape& shape, uint64_t stream, bool requires_grad) {
  Tensor t = Tensor::empty(shape);
  fill_normal(t, {0, stream}, 0.0f, 1.0f);
  return make_var(t, requires_grad);
}

// linear() op on x [N, I], w [O, I]: forward only, or forward + backward (3 matmuls).
BenchCase linear_case(int64_t N, int64_t I, int64_t O, MatmulPrecision p, bool backward) {
  VarP x = random_var({N, I}, 1, true), w = random_var({O, I}, 2, true);
  Tensor dy = Tensor::empty({N, O});
  fill_normal(dy, {0, 3}, 0.0f, 1.0f);
  const char* prec = p == MatmulPrecision::bf16 ? "bf16" : "fp32";
  const std::string name =
      cat("linear ", prec, backward ? " fwd+bwd" : " fwd", " N=", N, " I=", I, " O=", O);
  return {name, (backward ? 3.0 : 1.0) * 2.0 * N * I * O, [=] {
            const MatmulPrecisionScope scope(p);
            Tape tape;
            VarP y = linear(tape, x, w);
            if (!backward) return;
            y->grad = dy;  // grads of x and w keep accumulating across reps, as in training
            tape.replay();
          }};
}

// Baseline: one plain oneDNN matmul primitive C_MxN = A_MxK B_KxN, inputs already in
// the compute type (no conversion inside the timed region).
BenchCase raw_matmul_case(int64_t M, int64_t K, int64_t N, bool bf16) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  const dt in = bf16 ? dt::bf16 : dt::f32;
  const dnnl::memory::desc a_md({M, K}, in, tag::ab), b_md({K, N}, in, tag::ab),
      c_md({M, N}, dt::f32, tag::ab);
  const dnnl::matmul prim(
      dnnl::matmul::primitive_desc(dnnl::matmul::desc(a_md, b_md, c_md), engine));
  Tensor a = Tensor::empty({M, K}), b = Tensor::empty({K, N}), c = Tensor::empty({M, N});
  fill_normal(a, {0, 4}, 0.0f, 1.0f);
  fill_normal(b, {0, 5}, 0.0f, 1.0f);
  Bf16Tensor a16 = to_bf16(a), b16 = to_bf16(b);
  // The memories only point at the tensors' buffers: the lambda holds the tensors
  // (`keep`, since [=] copies only what the body names) and shares the dnnl handles.
  const dnnl::memory a_mem(a_md, engine, bf16 ? static_cast<void*>(a16.data()) : a.data()),
      b_mem(b_md, engine, bf16 ? static_cast<void*>(b16.data()) : b.data()),
      c_mem(c_md, engine, c.data());
  const std::string name =
      cat("oneDNN matmul ", bf16 ? "bf16" : "fp32", " M=", M, " K=", K, " N=", N);
  return {name, 2.0 * M * K * N,
          [=, keep = std::make_tuple(a, b, c, a16, b16), stream = dnnl::stream(engine)]() mutable {
            prim.execute(stream,
                         {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, b_mem}, {DNNL_ARG_DST, c_mem}});
            stream.wait();
          }};
}

// causal_attention on q, k, v [B, T, H, Dh], forward + backward. FLOPs count the four
// T x T x Dh products a causal kernel needs (q k^T, p v; backward dp, dq/dk, dv: the
// dense count halved by the mask), 2 * 2 * B*H*T*T*Dh forward, twice that backward.
BenchCase attention_case(int64_t B, int64_t H, int64_t T, int64_t Dh, MatmulPrecision p) {
  VarP q = random_var({B, T, H, Dh}, 6, true), k = random_var({B, T, H, Dh}, 7, true),
       v = random_var({B, T, H, Dh}, 8, true);
  Tensor dy = Tensor::empty({B, T, H, Dh});
  fill_normal(dy, {0, 9}, 0.0f, 1.0f);
  const double causal_fwd = 2.0 * 2.0 * B * H * T * T * Dh / 2;
  return {cat("attention ", precision_name(p), " fwd+bwd B=", B, " H=", H, " T=", T, " Dh=", Dh),
          3 * causal_fwd, [=] {
            const MatmulPrecisionScope scope(p);
            Tape tape;
            VarP y = causal_attention(tape, q, k, v);
            y->grad = dy;
            tape.replay();
          }};
}

// sgatlin's expert op (identity activation) with uniformly random picks, forward +
// backward into x, scores and both tables. FLOPs: a dot and an axpy per entry forward,
// a dot and three axpys backward: 2*2*N*C*K*D + 2*4*N*C*K*D. In bf16 the tables' bf16
// copies are made once, in the first rep, as training makes them once per step (in AdamW).
BenchCase sparse_experts_case(int64_t N, int64_t D, int64_t C, int64_t K, int64_t E,
                              MatmulPrecision p) {
  VarP x = random_var({N, D}, 10, true), s = random_var({N, C, K}, 11, true);
  VarP win = random_var({C, E, D}, 12, true), wout = random_var({C, E, D}, 13, true);
  IntTensor idx = IntTensor::empty({N, C, K});
  for (int64_t i = 0; i < N * C; ++i)  // K distinct neurons: k * E / K plus a random offset
    for (int64_t k = 0; k < K; ++k)
      idx[i * K + k] = static_cast<int32_t>(k * (E / K) + philox({0, 14}, i * K + k)[0] % (E / K));
  Tensor dy = Tensor::empty({N, D});
  fill_normal(dy, {0, 15}, 0.0f, 1.0f);
  return {cat("sgatlin experts ", precision_name(p), " fwd+bwd N=", N, " D=", D, " C=", C, " K=", K,
              " E=", E),
          12.0 * N * C * K * D, [=] {
            const MatmulPrecisionScope scope(p);
            Tape tape;
            VarP y = sparse_experts(tape, x, s, idx, win, wout, Activation::identity,
                                    ExpertGate::pre_activation);
            y->grad = dy;
            tape.replay();
          }};
}

std::vector<BenchCase> ops_cases() {
  const int64_t n = 1024;
  std::vector<BenchCase> cases;
  for (MatmulPrecision p : {MatmulPrecision::fp32, MatmulPrecision::bf16}) {
    const bool bf16 = p == MatmulPrecision::bf16;
    cases.push_back(raw_matmul_case(n, n, n, bf16));
    cases.push_back(linear_case(n, n, n, p, false));
    cases.push_back(linear_case(n, n, n, p, true));
  }
  for (MatmulPrecision p : {MatmulPrecision::fp32, MatmulPrecision::bf16}) {
    cases.push_back(attention_case(8, 4, 256, 64, p));
    cases.push_back(sparse_experts_case(4096, 256, 8, 8, 1024, p));  // TinyStories, T256 B16
  }
  return cases;
}

// Times every case `reps` times, round-robin (case 1, 2, ..., 1, 2, ...) so that load from
// other processes falls on all cases alike and their ratio stays meaningful.
std::vector<std::vector<double>> time_cases(const std::vector<BenchCase>& cases, int warmup,
                                            int reps) {
  for (const BenchCase& c : cases)
    for (int i = 0; i < warmup; ++i) c.run();
  std::vector<std::vector<double>> ms(cases.size(), std::vector<double>(reps));
  for (int r = 0; r < reps; ++r)
    for (size_t k = 0; k < cases.size(); ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      cases[k].run();
      ms[k][r] =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
  return ms;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string one, five, fifteen;
  f >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// Under mpirun (rank 0 prints): where a data-parallel step's time goes.
void print_bench_data_parallel(const DataParallelBenchResult& r) {
  if (!dist::is_root()) return;
  std::printf(
      "  %d ranks: %.0f tokens/s  %.1f ms/step (median)\n"
      "  compute %.1f ms  communication %.1f ms (blocking)  exposed %.1f ms (%.1f%% of the step)\n"
      "  gradient bytes reduced %lld per step, sent per rank %lld\n"
      "  load average after: %s\n",
      r.ranks, r.tokens_per_s, r.step_ms, r.compute_ms, r.communication_ms, r.exposed_ms,
      100 * r.exposed_ms / r.step_ms, static_cast<long long>(r.grad_bytes),
      static_cast<long long>(r.wire_bytes), load_average().c_str());
}

}  // namespace

void run_bench_ops(const OpBenchOptions& o, int threads) {
  std::printf("bench ops: %d threads, %d warm-up + %d timed reps round-robin, load average %s\n",
              threads, o.warmup, o.reps, load_average().c_str());
  const std::vector<BenchCase> cases = ops_cases();
  const auto ms = time_cases(cases, o.warmup, o.reps);
  std::printf("%-44s %10s %10s %10s %10s\n", "case", "median ms", "GFLOP/s", "best ms", "GFLOP/s");
  for (size_t k = 0; k < cases.size(); ++k) {
    const double med = median(ms[k]), best = *std::min_element(ms[k].begin(), ms[k].end());
    std::printf("%-44s %10.3f %10.1f %10.3f %10.1f\n", cases[k].name.c_str(), med,
                cases[k].flops / (med * 1e6), best, cases[k].flops / (best * 1e6));
  }
  std::printf("load average after: %s\n", load_average().c_str());
}

void run_bench_model(const ModelBenchOptions& o, int threads) {
  const RunConfig cfg = load_run_config(o.config, o.overrides);
  const MatmulPrecision precision = apply_precision(cfg.precision, o.config);
  if (dist::is_root())
    std::printf(
        "bench %s: %s ffw, %s, batch %lld x seq_len %lld, %d threads, %lld steps after 1 "
        "warm-up, load average %s\n",
        o.config.c_str(), cfg.model.ffw.type.c_str(), precision_name(precision),
        static_cast<long long>(cfg.data.batch_size), static_cast<long long>(cfg.data.seq_len),
        threads, static_cast<long long>(o.steps), load_average().c_str());
  if (dist::size() > 1) return print_bench_data_parallel(bench_data_parallel(cfg, o.steps));
  const ModelBenchResult r = bench_model(cfg, o.steps);
  std::printf(
      "  %.0f tokens/s  %.1f ms/step (median)  %.1f GFLOP/s  (%.1f MFLOP per trained token, "
      "logits included)\n",
      r.tokens_per_s, r.median_ms, r.gflops, r.train_flops_per_token / 1e6);
  double total = 0;
  for (double ms : r.ms_per_step) total += ms;
  std::printf("  time per step by op kind (mean over the timed steps):\n");
  for (size_t k = 0; k < r.ms_per_step.size(); ++k)
    std::printf("    %-24s %8.1f ms %5.1f%%\n", op_kind_name(static_cast<OpKind>(k)),
                r.ms_per_step[k], r.mean_ms > 0 ? 100 * r.ms_per_step[k] / r.mean_ms : 0.0);
  std::printf("    %-24s %8.1f ms %5.1f%%\n", "other (untimed glue)", r.mean_ms - total,
              r.mean_ms > 0 ? 100 * (r.mean_ms - total) / r.mean_ms : 0.0);
  const double mib = 1024.0 * 1024.0;
  std::printf(
      "  memory: peak RSS %.0f MiB, %.2fx the estimate %.0f MiB = params %.0f + grads %.0f + "
      "AdamW moments %.0f + bf16 weight copies %.0f + activations %.0f (peak live tensors "
      "in a step, grads excluded)\n",
      r.peak_rss_bytes / mib, static_cast<double>(r.peak_rss_bytes) / r.estimate_bytes(),
      r.estimate_bytes() / mib, r.params_bytes / mib, r.grads_bytes / mib, r.optimizer_bytes / mib,
      r.bf16_copy_bytes / mib, r.activation_bytes / mib);
  std::printf("  load average after: %s\n", load_average().c_str());
}

}  // namespace sg
