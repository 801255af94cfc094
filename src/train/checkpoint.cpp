#include "train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "train/run_config.h"
#include "train/safetensors.h"
#include "util/file_io.h"

namespace fs = std::filesystem;

namespace sg {

namespace {

std::string step_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step_%08lld", static_cast<long long>(step));
  return buf;
}

void fsync_path(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

SafeTensors model_tensors(const Transformer& model, const nlohmann::json& run_config,
                          const std::string& precision) {
  SafeTensors st;
  for (const auto& p : model.params().all()) st.tensors[p.name] = p.var->value;
  st.metadata["config"] = to_json(model.config()).dump();
  st.metadata["run_config"] = run_config.dump();
  st.metadata["precision"] = precision;
  return st;
}

SafeTensors optimizer_tensors(const Transformer& model, const AdamW& opt) {
  SafeTensors st;
  const auto& ps = model.params().all();
  for (size_t i = 0; i < ps.size(); ++i) {
    st.tensors[ps[i].name + ".m"] = opt.m()[i];
    st.tensors[ps[i].name + ".v"] = opt.v()[i];
  }
  st.metadata["steps_done"] = std::to_string(opt.steps_done());
  return st;
}

nlohmann::json state_json(const TrainerState& s) {
  return {{"step", s.step},
          {"tokens", s.tokens},
          {"elapsed_s", s.elapsed_s},
          {"precision", s.precision},
          {"loader", {{"epoch", s.loader.epoch}, {"cursor", s.loader.cursor}}}};
}

// Keeps the newest `keep` step folders; removes older ones and stale temporaries.
void prune(const fs::path& ckpts, const std::string& current, int keep) {
  std::vector<std::string> steps;
  for (const auto& e : fs::directory_iterator(ckpts)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("tmp_", 0) == 0)
      fs::remove_all(e.path());
    else if (name.rfind("step_", 0) == 0)
      steps.push_back(name);
  }
  std::sort(steps.begin(), steps.end());
  for (size_t i = 0; i + keep < steps.size(); ++i)
    if (steps[i] != current) fs::remove_all(ckpts / steps[i]);
}

void copy_tensor_into(const Tensor& src, Tensor& dst, const std::string& what) {
  check_shape("checkpoint", what.c_str(), src.shape(), dst.shape());
  std::copy_n(src.data(), src.numel(), dst.data());
}

const Tensor& find(const SafeTensors& st, const std::string& name, const std::string& file) {
  auto it = st.tensors.find(name);
  SG_CHECK(it != st.tensors.end(), file, ": missing tensor '", name, "'");
  return it->second;
}

nlohmann::json read_json_file(const fs::path& p) {
  std::ifstream in(p);
  SG_CHECK(in, p.string(), ": cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(p.string(), ": invalid JSON: ", e.what());
  }
}

}  // namespace

void save_checkpoint(const std::string& run_dir, const Transformer& model, const AdamW& opt,
                     const TrainerState& state, const nlohmann::json& run_config, int keep) {
  const fs::path ckpts = fs::path(run_dir) / "checkpoints";
  fs::create_directories(ckpts);
  const std::string name = step_name(state.step);
  const fs::path tmp = ckpts / ("tmp_" + name);
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  write_safetensors((tmp / "model.safetensors").string(),
                    model_tensors(model, run_config, state.precision));
  write_safetensors((tmp / "optimizer.safetensors").string(), optimizer_tensors(model, opt));
  write_file_atomic((tmp / "trainer_state.json").string(), state_json(state).dump(2) + "\n");
  fsync_path(tmp);
  fs::remove_all(ckpts / name);
  fs::rename(tmp, ckpts / name);
  fsync_path(ckpts);
  write_file_atomic((ckpts / "latest").string(), name + "\n");
  prune(ckpts, name, keep);
}

std::string resolve_checkpoint(const std::string& dir) {
  const fs::path d(dir);
  if (fs::exists(d / "model.safetensors")) return d.string();
  const fs::path latest = d / "checkpoints" / "latest";
  SG_CHECK(fs::exists(latest), dir, ": no checkpoint here (expected ", latest.string(),
           " or a folder holding model.safetensors)");
  std::ifstream in(latest);
  std::string name;
  in >> name;
  const fs::path ckpt = d / "checkpoints" / name;
  SG_CHECK(fs::exists(ckpt / "model.safetensors"), latest.string(), " names '", name, "' but ",
           ckpt.string(), "/model.safetensors does not exist");
  return ckpt.string();
}

nlohmann::json checkpoint_run_config(const std::string& ckpt_dir) {
  const std::string file = ckpt_dir + "/model.safetensors";
  const SafeTensors st = read_safetensors(file);
  auto it = st.metadata.find("run_config");
  SG_CHECK(it != st.metadata.end(), file, ": no 'run_config' in the metadata");
  const auto j = nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
  SG_CHECK(j.is_object() && j.contains("model"), file,
           ": the metadata's 'run_config' is not a run config JSON object");
  return j;
}

void load_model_weights(const std::string& ckpt_dir, Transformer& model) {
  const std::string file = ckpt_dir + "/model.safetensors";
  const SafeTensors st = read_safetensors(file);
  SG_CHECK(st.tensors.size() == model.params().all().size(), file, ": holds ", st.tensors.size(),
           " tensors, the model has ", model.params().all().size(), " parameters");
  for (auto& p : model.params().all()) {
    copy_tensor_into(find(st, p.name, file), p.var->value, file + ": " + p.name);
    p.var->mark_changed();
  }
}

void load_training_state(const std::string& ckpt_dir, const Transformer& model, AdamW& opt,
                         TrainerState& state) {
  const std::string file = ckpt_dir + "/optimizer.safetensors";
  const SafeTensors st = read_safetensors(file);
  std::vector<Tensor> m, v;
  for (const auto& p : model.params().all()) {
    m.push_back(find(st, p.name + ".m", file).clone());
    v.push_back(find(st, p.name + ".v", file).clone());
    check_shape("checkpoint", (file + ": " + p.name + ".m").c_str(), m.back().shape(),
                p.var->value.shape());
  }
  const nlohmann::json js = read_json_file(fs::path(ckpt_dir) / "trainer_state.json");
  try {
    state.step = js.at("step").get<int64_t>();
    state.tokens = js.at("tokens").get<int64_t>();
    state.elapsed_s = js.at("elapsed_s").get<double>();
    state.loader.epoch = js.at("loader").at("epoch").get<int64_t>();
    state.loader.cursor = js.at("loader").at("cursor").get<int64_t>();
    state.precision = js.value("precision", "fp32");  // checkpoints before bf16 were fp32
  } catch (const nlohmann::json::exception& e) {
    fail(ckpt_dir, "/trainer_state.json: ", e.what());
  }
  auto steps = st.metadata.find("steps_done");
  SG_CHECK(steps != st.metadata.end() && !steps->second.empty() &&
               steps->second.find_first_not_of("0123456789") == std::string::npos,
           file, ": metadata 'steps_done' is missing or not a step count");
  opt.restore(std::move(m), std::move(v), std::stoll(steps->second));
}

}  // namespace sg
