// The caching allocator (see allocator.h): free blocks by rounded size, under one mutex (large
// allocations are rare next to the work done on them).
#include <tapegrad/core/allocator.h>

#include <cstdlib>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <map>
#include <mutex>
#include <new>
#include <vector>

namespace tg::allocator {

namespace {

constexpr size_t kMinCached = size_t(64) << 10;  // 64 KiB
constexpr size_t kGranule = size_t(4) << 10;    // sizes rounded up to whole pages

struct Cache {
  std::mutex mutex;
  std::map<size_t, std::vector<void*>> free;  // rounded size -> free blocks
  size_t bytes = 0, limit = size_t(1) << 30;

  void trim_to(size_t target) {  // frees blocks, largest first, until bytes <= target
    while (bytes > target && !free.empty()) {
      auto last = std::prev(free.end());
      std::free(last->second.back());
      bytes -= last->first;
      last->second.pop_back();
      if (last->second.empty()) free.erase(last);
    }
  }
};

// glibc hands the top of its heap back to the system whenever more than M_TRIM_THRESHOLD
// (128 KiB) is free there, and grows it again on the next allocation. The smaller tensors of a
// training step (below kMinCached, from malloc) can line up so that this happens every step:
// LeNet at batch 4 made 4 brk calls and their page faults per step, 10% of its time, once
// conv2d_relu changed the order of its allocations. So the heap keeps up to 64 MiB free at its
// top, and requests below 32 MiB (the ceiling of glibc's own adaptive mmap threshold, which
// setting the first turns off) stay on the heap. Set once, the first time the cache is used.
void tune_malloc() {
#if defined(__GLIBC__)
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
#endif
}

Cache& cache() {
  // Never destroyed: tensors may be freed during exit.
  static Cache* c = (tune_malloc(), new Cache);
  return *c;
}

size_t rounded(size_t bytes) { return (bytes + kGranule - 1) / kGranule * kGranule; }

}  // namespace

bool is_cached_size(size_t bytes) { return bytes >= kMinCached; }

void* allocate(size_t bytes) {
  const size_t size = rounded(bytes);
  if (is_cached_size(bytes)) {
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    auto it = c.free.find(size);
    if (it != c.free.end()) {
      void* p = it->second.back();
      it->second.pop_back();
      if (it->second.empty()) c.free.erase(it);
      c.bytes -= size;
      return p;
    }
  }
  void* p = std::aligned_alloc(64, size);
  if (!p) {  // perhaps the cache holds what the system lacks: give it back and try once more
    empty_cache();
    p = std::aligned_alloc(64, size);
  }
  if (!p) throw std::bad_alloc();
  return p;
}

void release(void* p, size_t bytes) noexcept {
  if (!p) return;
  const size_t size = rounded(bytes);
  if (is_cached_size(bytes)) {
    Cache& c = cache();
    std::lock_guard lock(c.mutex);
    if (c.bytes + size <= c.limit) {
      try {
        c.free[size].push_back(p);
        c.bytes += size;
        return;
      } catch (const std::bad_alloc&) {  // no room for the bookkeeping: free the block
      }
    }
  }
  std::free(p);
}

size_t cached_bytes() {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  return c.bytes;
}

void empty_cache() {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  c.trim_to(0);
}

void set_cache_limit(size_t bytes) {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  c.limit = bytes;
  c.trim_to(bytes);
}

}  // namespace tg::allocator
