// The weights the neuron lens and the embedding map need, read straight from a
// checkpoint's model.safetensors (no model is built). Legend: V vocab, D d_model,
// P expert tables of a layer (C for sgatlin, 1 for peer), M neurons per table.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace sg {

struct LensLayer {
  int64_t P = 0, M = 0;
  Tensor w_in_PxMxD, w_out_PxMxD, ffn_scale_D;
};

struct ReportModel {
  std::string dir;          // the checkpoint folder
  std::string fingerprint;  // fnv1a64 of model.safetensors, 16 hex digits
  int64_t V = 0, D = 0;
  Tensor E_VxD, final_scale_D;
  std::map<int64_t, LensLayer> layers;  // sgatlin/peer layers only
  std::vector<std::string> vocab;       // the run's tokenizer pieces, by id
};

// `dir` is a run or checkpoint folder.
ReportModel load_report_model(const std::string& dir);
// fnv1a64 of the checkpoint's model.safetensors: what scope records and report checks.
std::string model_fingerprint(const std::string& ckpt_dir);

}  // namespace sg
