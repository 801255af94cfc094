// Parameter names, shapes (spec §7) and initialisation (spec §3) of every layer type.
#include <cmath>

#include "ffw_ref.h"
#include "tensor/rng.h"

using namespace sg;
using namespace sg::test;

namespace {

using Names = std::vector<std::pair<std::string, Shape>>;

Names names_of(const FfwConfig& f, int64_t D) {
  ParamStore ps;
  make_feedforward(f, D, "layers.1.ffn", ps, 0);
  Names out;
  for (const auto& p : ps.all()) out.push_back({p.name, p.var->value.shape()});
  return out;
}

struct Stats {
  double mean = 0, std = 0, max_abs = 0;
};

Stats stats(const Tensor& t) {
  Stats s;
  for (int64_t i = 0; i < t.numel(); ++i) {
    s.mean += t[i];
    s.max_abs = std::max(s.max_abs, std::fabs(static_cast<double>(t[i])));
  }
  s.mean /= t.numel();
  for (int64_t i = 0; i < t.numel(); ++i) s.std += (t[i] - s.mean) * (t[i] - s.mean);
  s.std = std::sqrt(s.std / t.numel());
  return s;
}

}  // namespace

TEST_CASE("ffw params: names and shapes follow spec §7 for every type") {
  FfwConfig f;
  f.d_ffw = 9;  // F, or N = 9 (nk 3) neurons
  f.n_channels = 2;
  f.knn = 2;
  f.d_key = 4;
  const int64_t D = 5;
  f.type = "mlp";
  CHECK(names_of(f, D) ==
        Names{{"layers.1.ffn.w1.weight", {9, 5}}, {"layers.1.ffn.w2.weight", {5, 9}}});
  f.type = "swiglu";
  CHECK(names_of(f, D) == Names{{"layers.1.ffn.w1.weight", {18, 5}},
                                {"layers.1.ffn.w1.bias", {18}},
                                {"layers.1.ffn.w2.weight", {5, 9}},
                                {"layers.1.ffn.w2.bias", {5}}});
  f.type = "moe";
  CHECK(names_of(f, D) == Names{{"layers.1.ffn.gate.weight", {2, 5}},
                                {"layers.1.ffn.experts.w1.weight", {2, 18, 5}},
                                {"layers.1.ffn.experts.w1.bias", {2, 18}},
                                {"layers.1.ffn.experts.w2.weight", {2, 5, 9}},
                                {"layers.1.ffn.experts.w2.bias", {2, 5}}});
  f.type = "sgatlin";
  CHECK(names_of(f, D) == Names{{"layers.1.ffn.router.w_key.weight", {4, 5}},
                                {"layers.1.ffn.router.w_sub.weight", {12, 4}},
                                {"layers.1.ffn.experts.w_in", {2, 9, 5}},
                                {"layers.1.ffn.experts.w_out", {2, 9, 5}}});
  f.type = "peer";
  CHECK(names_of(f, D) == Names{{"layers.1.ffn.router.queries.weight", {16, 5}},
                                {"layers.1.ffn.router.keys", {2, 2, 3, 4}},
                                {"layers.1.ffn.experts.w_in", {9, 5}},
                                {"layers.1.ffn.experts.w_out", {9, 5}}});
}

TEST_CASE("ffw params: spec §3 initialisation statistics, keyed by name not order") {
  FfwConfig f;
  f.type = "peer";
  f.d_ffw = 4096;  // N, nk 64
  f.n_channels = 4;
  f.knn = 4;
  f.d_key = 32;
  const int64_t D = 48;
  ParamStore ps;
  make_feedforward(f, D, "ffn", ps, 7);
  // Standard error of a std estimate from n samples is ~std/sqrt(2n); with n >= 6000
  // that is < 1%, so 3% bounds are safe. Truncation at 2 sigma bounds |w| <= 2 std.
  const Stats w_in = stats(ps.get("ffn.experts.w_in")->value);
  CHECK(w_in.std == doctest::Approx(1.0 / 64).epsilon(0.03));  // 1/sqrt(N)
  CHECK(w_in.max_abs <= 2 * (1.0 / 64) / 0.8796 + 1e-6);  // cut at 2 sigma of the unscaled normal
  const Stats q = stats(ps.get("ffn.router.queries.weight")->value);
  CHECK(q.std == doctest::Approx(1 / std::sqrt(48.0)).epsilon(0.03));
  // Keys: standard normal cut to [-2, 2], not rescaled: std = 0.8796 (cut std).
  const Stats keys = stats(ps.get("ffn.router.keys")->value);
  CHECK(keys.std == doctest::Approx(0.8796).epsilon(0.03));
  CHECK(keys.max_abs <= 2.0);

  // The same parameter built in another store, after other parameters, is identical.
  ParamStore other;
  FfwConfig g = f;
  g.type = "mlp";
  make_feedforward(g, D, "x", other, 7);
  make_feedforward(f, D, "ffn", other, 7);
  const Tensor a = ps.get("ffn.experts.w_out")->value, b = other.get("ffn.experts.w_out")->value;
  CHECK(std::equal(a.data(), a.data() + a.numel(), b.data()));

  // swiglu biases start at zero.
  FfwConfig s;
  s.type = "swiglu";
  s.d_ffw = 8;
  ParamStore sp;
  make_feedforward(s, 4, "ffn", sp, 1);
  CHECK(stats(sp.get("ffn.w1.bias")->value).max_abs == 0);
  CHECK(stats(sp.get("ffn.w2.bias")->value).max_abs == 0);
}
