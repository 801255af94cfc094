#include "train/run_setup.h"

#include <filesystem>

#include "data/tokenizer.h"
#include "dist/comm.h"
#include "train/distributed.h"
#include "util/error.h"
#include "util/file_io.h"

namespace fs = std::filesystem;

namespace sg {

void absolutize_data_paths(RunConfig& cfg) {
  for (auto [field, key] : {std::pair{&cfg.data.train, "train"},
                            {&cfg.data.valid, "valid"},
                            {&cfg.data.tokenizer, "tokenizer"}}) {
    SG_CHECK(!field->empty(), "config: data.", key,
             " is not set (run 'sgatlin data prepare' and "
             "point data.",
             key, " at its output)");
    SG_CHECK(fs::exists(*field), "config: data.", key, " = \"", *field,
             "\": no such file (run 'sgatlin data prepare' first?)");
    *field = fs::absolute(*field).lexically_normal().string();
    cfg.raw["data"][key] = *field;
  }
}

TrainOptions prepare_run(const RunConfig& cfg, const std::string& run_dir, bool resume) {
  // Checked before anything is written, so another run's folder is never touched.
  SG_CHECK(resume || !fs::exists(fs::path(run_dir) / "checkpoints"), run_dir,
           " already holds a run; pass --resume to continue it or choose another --workdir/name");
  share_micro_batches(cfg.optimizer.n_gradient_accumulation, dist::size(), dist::rank());
  const Tokenizer tok = Tokenizer::load(cfg.data.tokenizer);
  SG_CHECK(tok.vocab_size() <= cfg.model.vocab_size,
           "config: model.vocab_size = ", cfg.model.vocab_size, " is smaller than the tokenizer's ",
           tok.vocab_size(), " (", cfg.data.tokenizer, ")");
  TrainOptions opt;
  opt.run_dir = run_dir;
  opt.resume = resume;
  opt.eos_id = tok.eos_id();
  opt.pad_id = tok.pad_id();
  if (!dist::is_root()) return opt;  // rank 0 alone writes into the run folder
  fs::create_directories(run_dir);
  write_file_atomic((fs::path(run_dir) / "tokenizer.model").string(),
                    read_file(cfg.data.tokenizer));
  return opt;
}

}  // namespace sg
