// linear: y = x @ W^T with weights stored [out, in] (spec: PyTorch Linear layout).
// Legend: N rows (tokens, all leading dims flattened), I in features, O out features.
// Backed by cached oneDNN matmul primitives that parallelise internally over the OpenMP
// threads: call from one thread at a time, not from inside a parallel region.
#pragma once
#include "autograd/tape.h"

namespace sg {

// fp32 everywhere, or bf16 inputs with fp32 accumulation (avx512_bf16 CPUs). The setting
// governs every matmul-like op: linear, attention's products and the expert ops.
enum class MatmulPrecision { fp32, bf16 };
void set_matmul_precision(MatmulPrecision p);
MatmulPrecision matmul_precision();
// Sets a precision for a scope (e.g. fp32 logits in a bf16 model, spec §1), then restores.
class MatmulPrecisionScope {
 public:
  explicit MatmulPrecisionScope(MatmulPrecision p) : saved_(matmul_precision()) {
    set_matmul_precision(p);
  }
  ~MatmulPrecisionScope() { set_matmul_precision(saved_); }

 private:
  MatmulPrecision saved_;
};

// y_NxO = x_NxI @ w_OxI^T (overwrites y).
void linear_forward(float* y_NxO, const float* x_NxI, const float* w_OxI, int64_t N, int64_t I,
                    int64_t O);
// dx_NxI (+)= dy_NxO @ w_OxI and dw_OxI (+)= dy_NxO^T @ x_NxI; either output may be
// null; each is added to when its accumulate flag is set, else overwritten.
void linear_backward(float* dx_NxI, float* dw_OxI, const float* dy_NxO, const float* x_NxI,
                     const float* w_OxI, int64_t N, int64_t I, int64_t O, bool accumulate_dx = true,
                     bool accumulate_dw = true);

// bf16 operands with fp32 accumulation whatever the precision setting, the weight given
// already in bf16 (a Var's bf16_value(), converted once per optimizer step); x and dy are
// rounded to bf16 on the fly.
void linear_forward_bf16(float* y_NxO, const float* x_NxI, const bf16* w_OxI, int64_t N, int64_t I,
                         int64_t O);
void linear_backward_bf16(float* dx_NxI, float* dw_OxI, const float* dy_NxO, const float* x_NxI,
                          const bf16* w_OxI, int64_t N, int64_t I, int64_t O,
                          bool accumulate_dx = true, bool accumulate_dw = true);

// Autograd op: x has shape [..., I], w has shape [O, I]; returns [..., O]. Its backward
// runs in the matmul precision that was set when the forward ran; in bf16 the weight is
// read through w->bf16_value().
VarP linear(Tape& tape, const VarP& x, const VarP& w);

}  // namespace sg
