// Storage for tensors. A training step frees and re-allocates the same large buffers
// (logits, activations, fresh gradients) every step; glibc serves blocks that large with
// mmap/munmap, so each step would page-fault them in and have the kernel zero them again
// (measured at seq 256 batch 16: a third of cross-entropy's time). Freed blocks of at
// least kMinCachedBytes are therefore kept, up to kMaxCachedBytes in total, and handed
// back to the next request of the same rounded size.
#pragma once
#include <cstddef>
#include <memory>

namespace sg {

constexpr size_t kMinCachedBytes = size_t{1} << 20;
constexpr size_t kMaxCachedBytes = size_t{4} << 30;

// 64-byte aligned, uninitialised; freed into the cache when the last handle goes.
std::shared_ptr<void> aligned_storage(size_t bytes);

// Bytes currently held by the cache (freed, not yet reused).
size_t block_cache_bytes();

}  // namespace sg
