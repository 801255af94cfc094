#include "tensor/block_cache.h"

#include <cstdlib>
#include <mutex>
#include <unordered_map>

#include "util/error.h"

namespace sg {

namespace {

struct BlockCache {
  std::mutex mu;
  std::unordered_multimap<size_t, void*> free_blocks;  // rounded size -> block
  size_t bytes = 0;
};

// Never destroyed: tensors with static storage duration may be freed after any
// cache object would have been.
BlockCache& cache() {
  static BlockCache* c = new BlockCache;
  return *c;
}

size_t round_up(size_t bytes) {
  const size_t unit = bytes >= kMinCachedBytes ? 4096 : 64;
  return bytes == 0 ? 64 : (bytes + unit - 1) / unit * unit;
}

void release(void* p, size_t rounded) {
  if (rounded >= kMinCachedBytes) {
    BlockCache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    if (c.bytes + rounded <= kMaxCachedBytes) {
      c.free_blocks.emplace(rounded, p);
      c.bytes += rounded;
      return;
    }
  }
  std::free(p);
}

void* take_cached(size_t rounded) {
  if (rounded < kMinCachedBytes) return nullptr;
  BlockCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto it = c.free_blocks.find(rounded);
  if (it == c.free_blocks.end()) return nullptr;
  void* p = it->second;
  c.free_blocks.erase(it);
  c.bytes -= rounded;
  return p;
}

}  // namespace

std::shared_ptr<void> aligned_storage(size_t bytes) {
  const size_t rounded = round_up(bytes);
  void* p = take_cached(rounded);
  if (!p) p = std::aligned_alloc(64, rounded);
  SG_CHECK(p != nullptr, "out of memory allocating ", bytes, " bytes");
  return std::shared_ptr<void>(p, [rounded](void* q) { release(q, rounded); });
}

size_t block_cache_bytes() {
  BlockCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.bytes;
}

}  // namespace sg
