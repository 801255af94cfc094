#include "train/ladder.h"

#include "nn/ffw_types.h"
#include "util/error.h"
#include "util/strings.h"

namespace sg {

ModelConfig ladder_model(const std::string& type, int64_t scale, int64_t vocab_size) {
  SG_CHECK(scale >= 1, "scaling ladder: scale must be >= 1, got ", scale);
  ModelConfig m;
  m.vocab_size = vocab_size;
  m.d_model = 128 * scale;
  m.n_layers = 2 * scale;
  m.d_heads = 64;
  FfwConfig& f = m.ffw;
  f.type = type;
  const FfwTypeInfo* t = find_ffw_type(type);
  if (!t)
    fail("scaling ladder: unknown feedforward type '", type, "' (allowed: ", join(ffw_type_names()),
         ")");
  t->ladder(f, m.d_model, scale);
  return m;
}

}  // namespace sg
