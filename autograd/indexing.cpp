// Tensor::index: the index list is first resolved against the tensor's shape into one step
// per dim (take one entry, take a range, insert a dim), which gives the view's shape, strides
// and offset in one go: one recorded "index" node, whose backward copies the gradient into
// the same view of zeros. An index tensor is then applied with index_select.
#include <algorithm>
#include <cstring>

#include <tapegrad/autograd/detail/index.h>
#include <tapegrad/autograd/indexing.h>
#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/kernels.h>

namespace tg {

namespace indexing {

TensorIndex::TensorIndex(const char* ellipsis) : kind_(Kind::Ellipsis) {
  check(ellipsis != nullptr && std::strcmp(ellipsis, "...") == 0,
        "index: the only string index is \"...\" (Ellipsis), got \"{}\"",
        ellipsis ? ellipsis : "(null)");
}

}  // namespace indexing

namespace {

using indexing::TensorIndex;
using Kind = TensorIndex::Kind;

// What the view does to one dim of the input (Take, Range) or where it adds one (NewDim).
struct Step {
  enum Kind { Take, Range, NewDim } kind;
  int64_t start = 0, length = 1, step = 1;
};

struct Geometry {
  Shape shape, strides;
  int64_t offset;
};

// The view of t that `steps` describe (t has the shape the steps were resolved against).
Geometry geometry_of(const std::vector<Step>& steps, const TensorBase& t) {
  Geometry g{{}, {}, t.offset()};
  int d = 0;
  for (const Step& s : steps) {
    if (s.kind == Step::NewDim) {
      g.shape.push_back(1);
      g.strides.push_back(1);
      continue;
    }
    g.offset += s.start * t.strides()[d];
    if (s.kind == Step::Range) {
      g.shape.push_back(s.length);
      g.strides.push_back(t.strides()[d] * s.step);
    }
    ++d;
  }
  return g;
}

// Python's slice of a dim of `size`: start, length and step after clamping.
Step range_of(const indexing::Slice& s, int64_t size) {
  int64_t step = s.step.value_or(1);
  check(step > 0, "index: slice step must be positive, got {}", step);
  auto clamp_end = [size](std::optional<int64_t> v, int64_t absent) {
    if (!v) return absent;
    int64_t e = *v < 0 ? *v + size : *v;
    return std::clamp<int64_t>(e, 0, size);
  };
  int64_t start = clamp_end(s.start, 0), stop = std::max(clamp_end(s.stop, size), start);
  return {Step::Range, start, (stop - start + step - 1) / step, step};
}

// y = the view of x that `steps` describe.   dL/dx = zeros(x) with dL/dy copied into that view
Tensor view_of(const Tensor& x, const std::vector<Step>& steps) {
  Geometry g = geometry_of(steps, x);
  Tensor y = kernels::alias(x, g.shape, g.strides, g.offset);
  record("index", y, {x}, [steps, in = x.shape()](const Tensor& gy) {
    Tensor gx = zeros(in, {.dtype = gy.dtype()});
    Geometry v = geometry_of(steps, gx);
    kernels::copy_into(kernels::alias(gx, v.shape, v.strides, v.offset), gy);
    return grads(gx);
  }).once_differentiable();  // a raw copy; x.slice/select/unsqueeze differentiate twice
  record_tangent(y, {x}, [&](const Tensor& t) { return view_of(t, steps); });
  return y;
}

}  // namespace

Tensor Tensor::index(std::initializer_list<indexing::TensorIndex> indices) const {
  return index(std::vector<indexing::TensorIndex>(indices));
}

Tensor Tensor::index(const std::vector<indexing::TensorIndex>& indices) const {
  int consumed = 0, ellipses = 0, tensors = 0, added = 0;
  for (const TensorIndex& i : indices) {
    consumed += i.kind() == Kind::Integer || i.kind() == Kind::Slice || i.kind() == Kind::Tensor;
    ellipses += i.kind() == Kind::Ellipsis;
    tensors += i.kind() == Kind::Tensor;
    added += i.kind() == Kind::None;
  }
  check(ellipses <= 1, "index: at most one Ellipsis (...) per index, got {}", ellipses);
  check(tensors <= 1, "index: at most one index tensor per index, got {}; hint: PyTorch "
        "broadcasts several into one advanced index, which tapegrad does not do", tensors);
  check(consumed <= dim(), "index: too many indices ({}) for a tensor of {} dims ({})", consumed,
        dim(), shape());
  int result_dims = dim() - consumed + added;  // the dims no index names, and the new ones
  for (const TensorIndex& i : indices) {
    if (i.kind() == Kind::Slice) result_dims += 1;
    if (i.kind() == Kind::Tensor) result_dims += i.tensor().dim();
  }
  check(result_dims <= kMaxDims, "index: the result would have {} dims, at most {} supported",
        result_dims, kMaxDims);
  // One step per input dim (and one per None); the index tensor's dim is kept whole here.
  std::vector<Step> steps;
  int d = 0, tensor_dim = -1, tensor_in_dim = -1;
  Tensor index_tensor;
  auto keep_whole = [&] { steps.push_back({Step::Range, 0, shape()[d++], 1}); };
  for (const TensorIndex& i : indices) {
    switch (i.kind()) {
      case Kind::Integer: {
        int64_t size = shape()[d], at = i.integer();
        check(at >= -size && at < size,
              "index: index {} is out of range for dim {} of size {} (tensor of shape {})", at, d,
              size, shape());
        steps.push_back({Step::Take, at < 0 ? at + size : at});
        ++d;
        break;
      }
      case Kind::Slice: steps.push_back(range_of(i.slice(), shape()[d++])); break;
      case Kind::None: steps.push_back({Step::NewDim}); break;
      case Kind::Ellipsis:
        for (int n = dim() - consumed; n > 0; --n) keep_whole();
        break;
      case Kind::Tensor:
        tensor_dim = int(std::count_if(steps.begin(), steps.end(),
                                       [](const Step& s) { return s.kind != Step::Take; }));
        tensor_in_dim = d;
        index_tensor = i.tensor();
        keep_whole();
        break;
    }
  }
  while (d < dim()) keep_whole();
  Tensor y = view_of(*this, steps);
  if (tensor_dim < 0) return y;
  // The index tensor's entries along its dim, negative ones counting from the end; its shape
  // replaces that dim.
  std::vector<int64_t> at = detail::read_indices(index_tensor, shape()[tensor_in_dim], true,
                                                 "index", tensor_in_dim, shape());
  y = y.index_select(tensor_dim, tg::tensor(std::vector<float>(at.begin(), at.end())));
  if (index_tensor.dim() == 1) return y;
  Shape out;
  for (int k = 0; k < y.dim(); ++k) {
    if (k != tensor_dim) out.push_back(y.shape()[k]);
    else for (int64_t s : index_tensor.shape()) out.push_back(s);
  }
  return y.reshape(out);
}

}  // namespace tg
