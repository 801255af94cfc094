// Byte-fallback BPE tokenizer (sentencepiece). Special ids are fixed so every model
// and shard agree: pad 0 "<pad>", eos 1 "</s>", unk 2 "<unk>" (never produced for
// text, thanks to byte fallback), no bos. Normalisation is sentencepiece's default
// nmt_nfkc with whitespace folding, so newlines and runs of spaces decode as one space.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "data/corpus.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace sg {

constexpr int32_t kPadId = 0, kEosId = 1, kUnkId = 2;

class Tokenizer {
 public:
  static Tokenizer load(const std::string& path);
  // `source` names the model in error messages.
  static Tokenizer from_bytes(std::string_view serialized, const std::string& source);
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  std::vector<int32_t> encode(std::string_view text) const;  // no eos appended
  std::string decode(const std::vector<int32_t>& ids) const;
  std::string piece(int32_t id) const;
  int64_t vocab_size() const;
  int32_t eos_id() const { return kEosId; }
  int32_t pad_id() const { return kPadId; }
  int32_t unk_id() const { return kUnkId; }

 private:
  Tokenizer();
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::string source_;
};

struct TokenizerTrainOptions {
  int64_t vocab_size = 4096;
  uint64_t seed = 0;
  // Lines fed to the trainer at most; beyond it a deterministic sample is drawn.
  int64_t max_sentences = 2'000'000;
};

// Trains on the lines of `documents` (never whole documents: sentencepiece drops
// sentences longer than its max_sentence_length) and returns the serialized model.
// Same documents and options -> the same bytes.
std::string train_tokenizer(const std::vector<std::string_view>& documents,
                            const TokenizerTrainOptions& opt);
std::string train_tokenizer(const Documents& documents, const TokenizerTrainOptions& opt);

}  // namespace sg
