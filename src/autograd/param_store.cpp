#include "autograd/param_store.h"

namespace sg {

VarP ParamStore::add(const std::string& name, Tensor value) {
  SG_CHECK(!contains(name), "parameter '", name, "' registered twice");
  index_[name] = params_.size();
  params_.push_back({name, make_var(std::move(value), /*requires_grad=*/true)});
  return params_.back().var;
}

VarP ParamStore::get(const std::string& name) const {
  auto it = index_.find(name);
  SG_CHECK(it != index_.end(), "no parameter named '", name, "'");
  return params_[it->second].var;
}

int64_t ParamStore::numel() const {
  int64_t n = 0;
  for (const auto& p : params_) n += p.var->value.numel();
  return n;
}

void ParamStore::zero_grad() {
  for (auto& p : params_)
    if (p.var->has_grad()) p.var->grad.zero();
}

}  // namespace sg
