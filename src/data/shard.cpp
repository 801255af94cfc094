#include "data/shard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>

#include "util/error.h"

namespace sg {

static_assert(std::endian::native == std::endian::little, "shards are read by memcpy");

namespace {

constexpr char kMagic[8] = {'S', 'G', 'T', 'O', 'K', 0, 0, 0};
constexpr size_t kFlushBytes = 1 << 20;

template <typename T>
void put(char* header, size_t offset, T v) {
  std::memcpy(header + offset, &v, sizeof v);
}
template <typename T>
T get(const unsigned char* header, size_t offset) {
  T v;
  std::memcpy(&v, header + offset, sizeof v);
  return v;
}

uint32_t width_for(int64_t vocab_size) { return vocab_size <= 65536 ? 2 : 4; }

}  // namespace

uint64_t fnv1a64(const void* data, size_t bytes, uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

ShardWriter::ShardWriter(const std::string& path, int64_t vocab_size)
    : path_(path),
      file_(path),
      vocab_size_(vocab_size),
      width_(width_for(vocab_size)),
      checksum_(fnv1a64(nullptr, 0)) {
  SG_CHECK(vocab_size > 0 && vocab_size <= (int64_t{1} << 31), path, ": vocab size ", vocab_size,
           " out of range");
  const char zeros[kShardHeaderBytes] = {};
  file_.write(zeros, sizeof zeros);  // placeholder until finish()
}

void ShardWriter::add_document(const int32_t* ids, size_t n, int32_t eos_id) {
  auto push = [&](int32_t id) {
    SG_CHECK(id >= 0 && id < vocab_size_, path_, ": token id ", id, " outside [0, ", vocab_size_,
             ")");
    if (width_ == 2) {
      const uint16_t v = static_cast<uint16_t>(id);
      buffer_.append(reinterpret_cast<const char*>(&v), 2);
    } else {
      const uint32_t v = static_cast<uint32_t>(id);
      buffer_.append(reinterpret_cast<const char*>(&v), 4);
    }
  };
  for (size_t i = 0; i < n; ++i) push(ids[i]);
  push(eos_id);
  tokens_ += static_cast<int64_t>(n) + 1;
  ++documents_;
  if (buffer_.size() >= kFlushBytes) {
    checksum_ = fnv1a64(buffer_.data(), buffer_.size(), checksum_);
    file_.write(buffer_.data(), buffer_.size());
    buffer_.clear();
  }
}

void ShardWriter::finish() {
  checksum_ = fnv1a64(buffer_.data(), buffer_.size(), checksum_);
  file_.write(buffer_.data(), buffer_.size());
  buffer_.clear();
  char header[kShardHeaderBytes] = {};
  std::memcpy(header, kMagic, sizeof kMagic);
  put<uint32_t>(header, 8, kShardVersion);
  put<uint32_t>(header, 12, width_);
  put<uint64_t>(header, 16, static_cast<uint64_t>(tokens_));
  put<uint64_t>(header, 24, static_cast<uint64_t>(vocab_size_));
  put<uint64_t>(header, 32, static_cast<uint64_t>(documents_));
  put<uint64_t>(header, 40, checksum_);
  file_.write_at(0, header, sizeof header);
  file_.commit();
}

TokenShard::TokenShard(const std::string& path) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  SG_CHECK(fd >= 0, path, ": cannot open token shard: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    fail(path, ": cannot stat: ", std::strerror(errno));
  }
  map_bytes_ = static_cast<size_t>(st.st_size);
  int map_errno = 0;
  if (map_bytes_ > 0) {
    map_ = ::mmap(nullptr, map_bytes_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map_ == MAP_FAILED) {
      map_ = nullptr;
      map_errno = errno;
    }
  }
  ::close(fd);
  SG_CHECK(map_bytes_ == 0 || map_, path, ": cannot map: ", std::strerror(map_errno));
  // From here on the destructor will not run if we throw, so unmap by hand.
  try {
    const auto* h = static_cast<const unsigned char*>(map_);
    SG_CHECK(map_bytes_ >= kShardHeaderBytes, path, ": corrupted shard: file has ", map_bytes_,
             " bytes, less than the ", kShardHeaderBytes, "-byte header");
    SG_CHECK(std::memcmp(h, kMagic, sizeof kMagic) == 0, path,
             ": not a token shard (magic is not SGTOK)");
    const uint32_t version = get<uint32_t>(h, 8);
    SG_CHECK(version == kShardVersion, path, ": unsupported shard version ", version,
             " (this build reads version ", kShardVersion, ")");
    width_ = get<uint32_t>(h, 12);
    tokens_ = static_cast<int64_t>(get<uint64_t>(h, 16));
    vocab_size_ = static_cast<int64_t>(get<uint64_t>(h, 24));
    documents_ = static_cast<int64_t>(get<uint64_t>(h, 32));
    const uint64_t checksum = get<uint64_t>(h, 40);
    SG_CHECK(vocab_size_ > 0 && vocab_size_ <= (int64_t{1} << 31), path,
             ": corrupted shard: vocab size ", vocab_size_, " in the header");
    SG_CHECK(width_ == width_for(vocab_size_), path, ": corrupted shard: ", width_,
             " bytes per token for vocab size ", vocab_size_, " (expected ", width_for(vocab_size_),
             ")");
    const uint64_t payload = static_cast<uint64_t>(map_bytes_ - kShardHeaderBytes);
    SG_CHECK(tokens_ >= 0 && payload == static_cast<uint64_t>(tokens_) * width_, path,
             ": corrupted shard: header says ", tokens_, " tokens (", tokens_ * width_,
             " bytes) but the file holds ", payload, " payload bytes (truncated?)");
    payload_ = h + kShardHeaderBytes;
    SG_CHECK(fnv1a64(payload_, payload) == checksum, path,
             ": corrupted shard: checksum mismatch (payload differs from what was written)");
    for (int64_t i = 0; i < tokens_; ++i) {
      const int32_t id = (*this)[i];
      SG_CHECK(id < vocab_size_, path, ": corrupted shard: token ", i, " is ", id,
               ", not below the vocab size ", vocab_size_);
    }
  } catch (...) {
    if (map_) ::munmap(map_, map_bytes_);
    throw;
  }
}

TokenShard::~TokenShard() {
  if (map_) ::munmap(map_, map_bytes_);
}

int32_t TokenShard::operator[](int64_t i) const {
  if (width_ == 2) return get<uint16_t>(payload_, static_cast<size_t>(i) * 2);
  return static_cast<int32_t>(get<uint32_t>(payload_, static_cast<size_t>(i) * 4));
}

void TokenShard::read(int64_t start, int64_t n, int32_t* out) const {
  SG_CHECK(start >= 0 && n >= 0 && start + n <= tokens_, path_, ": read of tokens [", start, ", ",
           start + n, ") outside the shard's ", tokens_, " tokens");
  for (int64_t i = 0; i < n; ++i) out[i] = (*this)[start + i];
}

}  // namespace sg
