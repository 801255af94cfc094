// Named trainable parameters, registered once under the checkpoint names of
// spec §7 ("layers.0.attention.wq.weight"), kept in registration order.
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

#include "autograd/var.h"

namespace sg {

struct Param {
  std::string name;
  VarP var;
};

class ParamStore {
 public:
  // Registers `value` as a trainable parameter; throws if the name is taken.
  VarP add(const std::string& name, Tensor value);
  VarP get(const std::string& name) const;  // throws naming the missing parameter
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  const std::vector<Param>& all() const { return params_; }
  int64_t numel() const;
  void zero_grad();

 private:
  std::vector<Param> params_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace sg
