// Tests of the caching allocator behind large tensors (core/allocator.h): a freed large block is
// kept and handed out again for the same size, small tensors bypass it, the limit bounds it,
// empty_cache() empties it, and a reused block holds what is written into it.
#include <doctest/doctest.h>

#include <tapegrad/autograd/tensor.h>
#include <tapegrad/core/allocator.h>

using namespace tg;

namespace {

// Restores the default limit and an empty cache whatever the test did.
struct CacheGuard {
  CacheGuard() { allocator::empty_cache(); }
  ~CacheGuard() {
    allocator::set_cache_limit(size_t(1) << 30);
    allocator::empty_cache();
  }
};

}  // namespace

TEST_CASE("allocator: a freed large tensor's block is reused for the same size") {
  CacheGuard guard;
  const Shape big{1024, 1024};  // 4 MiB
  const float* first = nullptr;
  {
    Tensor t = empty(big);
    first = t.data();
    CHECK(allocator::cached_bytes() == 0);
  }
  CHECK(allocator::cached_bytes() == size_t(4) << 20);
  Tensor again = full(big, 2.5f);  // a different shape of the same size would match as well
  CHECK(again.data() == first);
  CHECK(allocator::cached_bytes() == 0);
  CHECK(again.sum().item() == doctest::Approx(2.5 * 1024 * 1024));
}

TEST_CASE("allocator: small tensors bypass the cache; the limit and empty_cache bound it") {
  CacheGuard guard;
  { Tensor small = zeros({100, 100}); }  // 40 KB: below 64 KiB
  CHECK(allocator::cached_bytes() == 0);
  CHECK_FALSE(allocator::is_cached_size((size_t(64) << 10) - 1));
  CHECK(allocator::is_cached_size(size_t(64) << 10));

  { Tensor a = empty({512, 1024}), b = empty({512, 1024}); }  // two 2 MiB blocks
  CHECK(allocator::cached_bytes() == size_t(4) << 20);
  allocator::set_cache_limit(size_t(3) << 20);  // room for one of them
  CHECK(allocator::cached_bytes() == size_t(2) << 20);
  allocator::empty_cache();
  CHECK(allocator::cached_bytes() == 0);

  allocator::set_cache_limit(0);  // caching off
  { Tensor c = empty({512, 1024}); }
  CHECK(allocator::cached_bytes() == 0);
}
