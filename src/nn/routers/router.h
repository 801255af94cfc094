// Routers of the sparse feedforward layers (spec §2.2): per token and channel, the K
// picked neurons and their raw scores. Each router type is one small unit
// (product_dense.cpp, product_key_value.cpp, key_value.cpp, dense.cpp) built from the
// shared differentiable pieces declared here.
// Legend: N tokens, D d_model, C channels, E neurons per channel (the spec's N),
// K picks per channel, Kd d_key, nk = sqrt(E), G groups, M keys per group.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "autograd/param_store.h"
#include "autograd/tape.h"
#include "nn/routing_trace.h"

namespace sg {

struct RouterDims {
  int64_t d_model = 0, n_neurons = 0, n_channels = 0, knn = 0, d_key = 0;
};

struct Routing {
  VarP scores_NxCxK;    // raw scores; gradients flow back into the router parameters
  IntTensor idx_NxCxK;  // neuron ids in [0, E), no gradient
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

// ---- shared pieces ----

// Top-K of s1[a] + s2[b] over all nk*nk pairs, index a*nk + b, via the K*K candidates
// from the top-K of each half; ties toward the lower index. Exact: a pair outside the
// candidates is dominated by K candidates.
void product_topk_row(const float* s1_nk, const float* s2_nk, int64_t nk, int64_t K, float* vals_K,
                      int32_t* idx_K);

// logits [N, C*E] viewed [N, C, E] -> top-K per (token, channel); d scores scatter
// back into the picked logits.
Routing topk_route(Tape& tape, const VarP& logits_NxCE, int64_t C, int64_t K);
// sub [N, 2*C*nk] viewed [N, 2, C, nk] -> product top-K per (token, channel).
Routing product_topk_route(Tape& tape, const VarP& sub_Nx2Cnk, int64_t C, int64_t K);
// sim[n, g, m] = scale * <q[n, g, :], keys[g, m, :]>; q [N, G*Kd], keys [..., M, Kd]
// with its leading dims flattened to G; sim is [N, G*M].
VarP key_similarity(Tape& tape, const VarP& q_NxGKd, const VarP& keys_GxMxKd, float scale);

}  // namespace sg
