// Reductions. sum is the primitive (its backward broadcasts the gradient
// back); mean and var are composed from it. max/min keep their argmax so
// backward can route the gradient to the winning element; logsumexp has its
// own forward, for stability.
#include <cmath>

#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/kernels.h>

namespace tg {

namespace {

uint32_t dim_mask(const Shape& dims, int rank, const char* op) {
  if (dims.empty()) return rank >= 32 ? ~0u : (1u << rank) - 1;
  uint32_t mask = 0;
  for (int64_t d : dims) {
    int w = wrap_dim(d, rank, op);
    check(!(mask >> w & 1), "{}: dim {} repeated in {}", op, w, dims);
    mask |= 1u << w;
  }
  return mask;
}

Shape reduced_shape(const Shape& shape, uint32_t mask, bool keepdim) {
  Shape out;
  for (int d = 0; d < shape.size(); ++d) {
    if (!(mask >> d & 1)) out.push_back(shape[d]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

int64_t reduced_count(const Shape& shape, uint32_t mask) {
  int64_t n = 1;
  for (int d = 0; d < shape.size(); ++d)
    if (mask >> d & 1) n *= shape[d];
  return n;
}

// y = sum over the dims in mask.   dL/dx = dL/dy broadcast back to x's shape
Tensor sum_mask(const Tensor& x, uint32_t mask, bool keepdim) {
  Shape kept_shape = reduced_shape(x.shape(), mask, true);
  Tensor y = kernels::sum_keepdim(x, mask);  // fresh and contiguous: drop dims in place
  if (!keepdim) {
    y.impl()->shape = reduced_shape(x.shape(), mask, false);
    y.impl()->strides = contiguous_strides(y.shape());
  }
  record("sum", y, {x}, [in = x.shape(), kept_shape](const Tensor& gy) {
    return grads(gy.reshape(kept_shape).expand(in));
  });
  record_tangent(y, {x}, [&](const Tensor& t) { return sum_mask(t, mask, keepdim); });
  return y;
}

// values and indices of the max (min) along one dim.   dL/dx = dL/dy at the argmax, else 0
std::pair<Tensor, Tensor> extremum_dim(const Tensor& x, int64_t dim, bool keepdim, bool minimum) {
  const char* name = minimum ? "min" : "max";
  int w = wrap_dim(dim, x.dim(), name);
  auto [max_values, max_indices] = kernels::max_keepdim(x, w, minimum);
  Tensor values = max_values, indices = max_indices;
  Shape shape = reduced_shape(x.shape(), 1u << w, keepdim);
  if (!keepdim) {
    values = values.reshape(shape);
    indices = indices.reshape(shape);
  }
  // Scatters g (shaped like the kept output) into zeros of x's shape at the indices.
  auto scatter = [w, in = x.shape()](const Tensor& g_kept, const Tensor& idx_kept) {
    Tensor g = zeros(in, {.dtype = g_kept.dtype()}), gc = g_kept.contiguous();
    int64_t outer = 1, r = in[w], inner = 1;
    for (int d = 0; d < w; ++d) outer *= in[d];
    for (int d = w + 1; d < in.size(); ++d) inner *= in[d];
    const int64_t* idx = idx_kept.data_ptr<int64_t>();
    dispatch_floating(g.dtype(), "max", [&]<typename T>(std::type_identity<T>) {
      T *out = g.data_ptr<T>(), *in_g = gc.data_ptr<T>();
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i)
          out[(o * r + idx[o * inner + i]) * inner + i] = in_g[o * inner + i];
    });
    return g;
  };
  Tensor idx_kept = indices.reshape(reduced_shape(x.shape(), 1u << w, true)).contiguous();
  Shape kept_shape = idx_kept.shape();
  record(name, values, {x}, [scatter, idx_kept, kept_shape, in = x.shape()](const Tensor& gy) {
    if (recording_backward())  // the same as gy spread over dim, masked to the argmax
      return grads(gy.reshape(kept_shape).expand(in) *
                   scatter(ones(kept_shape, {.dtype = gy.dtype()}), idx_kept));
    return grads(scatter(gy.reshape(kept_shape), idx_kept));
  }).saves(idx_kept);  // may share storage with the indices handed to the caller
  record_tangent(values, {x}, [&](const Tensor& t) {
    // the tangent at the argmax, written as a masked sum so that it stays differentiable
    Tensor at_argmax = scatter(ones(kept_shape, {.dtype = t.dtype()}), idx_kept);
    return (t * at_argmax).sum({w}, keepdim);
  });
  return {values, indices};
}

}  // namespace

Tensor Tensor::sum() const { return sum_mask(*this, dim_mask({}, dim(), "sum"), false); }
Tensor Tensor::sum(const Shape& dims, bool keepdim) const {
  return sum_mask(*this, dim_mask(dims, dim(), "sum"), keepdim);
}

Tensor Tensor::mean() const { return mean({}, false); }
Tensor Tensor::mean(const Shape& dims, bool keepdim) const {
  uint32_t mask = dim_mask(dims, dim(), "mean");
  int64_t n = reduced_count(shape(), mask);
  check(n > 0, "mean: cannot average over an empty dim of {}", shape());
  return sum_mask(*this, mask, keepdim) * (1.0 / double(n));
}

Tensor Tensor::var(const Shape& dims, int64_t correction, bool keepdim) const {
  uint32_t mask = dim_mask(dims, dim(), "var");
  int64_t n = reduced_count(shape(), mask);
  check(n - correction > 0, "var: {} elements with correction {} leave no degrees of freedom", n,
        correction);
  Tensor d = *this - mean(dims, true);
  return sum_mask(d * d, mask, keepdim) * (1.0 / double(n - correction));
}

Tensor Tensor::std(const Shape& dims, int64_t correction, bool keepdim) const {
  return var(dims, correction, keepdim).sqrt();
}

namespace {

// y = max(x) (or min) over all elements.   dy/dx = [x == y] / (number of ties): PyTorch
// splits the gradient evenly among tied extrema (max(dim) instead routes it to one index).
Tensor full_extremum(const Tensor& x, bool minimum, const char* name) {
  check(x.numel() > 0, "{}: empty tensor of shape {}", name, x.shape());
  Tensor y = Tensor(kernels::max_keepdim(x.detach().reshape({-1}), 0, minimum).first).reshape({});
  auto share = [](const Tensor& x, const Tensor& y) {
    Tensor ties = x.eq(y);
    return ties / ties.sum();
  };
  record(name, y, {x}, [x, y0 = y.detach(), share](const Tensor& gy) {
    return grads(gy * share(x, y0));
  }).saves(x);
  record_tangent(y, {x}, [&](const Tensor& t) { return (t * share(x, y)).sum(); });
  return y;
}

}  // namespace

Tensor Tensor::max() const { return full_extremum(*this, false, "max"); }
Tensor Tensor::min() const { return full_extremum(*this, true, "min"); }
std::pair<Tensor, Tensor> Tensor::max(int64_t dim, bool keepdim) const {
  return extremum_dim(*this, dim, keepdim, false);
}
std::pair<Tensor, Tensor> Tensor::min(int64_t dim, bool keepdim) const {
  return extremum_dim(*this, dim, keepdim, true);
}
Tensor Tensor::argmax(int64_t dim, bool keepdim) const {
  int w = wrap_dim(dim, this->dim(), "argmax");
  Tensor indices = kernels::max_keepdim(*this, w, false).second;
  return keepdim ? indices : indices.reshape(reduced_shape(shape(), 1u << w, false));
}
Tensor Tensor::argmin(int64_t dim, bool keepdim) const {
  int w = wrap_dim(dim, this->dim(), "argmin");
  Tensor indices = kernels::max_keepdim(*this, w, true).second;
  return keepdim ? indices : indices.reshape(reduced_shape(shape(), 1u << w, false));
}

// y = log sum_dim exp(x) = m + log sum_dim exp(x - m), m the max along dim (0 where m is
// infinite, so that a dim of -inf gives -inf and one +inf gives +inf, as in PyTorch).
//   dy/dx = softmax(x) = exp(x - y)
Tensor Tensor::logsumexp(int64_t dim, bool keepdim) const {
  int w = wrap_dim(dim, this->dim(), "logsumexp");
  if (this->dim() == 0) return reshape({1}).logsumexp(0).reshape({});
  Shape kept = reduced_shape(shape(), 1u << w, true);
  // An empty dim sums to 0 and gives -inf (PyTorch's value); max has nothing to reduce there.
  TensorBase m =
      shape()[w] > 0 ? kernels::max_keepdim(*this, w, false).first : kernels::zeros_like(*this, kept);
  kernels::map_inplace(m, [](auto v) { return std::isinf(v) ? decltype(v)(0) : v; }, "logsumexp");
  TensorBase e = kernels::zip(*this, m, [](auto v, auto mv) { return std::exp(v - mv); },
                              "logsumexp");
  Tensor y = kernels::sum_keepdim(e, 1u << w);  // fresh and contiguous: drop dim w in place
  kernels::zip_inplace(y, m, [](auto s, auto mv) { return std::log(s) + mv; }, "logsumexp");
  if (!keepdim) {
    y.impl()->shape = reduced_shape(shape(), 1u << w, false);
    y.impl()->strides = contiguous_strides(y.shape());
  }
  record("logsumexp", y, {*this}, [x = *this, y0 = SavedOutput(y), kept](const Tensor& gy) {
    return grads(gy.reshape(kept) * (x - y0.get().reshape(kept)).exp());
  }).saves(*this, y);
  record_tangent(y, {*this}, [&](const Tensor& t) {
    return (t * (*this - (keepdim ? y : y.unsqueeze(w))).exp()).sum({w}, keepdim);
  });
  return y;
}

Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  int pad = grad.dim() - shape.size();
  check(pad >= 0, "sum_to: cannot reduce {} to the larger shape {}", grad.shape(), shape);
  Shape dims;
  for (int d = 0; d < grad.dim(); ++d) {
    if (d < pad) dims.push_back(d);
    else if (shape[d - pad] == 1 && grad.shape()[d] != 1) dims.push_back(d);
    else check(shape[d - pad] == grad.shape()[d], "sum_to: {} does not broadcast to {}", shape,
               grad.shape());
  }
  if (dims.empty()) return grad.reshape(shape);
  return grad.sum(dims, true).reshape(shape);
}

}  // namespace tg
