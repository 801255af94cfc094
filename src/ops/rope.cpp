// rope: rotate-half rotary embedding. Legend: B batch, T time, H heads, Dh head dim,
// P table positions, Hf = Dh/2 frequencies.
#include "ops/rope.h"
#include "util/profiler.h"

#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace sg {

namespace {
struct RopeTable {
  int64_t P = 0;
  std::vector<float> cos_PxHf, sin_PxHf;
};

// Angles are computed in double and rounded once, so a table value does not depend on the
// table length: growing the cache never changes results for positions already seen.
std::shared_ptr<const RopeTable> make_table(int64_t P, int64_t Dh) {
  auto t = std::make_shared<RopeTable>();
  const int64_t Hf = Dh / 2;
  t->P = P;
  t->cos_PxHf.resize(P * Hf);
  t->sin_PxHf.resize(P * Hf);
  for (int64_t i = 0; i < Hf; ++i) {
    const double inv_freq = std::pow(10000.0, -2.0 * static_cast<double>(i) / Dh);
    for (int64_t p = 0; p < P; ++p) {
      const double angle = static_cast<double>(p) * inv_freq;
      t->cos_PxHf[p * Hf + i] = static_cast<float>(std::cos(angle));
      t->sin_PxHf[p * Hf + i] = static_cast<float>(std::sin(angle));
    }
  }
  return t;
}

// One table per Dh, regrown when a longer one is needed. Closures hold the shared_ptr,
// so a regrow never frees a table a pending backward still reads.
std::shared_ptr<const RopeTable> rope_table(int64_t P, int64_t Dh) {
  static std::mutex mu;
  static std::map<int64_t, std::shared_ptr<const RopeTable>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& t = cache[Dh];
  if (!t || t->P < P) t = make_table(P, Dh);
  return t;
}
}  // namespace

void rope_forward(float* y, const float* x, const float* cos_PxHf, const float* sin_PxHf, int64_t B,
                  int64_t T, int64_t H, int64_t Dh, int64_t pos_offset) {
  const int64_t Hf = Dh / 2;
#pragma omp parallel for schedule(static)
  for (int64_t bt = 0; bt < B * T; ++bt) {
    const int64_t pos = pos_offset + bt % T;
    const float *c = cos_PxHf + pos * Hf, *s = sin_PxHf + pos * Hf;
    for (int64_t h = 0; h < H; ++h) {
      const float* a = x + (bt * H + h) * Dh;  // first half a, second half b = a + Hf
      float* o = y + (bt * H + h) * Dh;
      for (int64_t i = 0; i < Hf; ++i) {
        o[i] = a[i] * c[i] - a[i + Hf] * s[i];
        o[i + Hf] = a[i + Hf] * c[i] + a[i] * s[i];
      }
    }
  }
}

// The rotation is orthogonal, so the gradient is the rotation by the negative angle.
void rope_backward(float* dx, const float* dy, const float* cos_PxHf, const float* sin_PxHf,
                   int64_t B, int64_t T, int64_t H, int64_t Dh, int64_t pos_offset) {
  const int64_t Hf = Dh / 2;
#pragma omp parallel for schedule(static)
  for (int64_t bt = 0; bt < B * T; ++bt) {
    const int64_t pos = pos_offset + bt % T;
    const float *c = cos_PxHf + pos * Hf, *s = sin_PxHf + pos * Hf;
    for (int64_t h = 0; h < H; ++h) {
      const float* g = dy + (bt * H + h) * Dh;
      float* d = dx + (bt * H + h) * Dh;
      for (int64_t i = 0; i < Hf; ++i) {
        d[i] += g[i] * c[i] + g[i + Hf] * s[i];
        d[i + Hf] += g[i + Hf] * c[i] - g[i] * s[i];
      }
    }
  }
}

VarP rope(Tape& tape, const VarP& x, int64_t pos_offset) {
  ScopedTimer timer(OpKind::norm_rope);

  const Shape& sh = x->value.shape();
  SG_CHECK(sh.size() == 4 && sh[3] % 2 == 0, "rope: x has shape ", shape_str(sh),
           ", expected [B, T, H, Dh] with Dh even");
  SG_CHECK(pos_offset >= 0, "rope: pos_offset = ", pos_offset, " must be >= 0");
  const int64_t B = sh[0], T = sh[1], H = sh[2], Dh = sh[3];
  auto table = rope_table(pos_offset + T, Dh);
  VarP y = make_var(Tensor::empty(sh), tape.needs_grad(x));
  rope_forward(y->value.data(), x->value.data(), table->cos_PxHf.data(), table->sin_PxHf.data(), B,
               T, H, Dh, pos_offset);
  if (y->requires_grad)
    tape.record_backward(OpKind::norm_rope, y, [x, y, table, B, T, H, Dh, pos_offset] {
      rope_backward(x->grad_or_zeros().data(), y->grad.data(), table->cos_PxHf.data(),
                    table->sin_PxHf.data(), B, T, H, Dh, pos_offset);
    });
  return y;
}

}  // namespace sg
