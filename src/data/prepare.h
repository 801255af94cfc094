// `sgatlin data prepare`: corpus -> train/valid split -> BPE tokenizer -> token shards.
// Writes into out_dir: tokenizer.model, train.bin, valid.bin (see shard.h) and
// manifest.json. Every file is written atomically and is a pure function of the
// inputs and options: running twice gives byte-identical files.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sg {

struct PrepareOptions {
  std::vector<std::string> corpus;  // "kjv" or file paths, see corpus.h
  std::string out_dir;
  int64_t vocab_size = 4096;
  double valid_fraction = 0.05;
  uint64_t seed = 0;
  int64_t tokenizer_sentences = 2'000'000;  // lines the tokenizer trainer sees at most
};

// Returns the manifest it wrote. Progress goes to stderr.
nlohmann::json prepare_data(const PrepareOptions& opt);

}  // namespace sg
