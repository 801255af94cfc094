// FLOP and parameter counts (spec §2, §5, §6) against values worked out by hand, and
// against the parameters a built layer actually registers.
#include "ffw_ref.h"
#include "nn/counting.h"

using namespace sg;

namespace {

ModelConfig tinystories(const std::string& type) {
  ModelConfig m;  // V 8192, D 256, Dh 64 (H 4), 4 layers
  m.ffw.type = type;
  m.ffw.d_ffw = 1024;
  m.ffw.n_channels = 8;
  m.ffw.knn = 8;
  m.ffw.d_key = 128;
  m.ffw.router_type = "product_dense";
  return m;
}

}  // namespace

TEST_CASE("counting: TinyStories sgatlin (D 256, N 1024, C 8, K 8, Kd 128) by hand") {
  const ModelConfig m = tinystories("sgatlin");
  // router: 2*Kd*D = 2*128*256 = 65536; 2*2*C*nk*Kd = 4*8*32*128 = 131072
  // experts: 2*2*K*C*D = 4*8*8*256 = 65536; total 65536 + 131072 + 65536 = 262144
  CHECK(ffw_flops_per_token(m.ffw, 256) == 262144);
  // w_in + w_out: 2*8*1024*256 = 4194304; w_key 128*256 = 32768; w_sub 2*8*32*128 = 65536
  CHECK(ffw_n_params(m.ffw, 256) == 4194304 + 32768 + 65536);
  // embedding 8192*256 = 2097152; per layer: wq wk wv wo 4*256*256 = 262144, q/k norms
  // 2*64 = 128, block norms 2*256 = 512, ffw 4292608 -> 4555392; 4 layers 18221568;
  // final norm 256. Total 2097152 + 18221568 + 256 = 20318976.
  CHECK(n_params(m) == 20318976);
  // attention per sequence, T 1024: 3*T*2*D*D = 402653184; 2*H*2*T*T*Dh =
  // 2*4*2*1048576*64 = 1073741824; T*2*D*D = 134217728; sum 1610612736.
  // ffw T*262144 = 268435456. 4 layers * 1879048192 = 7516192768.
  CHECK(fwd_flops_per_sequence(m, 1024) == 7516192768LL);
  // 1e15 / (3 * 7516192768 * 256) = 173.2... -> 173
  CHECK(steps_for_budget(1e15, m, 1024, 256) == 173);
}

TEST_CASE("counting: per-type FLOPs at ladder scale s = 1 (D 128) by hand") {
  FfwConfig f;
  // mlp: F = floor(8/3 * 128 / 256) * 256 = 256; 2*D*F + 2*F*D = 4*128*256 = 131072
  f.type = "mlp";
  f.d_ffw = 256;
  CHECK(ffw_flops_per_token(f, 128) == 131072);
  // swiglu: 3*2*D*F = 6*128*256 = 196608
  f.type = "swiglu";
  CHECK(ffw_flops_per_token(f, 128) == 196608);
  // moe: F = D = 128, E 16, top 2: 2*D*E = 4096; 2*(2*D*2F + 2*F*D) = 2*(65536 + 32768)
  // = 196608; total 200704
  f.type = "moe";
  f.d_ffw = 128;
  f.n_channels = 16;
  f.knn = 2;
  CHECK(ffw_flops_per_token(f, 128) == 200704);
  // sgatlin: N = 28^2 = 784 (nk 28), C 16, K 8, Kd 128: 2*Kd*D = 32768;
  // 2*2*C*nk*Kd = 4*16*28*128 = 229376; experts 2*2*K*C*D = 4*8*16*128 = 65536
  f.type = "sgatlin";
  f.d_ffw = 784;
  f.knn = 8;
  f.d_key = 128;
  f.router_type = "product_dense";
  CHECK(ffw_flops_per_token(f, 128) == 32768 + 229376 + 65536);
  // peer: N = 56^2 = 3136: 2*2*C*Kd*D = 4*16*128*128 = 1048576;
  // 2*2*C*nk*Kd = 4*16*56*128 = 458752; experts 65536
  f.type = "peer";
  f.d_ffw = 3136;
  CHECK(ffw_flops_per_token(f, 128) == 1048576 + 458752 + 65536);
  // sgatlin with the other routers (N 784, C 16, Kd 128, D 128):
  // dense 2*D*Kd + 2*Kd*N*C = 32768 + 2*128*784*16 = 32768 + 3211264
  f.type = "sgatlin";
  f.d_ffw = 784;
  f.router_type = "dense";
  CHECK(ffw_flops_per_token(f, 128) == 32768 + 3211264 + 65536);
  // key_value (derived, see counting.cpp): 2*C*Kd*D + 2*C*N*Kd = 524288 + 3211264
  f.router_type = "key_value";
  CHECK(ffw_flops_per_token(f, 128) == 524288 + 3211264 + 65536);
  // product_key_value: 2*2*C*Kd*D + 2*2*C*nk*Kd = 1048576 + 229376
  f.router_type = "product_key_value";
  CHECK(ffw_flops_per_token(f, 128) == 1048576 + 229376 + 65536);
}

TEST_CASE("counting: ffw_n_params equals the parameters a built layer registers") {
  auto check = [](FfwConfig f) {
    CAPTURE(f.type);
    CAPTURE(f.router_type);
    ParamStore ps;
    auto layer = make_feedforward(f, 11, "ffn", ps, 0);
    CHECK(ffw_n_params(f, 11) == ps.numel());
    CHECK(layer->flops_per_token() == ffw_flops_per_token(f, 11));
  };
  FfwConfig f;
  f.d_ffw = 25;
  f.n_channels = 3;
  f.knn = 2;
  f.d_key = 6;
  for (const char* type : {"mlp", "swiglu", "moe", "peer"}) {
    f.type = type;
    check(f);
  }
  f.type = "sgatlin";
  for (const char* router : {"product_dense", "product_key_value", "key_value", "dense"}) {
    f.router_type = router;
    check(f);
  }
}

TEST_CASE("counting: n_params adds attention, norms and embedding to the ffw count") {
  ModelConfig m = tinystories("mlp");
  m.vocab_size = 37;
  m.d_model = 12;
  m.d_heads = 4;  // H 3
  m.n_layers = 3;
  m.ffw.d_ffw = 5;
  // embedding 37*12 = 444; per layer 4*12*12 + 2*4 + 2*12 + mlp 2*12*5 = 576 + 8 + 24 + 120
  // = 728; 3 layers 2184; final norm 12; total 444 + 2184 + 12 = 2640
  CHECK(n_params(m) == 2640);
}
