// Tensor storage, metadata, element access and factories. Everything that
// records on the tape lives in autograd/.
#include <tapegrad/core/tensor.h>

#include <cmath>

#include <tapegrad/core/kernels.h>
#include <tapegrad/core/random.h>

namespace tg {

namespace {

std::shared_ptr<TensorImpl> make_impl(const Shape& shape) {
  int64_t n = shape.numel();
  for (int64_t s : shape) check(s >= 0, "tensor: negative size in shape {}", shape);
  auto impl = std::make_shared<TensorImpl>();
  // One allocation, left uninitialised: kernels write every element.
  impl->storage = std::make_shared_for_overwrite<float[]>(size_t(std::max<int64_t>(n, 1)));
  impl->storage_size = n;
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  return impl;
}

}  // namespace

int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int d = dim() - 1; d >= 0; --d) {
    if (shape()[d] != 1 && strides()[d] != expected) return false;
    expected *= shape()[d];
  }
  return true;
}

float Tensor::item() const {
  check(numel() == 1, "item: tensor of shape {} has {} elements, expected exactly 1", shape(),
        numel());
  return *data();
}

float Tensor::at(std::initializer_list<int64_t> index) const {
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

std::vector<float> Tensor::to_vector() const {
  Tensor c = contiguous();
  return std::vector<float>(c.data(), c.data() + numel());
}

Tensor& Tensor::requires_grad_(bool enabled) {
  check(is_leaf() || enabled, "requires_grad_: only leaf tensors can stop requiring grad; "
                               "hint: use detach()");
  impl_->requires_grad = enabled;
  return *this;
}

void Tensor::set_grad(const Tensor& g) {
  check(!g.defined() || g.shape() == shape(), "set_grad: gradient of shape {} for a tensor of {}",
        g.defined() ? g.shape() : Shape{}, shape());
  impl_->grad = g.impl_ptr();
}

void Tensor::zero_grad() { impl_->grad.reset(); }

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->storage_size = impl_->storage_size;
  impl->shape = impl_->shape;
  impl->strides = impl_->strides;
  impl->offset = impl_->offset;
  return Tensor(std::move(impl));
}

// ---- factories -----------------------------------------------------------------

Tensor empty(const Shape& shape, TensorOptions options) {
  Tensor t(make_impl(shape));
  t.impl()->requires_grad = options.requires_grad;
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
  Shape s = shape.empty() && values.size() != 1 ? Shape{int64_t(values.size())} : shape;
  check(s.numel() == int64_t(values.size()), "tensor: {} values do not fill shape {} ({} elements)",
        values.size(), s, s.numel());
  Tensor t = empty(s, options);
  std::copy(values.begin(), values.end(), t.data());
  return t;
}

Tensor tensor(std::initializer_list<float> values, const Shape& shape, TensorOptions options) {
  return tensor(std::vector<float>(values), shape, options);
}

Tensor rand(const Shape& shape, TensorOptions options) {
  Tensor t = empty(shape);
  t.uniform_(0, 1);
  t.impl()->requires_grad = options.requires_grad;
  return t;
}

Tensor randn(const Shape& shape, TensorOptions options) {
  Tensor t = empty(shape);
  t.normal_(0, 1);
  t.impl()->requires_grad = options.requires_grad;
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
