#include "train/checkpoint_model.h"

#include <filesystem>

#include "train/checkpoint.h"
#include "train/run_config.h"

namespace fs = std::filesystem;

namespace sg {

CheckpointModel load_checkpoint_model(const std::string& dir) {
  CheckpointModel m;
  m.dir = resolve_checkpoint(dir);
  m.run_config = checkpoint_run_config(m.dir);
  const ModelConfig mcfg =
      parse_model_config(m.run_config.at("model"), m.dir + "/model.safetensors");
  m.model = std::make_unique<Transformer>(mcfg, 0);
  load_model_weights(m.dir, *m.model);
  return m;
}

std::string find_tokenizer(const std::string& ckpt_dir, const nlohmann::json& run_config) {
  for (const fs::path& p : {fs::path(ckpt_dir) / "tokenizer.model",
                            fs::path(ckpt_dir).parent_path().parent_path() / "tokenizer.model"})
    if (fs::exists(p)) return p.string();
  const std::string cfg_path =
      run_config.value(nlohmann::json::json_pointer("/data/tokenizer"), std::string());
  SG_CHECK(fs::exists(cfg_path), ckpt_dir,
           ": no tokenizer.model next to the checkpoint and "
           "data.tokenizer = \"",
           cfg_path, "\" does not exist");
  return cfg_path;
}

}  // namespace sg
