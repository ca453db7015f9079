// Ops that take entries by index: gather and scatter_add, index_select and index_add, and
// masked_fill. Index tensors are int64 (PyTorch's rule); floats holding integers are accepted
// too. Each index is checked to be an integer in range before anything is computed. The pairs are each
// other's adjoints (gather's backward scatter-adds the gradient into zeros, scatter_add's
// gathers it), written with these recorded ops so that a backward can be differentiated again.
// Deviations from PyTorch: 0-d inputs are refused (PyTorch treats them as 1-element vectors);
// scatter_add's gradient for a src larger than index is zero outside index (PyTorch 1.13
// fails there instead).
#include <array>
#include <cmath>

#include <tapegrad/autograd/detail/index.h>
#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/kernels.h>

namespace tg {

namespace {

using Position = std::array<int64_t, kMaxDims>;

// Calls f(flat, position) for every element of `shape`, in row-major order.
template <typename F>
void for_each_position(const Shape& shape, F&& f) {
  Position pos{};
  int64_t n = shape.numel();
  for (int64_t i = 0; i < n; ++i) {
    f(i, pos);
    for (int d = shape.size() - 1; d >= 0; --d) {  // odometer increment
      if (++pos[d] < shape[d]) break;
      pos[d] = 0;
    }
  }
}

// The offset of `pos` under `strides`, with the coordinate of dim `dim` replaced by `at`
// (no dim replaced when dim < 0).
int64_t offset_of(const Position& pos, const Shape& strides, int dim = -1, int64_t at = 0) {
  int64_t offset = 0;
  for (int d = 0; d < strides.size(); ++d) offset += (d == dim ? at : pos[d]) * strides[d];
  return offset;
}

// The multi-index of element `flat` of `shape`, for error messages.
Shape position_of(const Shape& shape, int64_t flat) {
  Shape pos = shape;
  for (int d = shape.size() - 1; d >= 0; --d) {
    pos[d] = shape[d] > 0 ? flat % shape[d] : 0;
    flat = shape[d] > 0 ? flat / shape[d] : 0;
  }
  return pos;
}

// The wrapped dim of an index op (which needs a dim to index along: no 0-d tensors).
int index_dim(const Tensor& x, int64_t dim, const char* op) {
  check(x.dim() >= 1, "{}: expects a tensor of at least 1 dim, got a 0-d tensor", op);
  return wrap_dim(dim, x.dim(), op);
}

// The view of x at entry `i` of dim w (that dim removed), not recorded.
TensorBase entry(const TensorBase& x, int w, int64_t i) {
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(w);
  strides.erase(w);
  return kernels::alias(x, shape, strides, x.offset() + i * x.strides()[w]);
}

// Checks that index has the rank of x and is no larger than x outside dim w (or in every dim
// when w < 0): gather's and scatter_add's rule.
void check_index_fits(const char* op, const Tensor& index, const Shape& x, const char* name,
                      int w) {
  check(index.dim() == x.size(), "{}: index {} must have as many dims as {} {}", op,
        index.shape(), name, x);
  for (int d = 0; d < x.size(); ++d)
    check(d == w || index.shape()[d] <= x[d],
          "{}: index {} is larger than {} {} in dim {} ({} > {})", op, index.shape(), name, x, d,
          index.shape()[d], x[d]);
}

// g zero-padded at the end of each dim up to `shape` (differentiable: a cat with zeros).
Tensor pad_to(Tensor g, const Shape& shape) {
  for (int d = 0; d < shape.size(); ++d) {
    if (g.shape()[d] == shape[d]) continue;
    Shape rest = g.shape();
    rest[d] = shape[d] - g.shape()[d];
    g = cat({g, zeros(rest, {.dtype = g.dtype()})}, d);
  }
  return g;
}

}  // namespace

namespace detail {

std::vector<int64_t> read_indices(const Tensor& index, int64_t size, bool wrap_negative,
                                  const char* op, int64_t dim, const Shape& input) {
  const int64_t lo = wrap_negative ? -size : 0;
  auto in_range = [&](int64_t v, size_t i) {
    check(v >= lo && v < size,
          "{}: index {} at {} of the index tensor {} is out of range for dim {} of size {} "
          "(input {})", op, v, position_of(index.shape(), int64_t(i)), index.shape(), dim, size,
          input);
    return v < 0 ? v + size : v;
  };
  if (index.dtype() == kInt64) {
    std::vector<int64_t> out = index.to_vector<int64_t>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = in_range(out[i], i);
    return out;
  }
  std::vector<double> values = index.to_vector<double>();  // floats holding integers
  std::vector<int64_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    double v = values[i];
    check(v == std::floor(v) && std::abs(v) < 0x1p62,
          "{}: index {} at {} of the {} index tensor {} is not an integer (use an int64 index "
          "tensor)", op, v, position_of(index.shape(), int64_t(i)), index.dtype(), index.shape());
    out[i] = in_range(int64_t(v), i);
  }
  return out;
}

void scatter_add_into(const Tensor& target, int64_t dim, const Tensor& index, const Tensor& src,
                      const char* op) {
  int w = index_dim(target, dim, op);
  check(src.dim() == target.dim(), "{}: src {} must have as many dims as the input {}", op,
        src.shape(), target.shape());
  check_index_fits(op, index, src.shape(), "src", -1);
  check_index_fits(op, index, target.shape(), "the input", w);
  std::vector<int64_t> at = read_indices(index, target.shape()[w], false, op, w, target.shape());
  // src may share memory with the target (x.scatter_add_(0, i, x)): read it from a copy then.
  bool shared = src.impl()->storage == target.impl()->storage;
  TensorBase from = shared ? kernels::copy(src) : TensorBase(src);
  check_same_dtype(target.dtype(), src.dtype(), op);
  dispatch_all(target.dtype(), [&]<typename T>(std::type_identity<T>) {
    T *out = target.data_ptr<T>(), *in = from.data_ptr<T>();
    for_each_position(index.shape(), [&](int64_t i, const Position& pos) {
      out[offset_of(pos, target.strides(), w, at[i])] += in[offset_of(pos, from.strides())];
    });
  });
}

}  // namespace detail

// y[p] = x[p with its dim coordinate replaced by index[p]], y shaped like index.
//   dL/dx = zeros(x).scatter_add(dim, index, dL/dy)
Tensor Tensor::gather(int64_t dim, const Tensor& index) const {
  int w = index_dim(*this, dim, "gather");
  check_index_fits("gather", index, shape(), "the input", w);
  std::vector<int64_t> at = detail::read_indices(index, shape()[w], false, "gather", w, shape());
  Tensor y = empty(index.shape(), {.dtype = dtype()});
  dispatch_all(dtype(), [&]<typename T>(std::type_identity<T>) {
    T *out = y.data_ptr<T>(), *in = data_ptr<T>();
    for_each_position(index.shape(), [&](int64_t i, const Position& pos) {
      out[i] = in[offset_of(pos, strides(), w, at[i])];
    });
  });
  Tensor ix = index.detach();
  record("gather", y, {*this}, [in = shape(), w, ix](const Tensor& gy) {
    return grads(zeros(in, {.dtype = gy.dtype()}).scatter_add(w, ix, gy));
  }).saves(ix);
  record_tangent(y, {*this}, [&](const Tensor& t) { return t.gather(w, ix); });
  return y;
}

// y = x, then y[p with its dim coordinate replaced by index[p]] += src[p] for each p of index.
//   dL/dx = dL/dy,   dL/dsrc = dL/dy.gather(dim, index) (zero where src reaches past index)
Tensor Tensor::scatter_add(int64_t dim, const Tensor& index, const Tensor& src) const {
  Tensor y = kernels::copy(*this);
  detail::scatter_add_into(y, dim, index, src, "scatter_add");
  int w = wrap_dim(dim, this->dim(), "scatter_add");
  Tensor ix = index.detach();
  record("scatter_add", y, {*this, src},
         [w, ix, src_shape = src.shape()](const Tensor& gy, NeedsGrad need) {
           return grads(gy, need[1] ? pad_to(gy.gather(w, ix), src_shape) : Tensor());
         }).saves(ix);
  record_tangent(y, {*this, src}, [&](const Tensor& t, const Tensor& t_src) {
    return t.scatter_add(w, ix, t_src);
  });
  return y;
}

// y[..., i, ...] = x[..., index[i], ...] along dim.   dL/dx = zeros(x).index_add(dim, index, dL/dy)
Tensor Tensor::index_select(int64_t dim, const Tensor& index) const {
  int w = index_dim(*this, dim, "index_select");
  check(index.dim() <= 1, "index_select: index must be 1-D, got shape {}", index.shape());
  std::vector<int64_t> at =
      detail::read_indices(index, shape()[w], false, "index_select", w, shape());
  Shape out_shape = shape();
  out_shape[w] = int64_t(at.size());
  Tensor y = empty(out_shape, {.dtype = dtype()});
  for (size_t i = 0; i < at.size(); ++i) kernels::copy_into(entry(y, w, i), entry(*this, w, at[i]));
  Tensor ix = index.detach();
  record("index_select", y, {*this}, [in = shape(), w, ix](const Tensor& gy) {
    return grads(zeros(in, {.dtype = gy.dtype()}).index_add(w, ix, gy));
  }).saves(ix);
  record_tangent(y, {*this}, [&](const Tensor& t) { return t.index_select(w, ix); });
  return y;
}

// y = x, then y[..., index[i], ...] += alpha * source[..., i, ...] along dim.
//   dL/dx = dL/dy,   dL/dsource = alpha * dL/dy.index_select(dim, index)
Tensor Tensor::index_add(int64_t dim, const Tensor& index, const Tensor& source,
                         double alpha) const {
  int w = index_dim(*this, dim, "index_add");
  check(index.dim() <= 1, "index_add: index must be 1-D, got shape {}", index.shape());
  Shape expected = shape();
  expected[w] = index.numel();
  check(source.shape() == expected,
        "index_add: source {} must have the input's shape {} with size {} in dim {} (the "
        "index's length), i.e. {}", source.shape(), shape(), index.numel(), w, expected);
  std::vector<int64_t> at = detail::read_indices(index, shape()[w], false, "index_add", w, shape());
  Tensor y = kernels::copy(*this);
  for (size_t i = 0; i < at.size(); ++i)
    kernels::zip_inplace(entry(y, w, at[i]), entry(source, w, i),
                         [alpha](auto a, auto b) { return a + decltype(a)(alpha) * b; },
                         "index_add");
  Tensor ix = index.detach();
  record("index_add", y, {*this, source}, [w, ix, alpha](const Tensor& gy, NeedsGrad need) {
    return grads(gy, need[1] ? gy.index_select(w, ix) * alpha : Tensor());
  }).saves(ix);
  record_tangent(y, {*this, source}, [&](const Tensor& t, const Tensor& t_source) {
    return t.index_add(w, ix, t_source, alpha);
  });
  return y;
}

// y = mask != 0 ? value : x (broadcasting).   dL/dx = sum_to(dL/dy where mask == 0, else 0)
Tensor Tensor::masked_fill(const Tensor& mask, double value) const {
  // the mask may be of any dtype (nonzero fills)
  Tensor m_same = mask.dtype() == dtype() ? mask : Tensor(kernels::convert(mask, dtype()));
  Tensor y = kernels::zip<kernels::Types::All>(*this, m_same, [value](auto x, auto m) {
    return m != 0 ? decltype(x)(value) : x;
  }, "masked_fill");
  Tensor m = mask.detach();
  record("masked_fill", y, {*this}, [in = shape(), m](const Tensor& gy) {
    return grads(sum_to(gy.masked_fill(m, 0), in));
  }).saves(m);
  record_tangent(y, {*this}, [&](const Tensor& t) { return t.masked_fill(m, 0); });
  return y;
}

}  // namespace tg
