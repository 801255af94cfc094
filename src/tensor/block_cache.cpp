#include "tensor/block_cache.h"

#include <atomic>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <utility>

#include "util/error.h"

namespace sg {

namespace {

struct BlockCache {
  std::mutex mu;
  std::deque<std::pair<size_t, void*>> free_blocks;  // (rounded size, block), oldest first
  size_t bytes = 0;
  size_t limit = kDefaultBlockCacheLimit;

  // Frees the oldest blocks until `bytes` is at most `target`. Caller holds mu.
  void evict_to(size_t target) {
    while (bytes > target && !free_blocks.empty()) {
      bytes -= free_blocks.front().first;
      std::free(free_blocks.front().second);
      free_blocks.pop_front();
    }
  }
};

std::atomic<size_t> g_live{0}, g_peak{0};

void count_alloc(size_t rounded) {
  const size_t now = g_live.fetch_add(rounded) + rounded;
  size_t peak = g_peak.load();
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {}
}

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
  g_live.fetch_sub(rounded);
  if (rounded >= kMinCachedBytes) {
    BlockCache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    if (rounded <= c.limit) {
      c.evict_to(c.limit - rounded);
      c.free_blocks.emplace_back(rounded, p);
      c.bytes += rounded;
      return;
    }
  }
  std::free(p);
}

// The most recently freed block of this size: a training step frees and re-requests
// the same sizes, so the match is near the back.
void* take_cached(size_t rounded) {
  if (rounded < kMinCachedBytes) return nullptr;
  BlockCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto it = c.free_blocks.rbegin(); it != c.free_blocks.rend(); ++it) {
    if (it->first != rounded) continue;
    void* p = it->second;
    c.free_blocks.erase(std::next(it).base());
    c.bytes -= rounded;
    return p;
  }
  return nullptr;
}

}  // namespace

std::shared_ptr<void> aligned_storage(size_t bytes) {
  const size_t rounded = round_up(bytes);
  void* p = take_cached(rounded);
  if (!p) p = std::aligned_alloc(64, rounded);
  SG_CHECK(p != nullptr, "out of memory allocating ", bytes, " bytes");
  count_alloc(rounded);
  return std::shared_ptr<void>(p, [rounded](void* q) { release(q, rounded); });
}

size_t block_cache_bytes() {
  BlockCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.bytes;
}

size_t live_tensor_bytes() { return g_live.load(); }
size_t peak_live_tensor_bytes() { return g_peak.load(); }
void reset_peak_live_tensor_bytes() { g_peak.store(g_live.load()); }

void set_block_cache_limit(size_t bytes) {
  BlockCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.limit = bytes;
  c.evict_to(bytes);
}

}  // namespace sg
