// TensorBase: the data half of a tensor. An n-d array of one Dtype (core/dtype.h:
// float32 by default, float64, int64), row-major, whose
// storage is shared between views; a handle (copies alias the same data). It
// knows nothing of gradients: autograd/tensor.h derives the user-facing Tensor
// from it and adds every differentiable op (PyTorch splits at::TensorBase from
// at::Tensor the same way). Kernels in core/ take and return TensorBase.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include <tapegrad/core/dtype.h>
#include <tapegrad/core/shape.h>

namespace tg {

/// The memory behind a tensor and all its views: untyped bytes (the dtype is the tensor's).
/// kernels::empty allocates a small one and its bytes as one block (one allocation per tensor
/// saved: tiny ops are allocation-bound), the bytes right after it.
struct Storage {
  void* data = nullptr;
  int64_t nbytes = 0;
  uint64_t version = 0;  // bumped by every in-place write, through any view
};

struct AutogradMeta;  // requires_grad, grad_fn, grad, tangent: defined in autograd/tensor.h

/// The shared state behind a tensor handle.
struct TensorImpl {
  std::shared_ptr<Storage> storage;  // shared by all views of the same data
  Shape shape, strides;
  int64_t offset = 0;                    // first element, in elements from storage start
  Dtype dtype = kFloat32;
  std::shared_ptr<AutogradMeta> autograd;  // null until autograd needs it
};

class TensorBase {
 public:
  TensorBase() = default;  ///< an undefined tensor (no data)
  explicit TensorBase(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- metadata (every accessor below throws tg::Error on an undefined tensor) ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return checked()->shape; }
  const Shape& strides() const { return checked()->strides; }
  int64_t offset() const { return checked()->offset; }
  int dim() const { return checked()->shape.size(); }
  int64_t size(int64_t d) const;  ///< size of dim d (negative counts from the end)
  int64_t numel() const { return checked()->shape.numel(); }
  Dtype dtype() const { return checked()->dtype; }
  bool is_floating_point() const { return tg::is_floating_point(dtype()); }
  bool is_contiguous() const;
  TensorImpl* impl() const { return impl_.get(); }  ///< null when undefined
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const TensorBase& other) const { return impl_ == other.impl_; }  ///< same handle
  /// How many in-place writes the storage has seen (shared by all views).
  uint64_t version() const { return checked()->storage->version; }
  /// Records an in-place write (every in-place op calls it; saved tensors compare versions).
  void bump_version() const { ++checked()->storage->version; }

  // ---- data access ----------------------------------------------------------
  /// The first element, typed: a tg::Error unless T is the tensor's element type.
  template <typename T>
  [[gnu::always_inline]] T* data_ptr() const {  // inlined: every kernel call goes through it
    TensorImpl* impl = checked();
    if (impl->dtype != dtype_of<T>) [[unlikely]] throw_wrong_dtype(dtype_of<T>);
    return static_cast<T*>(impl->storage->data) + impl->offset;
  }
  float* data() const { return data_ptr<float>(); }  ///< first element of a float32 tensor
  /// data_ptr without the dtype check, for kernels that dispatched on this very tensor's dtype
  /// (the check is ~10% of a tiny op's cost).
  template <typename T>
  [[gnu::always_inline]] T* data_unchecked() const {
    return static_cast<T*>(checked()->storage->data) + impl_->offset;
  }
  void* raw_data() const;  ///< first element, untyped
  /// The value of a one-element tensor, converted to T (float by default, as kernels use).
  template <typename T = float>
  T item() const;
  template <typename T = float>
  T at(std::initializer_list<int64_t> index) const;  ///< one element by index, as T
  /// All elements in row-major order, converted to T.
  template <typename T = float>
  std::vector<T> to_vector() const;

 protected:
  /// The impl, or a tg::Error when the tensor is undefined (instead of a null dereference).
  TensorImpl* checked() const {
    if (!impl_) [[unlikely]] throw_undefined();
    return impl_.get();
  }
  [[noreturn]] static void throw_undefined();
  [[noreturn, gnu::cold]] void throw_wrong_dtype(Dtype wanted) const;

  std::shared_ptr<TensorImpl> impl_;
};

namespace kernels {

/// A tensor over fresh, uninitialised storage (for kernels that fill every element).
TensorBase empty(const Shape& shape, Dtype dtype = kFloat32);
TensorBase full(const Shape& shape, double value, Dtype dtype = kFloat32);
TensorBase zeros(const Shape& shape, Dtype dtype = kFloat32);
/// Fresh storage of x's dtype (uninitialised / zeros), by default x's shape too.
TensorBase empty_like(const TensorBase& x);
TensorBase empty_like(const TensorBase& x, const Shape& shape);
TensorBase zeros_like(const TensorBase& x, const Shape& shape);
/// A tensor over x's storage with another layout (a view; nothing is copied).
TensorBase alias(const TensorBase& x, const Shape& shape, const Shape& strides, int64_t offset);
/// x itself when contiguous, else a contiguous copy.
TensorBase contiguous(const TensorBase& x);

}  // namespace kernels

}  // namespace tg
