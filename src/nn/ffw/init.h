// Parameter registration with spec §3 initialisation, keyed by the parameter's full
// name (RngKey{seed, stream_of(name)}) so values never depend on creation order.
#pragma once
#include <string>

#include "autograd/param_store.h"

namespace sg {

// Linear weight [out, in] (or stacked [E, out, in]): truncated normal, std 1/sqrt(fan_in).
VarP add_linear_weight(ParamStore& params, const std::string& name, Shape shape, uint64_t seed);
// Truncated normal with the given std; rescale=false keeps the raw cut values (router keys).
VarP add_truncated_normal(ParamStore& params, const std::string& name, Shape shape, float std,
                          bool rescale, uint64_t seed);
VarP add_zeros(ParamStore& params, const std::string& name, Shape shape);  // GLU biases

}  // namespace sg
