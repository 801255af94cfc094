// Loading the lens weights (see report_model.h).
#include "eval/report_model.h"

#include <cstdio>
#include <filesystem>

#include "data/shard.h"
#include "data/tokenizer.h"
#include "train/checkpoint.h"
#include "train/safetensors.h"
#include "util/file_io.h"

namespace fs = std::filesystem;

namespace sg {

namespace {

Tensor take(SafeTensors& st, const std::string& file, const std::string& name) {
  const auto it = st.tensors.find(name);
  SG_CHECK(it != st.tensors.end(), file, ": no tensor ", name);
  return it->second;
}

std::string fingerprint_of(const std::string& bytes) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(fnv1a64(bytes.data(), bytes.size())));
  return hex;
}

// The run folder keeps a copy of its tokenizer (run/checkpoints/step_N/..); else the
// config's path.
std::vector<std::string> vocab_pieces(const std::string& ckpt_dir) {
  fs::path path = fs::path(ckpt_dir).parent_path().parent_path() / "tokenizer.model";
  if (!fs::exists(path))
    path = checkpoint_run_config(ckpt_dir).at("data").at("tokenizer").get<std::string>();
  const Tokenizer tok = Tokenizer::load(path.string());
  std::vector<std::string> v;
  for (int64_t i = 0; i < tok.vocab_size(); ++i) v.push_back(tok.piece(static_cast<int32_t>(i)));
  return v;
}

}  // namespace

std::string model_fingerprint(const std::string& ckpt_dir) {
  return fingerprint_of(read_file((fs::path(ckpt_dir) / "model.safetensors").string()));
}

ReportModel load_report_model(const std::string& dir) {
  ReportModel m;
  m.dir = resolve_checkpoint(dir);
  const std::string file = (fs::path(m.dir) / "model.safetensors").string();
  m.fingerprint = fingerprint_of(read_file(file));
  SafeTensors st = read_safetensors(file);
  m.E_VxD = take(st, file, "tok_embeddings.weight");
  m.final_scale_D = take(st, file, "norm.weight");
  m.V = m.E_VxD.dim(0);
  m.D = m.E_VxD.dim(1);
  m.vocab = vocab_pieces(m.dir);
  // The model's vocab may exceed the tokenizer's (spec: at least its size).
  while (static_cast<int64_t>(m.vocab.size()) < m.V) m.vocab.push_back("<unused>");
  for (int64_t l = 0;; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    if (!st.tensors.count(p + "ffn_norm.weight")) break;
    if (!st.tensors.count(p + "ffn.experts.w_in") || !st.tensors.count(p + "ffn.experts.w_out"))
      continue;  // not a sgatlin/peer layer: no single-neuron experts to read
    LensLayer L;
    L.w_in_PxMxD = take(st, file, p + "ffn.experts.w_in");
    L.w_out_PxMxD = take(st, file, p + "ffn.experts.w_out");
    L.ffn_scale_D = take(st, file, p + "ffn_norm.weight");
    if (L.w_in_PxMxD.rank() == 2) {  // peer: one shared table
      L.w_in_PxMxD = L.w_in_PxMxD.reshape({1, L.w_in_PxMxD.dim(0), m.D});
      L.w_out_PxMxD = L.w_out_PxMxD.reshape({1, L.w_out_PxMxD.dim(0), m.D});
    }
    L.P = L.w_in_PxMxD.dim(0);
    L.M = L.w_in_PxMxD.dim(1);
    m.layers[l] = std::move(L);
  }
  return m;
}

}  // namespace sg
