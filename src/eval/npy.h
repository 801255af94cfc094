// NumPy .npy files (format version 1.0, written atomically), little-endian int32 and float32, C
// order: what `numpy.load` reads directly.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sg {

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape);
void write_npy(const std::string& path, const int32_t* data, const std::vector<int64_t>& shape);

// A .npy file as read back: its dtype descr ("<i4", "<f4", ...), shape and raw data.
struct NpyArray {
  std::string descr;
  std::vector<int64_t> shape;
  std::string bytes;
  int64_t numel() const;
};
// Reads v1.0 files in C order holding int32 or float32; throws naming the path otherwise.
NpyArray read_npy(const std::string& path);

}  // namespace sg
