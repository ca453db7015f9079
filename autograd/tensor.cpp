// The autograd half of Tensor that is not an op: gradient state, detach,
// printing with grad_fn, and the factories (which can make leaves requiring grad).
#include <tapegrad/autograd/tensor.h>

#include <cmath>

#include <tapegrad/autograd/node.h>
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
  check(is_leaf() || enabled, "requires_grad_: only leaf tensors can stop requiring grad; "
                               "hint: use detach()");
  autograd_meta().requires_grad = enabled;
  return *this;
}

void Tensor::set_grad(const Tensor& g) const {
  check(!g.defined() || g.shape() == shape(), "set_grad: gradient of shape {} for a tensor of {}",
        g.defined() ? g.shape() : Shape{}, shape());
  autograd_meta().grad = g.impl_ptr();
}

void Tensor::zero_grad() const {
  if (impl_->autograd) impl_->autograd->grad.reset();
}

Tensor Tensor::detach() const { return kernels::alias(*this, shape(), strides(), offset()); }

std::string to_string(const Tensor& t) {
  if (!t.defined()) return to_string(TensorBase());
  if (t.grad_fn()) return to_string(t, fmt::format("grad_fn=<{}>", t.grad_fn()->name));
  return to_string(t, t.requires_grad() ? "requires_grad=True" : "");
}

// ---- factories -----------------------------------------------------------------

Tensor empty(const Shape& shape, TensorOptions options) {
  Tensor t = kernels::empty(shape);
  if (options.requires_grad) t.autograd_meta().requires_grad = true;
  return t;
}

Tensor full(const Shape& shape, float value, TensorOptions options) {
  Tensor t = empty(shape, options);
  std::fill_n(t.data(), t.numel(), value);
  return t;
}

Tensor zeros(const Shape& shape, TensorOptions options) { return full(shape, 0, options); }
Tensor ones(const Shape& shape, TensorOptions options) { return full(shape, 1, options); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape()); }
Tensor scalar_tensor(float value, TensorOptions options) { return full({}, value, options); }

Tensor arange(float end) { return arange(0, end, 1); }

Tensor arange(float start, float end, float step) {
  check(step != 0 && std::isfinite(step), "arange: step must be finite and non-zero, got {}",
        step);
  check(std::isfinite(start) && std::isfinite(end), "arange: start {} and end {} must be finite",
        start, end);
  check((end - start) / step >= 0, "arange: step {} does not lead from {} to {}", step, start,
        end);
  auto n = int64_t(std::ceil((double(end) - start) / step));
  Tensor t = empty({n});
  for (int64_t i = 0; i < n; ++i) t.data()[i] = float(start + double(step) * i);
  return t;
}

Tensor linspace(float start, float end, int64_t steps) {
  check(steps >= 0, "linspace: steps must be non-negative, got {}", steps);
  Tensor t = empty({steps});
  for (int64_t i = 0; i < steps; ++i)
    t.data()[i] = steps == 1 ? start : float(start + (double(end) - start) * i / (steps - 1));
  return t;
}

Tensor eye(int64_t n, int64_t m) {
  if (m < 0) m = n;
  Tensor t = zeros({n, m});
  for (int64_t i = 0; i < std::min(n, m); ++i) t.data()[i * m + i] = 1;
  return t;
}

Tensor tensor(const std::vector<float>& values, const Shape& shape, TensorOptions options) {
  check(shape.numel() == int64_t(values.size()),
        "tensor: {} values do not fill shape {} ({} elements)", values.size(), shape, shape.numel());
  Tensor t = empty(shape, options);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

Tensor tensor(std::initializer_list<float> values, const Shape& shape, TensorOptions options) {
  return tensor(std::vector<float>(values), shape, options);
}

Tensor tensor(const std::vector<float>& values) {
  return tensor(values, Shape{int64_t(values.size())});
}

Tensor tensor(std::initializer_list<float> values) { return tensor(std::vector<float>(values)); }

Tensor rand(const Shape& shape, TensorOptions options) {
  Tensor t = empty(shape);
  t.uniform_(0, 1);
  t.impl()->storage->version = 0;  // a fresh tensor starts at version 0, written or not
  if (options.requires_grad) t.autograd_meta().requires_grad = true;
  return t;
}

Tensor randn(const Shape& shape, TensorOptions options) {
  Tensor t = empty(shape);
  t.normal_(0, 1);
  t.impl()->storage->version = 0;
  if (options.requires_grad) t.autograd_meta().requires_grad = true;
  return t;
}

std::vector<int64_t> randperm(int64_t n) {
  check(n >= 0, "randperm: n must be non-negative, got {}", n);
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  Generator& g = default_generator();
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[g.below(uint64_t(i) + 1)]);  // Fisher-Yates
  return p;
}

bool allclose(const Tensor& a, const Tensor& b, float rtol, float atol) {
  if (!(a.shape() == b.shape())) return false;
  std::vector<float> x = a.to_vector(), y = b.to_vector();
  for (size_t i = 0; i < x.size(); ++i)
    if (!(std::abs(x[i] - y[i]) <= atol + rtol * std::abs(y[i]))) return false;
  return true;
}

}  // namespace tg
