// sgatlin generate: sample text from a checkpoint, streamed as it is decoded.
#include <iostream>

#include "cli/commands.h"
#include "data/tokenizer.h"
#include "eval/generate.h"
#include "train/checkpoint_model.h"
#include "train/precision.h"

namespace sg::cli {

namespace {

struct GenerateArgs {
  std::string checkpoint, prompt;
  SampleOptions sample;
  int threads = 0;
  std::vector<std::string> overrides;  // --set precision=...
};

void run_generate(const GenerateArgs& a) {
  apply_threads(a.threads);
  CheckpointModel cm = load_checkpoint_model(a.checkpoint);
  apply_precision(saved_model_precision(cm.run_config, a.overrides), cm.dir);
  Transformer& model = *cm.model;
  const Tokenizer tok = Tokenizer::load(find_tokenizer(cm.dir, cm.run_config));
  std::vector<int32_t> out = tok.encode(a.prompt);
  std::vector<int32_t> prompt = {tok.eos_id()};  // training inputs start with eos (spec §4)
  prompt.insert(prompt.end(), out.begin(), out.end());
  SampleOptions opt = a.sample;
  opt.stop_id = tok.eos_id();
  // Decode prompt + continuation each time: pieces merge (bytes, leading spaces) across
  // tokens, so only a decode that extends what is shown can be streamed.
  std::string shown = tok.decode(out);
  std::cout << shown << std::flush;
  auto stream = [&](bool final) {
    const std::string text = tok.decode(out);
    if (text.size() > shown.size() && text.compare(0, shown.size(), shown) == 0) {
      std::cout << text.substr(shown.size()) << std::flush;
      shown = text;
    } else if (final && text != shown) {
      std::cout << "\n[decoded in full] " << text;  // a late byte changed earlier text
    }
  };
  generate(model, prompt, opt, [&](int32_t id) {
    if (id == tok.eos_id()) return;
    out.push_back(id);
    stream(false);
  });
  stream(true);
  std::cout << "\n";
}

}  // namespace

void register_generate(CLI::App& app) {
  auto a = std::make_shared<GenerateArgs>();
  CLI::App* cmd =
      app.add_subcommand("generate", "Sample a continuation of a prompt from a checkpoint");
  cmd->add_option("--checkpoint", a->checkpoint, "Run folder or checkpoint folder")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--prompt", a->prompt, "Text to continue")->required();
  cmd->add_option("--max-tokens", a->sample.max_tokens, "Tokens to generate")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--temperature", a->sample.temperature, "Sampling temperature (0: greedy)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--top-k", a->sample.top_k, "Sample among the k most likely tokens (0: all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", a->sample.seed, "Sampling seed")->capture_default_str();
  cmd->add_option("--threads", a->threads, "OpenMP threads (default: all cores)");
  cmd->add_option("--set", a->overrides, "precision=fp32|bf16|auto (default: the run's setting)");
  cmd->callback([a] { run_generate(*a); });
}

}  // namespace sg::cli
