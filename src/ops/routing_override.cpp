// Routing override (see routing_override.h): forward splices rows, backward passes the
// gradient of the kept rows through.
// Legend: N tokens, C channels, K picks, R overridden rows.
#include "ops/routing_override.h"

#include <cstring>

#include "util/error.h"

namespace sg {

VarP override_routing_rows(Tape& tape, const VarP& scores_NxCxK, IntTensor& idx_NxCxK,
                           const std::vector<int64_t>& rows, const IntTensor& idx_RxCxK,
                           const Tensor& scores_RxCxK, const char* who) {
  const Shape& shape = scores_NxCxK->value.shape();
  const int64_t N = shape[0], CK = scores_NxCxK->value.numel() / N;
  const int64_t R = static_cast<int64_t>(rows.size());
  const Shape want = {R, shape[1], shape[2]};
  SG_CHECK(idx_RxCxK.shape() == want && scores_RxCxK.shape() == want, who,
           ": routing override has idx ", shape_str(idx_RxCxK.shape()), " and scores ",
           shape_str(scores_RxCxK.shape()), ", expected ", shape_str(want));
  // Fresh buffers: the router's backward closure still holds its own idx and scores.
  Tensor s = scores_NxCxK->value.clone();
  IntTensor idx = idx_NxCxK.clone();
  std::vector<uint8_t> replaced(N, 0);
  for (int64_t r = 0; r < R; ++r) {
    const int64_t row = rows[r];
    SG_CHECK(row >= 0 && row < N, who, ": routing override row ", row, " outside [0, ", N, ")");
    replaced[row] = 1;
    std::memcpy(s.data() + row * CK, scores_RxCxK.data() + r * CK, CK * sizeof(float));
    std::memcpy(idx.data() + row * CK, idx_RxCxK.data() + r * CK, CK * sizeof(int32_t));
  }
  VarP out = make_var(s, tape.needs_grad(scores_NxCxK));
  if (out->requires_grad)
    tape.record_backward(out, [in = scores_NxCxK, o = out, replaced = std::move(replaced), CK] {
      float* din = in->grad_or_zeros().data();
      const float* dout = o->grad.data();
      for (size_t row = 0; row < replaced.size(); ++row)
        if (!replaced[row])
          for (int64_t j = 0; j < CK; ++j) din[row * CK + j] += dout[row * CK + j];
    });
  idx_NxCxK = idx;
  return out;
}

}  // namespace sg
