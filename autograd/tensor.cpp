// The autograd half of Tensor that is not an op: gradient state, detach,
// printing with grad_fn, and the factories (which can make leaves requiring grad).
#include <tapegrad/autograd/tensor.h>

#include <cmath>

#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/kernels.h>
#include <tapegrad/core/print.h>

namespace tg {

AutogradMeta& Tensor::autograd_meta() const {
  if (!impl_->autograd) impl_->autograd = std::make_shared<AutogradMeta>();
  return *impl_->autograd;
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<Node> none;
  return impl_->autograd ? impl_->autograd->grad_fn : none;
}

Tensor Tensor::grad() const { return Tensor(impl_->autograd ? impl_->autograd->grad : nullptr); }

Tensor Tensor::tangent() const {
  return Tensor(impl_->autograd ? impl_->autograd->tangent : nullptr);
}

Tensor& Tensor::requires_grad_(bool enabled) {
  check(!enabled || is_floating_point(), "requires_grad_: only floating-point tensors can "
        "require grad, this one is {}", dtype());
  check(is_leaf() || enabled, "requires_grad_: only leaf tensors can stop requiring grad; "
                               "hint: use detach()");
  autograd_meta().requires_grad = enabled;
  return *this;
}

void Tensor::set_grad(const Tensor& g) const {
  check(!g.defined() || g.shape() == shape(), "set_grad: gradient of shape {} for a tensor of {}",
        g.defined() ? g.shape() : Shape{}, shape());
  check(!g.defined() || g.dtype() == dtype(), "set_grad: a {} gradient for a {} tensor",
        g.defined() ? g.dtype() : dtype(), dtype());
  autograd_meta().grad = g.impl_ptr();
}

void Tensor::zero_grad() const {
  if (impl_->autograd) impl_->autograd->grad.reset();
}

Tensor Tensor::detach() const { return kernels::alias(*this, shape(), strides(), offset()); }

// y = x in another dtype.   dy/dx = 1: the gradient goes back in x's dtype
Tensor Tensor::to(Dtype dtype) const {
  if (this->dtype() == dtype) return *this;
  Tensor y = kernels::convert(*this, dtype);
  if (is_floating_point() && tg::is_floating_point(dtype)) {
    record("to", y, {*this}, [from = this->dtype()](const Tensor& gy) { return grads(gy.to(from)); });
    record_tangent(y, {*this}, [dtype](const Tensor& t) { return t.to(dtype); });
  }
  return y;
}

std::string to_string(const Tensor& t) {
  if (!t.defined()) return to_string(TensorBase());
  if (t.grad_fn()) return to_string(t, fmt::format("grad_fn=<{}>", t.grad_fn()->name));
  return to_string(t, t.requires_grad() ? "requires_grad=True" : "");
}

// ---- factories -----------------------------------------------------------------

namespace {

Tensor with_options(Tensor t, const TensorOptions& options) {
  if (options.requires_grad) {
    check(t.is_floating_point(), "tensor: only floating-point tensors can require grad, got {}",
          t.dtype());
    t.autograd_meta().requires_grad = true;
  }
  return t;
}

Dtype dtype_or_float(const TensorOptions& options) { return options.dtype.value_or(kFloat32); }

// Fills a fresh tensor element by element with value(i), in its dtype.
template <typename F>
Tensor generate(const Shape& shape, const TensorOptions& options, F value) {
  Tensor t = kernels::empty(shape, dtype_or_float(options));
  dispatch_all(t.dtype(), [&]<typename T>(std::type_identity<T>) {
    T* p = t.data_ptr<T>();
    for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = static_cast<T>(value(i));
  });
  return with_options(std::move(t), options);
}

template <typename V>
Tensor from_values(const std::vector<V>& values, const Shape& shape, const TensorOptions& options) {
  check(shape.numel() == int64_t(values.size()),
        "tensor: {} values do not fill shape {} ({} elements)", values.size(), shape, shape.numel());
  return generate(shape, options, [&](int64_t i) { return values[size_t(i)]; });
}

}  // namespace

Tensor empty(const Shape& shape, TensorOptions options) {
  return with_options(kernels::empty(shape, dtype_or_float(options)), options);
}

Tensor full(const Shape& shape, double value, TensorOptions options) {
  return with_options(kernels::full(shape, value, dtype_or_float(options)), options);
}

Tensor zeros(const Shape& shape, TensorOptions options) { return full(shape, 0, options); }
Tensor ones(const Shape& shape, TensorOptions options) { return full(shape, 1, options); }

namespace {
TensorOptions like(const Tensor& t, TensorOptions options) {
  if (!options.dtype) options.dtype = t.dtype();
  return options;
}
}  // namespace

Tensor zeros_like(const Tensor& t, TensorOptions options) { return zeros(t.shape(), like(t, options)); }
Tensor ones_like(const Tensor& t, TensorOptions options) { return ones(t.shape(), like(t, options)); }
Tensor empty_like(const Tensor& t, TensorOptions options) { return empty(t.shape(), like(t, options)); }
Tensor full_like(const Tensor& t, double value, TensorOptions options) {
  return full(t.shape(), value, like(t, options));
}
Tensor scalar_tensor(double value, TensorOptions options) { return full({}, value, options); }

Tensor arange(double end, TensorOptions options) { return arange(0, end, 1, options); }

Tensor arange(double start, double end, double step, TensorOptions options) {
  check(step != 0 && std::isfinite(step), "arange: step must be finite and non-zero, got {}",
        step);
  check(std::isfinite(start) && std::isfinite(end), "arange: start {} and end {} must be finite",
        start, end);
  check((end - start) / step >= 0, "arange: step {} does not lead from {} to {}", step, start,
        end);
  auto n = int64_t(std::ceil((end - start) / step));
  return generate({n}, options, [&](int64_t i) { return start + step * double(i); });
}

Tensor linspace(double start, double end, int64_t steps, TensorOptions options) {
  check(steps >= 0, "linspace: steps must be non-negative, got {}", steps);
  return generate({steps}, options, [&](int64_t i) {
    return steps == 1 ? start : start + (end - start) * double(i) / double(steps - 1);
  });
}

Tensor eye(int64_t n, int64_t m, TensorOptions options) {
  if (m < 0) m = n;
  return generate({n, m}, options, [m](int64_t i) { return i / m == i % m ? 1.0 : 0.0; });
}

Tensor tensor(const std::vector<float>& values, const Shape& shape, TensorOptions options) {
  return from_values(values, shape, options);
}

Tensor tensor(std::initializer_list<float> values, const Shape& shape, TensorOptions options) {
  return tensor(std::vector<float>(values), shape, options);
}

Tensor tensor(const std::vector<double>& values, const Shape& shape, TensorOptions options) {
  return from_values(values, shape, options);
}

Tensor tensor(const std::vector<int64_t>& values, const Shape& shape, TensorOptions options) {
  if (!options.dtype) options.dtype = kInt64;
  return from_values(values, shape, options);
}

Tensor tensor(const std::vector<int64_t>& values) {
  return tensor(values, Shape{int64_t(values.size())});
}

Tensor tensor(const std::vector<float>& values) {
  return tensor(values, Shape{int64_t(values.size())});
}

Tensor tensor(std::initializer_list<float> values) { return tensor(std::vector<float>(values)); }

Tensor rand(const Shape& shape, TensorOptions options) {
  Tensor t = kernels::empty(shape, dtype_or_float(options));
  t.uniform_(0, 1);
  t.impl()->storage->version = 0;  // a fresh tensor starts at version 0, written or not
  return with_options(std::move(t), options);
}

Tensor randn(const Shape& shape, TensorOptions options) {
  Tensor t = kernels::empty(shape, dtype_or_float(options));
  t.normal_(0, 1);
  t.impl()->storage->version = 0;
  return with_options(std::move(t), options);
}

Tensor randperm(int64_t n, TensorOptions options) {
  check(n >= 0, "randperm: n must be non-negative, got {}", n);
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  Generator& g = default_generator();
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[g.below(uint64_t(i) + 1)]);  // Fisher-Yates
  return tensor(p, {n}, options);
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  if (!(a.shape() == b.shape())) return false;
  std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  for (size_t i = 0; i < x.size(); ++i)
    if (!(std::abs(x[i] - y[i]) <= atol + rtol * std::abs(y[i]))) return false;
  return true;
}

}  // namespace tg
