// .npy v1.0: magic "\x93NUMPY", version 1 0, a little-endian uint16 header length, then
// a Python dict literal padded with spaces and '\n' so the data starts 64-byte aligned.
#include "eval/npy.h"

#include <bit>
#include <fstream>

#include "util/error.h"

namespace sg {

namespace {

static_assert(std::endian::native == std::endian::little, "npy writer assumes little endian");

void write(const std::string& path, const char* descr, const void* data, size_t elem,
           const std::vector<int64_t>& shape) {
  std::string dims;
  int64_t n = 1;
  for (int64_t d : shape) {
    dims += std::to_string(d) + ", ";
    n *= d;
  }
  if (shape.size() > 1) dims.resize(dims.size() - 2);  // "(5,)" keeps its comma
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" +
                       dims + "), }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  SG_CHECK(out, path, ": cannot create");
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.write("\x93NUMPY\x01\x00", 8);
  out.write(reinterpret_cast<const char*>(&len), 2);
  out << header;
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n * elem));
  SG_CHECK(out.good(), path, ": write failed");
}

}  // namespace

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
  write(path, "<f4", data, sizeof(float), shape);
}

void write_npy(const std::string& path, const int32_t* data, const std::vector<int64_t>& shape) {
  write(path, "<i4", data, sizeof(int32_t), shape);
}

}  // namespace sg
