// safetensors: byte-exact layout against a file built by hand from the format spec, round
// trips of odd shapes and metadata, atomic replacement, and rejection of damaged files
// with messages that name the file and the problem.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "train/safetensors.h"
#include "util/error.h"

namespace fs = std::filesystem;
using sg::Tensor;

namespace {

// A fresh folder per test case, removed at the end.
struct TempDir {
  fs::path dir;
  explicit TempDir(const std::string& tag)
      : dir(fs::temp_directory_path() / ("sgatlin_st_" + tag + "_" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() { fs::remove_all(dir); }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// An 8-byte little-endian length, the header as given (no padding added), then data.
std::string raw_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string read_error(const std::string& path) {
  try {
    sg::read_safetensors(path);
  } catch (const sg::Error& e) {
    return e.what();
  }
  return "(no error)";
}

void check_has(const std::string& msg, std::initializer_list<std::string> pieces) {
  for (const auto& p : pieces)
    CHECK_MESSAGE(msg.find(p) != std::string::npos, "\"" << p << "\" not in: " << msg);
}

}  // namespace

TEST_CASE("safetensors: writer output is byte-identical to a hand-built file") {
  TempDir tmp("bytes");
  sg::SafeTensors st;
  st.tensors["a"] = Tensor::from({2}, {1.0f, -2.5f});
  st.metadata["k"] = "v";
  sg::write_safetensors(tmp.file("a.safetensors"), st);
  // Header JSON (keys sorted, compact) is 79 bytes, padded with a space to 80 = 8*10.
  const std::string header =
      "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"data_offsets\":[0,8],\"dtype\":\"F32\",\"shape\":["
      "2]}}";
  REQUIRE(header.size() == 79);
  // IEEE-754 little endian: 1.0f = 0x3f800000, -2.5f = 0xc0200000.
  const std::string data("\x00\x00\x80\x3f\x00\x00\x20\xc0", 8);
  const std::string want = raw_file(header + " ", data);
  CHECK(read_bytes(tmp.file("a.safetensors")) == want);

  // And the reader accepts that hand-built file.
  write_bytes(tmp.file("hand.safetensors"), want);
  const sg::SafeTensors back = sg::read_safetensors(tmp.file("hand.safetensors"));
  REQUIRE(back.tensors.count("a") == 1);
  CHECK(back.tensors.at("a").shape() == sg::Shape{2});
  CHECK(back.tensors.at("a")[0] == 1.0f);
  CHECK(back.tensors.at("a")[1] == -2.5f);
  CHECK(back.metadata.at("k") == "v");
}

TEST_CASE("safetensors: round trip of odd shapes, a scalar, an empty tensor and metadata") {
  TempDir tmp("rt");
  sg::SafeTensors st;
  st.tensors["layers.0.ffn.experts.w_in"] = Tensor::empty({3, 7, 5});
  st.tensors["norm.weight"] = Tensor::empty({13});
  st.tensors["scalar"] = Tensor::full({}, 3.25f);
  st.tensors["empty"] = Tensor::empty({2, 0, 3});
  float x = -1.0f;
  for (auto* name : {"layers.0.ffn.experts.w_in", "norm.weight"}) {
    Tensor& t = st.tensors[name];
    for (int64_t i = 0; i < t.numel(); ++i) t[i] = (x += 0.37f);
  }
  st.tensors["norm.weight"][4] = -0.0f;  // sign of zero must survive
  st.metadata["config"] = R"({"d_model": 256, "ffw": {"type": "sgatlin"}})";
  st.metadata["step"] = "1200";
  const std::string path = tmp.file("ckpt.safetensors");
  sg::write_safetensors(path, st);

  const sg::SafeTensors back = sg::read_safetensors(path);
  CHECK(back.metadata == st.metadata);
  REQUIRE(back.tensors.size() == st.tensors.size());
  for (const auto& [name, t] : st.tensors) {
    INFO(name);
    const Tensor& b = back.tensors.at(name);
    CHECK(b.shape() == t.shape());
    CHECK(std::memcmp(b.data(), t.data(), t.numel() * sizeof(float)) == 0);
  }
  // Layout: header length a multiple of 8 (data 8-byte aligned), header starts with '{'.
  const std::string bytes = read_bytes(path);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  CHECK(n % 8 == 0);
  CHECK(bytes[8] == '{');
  CHECK(bytes.size() == 8 + n + 4 * (3 * 7 * 5 + 13 + 1));
  // Overwriting replaces the file atomically and leaves no temp file behind.
  st.tensors.erase("scalar");
  sg::write_safetensors(path, st);
  CHECK(sg::read_safetensors(path).tensors.count("scalar") == 0);
  CHECK(std::distance(fs::directory_iterator(tmp.dir), fs::directory_iterator()) == 1);
}

TEST_CASE("safetensors: write errors name the file") {
  sg::SafeTensors st;
  st.tensors["a"] = Tensor::zeros({2});
  CHECK_THROWS_WITH_AS(sg::write_safetensors("/nonexistent_dir_sgatlin/x.safetensors", st),
                       doctest::Contains("/nonexistent_dir_sgatlin/x.safetensors.tmp."), sg::Error);
  st.tensors["__metadata__"] = Tensor::zeros({1});
  CHECK_THROWS_WITH_AS(sg::write_safetensors("/tmp/never_written.safetensors", st),
                       doctest::Contains("invalid tensor name \"__metadata__\""), sg::Error);
}

TEST_CASE("safetensors: truncated files are rejected with a clear error") {
  TempDir tmp("trunc");
  sg::SafeTensors st;
  st.tensors["a"] = Tensor::zeros({4, 3});
  st.tensors["b"] = Tensor::zeros({5});
  const std::string path = tmp.file("t.safetensors");
  sg::write_safetensors(path, st);
  const std::string full = read_bytes(path);

  write_bytes(path, full.substr(0, full.size() - 4));  // last tensor cut short
  check_has(read_error(path), {path, "tensor \"b\"", "out of range", "truncated"});
  write_bytes(path, full.substr(0, 40));  // inside the header
  check_has(read_error(path),
            {path, "truncated: header length", "beyond the file size (40 bytes)"});
  write_bytes(path, full.substr(0, 5));
  check_has(read_error(path), {path, "truncated", "5 bytes"});
  write_bytes(path, full + "xxxx");  // trailing bytes
  check_has(read_error(path), {path, "tensors cover"});
  check_has(read_error(tmp.file("missing.safetensors")), {"missing.safetensors", "cannot read"});
}

TEST_CASE("safetensors: corrupted headers are rejected naming the problem") {
  TempDir tmp("bad");
  const std::string path = tmp.file("bad.safetensors");
  const std::string d8(8, '\0'), d16(16, '\0');
  auto reject = [&](const std::string& header, const std::string& data,
                    std::initializer_list<std::string> pieces) {
    write_bytes(path, raw_file(header, data));
    const std::string msg = read_error(path);
    check_has(msg, pieces);
    CHECK(msg.find(path) != std::string::npos);
  };
  const std::string good_a = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  reject("{" + good_a + ",\"b\":{\"dtype\":\"F3", d16, {"invalid JSON"});
  reject("[1,2]   ", "", {"does not start with '{'"});
  reject("{\"a\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]}}", d8,
         {"tensor \"a\"", "unsupported dtype \"BF16\"", "only F32"});
  reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", d8,
         {"tensor \"a\"", "shape [3] needs 12 bytes", "span 8"});
  reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", d8,
         {"tensor \"a\"", "out of range", "8 bytes"});
  reject("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", d8, {"out of range"});
  reject("{" + good_a + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", d16,
         {"tensor \"b\"", "overlap tensor \"a\""});
  reject(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", d16,
         {"gap", "tensor \"a\" starts at 8"});
  reject("{" + good_a + "," + good_a + "}", d8, {"header: a: duplicate key"});
  reject(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", d8,
         {"shape dimension", "non-negative"});
  reject(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}})", d8,
         {"unknown field \"x\""});
  reject(R"({"a":{"dtype":"F32","shape":[2]}})", d8, {"needs dtype, shape and data_offsets"});
  reject("{\"__metadata__\":{\"k\":3}," + good_a + "}", d8,
         {"__metadata__ \"k\" = 3", "expected a string"});
  // A header length far beyond any real header.
  std::string huge(8, '\xff');
  write_bytes(path, huge + "{}");
  check_has(read_error(path), {path, "exceeds the 100000000-byte limit"});
}
