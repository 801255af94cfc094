#include "data/prepare.h"

#include <omp.h>

#include <filesystem>

#include "data/corpus.h"
#include "data/shard.h"
#include "data/split.h"
#include "data/tokenizer.h"
#include "data/unigram.h"
#include "util/error.h"
#include "util/file_io.h"
#include "util/progress.h"

namespace sg {

namespace {

// Encodes documents in blocks, in parallel within a block, and appends them to the
// train or valid shard in document order, so the shards do not depend on threads.
void encode_shards(const Documents& docs, const std::vector<bool>& is_valid, const Tokenizer& tok,
                   ShardWriter* train, ShardWriter* valid) {
  constexpr size_t kBlock = 4096;
  Progress progress("encoding", static_cast<int64_t>(docs.size()));
  std::vector<std::vector<int32_t>> ids(kBlock);
  for (size_t begin = 0; begin < docs.size(); begin += kBlock) {
    const size_t n = std::min(kBlock, docs.size() - begin);
    std::string error;
    // Each document writes only its own slot; dynamic scheduling balances long and
    // short documents without affecting the result.
#pragma omp parallel for schedule(dynamic, 16)
    for (size_t i = 0; i < n; ++i) {
      try {
        ids[i] = tok.encode(docs[begin + i]);
      } catch (const std::exception& e) {
#pragma omp critical
        if (error.empty()) error = cat("document ", begin + i, ": ", e.what());
      }
    }
    SG_CHECK(error.empty(), "encoding failed: ", error);
    for (size_t i = 0; i < n; ++i) {
      ShardWriter* w = is_valid[begin + i] ? valid : train;
      w->add_document(ids[i].data(), ids[i].size(), tok.eos_id());
    }
    progress.update(static_cast<int64_t>(begin + n));
  }
  progress.finish(cat(docs.size(), " documents, ", train->tokens() + valid->tokens(), " tokens"));
}

}  // namespace

nlohmann::json prepare_data(const PrepareOptions& opt) {
  SG_CHECK(!opt.out_dir.empty(), "data prepare: --out is required");
  SG_CHECK(opt.vocab_size >= 1, "data prepare: --vocab-size must be positive, got ",
           opt.vocab_size);
  const std::filesystem::path out(opt.out_dir);

  SG_CHECK(!opt.corpus.empty(), "data prepare: --corpus is required");
  Corpus corpus;
  for (const auto& spec : opt.corpus) {  // one source at a time, for progress
    Progress reading(cat("reading ", spec), 1);
    Corpus part = read_corpus({spec});
    const nlohmann::json& source = part.sources[0];
    reading.finish(cat(part.documents.size(), " documents (", source["format"].get<std::string>(),
                       " format)"));
    for (auto& d : part.documents) corpus.documents.push_back(std::move(d));
    corpus.sources.push_back(source);
  }

  const std::vector<bool> is_valid =
      split_valid(static_cast<int64_t>(corpus.documents.size()), opt.valid_fraction, opt.seed);
  // The tokenizer learns from train documents only, so validation text stays unseen.
  std::vector<std::string_view> train_docs;
  for (size_t i = 0; i < corpus.documents.size(); ++i)
    if (!is_valid[i]) train_docs.push_back(corpus.documents[i]);
  const std::string model =
      train_tokenizer(train_docs, {opt.vocab_size, opt.seed, opt.tokenizer_sentences});

  std::filesystem::create_directories(out);
  const std::string tok_path = (out / "tokenizer.model").string();
  write_file_atomic(tok_path, model);
  const Tokenizer tok = Tokenizer::from_bytes(model, tok_path);

  ShardWriter train((out / "train.bin").string(), tok.vocab_size());
  ShardWriter valid((out / "valid.bin").string(), tok.vocab_size());
  encode_shards(corpus.documents, is_valid, tok, &train, &valid);
  train.finish();
  valid.finish();

  nlohmann::json m = {
      {"format", "sgatlin-data"},
      {"version", 1},
      {"sources", corpus.sources},
      {"seed", opt.seed},
      {"valid_fraction", opt.valid_fraction},
      {"tokenizer",
       {{"file", "tokenizer.model"},
        {"type", "sentencepiece bpe, byte_fallback, nmt_nfkc"},
        {"max_sentences", opt.tokenizer_sentences}}},
      {"vocab_size", tok.vocab_size()},
      {"special_ids",
       {{"pad", tok.pad_id()}, {"eos", tok.eos_id()}, {"unk", tok.unk_id()}, {"bos", -1}}},
      {"train",
       {{"file", "train.bin"}, {"documents", train.documents()}, {"tokens", train.tokens()}}},
      {"valid",
       {{"file", "valid.bin"}, {"documents", valid.documents()}, {"tokens", valid.tokens()}}},
  };
  m["unigram_valid_loss"] = unigram_loss(TokenShard((out / "train.bin").string()),
                                         TokenShard((out / "valid.bin").string()));
  write_file_atomic((out / "manifest.json").string(), m.dump(2) + "\n");
  return m;
}

}  // namespace sg
