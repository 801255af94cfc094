// Neuron report from scope records (cmd_scope.cpp documents the files): for the most
// used neurons of each layer/channel, the contexts that picked them most strongly; for
// sample tokens, the tokens whose gating patterns are nearest by cosine similarity.
// Legend: S sequences, T tokens per sequence, C channels, K picks, M neurons per channel.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sg {

struct ScopeLayer {
  int64_t layer = 0;
  std::vector<int32_t> idx_SxTxCxK;
  std::vector<float> scores_SxTxCxK;
};

struct ScopeData {
  int64_t S = 0, T = 0, C = 0, K = 0, M = 0;
  std::string checkpoint, data, ffw_type;
  std::string model_fingerprint;  // index.json "model_fnv1a64" (empty in older records)
  std::vector<int32_t> tokens_SxT;
  std::vector<std::string> pieces_SxT;
  std::vector<ScopeLayer> layers;
};

// Reads OUT/index.json and the .npy files it names; checks every shape.
ScopeData load_scope(const std::string& dir);

struct Context {
  int64_t seq = 0, pos = 0;
  float score = 0;
};
struct NeuronEntry {
  int64_t layer = 0, channel = 0, neuron = 0, count = 0;
  std::vector<Context> contexts;  // strongest first (score desc, then seq, pos asc)
};
// Per layer and channel, the `top` most picked neurons (count desc, id asc), each with
// its `n_contexts` highest-scoring picks.
std::vector<NeuronEntry> top_neurons(const ScopeData& d, int64_t top, int64_t n_contexts);

struct Neighbour {
  int64_t seq = 0, pos = 0;
  double cosine = 0;
};
// A token's gating pattern is the 0/1 vector over (layer, channel, neuron) of its picks;
// the cosine of two patterns is shared picks / (layers * C * K). The `n` nearest other
// tokens (cosine desc, then seq, pos asc) of token (seq, pos).
std::vector<Neighbour> nearest_tokens(const ScopeData& d, int64_t seq, int64_t pos, int64_t n);

// "...the cat [sat] on" with pieces' word marks turned into spaces; `left`/`right`
// neighbours within the sequence.
std::string context_text(const ScopeData& d, int64_t seq, int64_t pos, int64_t left, int64_t right);

struct ReportOptions {
  int64_t top_neurons = 8, contexts = 6, sample_tokens = 24, neighbours = 6;
};
// A sentencepiece piece as text: the word mark "▁" becomes a space.
std::string piece_text(const std::string& piece);
// The terminal report (report.txt): most used neurons with their strongest contexts, and
// the nearest gating patterns of `sample_tokens` evenly spaced tokens.
std::string neuron_report_text(const ScopeData& d, const ReportOptions& o);

}  // namespace sg
