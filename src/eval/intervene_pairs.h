// `sgatlin intervene`: causal patching of router decisions over a file of prompt pairs.
//
// Pairs file: JSONL, one object per line:
//   {"clean": "The turtle was", "counterfactual": "The door was",
//    "answers_clean": ["slow"], "answers_cf": ["open"]}
// Each prompt is encoded like `generate` does (eos first, as in training, spec §4); both
// must have the same number of tokens. Each answer string stands for the first token of
// its encoding (sentencepiece marks it word-initial, i.e. the word after a space).
// Positions count prompt tokens from 0 (the leading eos is not counted); negative ones
// count from the end (-1 = last token). --position diff patches every position where
// the two prompts' tokens differ.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sg {

struct InterveneOptions {
  std::string checkpoint, pairs, position;
  int64_t measure = -1;
  std::vector<int64_t> layers;
  bool json = false;
  std::vector<std::string> overrides;  // --set precision=...
};

// Patches the router decisions of every pair and prints one row per pair and the mean
// (or one JSON object with `json`).
void run_intervene(const InterveneOptions& options);

}  // namespace sg
