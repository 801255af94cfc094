// The feedforward and router types, each described once: its name in configs, its
// factory, its FLOP and parameter counts (spec §5, §7), its validation rules and its
// ladder shape (spec §6). Config parsing, counting, sweeps, reports and the layers all
// read these tables; nothing else compares type names. Adding a type is adding a row.
// Legend: D d_model, F d_ffw (hidden width or neurons E), C n_channels, K knn, Kd d_key.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "autograd/param_store.h"
#include "nn/model_config.h"

namespace sg {

class FeedForward;
class Router;
struct RouterDims;

enum class FfwType { mlp, swiglu, moe, peer, sgatlin };
enum class RouterType { product_dense, product_key_value, key_value, dense };

struct Cost {
  int64_t flops, params;  // forward FLOPs per token, parameter count
};

struct RouterTypeInfo {
  RouterType type;
  const char* name;
  bool product;  // product keys: d_ffw a perfect square, knn < sqrt(d_ffw)
  std::unique_ptr<Router> (*make)(const RouterDims&, const std::string& prefix, ParamStore&,
                                  uint64_t seed);
  Cost (*cost)(int64_t D, int64_t E, int64_t C, int64_t Kd);  // of a sparse layer's router
};

// Where the K picks of a routed layer come from, for the knn validation:
// knn <= the config value `field`, counted in `unit`.
struct PickPool {
  const char* field;  // "d_ffw" | "n_channels"
  const char* unit;   // "neurons" | "experts"
  int64_t FfwConfig::*size;
};

struct FfwTypeInfo {
  FfwType type;
  const char* name;
  std::unique_ptr<FeedForward> (*make)(const FfwConfig&, int64_t d_model, const std::string& prefix,
                                       ParamStore&, uint64_t seed);
  Cost (*cost)(const FfwConfig&, int64_t D);
  // The router it routes with: nullptr for dense layers and moe (a linear gate);
  // `fixed_router` set when the type allows only that one (peer, spec §2.5).
  bool takes_router;
  const char* fixed_router;
  const char* default_activation;  // the config's default when the key is absent
  const PickPool* picks;           // knn bound when the router is not a product one
  // Pools of the routing decisions: {tables, ids per table} ({0, 0}: not routed). The
  // routing hook (interventions) exists for the types with `patchable` set.
  int64_t (*pool_tables)(const FfwConfig&);
  int64_t FfwConfig::*pool_size;
  bool patchable;
  // Scaling-ladder shape at d_model D (spec §6), given the ladder scale.
  void (*ladder)(FfwConfig&, int64_t D, int64_t scale);
};

// Every row, in the canonical order (mlp, swiglu, moe, peer, sgatlin): sweeps and
// reports list types in this order.
const std::vector<FfwTypeInfo>& ffw_types();
const std::vector<RouterTypeInfo>& router_types();

// The row of `name`; nullptr when there is none.
const FfwTypeInfo* find_ffw_type(const std::string& name);
const RouterTypeInfo* find_router_type(const std::string& name);
// The row of `name`; throws "<who>unknown ffw type '<name>' (allowed: ...)" otherwise
// (`who` is empty or names the caller, ending in ": ").
const FfwTypeInfo& ffw_type(const std::string& name, const std::string& who = "");
const RouterTypeInfo& router_type(const std::string& name, const std::string& who = "");

const FfwTypeInfo& ffw_type(FfwType type);

std::vector<std::string> ffw_type_names();
std::vector<std::string> router_type_names();

}  // namespace sg
