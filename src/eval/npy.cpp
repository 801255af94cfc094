// .npy v1.0: magic "\x93NUMPY", version 1 0, a little-endian uint16 header length, then
// a Python dict literal padded with spaces and '\n' so the data starts 64-byte aligned.
#include "eval/npy.h"

#include <bit>
#include <fstream>
#include <sstream>

#include "tensor/tensor.h"
#include "util/error.h"
#include "util/file_io.h"

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
  std::string header =
      std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  // Atomic (temp file, fsync, rename): a killed writer leaves no half-written array.
  AtomicFile out(path);
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.write("\x93NUMPY\x01\x00", 8);
  out.write(&len, 2);
  out.write(header.data(), header.size());
  out.write(data, n * elem);
  out.commit();
}

}  // namespace

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
  write(path, "<f4", data, sizeof(float), shape);
}

void write_npy(const std::string& path, const int32_t* data, const std::vector<int64_t>& shape) {
  write(path, "<i4", data, sizeof(int32_t), shape);
}

int64_t NpyArray::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

NpyArray read_npy(const std::string& path) {
  std::string bytes = read_file(path);
  SG_CHECK(bytes.size() >= 10 && bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0,
           path, ": not a .npy v1.0 file");
  const size_t len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9])
                                                                << 8;
  SG_CHECK(bytes.size() >= 10 + len, path, ": truncated header");
  const std::string header = bytes.substr(10, len);
  SG_CHECK(header.find("'fortran_order': False") != std::string::npos, path,
           ": only C-order arrays are supported");
  NpyArray a;
  const size_t d = header.find("'descr': '");
  const size_t open = header.find('('), close = header.find(')');
  SG_CHECK(d != std::string::npos && open != std::string::npos && close > open, path,
           ": cannot parse header ", header);
  a.descr = header.substr(d + 10, header.find('\'', d + 10) - d - 10);
  std::istringstream dims(header.substr(open + 1, close - open - 1));
  std::string dim;
  while (std::getline(dims, dim, ','))
    if (dim.find_first_not_of(' ') != std::string::npos) a.shape.push_back(std::stoll(dim));
  a.bytes = bytes.substr(10 + len);
  const int64_t elem = a.descr == "<i4" || a.descr == "<f4" ? 4 : 0;
  SG_CHECK(elem > 0, path, ": dtype ", a.descr, " not supported (int32 or float32 only)");
  SG_CHECK(static_cast<int64_t>(a.bytes.size()) == a.numel() * elem, path, ": holds ",
           a.bytes.size(), " data bytes, shape ", shape_str(a.shape), " needs ", a.numel() * elem);
  return a;
}

}  // namespace sg
