// In-place ops: for optimizer updates and initialisation, under no-grad.
// They are not recorded, so modifying a tensor that requires grad while grad
// mode is on is refused, and each write bumps the storage's version counter
// (backward refuses saved tensors whose version moved).
#include <tapegrad/autograd/detail/index.h>
#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/tensor.h>
#include <tapegrad/core/kernels.h>
#include <tapegrad/core/random.h>

namespace tg {

namespace {

void check_inplace(const Tensor& t, const char* op) {
  check(t.defined(), "{}: the tensor is undefined", op);
  check(!(is_grad_enabled() && t.requires_grad()),
        "{}: a tensor that requires grad ({}) cannot be modified in place while grad mode is on; "
        "hint: wrap the update in a NoGradGuard", op, t.shape());
}

// Every in-place write ends here: the storage's version moves on, so a
// recorded op that saved this tensor (or a view of its storage) refuses to
// run its backward on the changed values.
Tensor& written(Tensor& t) {
  t.bump_version();
  return t;
}

}  // namespace

Tensor& Tensor::add_(const Tensor& o, double alpha) {
  check_inplace(*this, "add_");
  if (alpha == 1)
    kernels::zip_inplace<kernels::Types::All>(*this, o, [](auto x, auto y) { return x + y; }, "add_");
  else
    kernels::zip_inplace(*this, o, [alpha](auto x, auto y) { return x + decltype(x)(alpha) * y; },
                         "add_");
  return written(*this);
}

Tensor& Tensor::sub_(const Tensor& o, double alpha) { return add_(o, -alpha); }

Tensor& Tensor::mul_(const Tensor& o) {
  check_inplace(*this, "mul_");
  kernels::zip_inplace<kernels::Types::All>(*this, o, [](auto x, auto y) { return x * y; }, "mul_");
  return written(*this);
}

Tensor& Tensor::div_(const Tensor& o) {
  check_inplace(*this, "div_");
  kernels::zip_inplace(*this, o, [](auto x, auto y) { return x / y; }, "div_");
  return written(*this);
}

Tensor& Tensor::add_(double v) {
  check_inplace(*this, "add_");
  kernels::map_inplace<kernels::Types::All>(*this, [v](auto x) { return x + decltype(x)(v); }, "add_");
  return written(*this);
}

Tensor& Tensor::mul_(double v) {
  check_inplace(*this, "mul_");
  kernels::map_inplace<kernels::Types::All>(*this, [v](auto x) { return x * decltype(x)(v); }, "mul_");
  return written(*this);
}

Tensor& Tensor::clamp_(double lo, double hi) {
  check_inplace(*this, "clamp_");
  check(!(lo > hi), "clamp_: min {} is greater than max {}", lo, hi);
  kernels::map_inplace(*this, [lo, hi](auto x) {
    using T = decltype(x);
    return std::min(std::max(x, T(lo)), T(hi));
  }, "clamp_");
  return written(*this);
}

Tensor& Tensor::fill_(double v) {
  check_inplace(*this, "fill_");
  kernels::map_inplace<kernels::Types::All>(*this, [v](auto x) { return decltype(x)(v); }, "fill_");
  return written(*this);
}

Tensor& Tensor::zero_() { return fill_(0); }

Tensor& Tensor::copy_(const Tensor& src) {
  check_inplace(*this, "copy_");
  Shape shape = broadcast_shapes(src.shape(), this->shape(), "copy_");
  check(shape == this->shape(), "copy_: cannot copy {} into {}", src.shape(), this->shape());
  kernels::copy_into(*this, kernels::convert(src, dtype()));  // converts, as PyTorch's copy_
  return written(*this);
}

Tensor& Tensor::uniform_(double low, double high) {
  check_inplace(*this, "uniform_");
  check(low <= high, "uniform_: low {} is greater than high {}", low, high);
  Generator& g = default_generator();
  Tensor values = empty(shape(), {.dtype = dtype()});  // drawn in row-major order, whatever this view's layout
  dispatch_floating(dtype(), "uniform_", [&]<typename T>(std::type_identity<T>) {
    T* v = values.data_ptr<T>();
    for (int64_t i = 0; i < numel(); ++i) v[i] = T(low) + (T(high) - T(low)) * T(g.uniform());
  });
  kernels::copy_into(*this, values);
  return written(*this);
}

Tensor& Tensor::normal_(double mean, double std) {
  check_inplace(*this, "normal_");
  check(std >= 0, "normal_: std must be non-negative, got {}", std);
  Generator& g = default_generator();
  Tensor values = empty(shape(), {.dtype = dtype()});
  dispatch_floating(dtype(), "normal_", [&]<typename T>(std::type_identity<T>) {
    T* v = values.data_ptr<T>();
    for (int64_t i = 0; i < numel(); ++i) v[i] = T(mean) + T(std) * T(g.normal());
  });
  kernels::copy_into(*this, values);
  return written(*this);
}

Tensor& Tensor::scatter_add_(int64_t dim, const Tensor& index, const Tensor& src) {
  check_inplace(*this, "scatter_add_");
  detail::scatter_add_into(*this, dim, index, src, "scatter_add_");  // checks all before writing
  return written(*this);
}

}  // namespace tg
