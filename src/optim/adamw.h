// AdamW with decoupled weight decay (spec §5): p -= lr_t * (adam_update + (wd / lr_peak) * p);
// rank-1 parameters (norm scales, biases) get no decay. Global-norm clipping first.
#pragma once
#include <vector>

#include "autograd/param_store.h"

namespace sg {

struct AdamWConfig {
  double lr_peak = 1e-3, weight_decay = 1e-4;
  double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  double clip = 1.0;  // <= 0 disables clipping
};

class AdamW {
 public:
  AdamW(const ParamStore& params, AdamWConfig cfg);
  // One update at learning rate lr_t from the grads in params; returns the global
  // grad norm before clipping. Increments step().
  double step(double lr_t);
  int64_t steps_done() const { return t_; }

  // Moments, named "<param>.m" / "<param>.v", for checkpoints.
  const std::vector<Tensor>& m() const { return m_; }
  const std::vector<Tensor>& v() const { return v_; }
  void restore(std::vector<Tensor> m, std::vector<Tensor> v, int64_t steps_done);

 private:
  const ParamStore& params_;
  AdamWConfig cfg_;
  std::vector<Tensor> m_, v_;
  int64_t t_ = 0;
};

double global_grad_norm(const ParamStore& params);

}  // namespace sg
