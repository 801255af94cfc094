#include "nn/ffw/init.h"

#include <cmath>

#include "tensor/rng.h"

namespace sg {

VarP add_truncated_normal(ParamStore& params, const std::string& name, Shape shape, float std,
                          bool rescale, uint64_t seed) {
  Tensor t = Tensor::empty(std::move(shape));
  fill_truncated_normal(t, RngKey{seed, stream_of(name)}, std, rescale);
  return params.add(name, t);
}

VarP add_linear_weight(ParamStore& params, const std::string& name, Shape shape, uint64_t seed) {
  const int64_t fan_in = shape.back();
  return add_truncated_normal(params, name, std::move(shape),
                              1.0f / std::sqrt(static_cast<float>(fan_in)), true, seed);
}

VarP add_zeros(ParamStore& params, const std::string& name, Shape shape) {
  return params.add(name, Tensor::zeros(std::move(shape)));
}

}  // namespace sg
