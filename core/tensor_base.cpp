// TensorBase: storage, metadata and element access, and the allocation and
// view helpers kernels build their results with.
#include <tapegrad/core/tensor_base.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
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

void TensorBase::throw_wrong_dtype(Dtype wanted) const {
  fail("tensor: this operation needs a {} tensor, got {} (shape {}); convert with .to(tg::k{})",
       dtype_name(wanted), dtype_name(dtype()), shape(),
       wanted == kFloat32 ? "Float32" : wanted == kFloat64 ? "Float64" : "Int64");
}

void* TensorBase::raw_data() const {
  TensorImpl* impl = checked();
  return static_cast<std::byte*>(impl->storage->data) + impl->offset * element_size(impl->dtype);
}

namespace {

// The element at `pos` (elements from the first), converted to T.
template <typename T>
T element_as(const TensorBase& t, int64_t pos) {
  return dispatch_all(t.dtype(), [&]<typename S>(std::type_identity<S>) {
    return static_cast<T>(static_cast<const S*>(t.raw_data())[pos]);
  });
}

}  // namespace

template <typename T>
T TensorBase::item() const {
  check(numel() == 1, "item: tensor of shape {} has {} elements, expected exactly 1", shape(),
        numel());
  return element_as<T>(*this, 0);
}

template <typename T>
T TensorBase::at(std::initializer_list<int64_t> index) const {
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
  return element_as<T>(*this, pos);
}

template <typename T>
std::vector<T> TensorBase::to_vector() const {
  TensorBase c = kernels::contiguous(*this);
  return dispatch_all(c.dtype(), [&]<typename S>(std::type_identity<S>) {
    const S* p = static_cast<const S*>(c.raw_data());
    return std::vector<T>(p, p + c.numel());
  });
}

#define TG_INSTANTIATE(T)                                                      \
  template T TensorBase::item<T>() const;                                      \
  template T TensorBase::at<T>(std::initializer_list<int64_t>) const;          \
  template std::vector<T> TensorBase::to_vector<T>() const;
TG_INSTANTIATE(float)
TG_INSTANTIATE(double)
TG_INSTANTIATE(int64_t)
#undef TG_INSTANTIATE

namespace kernels {

TensorBase empty(const Shape& shape, Dtype dtype) {
  int64_t n = checked_numel(shape, "tensor");
  // Refuse what cannot fit before trying: an allocation of terabytes would
  // otherwise throw std::bad_alloc, or first swap the machine for minutes.
  static const double memory = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGESIZE));
  const size_t item = element_size(dtype);
  check(double(n) * item <= memory,
        "tensor: shape {} needs {:.3g} GB, more than this machine's {:.3g} GB of memory", shape,
        double(n) * item / 1e9, memory / 1e9);
  // Large tensors: the bytes from the caching allocator, handed back when the storage dies.
  const size_t bytes = size_t(n) * item;
  if (allocator::is_cached_size(bytes)) {
    std::shared_ptr<Storage> storage;
    try {
      void* data = allocator::allocate(bytes);
      Storage* header = nullptr;
      try {
        header = new Storage{data, int64_t(bytes), 0};
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
    impl->dtype = dtype;
    return TensorBase(std::move(impl));
  }
  // Small tensors: one allocation, left uninitialised (kernels write every element): the
  // Storage in the first chunk, the elements from the second. 16-byte chunks, as malloc aligns: an
  // over-aligned type would go through aligned new, twice as slow for tiny tensors.
  struct alignas(16) Chunk {
    std::byte bytes[32];
  };
  static_assert(sizeof(Storage) <= sizeof(Chunk));
  std::shared_ptr<Chunk[]> block;
  try {
    size_t chunks = 1 + (bytes + sizeof(Chunk) - 1) / sizeof(Chunk);
    block = std::make_shared_for_overwrite<Chunk[]>(chunks);
  } catch (const std::bad_alloc&) {
    fail("tensor: out of memory allocating shape {} ({:.3g} GB)", shape, double(bytes) / 1e9);
  }
  auto* header = new (block.get()) Storage{block.get() + 1, int64_t(bytes), 0};
  std::shared_ptr<Storage> storage(std::move(block), header);  // shares the block's ownership
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return TensorBase(std::move(impl));
}

TensorBase full(const Shape& shape, double value, Dtype dtype) {
  TensorBase t = empty(shape, dtype);
  dispatch_all(dtype, [&]<typename T>(std::type_identity<T>) {
    std::fill_n(t.data_ptr<T>(), t.numel(), static_cast<T>(value));
  });
  return t;
}

TensorBase zeros(const Shape& shape, Dtype dtype) {
  TensorBase t = empty(shape, dtype);
  std::memset(t.raw_data(), 0, size_t(t.numel()) * element_size(dtype));
  return t;
}

TensorBase empty_like(const TensorBase& x) { return empty(x.shape(), x.dtype()); }
TensorBase empty_like(const TensorBase& x, const Shape& shape) { return empty(shape, x.dtype()); }
TensorBase zeros_like(const TensorBase& x, const Shape& shape) { return zeros(shape, x.dtype()); }

TensorBase alias(const TensorBase& x, const Shape& shape, const Shape& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.impl()->storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = x.dtype();
  return TensorBase(std::move(impl));
}

TensorBase contiguous(const TensorBase& x) { return x.is_contiguous() ? x : copy(x); }

}  // namespace kernels

}  // namespace tg
