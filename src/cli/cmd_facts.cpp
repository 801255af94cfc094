// sgatlin facts: "NAME the son of FATHER" facts mined from a prepared corpus, as a
// pairs file for `sgatlin intervene`.
#include "cli/commands.h"
#include "eval/facts.h"

namespace sg::cli {

namespace {

struct FactsArgs {
  std::string data, out;
  int64_t min_count = 5;
};

}  // namespace

void register_facts(CLI::App& app) {
  auto a = std::make_shared<FactsArgs>();
  CLI::App* cmd = app.add_subcommand("facts",
                                     "Mine \"NAME the son of FATHER\" facts from a prepared corpus "
                                     "into pairs.jsonl for intervene");
  cmd->add_option("--data", a->data,
                  "Folder written by `data prepare` (tokenizer.model, train.bin, valid.bin)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", a->out, "Output folder (facts.tsv, pairs.jsonl)")->required();
  cmd->add_option("--min-count", a->min_count, "Occurrences a name needs, always with one father")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->callback([a] { mine_facts(a->data, a->out, a->min_count); });
}

}  // namespace sg::cli
