// Gating records of a checkpoint (see scope.h).
#include "eval/scope.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "data/tokenizer.h"
#include "eval/evaluate.h"
#include "eval/npy.h"
#include "eval/report_model.h"
#include "nn/ffw_types.h"
#include "train/checkpoint_model.h"
#include "train/precision.h"
#include "util/file_io.h"

namespace fs = std::filesystem;

namespace sg {

void run_scope(const ScopeOptions& a) {
  CheckpointModel cm = load_checkpoint_model(a.checkpoint);
  apply_precision(saved_model_precision(cm.run_config, a.overrides), cm.dir);
  Transformer& model = *cm.model;
  const ModelConfig& mc = model.config();
  const Tokenizer tok = Tokenizer::load(find_tokenizer(cm.dir, cm.run_config));
  const nlohmann::json& data = cm.run_config.at("data");
  const std::string shard = a.data.empty() ? data.at("valid").get<std::string>() : a.data;
  const int64_t T = data.at("seq_len").get<int64_t>();
  std::vector<int64_t> layers = a.layers;
  if (layers.empty())
    for (int64_t l = 0; l < mc.n_layers; ++l) layers.push_back(l);
  for (int64_t l : layers)
    SG_CHECK(0 <= l && l < mc.n_layers && model.ffw(l).routing(), "scope: layer ", l,
             " is not a routed (sgatlin, peer, moe) layer of this ", mc.n_layers, "-layer ",
             mc.ffw.type, " model");
  const int64_t windows = Loader(shard, 1, T, 0, kEosId, false).windows_per_epoch();
  SG_CHECK(windows >= 1, shard, ": fewer tokens than one window of seq_len ", T);
  const int64_t S = std::min(a.sequences, windows);
  const bool moe = ffw_type(mc.ffw.type).type == FfwType::moe;
  const int64_t C = moe ? 1 : mc.ffw.n_channels, K = mc.ffw.knn,
                M = moe ? mc.ffw.n_channels : mc.ffw.d_ffw, CK = C * K;

  std::vector<int32_t> tokens(S * T);
  std::vector<std::vector<int32_t>> idx(layers.size(), std::vector<int32_t>(S * T * CK));
  std::vector<std::vector<float>> scores(layers.size(), std::vector<float>(S * T * CK));
  Loader loader(shard, 1, T, 0, kEosId, /*shuffle=*/false);
  Tape tape;
  NoGradGuard no_grad(tape);
  RecordRouting record(model);
  for (int64_t s = 0; s < S; ++s) {
    const Batch b = loader.next();
    std::memcpy(tokens.data() + s * T, b.inputs_BxT.data(), T * sizeof(int32_t));
    model.forward(tape, b.inputs_BxT);
    for (size_t j = 0; j < layers.size(); ++j) {
      const RoutingTrace& tr = model.ffw(layers[j]).routing()->last;
      std::memcpy(idx[j].data() + s * T * CK, tr.idx_NxCxK.data(), T * CK * sizeof(int32_t));
      std::memcpy(scores[j].data() + s * T * CK, tr.scores_NxCxK.data(), T * CK * sizeof(float));
    }
  }

  fs::create_directories(a.out);
  const fs::path out(a.out);
  write_npy((out / "tokens.npy").string(), tokens.data(), {S, T});
  nlohmann::json layer_list = nlohmann::json::array(), pieces = nlohmann::json::array();
  for (size_t j = 0; j < layers.size(); ++j) {
    const std::string stem = "layer_" + std::to_string(layers[j]);
    write_npy((out / (stem + "_indices.npy")).string(), idx[j].data(), {S, T, C, K});
    write_npy((out / (stem + "_scores.npy")).string(), scores[j].data(), {S, T, C, K});
    layer_list.push_back({{"layer", layers[j]},
                          {"indices", stem + "_indices.npy"},
                          {"scores", stem + "_scores.npy"}});
  }
  for (int64_t s = 0; s < S; ++s) {
    nlohmann::json seq = nlohmann::json::array();
    for (int64_t t = 0; t < T; ++t) seq.push_back(tok.piece(tokens[s * T + t]));
    pieces.push_back(std::move(seq));
  }
  const nlohmann::json index = {{"format", "sgatlin-scope-1"},
                                {"checkpoint", cm.dir},
                                {"model_fnv1a64", model_fingerprint(cm.dir)},
                                {"data", shard},
                                {"ffw_type", mc.ffw.type},
                                {"sequences", S},
                                {"seq_len", T},
                                {"n_channels", C},
                                {"knn", K},
                                {"n_neurons", M},
                                {"tokens", "tokens.npy"},
                                {"layers", layer_list},
                                {"pieces", pieces}};
  write_file_atomic((out / "index.json").string(), index.dump(1) + "\n");
  std::cerr << "scope: " << S << " sequences x " << T << " tokens, " << layers.size()
            << " layers -> " << a.out << "\n";
}

}  // namespace sg
