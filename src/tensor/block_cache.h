// Storage for tensors. A training step frees and re-allocates the same large buffers
// (logits, activations, fresh gradients) every step; glibc serves blocks that large with
// mmap/munmap, so each step would page-fault them in and have the kernel zero them again
// (measured at seq 256 batch 16: a third of cross-entropy's time). Freed blocks of at
// least kMinCachedBytes are therefore kept and handed back to the next request of the
// same rounded size. Sizes that never come back (generation's growing sequences) are
// bounded by the limit: past it the oldest freed blocks go back to the system.
#pragma once
#include <cstddef>
#include <memory>

namespace sg {

constexpr size_t kMinCachedBytes = size_t{1} << 20;
constexpr size_t kDefaultBlockCacheLimit = size_t{2} << 30;

// 64-byte aligned, uninitialised; freed into the cache when the last handle goes.
std::shared_ptr<void> aligned_storage(size_t bytes);

// Bytes currently held by the cache (freed, not yet reused).
size_t block_cache_bytes();

// Bytes of tensor storage in use (handed out, not yet freed), and the most there has been
// since the last reset_peak_live_bytes(): memory the computation itself needs, without
// the cache or allocator overhead.
size_t live_tensor_bytes();
size_t peak_live_tensor_bytes();
void reset_peak_live_tensor_bytes();

// Caps the bytes the cache may hold (freeing the oldest blocks now if over it).
void set_block_cache_limit(size_t bytes);

}  // namespace sg
