// GradReducer in one process (the MPI paths are covered end to end in
// tests/train/test_distributed.cpp): the gradient left in the parameters is the sum of
// the micro-batches' gradients, whichever way each micro-batch's buckets were added.
#include <doctest/doctest.h>

#include <map>

#include "autograd/param_store.h"
#include "dist/grad_reducer.h"
#include "nn/transformer.h"
#include "ops/cross_entropy.h"
#include "test_util.h"

using namespace sg;
using namespace sg::test;

namespace {

// Two "layers" and two non-layer parameters on either side, as the transformer registers them.
ParamStore make_store() {
  ParamStore ps;
  ps.add("tok_embeddings.weight", Tensor::zeros({3, 2}));
  ps.add("layers.0.a", Tensor::zeros({4}));
  ps.add("layers.0.b", Tensor::zeros({2, 2}));
  ps.add("layers.1.a", Tensor::zeros({5}));
  ps.add("norm.weight", Tensor::zeros({2}));
  return ps;
}

void set_grads(ParamStore& ps, uint32_t seed) {
  for (const Param& p : ps.all()) {
    const std::vector<double> g = random_vec(p.var->value.numel(), seed++);
    p.var->grad = to_tensor(p.var->value.shape(), g);
  }
}

}  // namespace

TEST_CASE("grad_reducer: the parameters end with the sum of the micro-batch gradients") {
  ParamStore ps = make_store();
  dist::GradReducer reducer(ps, 2);
  CHECK(reducer.buckets() == 4);  // embedding | layer 0 | layer 1 | norm
  CHECK(reducer.stats().grad_bytes == (6 + 4 + 4 + 5 + 2) * 4);

  // Micro-batch 1: added after backward. Micro-batch 2: armed, layer buckets added as the
  // backward records reach each layer's first record (marks: layer 0 at 1, layer 1 at 3).
  set_grads(ps, 10);
  std::vector<std::vector<double>> want;
  for (const Param& p : ps.all()) want.push_back(to_double(p.var->grad));
  reducer.micro_batch_done();
  for (const Param& p : ps.all())
    CHECK(to_double(p.var->grad) == std::vector<double>(p.var->value.numel(), 0.0));
  set_grads(ps, 50);
  for (size_t i = 0; i < ps.all().size(); ++i) {
    const std::vector<double> g = to_double(ps.all()[i].var->grad);
    for (size_t j = 0; j < g.size(); ++j) want[i][j] += g[j];
  }
  reducer.arm({1, 3});
  for (size_t rec = 5; rec-- > 0;) reducer.after_backward_step(rec);
  reducer.micro_batch_done();
  reducer.finish();
  for (size_t i = 0; i < ps.all().size(); ++i)
    check_close(ps.all()[i].var->grad, want[i], 1e-6, 1e-7, ps.all()[i].name.c_str());

  // The accumulator starts from zero again for the next step.
  set_grads(ps, 90);
  std::vector<std::vector<double>> again;
  for (const Param& p : ps.all()) again.push_back(to_double(p.var->grad));
  reducer.micro_batch_done();
  reducer.finish();
  for (size_t i = 0; i < ps.all().size(); ++i)
    check_close(ps.all()[i].var->grad, again[i], 0, 0, "next step");
}

TEST_CASE("grad_reducer: a layer's gradients are final once backward passes the layer's mark") {
  // The reducer starts a layer's bucket at that point: no later record may touch them.
  for (const char* type : {"mlp", "swiglu", "moe", "peer", "sgatlin"}) {
    CAPTURE(type);
    ModelConfig m;
    m.vocab_size = 37;
    m.d_model = 32;
    m.d_heads = 16;
    m.n_layers = 3;
    m.ffw.type = type;
    m.ffw.d_key = 8;
    m.ffw.activation = std::string(type) == "mlp" ? "gelu" : "identity";
    m.ffw.d_ffw = std::string(type) == "sgatlin" || std::string(type) == "peer" ? 16 : 32;
    m.ffw.n_channels = std::string(type) == "mlp" || std::string(type) == "swiglu" ? 1 : 2;
    m.ffw.knn = 2;
    Transformer model(m, 3);
    IntTensor tok = IntTensor::empty({2, 5}), tgt = IntTensor::empty({10});
    for (int64_t i = 0; i < 10; ++i) {
      tok[i] = static_cast<int32_t>((7 * i + 3) % 37);
      tgt[i] = static_cast<int32_t>((5 * i + 1) % 37);
    }
    Tape tape;
    const CrossEntropyResult ce = cross_entropy(tape, model.forward(tape, tok), tgt, -1);
    const std::vector<size_t> marks = tape.marks();
    REQUIRE(marks.size() == 3);
    std::map<std::string, std::vector<double>> at_mark;  // layer params' grads when passed
    tape.backward(ce.loss, [&](size_t i) {
      for (int64_t l = 0; l < 3; ++l) {
        if (i != marks[l]) continue;
        const std::string prefix = "layers." + std::to_string(l) + ".";
        for (const Param& p : model.params().all())
          if (p.name.rfind(prefix, 0) == 0 && p.var->has_grad())
            at_mark[p.name] = to_double(p.var->grad);
      }
    });
    REQUIRE(!at_mark.empty());
    for (const auto& [name, g] : at_mark)
      check_close(model.params().get(name)->grad, g, 0, 0, name.c_str());
  }
}
