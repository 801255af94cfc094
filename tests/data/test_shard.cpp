#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "data/shard.h"
#include "data_test_util.h"
#include "util/error.h"

using namespace sg;
using sg::test::TempDir;

namespace {

void write_docs(const std::string& path, int64_t vocab,
                const std::vector<std::vector<int32_t>>& docs, int32_t eos) {
  ShardWriter w(path, vocab);
  for (const auto& d : docs) w.add_document(d.data(), d.size(), eos);
  w.finish();
}

void flip_byte(const std::string& path, size_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c;
  f.get(c);
  c ^= 0x10;
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(c);
}

}  // namespace

TEST_CASE("shard: FNV-1a 64 matches the published test vectors") {
  CHECK(fnv1a64("", 0) == 0xcbf29ce484222325ull);
  CHECK(fnv1a64("a", 1) == 0xaf63dc4c8601ec8cull);
  CHECK(fnv1a64("foobar", 6) == 0x85944171f73967e8ull);
}

TEST_CASE("shard: round trip with uint16 and uint32 ids, eos after every document") {
  TempDir dir;
  for (int64_t vocab : {int64_t{37}, int64_t{65536}, int64_t{70001}}) {
    const std::string path = dir.file("s.bin");
    const int32_t big = static_cast<int32_t>(vocab - 1);
    write_docs(path, vocab, {{5, 7, big}, {}, {3}}, 1);
    const uint32_t width = vocab <= 65536 ? 2 : 4;
    CHECK(std::filesystem::file_size(path) == kShardHeaderBytes + 7 * width);
    TokenShard s(path);
    CHECK(s.tokens() == 7);
    CHECK(s.documents() == 3);
    CHECK(s.vocab_size() == vocab);
    std::vector<int32_t> got(7);
    s.read(0, 7, got.data());
    CHECK(got == std::vector<int32_t>{5, 7, big, 1, 1, 3, 1});
    CHECK_THROWS_WITH_AS(s.read(5, 3, got.data()), sg::test::has("outside the shard"), Error);
  }
  // No temp file is left behind.
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), {}) == 1);
}

TEST_CASE("shard: writer rejects ids outside the vocabulary") {
  TempDir dir;
  ShardWriter w(dir.file("s.bin"), 10);
  const int32_t ids[] = {3, 10};
  CHECK_THROWS_WITH_AS(w.add_document(ids, 2, 1), sg::test::has("token id 10 outside [0, 10)"),
                       Error);
}

TEST_CASE("shard: corrupted or truncated files are rejected with a clear error") {
  TempDir dir;
  const std::string path = dir.file("s.bin");
  std::vector<std::vector<int32_t>> docs;
  for (int d = 0; d < 20; ++d) docs.push_back({d, d + 1, d + 2});
  auto fresh = [&] { write_docs(path, 300, docs, 1); };

  fresh();
  flip_byte(path, kShardHeaderBytes + 17);  // payload byte
  CHECK_THROWS_WITH_AS(TokenShard{path},
                       sg::test::has(path + ": corrupted shard: checksum mismatch"), Error);

  fresh();
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 3);
  CHECK_THROWS_WITH_AS(TokenShard{path},
                       sg::test::has("but the file holds 157 payload bytes (truncated?)"), Error);

  fresh();
  std::filesystem::resize_file(path, 20);
  CHECK_THROWS_WITH_AS(TokenShard{path}, sg::test::has("less than the 48-byte header"), Error);

  fresh();
  flip_byte(path, 1);
  CHECK_THROWS_WITH_AS(TokenShard{path}, sg::test::has("not a token shard"), Error);

  fresh();
  flip_byte(path, 8);  // version
  CHECK_THROWS_WITH_AS(TokenShard{path}, sg::test::has("unsupported shard version 17"), Error);

  fresh();
  flip_byte(path, 16);  // token count
  CHECK_THROWS_WITH_AS(TokenShard{path}, sg::test::has("corrupted shard: header says"), Error);

  CHECK_THROWS_WITH_AS(TokenShard{dir.file("absent.bin")},
                       sg::test::has("absent.bin: cannot open token shard"), Error);
}
