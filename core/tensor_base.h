// TensorBase: the data half of a tensor. An n-d float32 array, row-major, whose
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

#include <tapegrad/core/shape.h>

namespace tg {

/// The memory behind a tensor and all its views. kernels::empty allocates it and its floats
/// as one block (one allocation per tensor saved: tiny ops are allocation-bound), the floats
/// right after it.
struct Storage {
  float* data = nullptr;
  int64_t size = 0;      // floats
  uint64_t version = 0;  // bumped by every in-place write, through any view
};

struct AutogradMeta;  // requires_grad, grad_fn, grad, tangent: defined in autograd/tensor.h

/// The shared state behind a tensor handle.
struct TensorImpl {
  std::shared_ptr<Storage> storage;  // shared by all views of the same data
  Shape shape, strides;
  int64_t offset = 0;                    // first element, in floats from storage start
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
  bool is_contiguous() const;
  TensorImpl* impl() const { return impl_.get(); }  ///< null when undefined
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const TensorBase& other) const { return impl_ == other.impl_; }  ///< same handle
  /// How many in-place writes the storage has seen (shared by all views).
  uint64_t version() const { return checked()->storage->version; }
  /// Records an in-place write (every in-place op calls it; saved tensors compare versions).
  void bump_version() const { ++checked()->storage->version; }

  // ---- data access ----------------------------------------------------------
  float* data() const { return checked()->storage->data + impl_->offset; }  ///< first element
  float item() const;                               ///< the value of a one-element tensor
  float at(std::initializer_list<int64_t> index) const;  ///< one element by index
  std::vector<float> to_vector() const;             ///< all elements in row-major order

 protected:
  /// The impl, or a tg::Error when the tensor is undefined (instead of a null dereference).
  TensorImpl* checked() const {
    if (!impl_) [[unlikely]] throw_undefined();
    return impl_.get();
  }
  [[noreturn]] static void throw_undefined();

  std::shared_ptr<TensorImpl> impl_;
};

namespace kernels {

/// A tensor over fresh, uninitialised storage (for kernels that fill every element).
TensorBase empty(const Shape& shape);
TensorBase full(const Shape& shape, float value);
TensorBase zeros(const Shape& shape);
/// A tensor over x's storage with another layout (a view; nothing is copied).
TensorBase alias(const TensorBase& x, const Shape& shape, const Shape& strides, int64_t offset);
/// x itself when contiguous, else a contiguous copy.
TensorBase contiguous(const TensorBase& x);

}  // namespace kernels

}  // namespace tg
