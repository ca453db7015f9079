// Tensor: an n-d float32 array, row-major, whose storage is shared between
// views. A Tensor is a handle (like torch::Tensor): copies alias the same
// data and the same autograd state. Differentiable ops declared here are
// defined in autograd/, each with its backward and tangent rules beside it.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include <tapegrad/core/shape.h>

namespace tg {

struct Node;

/// The shared state behind a Tensor handle.
struct TensorImpl {
  std::shared_ptr<float[]> storage;  // shared by all views of the same data
  int64_t storage_size = 0;          // floats in storage
  Shape shape, strides;
  int64_t offset = 0;                // first element, in floats from storage start
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;     // the op that produced this tensor, if recorded
  std::shared_ptr<TensorImpl> grad;  // accumulated by backward() (leaves only)
  std::shared_ptr<TensorImpl> tangent;  // forward-mode tangent, if this is a dual tensor
  ~TensorImpl();
};

/// Options for factories: `zeros({2, 3}, {.requires_grad = true})`.
struct TensorOptions {
  bool requires_grad = false;
};

class Tensor {
 public:
  Tensor() = default;  ///< an undefined tensor (no data)
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- metadata -------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl_->shape; }
  const Shape& strides() const { return impl_->strides; }
  int64_t offset() const { return impl_->offset; }
  int dim() const { return impl_->shape.size(); }
  int64_t size(int64_t d) const;  ///< size of dim d (negative counts from the end)
  int64_t numel() const { return impl_->shape.numel(); }
  bool is_contiguous() const;
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& other) const { return impl_ == other.impl_; }  ///< same handle

  // ---- data access ----------------------------------------------------------
  float* data() const { return impl_->storage.get() + impl_->offset; }  ///< first element
  float item() const;                               ///< the value of a one-element tensor
  float at(std::initializer_list<int64_t> index) const;  ///< one element by index
  std::vector<float> to_vector() const;             ///< all elements in row-major order

  // ---- autograd ---------------------------------------------------------------
  bool requires_grad() const { return impl_->requires_grad; }
  Tensor& requires_grad_(bool enabled = true);  ///< makes this leaf track gradients
  bool is_leaf() const { return impl_->grad_fn == nullptr; }
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  Tensor grad() const { return Tensor(impl_->grad); }  ///< undefined until a backward reaches it
  void set_grad(const Tensor& g);
  void zero_grad();  ///< drops the accumulated gradient (like set_to_none=true)
  /// Replays the tape from this tensor. A non-scalar needs `gradient` (dL/dthis).
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  Tensor detach() const;  ///< same data, no history, does not require grad

  // ---- forward mode -----------------------------------------------------------
  Tensor tangent() const { return Tensor(impl_->tangent); }  ///< undefined unless dual

  // ---- copies and views -------------------------------------------------------
  Tensor clone() const;       ///< a differentiable copy with its own storage
  Tensor contiguous() const;  ///< this if already contiguous, else a copy
  Tensor reshape(const Shape& shape) const;  ///< a view when possible; one dim may be -1
  Tensor view(const Shape& shape) const;     ///< like reshape but never copies
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor permute(const Shape& dims) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;  ///< transpose of a 2-D tensor
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;  ///< removes dim
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor expand(const Shape& shape) const;  ///< -1 keeps a size; broadcasts size-1 dims

  // ---- elementwise -------------------------------------------------------------
  Tensor add(const Tensor& other, float alpha = 1) const;  ///< this + alpha * other
  Tensor sub(const Tensor& other, float alpha = 1) const;  ///< this - alpha * other
  Tensor mul(const Tensor& other) const;
  Tensor div(const Tensor& other) const;
  Tensor pow(float exponent) const;
  Tensor pow(const Tensor& exponent) const;
  Tensor neg() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor rsqrt() const;
  Tensor abs() const;
  Tensor sin() const;
  Tensor cos() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor clamp(float min, float max) const;
  Tensor clamp_min(float min) const;
  Tensor clamp_max(float max) const;
  Tensor maximum(const Tensor& other) const;
  Tensor minimum(const Tensor& other) const;
  // comparisons give masks of 0 and 1 (not differentiable)
  Tensor gt(const Tensor& other) const;
  Tensor lt(const Tensor& other) const;
  Tensor ge(const Tensor& other) const;
  Tensor le(const Tensor& other) const;
  Tensor eq(const Tensor& other) const;
  Tensor ne(const Tensor& other) const;
  Tensor sign() const;  ///< -1, 0 or 1 (gradient zero)

  // ---- reductions (dims empty = all) ------------------------------------------------
  Tensor sum() const;
  Tensor sum(const Shape& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const Shape& dims, bool keepdim = false) const;
  /// Variance; `correction` 1 is the unbiased estimate (PyTorch's default).
  Tensor var(const Shape& dims = {}, int64_t correction = 1, bool keepdim = false) const;
  Tensor std(const Shape& dims = {}, int64_t correction = 1, bool keepdim = false) const;
  Tensor max() const;  ///< largest element
  Tensor min() const;
  /// Largest values along `dim` and their indices (as floats, exact below 2^24).
  std::pair<Tensor, Tensor> max(int64_t dim, bool keepdim = false) const;
  std::pair<Tensor, Tensor> min(int64_t dim, bool keepdim = false) const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;
  Tensor argmin(int64_t dim, bool keepdim = false) const;

  // ---- linear algebra ---------------------------------------------------------------
  /// 2-D x 2-D, batched 3-D x 3-D (or x 2-D), and 1-D operands as in torch.matmul.
  Tensor matmul(const Tensor& other) const;

  // ---- in place (refused on tensors that require grad while grad mode is on) -------------
  Tensor& add_(const Tensor& other, float alpha = 1);
  Tensor& sub_(const Tensor& other, float alpha = 1);
  Tensor& mul_(const Tensor& other);
  Tensor& div_(const Tensor& other);
  Tensor& add_(float value);
  Tensor& mul_(float value);
  Tensor& clamp_(float min, float max);
  Tensor& fill_(float value);
  Tensor& zero_();
  Tensor& copy_(const Tensor& src);  ///< broadcasts src into this
  Tensor& uniform_(float low = 0, float high = 1);
  Tensor& normal_(float mean = 0, float std = 1);
  Tensor& operator+=(const Tensor& o) { return add_(o); }
  Tensor& operator-=(const Tensor& o) { return sub_(o); }
  Tensor& operator*=(const Tensor& o) { return mul_(o); }
  Tensor& operator/=(const Tensor& o) { return div_(o); }
  Tensor& operator+=(float v) { return add_(v); }
  Tensor& operator-=(float v) { return add_(-v); }
  Tensor& operator*=(float v) { return mul_(v); }
  Tensor& operator/=(float v) { return mul_(1 / v); }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// ---- factories -------------------------------------------------------------------
/// A tensor over fresh, uninitialised storage (for kernels that fill every element).
Tensor empty(const Shape& shape, TensorOptions options = {});
Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, float value, TensorOptions options = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor arange(float end);
Tensor arange(float start, float end, float step = 1);
Tensor linspace(float start, float end, int64_t steps);
Tensor eye(int64_t n, int64_t m = -1);
/// Copies `values` into a tensor of `shape` (default: 1-D); sizes must agree.
Tensor tensor(const std::vector<float>& values, const Shape& shape = {}, TensorOptions options = {});
Tensor tensor(std::initializer_list<float> values, const Shape& shape = {}, TensorOptions options = {});
Tensor scalar_tensor(float value, TensorOptions options = {});  ///< 0-d
Tensor rand(const Shape& shape, TensorOptions options = {});   ///< uniform in [0, 1)
Tensor randn(const Shape& shape, TensorOptions options = {});  ///< standard normal
/// A random permutation of 0..n-1 (as integers).
std::vector<int64_t> randperm(int64_t n);

// ---- free-function forms ------------------------------------------------------------------
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, float b);
Tensor operator-(const Tensor& a, float b);
Tensor operator*(const Tensor& a, float b);
Tensor operator/(const Tensor& a, float b);
Tensor operator+(float a, const Tensor& b);
Tensor operator-(float a, const Tensor& b);
Tensor operator*(float a, const Tensor& b);
Tensor operator/(float a, const Tensor& b);
Tensor matmul(const Tensor& a, const Tensor& b);
/// Elementwise select: cond != 0 ? a : b (broadcasting); cond is not differentiated.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
/// Joins tensors along an existing dim / along a new dim.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
/// Sums `grad` over broadcast dims so it has `shape`: undoes broadcasting in backward.
Tensor sum_to(const Tensor& grad, const Shape& shape);
/// True when both tensors have the same shape and |a - b| <= atol + rtol * |b| everywhere.
bool allclose(const Tensor& a, const Tensor& b, float rtol = 1e-5f, float atol = 1e-8f);

// ---- randomness and threads ----------------------------------------------------------------
/// Seeds the global generator used by rand, randn, randperm, init and dropout.
void manual_seed(uint64_t seed);
/// The global generator (std::mt19937_64), for components that draw their own numbers.
struct Generator;
Generator& default_generator();

}  // namespace tg
