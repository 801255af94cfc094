// `sgatlin scope`: gating records of a checkpoint over a token shard.
//
// OUT/index.json describes everything (format "sgatlin-scope-1"):
//   {"format", "checkpoint", "model_fnv1a64", "data", "ffw_type", "sequences": S, "seq_len": T,
//    "n_channels": C, "knn": K, "n_neurons": M, "tokens": "tokens.npy",
//    "layers": [{"layer": L, "indices": "layer_L_indices.npy", "scores": "layer_L_scores.npy"}],
//    "pieces": [[piece of every token of sequence 0], ...]}
// tokens.npy             int32 [S, T]: the model inputs (eos first, spec §4); position t's
//                        routing was computed on token t and predicts token t+1
// layer_L_indices.npy    int32 [S, T, C, K]: picked neuron ids per token and channel
// layer_L_scores.npy     float32 [S, T, C, K]: their raw router scores
// (moe layers record their top experts as C = 1 with the gate logits as scores.)
// Pieces are sentencepiece pieces: "▁" marks a word start. numpy.load reads the files.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sg {

struct ScopeOptions {
  std::string checkpoint, data, out;
  int64_t sequences = 64;
  std::vector<int64_t> layers;
  std::vector<std::string> overrides;  // --set precision=...
};

// Records the gating of the checkpoint's routed layers over `sequences` windows of the
// shard into `out` (the files above).
void run_scope(const ScopeOptions& options);

}  // namespace sg
