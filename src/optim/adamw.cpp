// AdamW over every parameter of a ParamStore. Per element the arithmetic runs in double
// and only the stored p, m, v are rounded to fp32, so one step adds one rounding per value.
// A parameter that received no gradient this step is updated as if its gradient were 0
// (its moments still decay and weight decay still applies), as in a dense implementation.
#include "optim/adamw.h"

#include <omp.h>

#include <cmath>

namespace sg {

// Deterministic for a given thread count: each thread sums its fixed chunk of every
// parameter in double (in SIMD lanes), and the per-thread partials are added in thread order.
double global_grad_norm(const ParamStore& params) {
  std::vector<double> partial(omp_get_max_threads(), 0.0);
#pragma omp parallel
  {
    const int T = omp_get_num_threads(), t = omp_get_thread_num();
    double acc = 0;
    for (const auto& p : params.all()) {
      if (!p.var->has_grad()) continue;
      const float* g = p.var->grad.data();
      const int64_t n = p.var->grad.numel(), i0 = n * t / T, i1 = n * (t + 1) / T;
#pragma omp simd reduction(+ : acc)
      for (int64_t i = i0; i < i1; ++i) acc += static_cast<double>(g[i]) * g[i];
    }
    partial[omp_get_thread_num()] = acc;
  }
  double sum = 0;
  for (double x : partial) sum += x;
  return std::sqrt(sum);
}

AdamW::AdamW(const ParamStore& params, AdamWConfig cfg) : params_(params), cfg_(cfg) {
  SG_CHECK(cfg_.lr_peak > 0, "AdamW: lr_peak = ", cfg_.lr_peak, ", expected > 0");
  for (const auto& p : params_.all()) {
    m_.push_back(Tensor::zeros(p.var->value.shape()));
    v_.push_back(Tensor::zeros(p.var->value.shape()));
  }
}

// p -= lr_t * (mhat / (sqrt(vhat) + eps) + decay * p) with bias-corrected moments; when
// p16 is given, also its bf16 copy in the same pass (no second read of the weights).
static void adamw_update(float* p, bf16* p16, float* m, float* v, const float* g, int64_t n,
                         double grad_scale, double lr_t, double decay, double b1, double b2,
                         double eps, double bc1, double bc2) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const double gi = g ? grad_scale * g[i] : 0.0;
    const double mi = b1 * m[i] + (1 - b1) * gi;
    const double vi = b2 * v[i] + (1 - b2) * gi * gi;
    m[i] = static_cast<float>(mi);
    v[i] = static_cast<float>(vi);
    const double update = (mi / bc1) / (std::sqrt(vi / bc2) + eps);
    p[i] = static_cast<float>(p[i] - lr_t * (update + decay * p[i]));
    if (p16) p16[i] = float_to_bf16(p[i]);
  }
}

double AdamW::step(double lr_t) {
  SG_CHECK(params_.all().size() == m_.size(), "AdamW: the ParamStore has ", params_.all().size(),
           " parameters but the optimizer was built for ", m_.size());
  const double norm = global_grad_norm(params_);
  SG_CHECK(std::isfinite(norm), "AdamW: global gradient norm is ", norm, " at step ", t_ + 1);
  const double scale = cfg_.clip > 0 && norm > cfg_.clip ? cfg_.clip / norm : 1.0;
  ++t_;
  const double bc1 = 1 - std::pow(cfg_.b1, static_cast<double>(t_));
  const double bc2 = 1 - std::pow(cfg_.b2, static_cast<double>(t_));
  const auto& ps = params_.all();
  for (size_t k = 0; k < ps.size(); ++k) {
    Var& var = *ps[k].var;
    SG_CHECK(!var.has_grad() || var.grad.numel() == var.value.numel(), "AdamW: gradient of ",
             ps[k].name, " has shape ", shape_str(var.grad.shape()), ", parameter has ",
             shape_str(var.value.shape()));
    const double decay = var.value.rank() >= 2 ? cfg_.weight_decay / cfg_.lr_peak : 0.0;
    var.mark_changed();
    adamw_update(var.value.data(), var.bf16_value_to_refresh(), m_[k].data(), v_[k].data(),
                 var.has_grad() ? var.grad.data() : nullptr, var.value.numel(), scale, lr_t, decay,
                 cfg_.b1, cfg_.b2, cfg_.eps, bc1, bc2);
  }
  return norm;
}

void AdamW::restore(std::vector<Tensor> m, std::vector<Tensor> v, int64_t steps_done) {
  const auto& ps = params_.all();
  SG_CHECK(m.size() == ps.size() && v.size() == ps.size(), "AdamW::restore: got ", m.size(),
           " first and ", v.size(), " second moments for ", ps.size(), " parameters");
  SG_CHECK(steps_done >= 0, "AdamW::restore: steps_done = ", steps_done, ", expected >= 0");
  for (size_t k = 0; k < ps.size(); ++k) {
    check_shape("AdamW::restore", (ps[k].name + ".m").c_str(), m[k].shape(),
                ps[k].var->value.shape());
    check_shape("AdamW::restore", (ps[k].name + ".v").c_str(), v[k].shape(),
                ps[k].var->value.shape());
  }
  m_ = std::move(m);
  v_ = std::move(v);
  t_ = steps_done;
}

}  // namespace sg
