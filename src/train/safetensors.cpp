// safetensors: u64 little-endian header length N, N bytes of JSON header (padded with
// spaces to a multiple of 8 so the data is 8-byte aligned), then the tensor bytes.
// Header entries: name -> {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]},
// offsets relative to the data start; the data is tiled exactly (sorted, no gaps, no
// overlap, nothing after the last tensor), as the reference implementation requires.
#include "train/safetensors.h"

#include <algorithm>
#include <bit>
#include <filesystem>
#include <fstream>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/file_io.h"
#include "util/json_util.h"

namespace sg {

static_assert(std::endian::native == std::endian::little, "safetensors data is little endian");

namespace {

using json = nlohmann::json;
constexpr uint64_t kMaxHeader = 100'000'000;  // the reference implementation's limit

struct Entry {
  std::string name;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

uint64_t read_u64_le(const unsigned char* b) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | b[i];
  return n;
}

// A non-negative JSON integer, or an error naming the file, the tensor and the field.
uint64_t header_uint(const json& v, const std::string& path, const std::string& what) {
  SG_CHECK(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0), path, ": ",
           what, " = ", v.dump(), ": expected a non-negative integer");
  return v.get<uint64_t>();
}

Entry parse_entry(const std::string& name, const json& info, const std::string& path,
                  uint64_t data_size) {
  const std::string where = "tensor \"" + name + "\"";
  SG_CHECK(info.is_object(), path, ": ", where, ": expected an object, got ", info.dump());
  for (const auto& [k, _] : info.items())
    SG_CHECK(k == "dtype" || k == "shape" || k == "data_offsets", path, ": ", where,
             ": unknown field \"", k, "\" (allowed: dtype, shape, data_offsets)");
  SG_CHECK(info.contains("dtype") && info.contains("shape") && info.contains("data_offsets"), path,
           ": ", where, ": needs dtype, shape and data_offsets, got ", info.dump());
  const json& dtype = info["dtype"];
  SG_CHECK(dtype.is_string(), path, ": ", where, ": dtype = ", dtype.dump(), ": expected a string");
  SG_CHECK(dtype == "F32", path, ": ", where, ": unsupported dtype ", dtype.dump(),
           " (only F32 is supported)");

  Entry e{name, {}, 0, 0};
  const json& shape = info["shape"];
  SG_CHECK(shape.is_array(), path, ": ", where, ": shape = ", shape.dump(), ": expected an array");
  uint64_t numel = 1;
  for (const json& d : shape) {
    const uint64_t n = header_uint(d, path, where + " shape dimension");
    // Overflow guard: the byte count numel * 4 must fit the file anyway.
    SG_CHECK(n == 0 || numel <= (std::numeric_limits<uint64_t>::max() / 4) / n, path, ": ", where,
             ": shape ", shape.dump(), " is too large");
    numel *= n;
    e.shape.push_back(static_cast<int64_t>(n));
  }
  const json& off = info["data_offsets"];
  SG_CHECK(off.is_array() && off.size() == 2, path, ": ", where, ": data_offsets = ", off.dump(),
           ": expected [begin, end]");
  e.begin = header_uint(off[0], path, where + " data_offsets[0]");
  e.end = header_uint(off[1], path, where + " data_offsets[1]");
  SG_CHECK(e.begin <= e.end && e.end <= data_size, path, ": ", where, ": data_offsets ", off.dump(),
           " out of range: the data section has ", data_size, " bytes (truncated file?)");
  SG_CHECK(e.end - e.begin == numel * 4, path, ": ", where, ": shape ", shape.dump(), " needs ",
           numel * 4, " bytes of F32 but data_offsets ", off.dump(), " span ", e.end - e.begin);
  return e;
}

}  // namespace

void write_safetensors(const std::string& path, const SafeTensors& st) {
  json header = json::object();
  if (!st.metadata.empty()) header["__metadata__"] = st.metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : st.tensors) {  // name order, so offsets are increasing
    SG_CHECK(!name.empty() && name != "__metadata__", path, ": invalid tensor name \"", name, "\"");
    SG_CHECK(t.defined(), path, ": tensor \"", name, "\" is undefined");
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * 4;
    header[name] = {
        {"dtype", "F32"}, {"shape", t.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string h;
  try {
    h = header.dump();
  } catch (const json::exception& e) {  // e.g. a name or metadata value that is not UTF-8
    fail(path, ": cannot encode safetensors header: ", e.what());
  }
  h.append((8 - h.size() % 8) % 8, ' ');
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(h.size() >> (8 * i));
  AtomicFile out(path);
  out.write(len, 8);
  out.write(h.data(), h.size());
  for (const auto& [name, t] : st.tensors) out.write(t.data(), static_cast<size_t>(t.numel()) * 4);
  out.commit();
}

SafeTensors read_safetensors(const std::string& path) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  SG_CHECK(!ec, path, ": cannot read safetensors file: ", ec.message());
  std::ifstream f(path, std::ios::binary);
  SG_CHECK(f, path, ": cannot open safetensors file");
  SG_CHECK(size >= 8, path, ": truncated: the file has ", size,
           " bytes, fewer than the 8-byte header length");
  unsigned char len[8];
  f.read(reinterpret_cast<char*>(len), 8);
  const uint64_t n = read_u64_le(len);
  SG_CHECK(n <= kMaxHeader, path, ": header length ", n, " exceeds the ", kMaxHeader,
           "-byte limit (corrupt file?)");
  SG_CHECK(n <= size - 8, path, ": truncated: header length ", n, " goes beyond the file size (",
           size, " bytes)");
  std::string h(n, '\0');
  f.read(h.data(), static_cast<std::streamsize>(n));
  SG_CHECK(f, path, ": read error in the header");
  SG_CHECK(!h.empty() && h[0] == '{', path,
           ": header does not start with '{' (not a safetensors file?)");
  const json header = parse_json_strict(h, path + ": header");
  SG_CHECK(header.is_object(), path, ": header is not a JSON object");

  const uint64_t data_size = size - 8 - n;
  SafeTensors st;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      SG_CHECK(value.is_object(), path, ": __metadata__ must be an object of strings, got ",
               value.dump());
      for (const auto& [mk, mv] : value.items()) {
        SG_CHECK(mv.is_string(), path, ": __metadata__ \"", mk, "\" = ", mv.dump(),
                 ": expected a string");
        st.metadata[mk] = mv.get<std::string>();
      }
    } else {
      entries.push_back(parse_entry(key, value, path, data_size));
    }
  }

  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  std::string prev = "(start of data)";
  for (const Entry& e : entries) {
    SG_CHECK(e.begin >= expected, path, ": tensor \"", e.name, "\" data_offsets [", e.begin, ", ",
             e.end, "] overlap tensor \"", prev, "\" which ends at ", expected);
    SG_CHECK(e.begin == expected, path, ": gap in the data: tensor \"", e.name, "\" starts at ",
             e.begin, " but the previous one (", prev, ") ends at ", expected);
    expected = e.end;
    prev = e.name;
  }
  SG_CHECK(expected == data_size, path, ": the data section has ", data_size,
           " bytes but the tensors cover ", expected, " (truncated or trailing bytes)");

  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape);
    f.seekg(static_cast<std::streamoff>(8 + n + e.begin));
    f.read(reinterpret_cast<char*>(t.data()), static_cast<std::streamsize>(e.end - e.begin));
    SG_CHECK(f, path, ": read error in the data of tensor \"", e.name, "\"");
    st.tensors[e.name] = std::move(t);
  }
  return st;
}

}  // namespace sg
