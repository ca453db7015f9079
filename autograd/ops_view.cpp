// Views share their input's storage: only shape, strides and offset change.
// Their backward undoes the view: reshape back, permute back, or scatter the
// gradient into a zero tensor of the input's shape (narrow, slice, select).
#include <algorithm>
#include <numeric>

#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/kernels.h>

namespace tg {

namespace {

// A tensor over x's storage with another layout (not recorded).
Tensor alias(const Tensor& x, const Shape& shape, const Shape& strides, int64_t offset) {
  return kernels::alias(x, shape, strides, offset);
}

// Records a view whose backward is a reshape back to the input's shape.
Tensor reshaping_view(const Tensor& x, const Shape& shape, const Shape& strides, const char* name) {
  Tensor y = alias(x, shape, strides, x.offset());
  record(name, y, {x}, [in = x.shape()](const Tensor& gy) { return grads(gy.reshape(in)); });
  record_tangent(y, {x}, [&](const Tensor& t) { return t.reshape(shape); });
  return y;
}

Shape infer_shape(const Shape& requested, int64_t numel, const Shape& from, const char* op) {
  Shape shape = requested, known_dims = requested;
  int infer = -1;
  for (int i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      check(infer < 0, "{}: only one dim can be -1, got {}", op, requested);
      infer = i;
      known_dims[i] = 1;
    } else {
      check(shape[i] >= 0, "{}: invalid size {} in shape {}", op, shape[i], requested);
    }
  }
  int64_t known = 1;
  for (int64_t s : known_dims)
    check(!__builtin_mul_overflow(known, s, &known) && known <= (int64_t(1) << 62),
          "{}: shape {} has more than 2^62 elements", op, requested);
  if (infer >= 0) {
    check(known != 0 && numel % known == 0, "{}: shape {} is invalid for input of shape {}", op,
          requested, from);
    shape[infer] = numel / known;
  }
  check(known * (infer >= 0 ? shape[infer] : 1) == numel,
        "{}: shape {} is invalid for input of shape {} ({} elements)", op, requested, from, numel);
  return shape;
}

}  // namespace

// y = x (its own storage).   dy/dx = 1
Tensor Tensor::clone() const {
  Tensor y = kernels::copy(*this);
  record("clone", y, {*this}, [](const Tensor& gy) { return grads(gy); });
  record_tangent(y, {*this}, [](const Tensor& t) { return t.clone(); });
  return y;
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::view(const Shape& requested) const {
  Shape shape = infer_shape(requested, numel(), this->shape(), "view");
  check(is_contiguous(), "view: tensor of shape {} with strides {} is not contiguous; "
        "hint: use reshape(), which copies when it must", this->shape(), strides());
  return reshaping_view(*this, shape, contiguous_strides(shape), "view");
}

Tensor Tensor::reshape(const Shape& requested) const {
  Shape shape = infer_shape(requested, numel(), this->shape(), "reshape");
  if (shape == this->shape()) return *this;
  const Tensor& x = is_contiguous() ? *this : clone();
  return reshaping_view(x, shape, contiguous_strides(shape), "reshape");
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  int s = wrap_dim(start_dim, dim(), "flatten"), e = wrap_dim(end_dim, dim(), "flatten");
  check(s <= e, "flatten: start_dim {} comes after end_dim {}", start_dim, end_dim);
  Shape shape;
  for (int d = 0; d < s; ++d) shape.push_back(this->shape()[d]);
  int64_t n = 1;
  for (int d = s; d <= e; ++d) n *= this->shape()[d];
  shape.push_back(n);
  for (int d = e + 1; d < dim(); ++d) shape.push_back(this->shape()[d]);
  return reshape(shape);
}

Tensor Tensor::squeeze() const {
  Shape shape, strides;
  for (int d = 0; d < dim(); ++d)
    if (this->shape()[d] != 1) shape.push_back(this->shape()[d]), strides.push_back(this->strides()[d]);
  return reshaping_view(*this, shape, strides, "squeeze");
}

Tensor Tensor::squeeze(int64_t d) const {
  int w = wrap_dim(d, dim(), "squeeze");
  if (shape()[w] != 1) return *this;
  Shape shape = this->shape(), strides = this->strides();
  shape.erase(w);
  strides.erase(w);
  return reshaping_view(*this, shape, strides, "squeeze");
}

Tensor Tensor::unsqueeze(int64_t d) const {
  int w = wrap_dim(d, dim() + 1, "unsqueeze");
  Shape shape = this->shape(), strides = this->strides();
  shape.insert(w, 1);
  strides.insert(w, w < dim() ? this->strides()[w] * this->shape()[w] : 1);
  return reshaping_view(*this, shape, strides, "unsqueeze");
}

// y = x with dims reordered.   dL/dx = dL/dy with the inverse order
Tensor Tensor::permute(const Shape& dims) const {
  check(dims.size() == dim(), "permute: {} dims given for a tensor of {} dims ({})", dims.size(),
        dim(), shape());
  Shape shape, strides, inverse = dims;
  uint32_t seen = 0;
  for (int i = 0; i < dims.size(); ++i) {
    int d = wrap_dim(dims[i], dim(), "permute");
    check(!(seen >> d & 1), "permute: dim {} repeated in {}", d, dims);
    seen |= 1u << d;
    shape.push_back(this->shape()[d]);
    strides.push_back(this->strides()[d]);
    inverse[d] = i;
  }
  Tensor y = alias(*this, shape, strides, offset());
  record("permute", y, {*this}, [inverse](const Tensor& gy) { return grads(gy.permute(inverse)); });
  record_tangent(y, {*this}, [&](const Tensor& t) { return t.permute(dims); });
  return y;
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  Shape order;
  for (int d = 0; d < dim(); ++d) order.push_back(d);
  int a = wrap_dim(dim0, dim(), "transpose"), b = wrap_dim(dim1, dim(), "transpose");
  std::swap(order[a], order[b]);
  return permute(order);
}

Tensor Tensor::t() const {
  check(dim() <= 2, "t: expects a tensor of at most 2 dims, got {}", shape());
  return dim() < 2 ? *this : transpose(0, 1);
}

// y = x[..., start:end:step, ...].   dL/dx = dL/dy scattered into zeros
Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  int w = wrap_dim(d, dim(), "slice");
  int64_t size = shape()[w];
  check(step > 0, "slice: step must be positive, got {}", step);
  if (start < 0) start += size;
  if (end < 0) end += size;
  start = std::clamp<int64_t>(start, 0, size);
  end = std::clamp<int64_t>(end, start, size);
  Shape shape = this->shape(), strides = this->strides();
  shape[w] = (end - start + step - 1) / step;
  strides[w] *= step;
  Tensor y = alias(*this, shape, strides, offset() + start * this->strides()[w]);
  record("slice", y, {*this}, [in = this->shape(), w, start, end, step](const Tensor& gy) {
    if (recording_backward())
      return grads(slice_scatter(zeros(in, {.dtype = gy.dtype()}), gy, w, start, end, step));
    Tensor gx = zeros(in, {.dtype = gy.dtype()});  // slice_scatter would copy these zeros once more
    kernels::copy_into(gx.slice(w, start, end, step), gy);
    return grads(gx);
  });
  record_tangent(y, {*this}, [&](const Tensor& t) { return t.slice(w, start, end, step); });
  return y;
}

// y = input with y[..., start:end:step, ...] = src.   dL/dinput = dL/dy with that slice
// zeroed, dL/dsrc = the slice of dL/dy. Slicing's backward: the two differentiate each other.
Tensor slice_scatter(const Tensor& input, const Tensor& src, int64_t dim, int64_t start,
                     int64_t end, int64_t step) {
  check(input.defined() && src.defined(), "slice_scatter: the {} is an undefined tensor",
        input.defined() ? "src" : "input");
  int w = wrap_dim(dim, input.dim(), "slice_scatter");
  Tensor y = kernels::copy(input);
  {
    NoGradGuard no_grad;
    Tensor target = y.slice(w, start, end, step);
    check(target.shape() == src.shape(),
          "slice_scatter: src of shape {} for a slice of shape {} (dim {} of input {})",
          src.shape(), target.shape(), dim, input.shape());
    kernels::copy_into(target, src);
  }
  Shape src_shape = src.shape();
  record("slice_scatter", y, {input, src},
         [w, start, end, step, src_shape](const Tensor& gy, NeedsGrad need) {
           return grads(need[0] ? slice_scatter(gy, zeros(src_shape, {.dtype = gy.dtype()}), w, start,
                                                end, step) : Tensor(),
                        need[1] ? gy.slice(w, start, end, step) : Tensor());
         });
  record_tangent(y, {input, src}, [&](const Tensor& ti, const Tensor& ts) {
    return slice_scatter(ti, ts, w, start, end, step);
  });
  return y;
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  int w = wrap_dim(d, dim(), "narrow");
  int64_t size = shape()[w];
  if (start < 0) start += size;
  check(start >= 0 && length >= 0 && start + length <= size,
        "narrow: start {} and length {} out of range for dim {} of size {}", start, length, d, size);
  return slice(w, start, start + length);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  int w = wrap_dim(d, dim(), "select");
  int64_t size = shape()[w];
  check(index >= -size && index < size, "select: index {} out of range for dim {} of size {}",
        index, d, size);
  if (index < 0) index += size;
  return slice(w, index, index + 1).squeeze(w);
}

// y = x broadcast to shape (stride 0).   dL/dx = sum_to(dL/dy, x.shape)
Tensor Tensor::expand(const Shape& requested) const {
  check(requested.size() >= dim(), "expand: cannot expand {} to fewer dims {}", shape(), requested);
  Shape shape = requested, strides = requested;
  int pad = requested.size() - dim();
  for (int d = 0; d < requested.size(); ++d) {
    int xd = d - pad;
    int64_t size = xd >= 0 ? this->shape()[xd] : 1;
    if (requested[d] == -1) {
      check(xd >= 0, "expand: -1 not allowed for the new leading dim {} in {}", d, requested);
      shape[d] = size;
    }
    check(size == shape[d] || size == 1, "expand: size {} of dim {} cannot become {} (shape {} to {})",
          size, xd, shape[d], this->shape(), requested);
    strides[d] = xd < 0 || (size == 1 && shape[d] != 1) ? 0 : this->strides()[xd];
  }
  checked_numel(shape, "expand");
  Tensor y = alias(*this, shape, strides, offset());
  record("expand", y, {*this}, [in = this->shape()](const Tensor& gy) { return grads(sum_to(gy, in)); });
  record_tangent(y, {*this}, [&](const Tensor& t) { return t.expand(shape); });
  return y;
}

// y = [x_1, x_2, ...] along dim.   dL/dx_i = the matching slice of dL/dy
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  check(!tensors.empty(), "cat: expects at least one tensor");
  const Tensor& first = tensors[0];
  int w = wrap_dim(dim, first.dim(), "cat");
  Shape shape = first.shape();
  shape[w] = 0;
  std::vector<int64_t> sizes;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    bool match = t.dim() == first.dim();
    for (int d = 0; match && d < t.dim(); ++d) match = d == w || t.shape()[d] == first.shape()[d];
    check(match, "cat: tensor {} has shape {}, which does not match {} outside dim {}", i,
          t.shape(), first.shape(), w);
    check(t.dtype() == first.dtype(), "cat: tensor {} is {}, tensor 0 is {}; convert with .to()",
          i, t.dtype(), first.dtype());
    shape[w] += t.shape()[w];
    sizes.push_back(t.shape()[w]);
  }
  Tensor y = empty(shape, {.dtype = first.dtype()});
  int64_t at = 0;
  for (const Tensor& t : tensors) {
    kernels::copy_into(y.slice(w, at, at + t.shape()[w]), t);
    at += t.shape()[w];
  }
  record("cat", y, tensors, [w, sizes](const Tensor& gy) {
    std::vector<Tensor> g;
    int64_t at = 0;
    for (int64_t s : sizes) g.push_back(gy.slice(w, at, at + s)), at += s;
    return g;
  });
  record_tangent(y, tensors, [&](const std::vector<Tensor>& ts) { return cat(ts, w); });
  return y;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  check(!tensors.empty(), "stack: expects at least one tensor");
  int w = wrap_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> expanded;
  for (size_t i = 0; i < tensors.size(); ++i) {
    check(tensors[i].shape() == tensors[0].shape(), "stack: tensor {} has shape {}, expected {}",
          i, tensors[i].shape(), tensors[0].shape());
    expanded.push_back(tensors[i].unsqueeze(w));
  }
  return cat(expanded, w);
}

}  // namespace tg
