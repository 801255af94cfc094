// FLOPs count 2 per multiply-add of the forward matmuls only (spec §2, §5).
#include "nn/counting.h"

#include <cmath>

#include "util/error.h"

namespace sg {

namespace {

int64_t isqrt_exact(int64_t n, const char* what) {
  const auto r = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(n))));
  SG_CHECK(r * r == n, what, ": d_ffw (neurons N) must be a perfect square, got ", n);
  return r;
}

struct RouterCost {
  int64_t flops, params;
};

// Router of a sparse layer with E neurons per channel (spec §2.2 and §7).
RouterCost router_cost(const std::string& type, int64_t D, int64_t E, int64_t C, int64_t Kd) {
  if (type == "product_dense") {
    const int64_t nk = isqrt_exact(E, "product_dense router");
    return {2 * Kd * D + 2 * 2 * C * nk * Kd, Kd * D + 2 * C * nk * Kd};
  }
  if (type == "product_key_value") {
    const int64_t nk = isqrt_exact(E, "product_key_value router");
    return {2 * 2 * C * Kd * D + 2 * 2 * C * nk * Kd, 2 * C * Kd * D + 2 * C * nk * Kd};
  }
  // The spec gives no key_value formula; by analogy: queries 2*C*Kd*D, keys 2*C*E*Kd.
  if (type == "key_value") return {2 * C * Kd * D + 2 * C * E * Kd, C * Kd * D + C * E * Kd};
  if (type == "dense") return {2 * D * Kd + 2 * Kd * E * C, Kd * D + C * E * Kd};
  fail("unknown router_type '", type,
       "' (allowed: product_dense, product_key_value, key_value, dense)");
}

}  // namespace

int64_t ffw_flops_per_token(const FfwConfig& f, int64_t D) {
  const int64_t F = f.d_ffw, C = f.n_channels, K = f.knn;
  if (f.type == "mlp") return 2 * D * F + 2 * F * D;
  if (f.type == "swiglu") return 3 * 2 * D * F;
  if (f.type == "moe") return 2 * D * C + K * (2 * D * 2 * F + 2 * F * D);
  if (f.type == "sgatlin")
    return router_cost(f.router_type, D, F, C, f.d_key).flops + 2 * 2 * K * C * D;
  if (f.type == "peer")
    return router_cost("product_key_value", D, F, C, f.d_key).flops + 2 * 2 * K * C * D;
  fail("unknown ffw type '", f.type, "' (allowed: mlp, swiglu, moe, peer, sgatlin)");
}

int64_t ffw_n_params(const FfwConfig& f, int64_t D) {
  const int64_t F = f.d_ffw, C = f.n_channels;
  if (f.type == "mlp") return 2 * D * F;
  if (f.type == "swiglu") return 2 * F * D + 2 * F + D * F + D;
  if (f.type == "moe") return C * D + C * (2 * F * D + 2 * F + D * F + D);
  if (f.type == "sgatlin")
    return 2 * C * F * D + router_cost(f.router_type, D, F, C, f.d_key).params;
  if (f.type == "peer")
    return 2 * F * D + router_cost("product_key_value", D, F, C, f.d_key).params;
  fail("unknown ffw type '", f.type, "' (allowed: mlp, swiglu, moe, peer, sgatlin)");
}

int64_t fwd_flops_per_sequence(const ModelConfig& m, int64_t T) {
  const int64_t D = m.d_model, H = m.n_heads(), Dh = m.d_heads;
  const int64_t attention = 3 * T * 2 * D * D + 2 * H * 2 * T * T * Dh + T * 2 * D * D;
  return m.n_layers * (attention + T * ffw_flops_per_token(m.ffw, D));
}

int64_t n_params(const ModelConfig& m) {
  const int64_t D = m.d_model, HDh = m.n_heads() * m.d_heads, Dh = m.d_heads;
  const int64_t attention = 4 * HDh * D + 2 * Dh;  // wq, wk, wv, wo + q_norm, k_norm
  const int64_t layer = attention + 2 * D + ffw_n_params(m.ffw, D);  // + two block norms
  return m.vocab_size * D + m.n_layers * layer + D;                  // + final norm
}

int64_t steps_for_budget(double budget, const ModelConfig& m, int64_t T, int64_t batch_size) {
  const int64_t per_step = 3 * fwd_flops_per_sequence(m, T) * batch_size;
  SG_CHECK(per_step > 0, "steps_for_budget: FLOPs per step must be positive, got ", per_step,
           " (seq_len ", T, ", batch_size ", batch_size, ")");
  SG_CHECK(budget >= 0, "steps_for_budget: flops_budget must be >= 0, got ", budget);
  return static_cast<int64_t>(std::floor(budget / static_cast<double>(per_step)));
}

}  // namespace sg
