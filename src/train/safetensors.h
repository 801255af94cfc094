// safetensors files (fp32 tensors, little endian) written atomically: temp file in the
// same folder, fsync, rename, so a kill never leaves a half-written file.
#pragma once
#include <map>
#include <string>

#include "tensor/tensor.h"

namespace sg {

struct SafeTensors {
  std::map<std::string, Tensor> tensors;        // F32 only
  std::map<std::string, std::string> metadata;  // "__metadata__" string map
};

void write_safetensors(const std::string& path, const SafeTensors& st);
// Validates header, offsets, dtypes and file size; errors name the file and the problem.
SafeTensors read_safetensors(const std::string& path);

}  // namespace sg
