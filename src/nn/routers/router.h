// Routers of the sparse feedforward layers (spec §2.2): per token and channel, the K
// picked neurons and their raw scores. Each router type is one small unit
// (product_dense.cpp, product_key_value.cpp, key_value.cpp, dense.cpp) built from the
// routing ops (ops/route_topk.h, ops/key_similarity.h).
// Legend: N tokens, D d_model, C channels, E neurons per channel (the spec's N),
// K picks per channel, Kd d_key, nk = sqrt(E), G groups, M keys per group.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "autograd/param_store.h"
#include "autograd/tape.h"
#include "nn/routing_trace.h"
#include "ops/key_similarity.h"
#include "ops/route_topk.h"

namespace sg {

struct RouterDims {
  int64_t d_model = 0, n_neurons = 0, n_channels = 0, knn = 0, d_key = 0;
};

class Router {
 public:
  virtual ~Router() = default;
  // Routes x_NxD and records how often each neuron was picked.
  Routing route(Tape& tape, const VarP& x_NxD);
  // Picks per neuron in the last route(), flattened [C*E].
  const std::vector<int64_t>& pick_counts() const { return counts_; }
  // Record/override of the decisions; route() applies it before counting.
  RoutingHook& hook() { return hook_; }

 protected:
  explicit Router(const RouterDims& dims) : dims_(dims) {}
  virtual Routing compute(Tape& tape, const VarP& x_NxD) = 0;
  RouterDims dims_;

 private:
  std::vector<int64_t> counts_;
  RoutingHook hook_;
};

// Builds `type` (product_dense | product_key_value | key_value | dense) with its
// parameters under prefix + ".router." (spec §7); validates the dimensions.
std::unique_ptr<Router> make_router(const std::string& type, const RouterDims& dims,
                                    const std::string& prefix, ParamStore& params, uint64_t seed);

std::unique_ptr<Router> make_product_dense_router(const RouterDims& dims, const std::string& prefix,
                                                  ParamStore& params, uint64_t seed);
std::unique_ptr<Router> make_product_key_value_router(const RouterDims& dims,
                                                      const std::string& prefix, ParamStore& params,
                                                      uint64_t seed);
std::unique_ptr<Router> make_key_value_router(const RouterDims& dims, const std::string& prefix,
                                              ParamStore& params, uint64_t seed);
std::unique_ptr<Router> make_dense_router(const RouterDims& dims, const std::string& prefix,
                                          ParamStore& params, uint64_t seed);

// nk = sqrt(E) for the product routers; throws (naming `who`) unless E is a perfect
// square and K < nk.
int64_t product_side(const RouterDims& dims, const std::string& who);

}  // namespace sg
