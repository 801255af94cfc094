// Token shards: the token ids of many documents, each followed by eos, in one binary
// file. Layout (little endian), a 48-byte header then the payload:
//   0  char[8]  magic "SGTOK\0\0\0"
//   8  u32      version (1)
//  12  u32      bytes per token: 2 (uint16) when vocab_size <= 65536, else 4 (uint32)
//  16  u64      token count
//  24  u64      vocab size (every token id is below it)
//  32  u64      document count
//  40  u64      FNV-1a 64 checksum of the payload bytes
//  48  payload  token count * bytes per token
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "util/file_io.h"

namespace sg {

constexpr uint32_t kShardVersion = 1;
constexpr size_t kShardHeaderBytes = 48;

uint64_t fnv1a64(const void* data, size_t bytes, uint64_t h = 14695981039346656037ull);

// Streams documents into a shard written atomically (see AtomicFile): the header,
// with the final count and checksum, is filled in by finish().
class ShardWriter {
 public:
  ShardWriter(const std::string& path, int64_t vocab_size);
  void add_document(const int32_t* ids, size_t n, int32_t eos_id);  // appends ids then eos
  void finish();
  int64_t tokens() const { return tokens_; }
  int64_t documents() const { return documents_; }

 private:
  std::string path_;
  AtomicFile file_;
  int64_t vocab_size_;
  uint32_t width_;
  int64_t tokens_ = 0, documents_ = 0;
  uint64_t checksum_;
  std::string buffer_;
};

// A validated, read-only shard, memory-mapped. Opening checks magic, version, width,
// size and checksum, and that every id is below the vocab size; errors name the file.
class TokenShard {
 public:
  explicit TokenShard(const std::string& path);
  ~TokenShard();
  TokenShard(const TokenShard&) = delete;
  TokenShard& operator=(const TokenShard&) = delete;

  int64_t tokens() const { return tokens_; }
  int64_t vocab_size() const { return vocab_size_; }
  int64_t documents() const { return documents_; }
  const std::string& path() const { return path_; }
  int32_t operator[](int64_t i) const;
  void read(int64_t start, int64_t n, int32_t* out) const;  // tokens [start, start + n)

 private:
  std::string path_;
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
  const unsigned char* payload_ = nullptr;
  uint32_t width_ = 0;
  int64_t tokens_ = 0, vocab_size_ = 0, documents_ = 0;
};

}  // namespace sg
