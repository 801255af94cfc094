// `sgatlin data prepare`: build a tokenizer and token shards from a corpus.
#include <iostream>

#include "cli/commands.h"
#include "data/prepare.h"

namespace sg::cli {

void register_data(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Prepare corpora: tokenizer and token shards");
  data->require_subcommand(1);
  auto opt = std::make_shared<PrepareOptions>();
  auto threads = std::make_shared<int>(0);
  auto* prep = data->add_subcommand(
      "prepare",
      "Read a corpus, split it into train/valid documents, train a BPE tokenizer and write "
      "tokenizer.model, train.bin, valid.bin and manifest.json into --out");
  prep->add_option("--corpus", opt->corpus,
                   "'kjv' (Debian bible-kjv, a document per chapter) or files: *.jsonl (a "
                   "document per line's \"text\"), files containing <|endoftext|> (TinyStories: "
                   "a document per story), other text (a document per blank-line-separated "
                   "paragraph)")
      ->required()
      ->expected(1, -1);
  prep->add_option("--out", opt->out_dir, "Output folder (created if missing)")->required();
  prep->add_option("--vocab-size", opt->vocab_size, "Tokenizer vocabulary size")
      ->required()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 31));
  prep->add_option("--valid-fraction", opt->valid_fraction,
                   "Fraction of documents held out for validation (at least one)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  prep->add_option("--seed", opt->seed,
                   "Seed of the train/valid split and of the tokenizer's line sample")
      ->capture_default_str();
  prep->add_option("--tokenizer-sentences", opt->tokenizer_sentences,
                   "Lines the tokenizer trainer sees at most (a deterministic sample beyond)")
      ->capture_default_str();
  prep->add_option("--threads", *threads, "Encoding threads (0 = all cores)")
      ->capture_default_str();
  prep->callback([opt, threads] {
    apply_threads(*threads);
    const auto m = prepare_data(*opt);
    std::cout << "wrote " << opt->out_dir << ": vocab " << m["vocab_size"] << ", train "
              << m["train"]["documents"] << " documents / " << m["train"]["tokens"]
              << " tokens, valid " << m["valid"]["documents"] << " documents / "
              << m["valid"]["tokens"] << " tokens\n";
  });
}

}  // namespace sg::cli
