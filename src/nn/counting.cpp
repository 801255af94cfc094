// Model-level FLOP and parameter counts (spec §5); the per-type feedforward counts are
// in the descriptor table (nn/ffw_types.cpp).
#include "nn/counting.h"

#include <cmath>

#include "nn/ffw_types.h"

namespace sg {

int64_t ffw_flops_per_token(const FfwConfig& f, int64_t D) {
  return ffw_type(f.type).cost(f, D).flops;
}

int64_t ffw_n_params(const FfwConfig& f, int64_t D) { return ffw_type(f.type).cost(f, D).params; }

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
