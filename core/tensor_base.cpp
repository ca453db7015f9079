// TensorBase: storage, metadata and element access, and the allocation and
// view helpers kernels build their results with.
#include <tapegrad/core/tensor_base.h>

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <new>

#include <tapegrad/core/allocator.h>
#include <tapegrad/core/error.h>
#include <tapegrad/core/kernels.h>

namespace tg {

void TensorBase::throw_undefined() {
  fail("tensor: an undefined tensor was used (it holds no data); hint: a default-constructed "
       "Tensor, or .grad() before a backward() reached that tensor");
}

int64_t TensorBase::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }

bool TensorBase::is_contiguous() const {
  int64_t expected = 1;
  for (int d = dim() - 1; d >= 0; --d) {
    if (shape()[d] != 1 && strides()[d] != expected) return false;
    expected *= shape()[d];
  }
  return true;
}

float TensorBase::item() const {
  check(numel() == 1, "item: tensor of shape {} has {} elements, expected exactly 1", shape(),
        numel());
  return *data();
}

float TensorBase::at(std::initializer_list<int64_t> index) const {
  check(int(index.size()) == dim(), "at: {} indices given for a tensor of shape {}",
        index.size(), shape());
  int64_t pos = 0;
  int d = 0;
  for (int64_t i : index) {
    int64_t size = shape()[d];
    check(i >= -size && i < size, "at: index {} out of range for dim {} of size {}", i, d, size);
    pos += (i < 0 ? i + size : i) * strides()[d];
    ++d;
  }
  return data()[pos];
}

std::vector<float> TensorBase::to_vector() const {
  TensorBase c = kernels::contiguous(*this);
  return std::vector<float>(c.data(), c.data() + numel());
}

namespace kernels {

TensorBase empty(const Shape& shape) {
  int64_t n = checked_numel(shape, "tensor");
  // Refuse what cannot fit before trying: an allocation of terabytes would
  // otherwise throw std::bad_alloc, or first swap the machine for minutes.
  static const double memory = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGESIZE));
  check(double(n) * sizeof(float) <= memory,
        "tensor: shape {} needs {:.3g} GB, more than this machine's {:.3g} GB of memory", shape,
        double(n) * sizeof(float) / 1e9, memory / 1e9);
  // Large tensors: the floats from the caching allocator, handed back when the storage dies.
  const size_t bytes = size_t(n) * sizeof(float);
  if (allocator::is_cached_size(bytes)) {
    std::shared_ptr<Storage> storage;
    try {
      float* data = static_cast<float*>(allocator::allocate(bytes));
      Storage* header = nullptr;
      try {
        header = new Storage{data, n, 0};
      } catch (...) {
        allocator::release(data, bytes);
        throw;
      }
      // On failure this constructor calls the deleter itself.
      storage = std::shared_ptr<Storage>(header, [bytes](Storage* s) {
        allocator::release(s->data, bytes);
        delete s;
      });
    } catch (const std::bad_alloc&) {
      fail("tensor: out of memory allocating shape {} ({:.3g} GB)", shape, double(bytes) / 1e9);
    }
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = std::move(storage);
    impl->shape = shape;
    impl->strides = contiguous_strides(shape);
    return TensorBase(std::move(impl));
  }
  // Small tensors: one allocation, left uninitialised (kernels write every element): the
  // Storage in the first chunk, the floats from the second. 16-byte chunks, as malloc aligns: an
  // over-aligned type would go through aligned new, twice as slow for tiny tensors.
  struct alignas(16) Chunk {
    std::byte bytes[32];
  };
  static_assert(sizeof(Storage) <= sizeof(Chunk));
  std::shared_ptr<Chunk[]> block;
  try {
    size_t chunks = 1 + (size_t(n) * sizeof(float) + sizeof(Chunk) - 1) / sizeof(Chunk);
    block = std::make_shared_for_overwrite<Chunk[]>(chunks);
  } catch (const std::bad_alloc&) {
    fail("tensor: out of memory allocating shape {} ({:.3g} GB)", shape, double(n) * 4 / 1e9);
  }
  auto* header = new (block.get()) Storage{reinterpret_cast<float*>(block.get() + 1), n, 0};
  std::shared_ptr<Storage> storage(std::move(block), header);  // shares the block's ownership
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  return TensorBase(std::move(impl));
}

TensorBase full(const Shape& shape, float value) {
  TensorBase t = empty(shape);
  std::fill_n(t.data(), t.numel(), value);
  return t;
}

TensorBase zeros(const Shape& shape) { return full(shape, 0); }

TensorBase alias(const TensorBase& x, const Shape& shape, const Shape& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.impl()->storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  return TensorBase(std::move(impl));
}

TensorBase contiguous(const TensorBase& x) { return x.is_contiguous() ? x : copy(x); }

}  // namespace kernels

}  // namespace tg
