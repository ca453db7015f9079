// Tensor: the user-facing tensor. It is a TensorBase (core/tensor_base.h: the
// data, shape and views' storage) plus autograd state, and every op declared
// here is differentiable: it records itself on the tape when grad mode is on
// and an input requires grad. Each op's forward, backward and tangent rules
// are side by side in autograd/ops_*.cpp.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <tapegrad/autograd/hook_handle.h>
#include <tapegrad/core/random.h>
#include <tapegrad/core/tensor_base.h>

namespace tg {

struct Node;
class Tensor;

/// A gradient hook (Tensor::register_hook): sees dL/dt, returns a replacement or an undefined
/// Tensor to keep it.
using GradHook = std::function<Tensor(const Tensor&)>;
/// Sees a leaf whose .grad() backward has just accumulated.
using PostAccumulateGradHook = std::function<void(const Tensor&)>;
namespace indexing {
class TensorIndex;  // autograd/indexing.h
}

/// What autograd keeps per tensor (allocated only for tensors that need it).
struct AutogradMeta {
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;        // the op that produced this tensor, if recorded
  std::shared_ptr<TensorImpl> grad;     // accumulated by backward() (leaves only)
  std::shared_ptr<TensorImpl> tangent;  // forward-mode tangent, if this is a dual tensor
  std::shared_ptr<HookList> hooks;      // a leaf's hooks (autograd/hooks.h); null: none
  bool retains_grad = false;            // retain_grad() was called on this non-leaf
  // Scratch of the engine during one backward(): a leaf's gradient is summed over all its
  // uses before its hooks run and it is accumulated.
  std::shared_ptr<TensorImpl> incoming;
  int64_t pending = 0;
  uint64_t visit = 0;
  ~AutogradMeta();                      // frees a long grad_fn chain without recursion
};

/// Options for factories: `zeros({2, 3}, {.dtype = tg::kFloat64, .requires_grad = true})`.
struct TensorOptions {
  std::optional<Dtype> dtype{};  ///< unset: float32, or int64 for a factory given integers
  bool requires_grad = false;    ///< only floating dtypes can require grad
};

class Tensor : public TensorBase {
 public:
  Tensor() = default;  ///< an undefined tensor (no data)
  /// Kernel results (plain data) become tensors without history.
  Tensor(TensorBase base) : TensorBase(std::move(base)) {}
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : TensorBase(std::move(impl)) {}

  // ---- autograd ---------------------------------------------------------------
  bool requires_grad() const { return impl_->autograd && impl_->autograd->requires_grad; }
  Tensor& requires_grad_(bool enabled = true);  ///< makes this leaf track gradients
  bool is_leaf() const { return !impl_->autograd || !impl_->autograd->grad_fn; }
  const std::shared_ptr<Node>& grad_fn() const;  ///< null for leaves
  Tensor grad() const;  ///< undefined until a backward reaches it
  void set_grad(const Tensor& g) const;  ///< replaces the accumulated gradient
  void zero_grad() const;  ///< drops the accumulated gradient (like set_to_none=true)
  /// Replays the tape from this tensor, accumulating into the leaves' .grad(). A non-scalar
  /// needs `gradient` (dL/dthis). The graph is freed unless retain_graph (which defaults to
  /// create_graph); create_graph records the backward pass itself, so the gradients can be
  /// differentiated again (see tg::grad in autograd/grad.h).
  /// With create_graph, a leaf's .grad() holds a graph that reaches the leaf itself: a reference
  /// cycle, as in PyTorch, freed only by zero_grad() (or set_grad); tg::grad() has none.
  void backward(const Tensor& gradient = Tensor(), std::optional<bool> retain_graph = {},
                bool create_graph = false) const;
  Tensor detach() const;  ///< same data, no history, does not require grad
  /// A copy converted to `dtype` (this tensor itself when it already has it). Differentiable
  /// between floating dtypes: the gradient is converted back. Float to int64 truncates toward 0.
  Tensor to(Dtype dtype) const;

  // ---- hooks (autograd/hooks.h) --------------------------------------------------
  /// Runs hook(dL/dthis) during backward; a returned defined tensor replaces the gradient
  /// (a hook returning void only looks). This tensor must require grad.
  template <typename F>
  HookHandle register_hook(F&& hook) const {
    if constexpr (std::is_void_v<std::invoke_result_t<F&, const Tensor&>>)
      return add_grad_hook([f = std::forward<F>(hook)](const Tensor& g) { f(g); return Tensor(); });
    else
      return add_grad_hook(GradHook(std::forward<F>(hook)));
  }
  /// Runs hook(*this) after backward has accumulated this leaf's .grad().
  HookHandle register_post_accumulate_grad_hook(PostAccumulateGradHook hook) const;
  /// Keeps dL/dthis in .grad() although this tensor is not a leaf.
  void retain_grad() const;

  // ---- forward mode -----------------------------------------------------------
  Tensor tangent() const;  ///< undefined unless dual

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
  /// Python's t[0, 1:, None, ..., idx] as t.index({0, Slice(1, None), None, Ellipsis, idx})
  /// (autograd/indexing.h): a view unless an index tensor is among the indices.
  Tensor index(std::initializer_list<indexing::TensorIndex> indices) const;
  Tensor index(const std::vector<indexing::TensorIndex>& indices) const;

  // ---- indexing by index tensors (int64, or floats holding integers, checked; ops_index.cpp) ----
  /// y[i][j] = this[index[i][j]][j] for dim 0 (and so on): y has index's shape; index has this
  /// tensor's rank and index.size(d) <= size(d) for d != dim. torch.gather.
  Tensor gather(int64_t dim, const Tensor& index) const;
  /// A copy of this with src[i][j] added at [index[i][j]][j] for dim 0 (and so on); index has
  /// the rank of both, index.size(d) <= src.size(d), and <= size(d) for d != dim.
  /// torch.scatter_add.
  Tensor scatter_add(int64_t dim, const Tensor& index, const Tensor& src) const;
  /// The entries of `dim` at the positions of the 1-D `index`, in its order. torch.index_select.
  Tensor index_select(int64_t dim, const Tensor& index) const;
  /// A copy of this with alpha * source's i-th entry of `dim` added at entry index[i] (index
  /// 1-D, source shaped like this except size(dim) = index.numel()). torch.index_add.
  Tensor index_add(int64_t dim, const Tensor& index, const Tensor& source, double alpha = 1) const;
  /// `value` where mask != 0, else this; mask broadcasts (the result has the broadcast shape).
  /// torch.masked_fill (there the mask is bool).
  Tensor masked_fill(const Tensor& mask, double value) const;

  // ---- elementwise -------------------------------------------------------------
  Tensor add(const Tensor& other, double alpha = 1) const;  ///< this + alpha * other
  Tensor sub(const Tensor& other, double alpha = 1) const;  ///< this - alpha * other
  Tensor mul(const Tensor& other) const;
  Tensor div(const Tensor& other) const;
  Tensor pow(double exponent) const;
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
  Tensor clamp(double min, double max) const;
  Tensor clamp_min(double min) const;
  Tensor clamp_max(double max) const;
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
  /// Largest values along `dim` and their indices (int64).
  std::pair<Tensor, Tensor> max(int64_t dim, bool keepdim = false) const;
  std::pair<Tensor, Tensor> min(int64_t dim, bool keepdim = false) const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;
  Tensor argmin(int64_t dim, bool keepdim = false) const;
  /// log(sum(exp(x))) along dim, computed stably (the max subtracted first); a dim of -inf
  /// entries gives -inf. torch.logsumexp.
  Tensor logsumexp(int64_t dim, bool keepdim = false) const;

  // ---- linear algebra ---------------------------------------------------------------
  /// torch.matmul: 2-D x 2-D, 1-D operands promoted to matrices (and that dim dropped
  /// again), and batches of any rank whose leading dims broadcast ([2, 1, 3, 4] x [5, 4, 6]).
  Tensor matmul(const Tensor& other) const;

  // ---- in place (refused on tensors that require grad while grad mode is on) -------------
  Tensor& add_(const Tensor& other, double alpha = 1);
  Tensor& sub_(const Tensor& other, double alpha = 1);
  Tensor& mul_(const Tensor& other);
  Tensor& div_(const Tensor& other);
  Tensor& add_(double value);
  Tensor& mul_(double value);
  Tensor& clamp_(double min, double max);
  Tensor& fill_(double value);
  Tensor& zero_();
  Tensor& copy_(const Tensor& src);  ///< broadcasts src into this, converting its dtype
  Tensor& uniform_(double low = 0, double high = 1);
  Tensor& normal_(double mean = 0, double std = 1);
  /// scatter_add in place (this[index[i][j]][j] += src[i][j] for dim 0). Tensor.scatter_add_.
  Tensor& scatter_add_(int64_t dim, const Tensor& index, const Tensor& src);
  Tensor& operator+=(const Tensor& o) { return add_(o); }
  Tensor& operator-=(const Tensor& o) { return sub_(o); }
  Tensor& operator*=(const Tensor& o) { return mul_(o); }
  Tensor& operator/=(const Tensor& o) { return div_(o); }
  Tensor& operator+=(double v) { return add_(v); }
  Tensor& operator-=(double v) { return add_(-v); }
  Tensor& operator*=(double v) { return mul_(v); }
  Tensor& operator/=(double v) { return mul_(1 / v); }

  /// The autograd state, created on first use.
  AutogradMeta& autograd_meta() const;

 private:
  HookHandle add_grad_hook(GradHook hook) const;
};

// ---- factories -------------------------------------------------------------------
/// A tensor over fresh, uninitialised storage (for kernels that fill every element).
Tensor empty(const Shape& shape, TensorOptions options = {});
Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
/// t's shape and dtype (and options.requires_grad).
Tensor zeros_like(const Tensor& t, TensorOptions options = {});
Tensor ones_like(const Tensor& t, TensorOptions options = {});
Tensor empty_like(const Tensor& t, TensorOptions options = {});
Tensor full_like(const Tensor& t, double value, TensorOptions options = {});
/// [start, end) in steps: float32 unless options.dtype says otherwise (PyTorch gives int64
/// for integer arguments; C++ cannot tell 5 from 5.0 here, so ask for kInt64).
Tensor arange(double end, TensorOptions options = {});
Tensor arange(double start, double end, double step = 1, TensorOptions options = {});
Tensor linspace(double start, double end, int64_t steps, TensorOptions options = {});
Tensor eye(int64_t n, int64_t m = -1, TensorOptions options = {});
/// Copies `values` into a 1-D tensor, even when there is one value (as torch.tensor([5])).
Tensor tensor(const std::vector<float>& values);
Tensor tensor(std::initializer_list<float> values);
/// Copies `values` into a tensor of exactly `shape` (an empty shape is 0-d); sizes must agree.
/// tensor({1, 2}, {2}, {.requires_grad = true}) is a 1-D leaf.
Tensor tensor(const std::vector<float>& values, const Shape& shape, TensorOptions options = {});
Tensor tensor(std::initializer_list<float> values, const Shape& shape, TensorOptions options = {});
/// From doubles (float32 unless options.dtype says otherwise: kFloat64 keeps every digit).
Tensor tensor(const std::vector<double>& values, const Shape& shape, TensorOptions options = {});
/// From integers: an int64 tensor unless options.dtype says otherwise (labels, indices).
Tensor tensor(const std::vector<int64_t>& values, const Shape& shape, TensorOptions options = {});
Tensor tensor(const std::vector<int64_t>& values);
Tensor scalar_tensor(double value, TensorOptions options = {});  ///< 0-d
Tensor rand(const Shape& shape, TensorOptions options = {});   ///< uniform in [0, 1)
Tensor randn(const Shape& shape, TensorOptions options = {});  ///< standard normal
/// A random permutation of 0..n-1, int64 unless options.dtype says otherwise (torch.randperm).
Tensor randperm(int64_t n, TensorOptions options = {});

// ---- free-function forms ------------------------------------------------------------------
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
Tensor matmul(const Tensor& a, const Tensor& b);
/// Elementwise select: cond != 0 ? a : b (broadcasting); cond is not differentiated.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
/// input with the slice [start:end:step] of dim replaced by src (torch.slice_scatter).
Tensor slice_scatter(const Tensor& input, const Tensor& src, int64_t dim = 0, int64_t start = 0,
                     int64_t end = INT64_MAX, int64_t step = 1);
/// Joins tensors along an existing dim / along a new dim.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
/// Sums `grad` over broadcast dims so it has `shape`: undoes broadcasting in backward.
Tensor sum_to(const Tensor& grad, const Shape& shape);
/// True when both tensors have the same shape and |a - b| <= atol + rtol * |b| everywhere.
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8);

/// The tensor as PyTorch prints it: `tensor([[1., 2.], [3., 4.]], grad_fn=<mul>)`.
std::string to_string(const Tensor& t);

}  // namespace tg

template <>
struct fmt::formatter<tg::Tensor> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(const tg::Tensor& t, Context& ctx) const {
    // format_to, not formatter<string_view>::format: that one is defined only in
    // <fmt/format.h>, and this header includes the light <fmt/core.h>.
    return fmt::format_to(ctx.out(), "{}", tg::to_string(t));
  }
};
