// The descriptor tables of ffw_types.h. FLOPs count 2 per multiply-add of the forward
// matmuls only (spec §2, §5); parameters follow spec §7.
#include "nn/ffw_types.h"

#include <cmath>

#include "nn/ffw/layers.h"
#include "nn/routers/router.h"
#include "util/error.h"
#include "util/strings.h"

namespace sg {

namespace {

int64_t isqrt_exact(int64_t n, const char* what) {
  const auto r = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(n))));
  SG_CHECK(r * r == n, what, ": d_ffw (neurons N) must be a perfect square, got ", n);
  return r;
}

// ---- routers of a sparse layer with E neurons per channel (spec §2.2 and §7) ----

Cost product_dense_cost(int64_t D, int64_t E, int64_t C, int64_t Kd) {
  const int64_t nk = isqrt_exact(E, "product_dense router");
  return {2 * Kd * D + 2 * 2 * C * nk * Kd, Kd * D + 2 * C * nk * Kd};
}
Cost product_key_value_cost(int64_t D, int64_t E, int64_t C, int64_t Kd) {
  const int64_t nk = isqrt_exact(E, "product_key_value router");
  return {2 * 2 * C * Kd * D + 2 * 2 * C * nk * Kd, 2 * C * Kd * D + 2 * C * nk * Kd};
}
// The spec gives no key_value formula; by analogy: queries 2*C*Kd*D, keys 2*C*E*Kd.
Cost key_value_cost(int64_t D, int64_t E, int64_t C, int64_t Kd) {
  return {2 * C * Kd * D + 2 * C * E * Kd, C * Kd * D + C * E * Kd};
}
Cost dense_cost(int64_t D, int64_t E, int64_t C, int64_t Kd) {
  return {2 * D * Kd + 2 * Kd * E * C, Kd * D + C * E * Kd};
}

const std::vector<RouterTypeInfo> kRouterTypes = {
    {RouterType::product_dense, "product_dense", true, make_product_dense_router,
     product_dense_cost},
    {RouterType::product_key_value, "product_key_value", true, make_product_key_value_router,
     product_key_value_cost},
    {RouterType::key_value, "key_value", false, make_key_value_router, key_value_cost},
    {RouterType::dense, "dense", false, make_dense_router, dense_cost},
};

// ---- feedforward types ----

Cost mlp_cost(const FfwConfig& f, int64_t D) {
  const int64_t F = f.d_ffw;
  return {2 * D * F + 2 * F * D, 2 * D * F};
}
Cost swiglu_cost(const FfwConfig& f, int64_t D) {
  const int64_t F = f.d_ffw;
  return {3 * 2 * D * F, 2 * F * D + 2 * F + D * F + D};
}
Cost moe_cost(const FfwConfig& f, int64_t D) {
  const int64_t F = f.d_ffw, C = f.n_channels, K = f.knn;
  return {2 * D * C + K * (2 * D * 2 * F + 2 * F * D), C * D + C * (2 * F * D + 2 * F + D * F + D)};
}
// sgatlin: C tables of E neurons; peer: one shared table (spec §2.2, §2.5).
Cost sgatlin_cost(const FfwConfig& f, int64_t D) {
  const int64_t F = f.d_ffw, C = f.n_channels, K = f.knn;
  const Cost r = router_type(f.router_type).cost(D, F, C, f.d_key);
  return {r.flops + 2 * 2 * K * C * D, 2 * C * F * D + r.params};
}
Cost peer_cost(const FfwConfig& f, int64_t D) {
  const int64_t F = f.d_ffw, C = f.n_channels, K = f.knn;
  const Cost r = product_key_value_cost(D, F, C, f.d_key);
  return {r.flops + 2 * 2 * K * C * D, 2 * F * D + r.params};
}

int64_t no_tables(const FfwConfig&) { return 0; }
int64_t one_table(const FfwConfig&) { return 1; }
int64_t table_per_channel(const FfwConfig& f) { return f.n_channels; }

// Ladder shapes (spec §6).
void dense_ladder(FfwConfig& f, int64_t D, int64_t) {
  f.d_ffw =
      8 * D / (3 * 256) * 256;  // integer floor: 8/3*D in floats can land just below an integer
}
void mlp_ladder(FfwConfig& f, int64_t D, int64_t scale) {
  dense_ladder(f, D, scale);
  f.activation = "gelu";
}
void swiglu_ladder(FfwConfig& f, int64_t D, int64_t scale) {
  dense_ladder(f, D, scale);
  f.activation = "identity";
}
void moe_ladder(FfwConfig& f, int64_t D, int64_t) {
  f.d_ffw = D;
  f.n_channels = 16;
  f.knn = 2;
}
void sparse_ladder(FfwConfig& f, int64_t nk, const char* router) {
  f.d_ffw = nk * nk;
  f.n_channels = 16;
  f.knn = 8;
  f.d_key = 128;
  f.router_type = router;
  f.activation = "identity";
}
void sgatlin_ladder(FfwConfig& f, int64_t, int64_t scale) {
  sparse_ladder(f, 16 + 12 * scale, "product_dense");
}
void peer_ladder(FfwConfig& f, int64_t, int64_t scale) {
  sparse_ladder(f, 32 + 24 * scale, "product_key_value");
}

const PickPool kNeurons{"d_ffw", "neurons", &FfwConfig::d_ffw};
const PickPool kExperts{"n_channels", "experts", &FfwConfig::n_channels};

// Defaults that depend on the type: mlp uses gelu (spec §2.1), sgatlin identity (§2.2);
// peer always routes with product_key_value (§2.5).
const std::vector<FfwTypeInfo> kFfwTypes = {
    {FfwType::mlp, "mlp", make_mlp, mlp_cost, false, nullptr, "gelu", nullptr, no_tables, nullptr,
     false, mlp_ladder},
    {FfwType::swiglu, "swiglu", make_swiglu, swiglu_cost, false, nullptr, "identity", nullptr,
     no_tables, nullptr, false, swiglu_ladder},
    {FfwType::moe, "moe", make_moe, moe_cost, false, nullptr, "identity", &kExperts, one_table,
     &FfwConfig::n_channels, false, moe_ladder},
    {FfwType::peer, "peer", make_peer, peer_cost, true, "product_key_value", "identity", nullptr,
     one_table, &FfwConfig::d_ffw, true, peer_ladder},
    {FfwType::sgatlin, "sgatlin", make_sgatlin, sgatlin_cost, true, nullptr, "identity", &kNeurons,
     table_per_channel, &FfwConfig::d_ffw, true, sgatlin_ladder},
};

template <typename Row>
std::vector<std::string> names_of(const std::vector<Row>& rows) {
  std::vector<std::string> v;
  for (const Row& r : rows) v.push_back(r.name);
  return v;
}

template <typename Row>
const Row* find_row(const std::vector<Row>& rows, const std::string& name) {
  for (const Row& r : rows)
    if (name == r.name) return &r;
  return nullptr;
}

}  // namespace

const std::vector<FfwTypeInfo>& ffw_types() { return kFfwTypes; }
const std::vector<RouterTypeInfo>& router_types() { return kRouterTypes; }
const FfwTypeInfo* find_ffw_type(const std::string& name) { return find_row(kFfwTypes, name); }
const RouterTypeInfo* find_router_type(const std::string& name) {
  return find_row(kRouterTypes, name);
}
std::vector<std::string> ffw_type_names() { return names_of(kFfwTypes); }
const FfwTypeInfo& ffw_type(FfwType type) { return kFfwTypes[static_cast<size_t>(type)]; }
std::vector<std::string> router_type_names() { return names_of(kRouterTypes); }

const FfwTypeInfo& ffw_type(const std::string& name, const std::string& who) {
  if (const FfwTypeInfo* t = find_ffw_type(name)) return *t;
  fail(who, "unknown ffw type '", name, "' (allowed: ", join(ffw_type_names()), ")");
}

const RouterTypeInfo& router_type(const std::string& name, const std::string& who) {
  if (const RouterTypeInfo* t = find_router_type(name)) return *t;
  fail(who, "unknown router_type '", name, "' (allowed: ", join(router_type_names()), ")");
}

}  // namespace sg
