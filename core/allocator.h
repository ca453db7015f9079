// The caching allocator behind large tensors. A training step frees and re-allocates the same
// large activation and gradient buffers every step; handed back to the system each time (glibc
// unmaps or trims them), every new one costs page faults and the kernel zeroing its pages,
// measured at 10% of a ResNet-20 step. So blocks of 64 KiB and more are kept when freed and
// handed out again for a request of the same size in whole pages (PyTorch's CUDA allocator
// caches the same way). 64 KiB, below glibc's first mmap threshold (128 KiB): caching only
// larger blocks hid their frees from glibc, whose threshold then stayed low for the mid-sized
// ones, and LeNet's step at batch 32 lost 40% to page faults. The cache is bounded (1 GiB by
// default): past the limit, freed blocks go back to the system. Smaller tensors keep malloc,
// whose heap the first use of the cache tunes (glibc: up to 64 MiB kept free at the top instead
// of 128 KiB, so that a step's small tensors do not shrink and regrow it every step; see
// allocator.cpp). A process-wide setting: a program that needs glibc's defaults back can
// restore them with mallopt after its first large tensor.
#pragma once

#include <cstddef>

namespace tg::allocator {

/// Memory for `bytes` (64-byte aligned, uninitialised): a cached block when one of the same
/// rounded size is free, else a new one. Throws std::bad_alloc when the system has none.
void* allocate(size_t bytes);

/// Returns memory from allocate(p, bytes) (the same `bytes`): kept for reuse while the cache
/// stays within its limit, else freed.
void release(void* p, size_t bytes) noexcept;

/// True when a request of `bytes` goes through the cache (at least 64 KiB).
bool is_cached_size(size_t bytes);

/// Bytes held in free cached blocks (not counting blocks in use).
size_t cached_bytes();

/// Frees every cached block (torch.cuda.empty_cache's role for this allocator).
void empty_cache();

/// Sets the most bytes the cache may hold (0 turns caching off); frees what exceeds it.
void set_cache_limit(size_t bytes);

}  // namespace tg::allocator
