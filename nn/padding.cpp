// pad() as one primitive op. Each padded dim gets a table: for every output index, the input
// index it copies (reflect, replicate and circular differ only in these tables), or -1 for the
// constant. Forward gathers through the tables row by row; backward scatter-adds dL/dy back
// through the same tables (a reflected or replicated element collects several gradients).
#include <tapegrad/nn/padding.h>

#include <algorithm>
#include <memory>

#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/kernels.h>

namespace tg::nn {

namespace functional {

namespace {

// The padded dims (the last k of the input, outermost first) and their tables. The input is
// seen as [outer, in[0], ..., in[k-1]] and the output as [outer, out[0], ..., out[k-1]].
struct PadPlan {
  Shape in_shape, out_shape;
  int64_t outer = 1;
  std::vector<int64_t> in, out;
  std::vector<std::vector<int64_t>> source;  // source[d][o]: input index of output index o, or -1
  int64_t in_block() const { return in_shape.numel() / std::max<int64_t>(outer, 1); }
  int64_t out_block() const { return out_shape.numel() / std::max<int64_t>(outer, 1); }
};

// The input index that output index o of a dim of size n, padded by `before`, copies.
int64_t source_index(int64_t o, int64_t n, int64_t before, PaddingMode mode) {
  const int64_t i = o - before;
  switch (mode) {
    case PaddingMode::Constant: return i >= 0 && i < n ? i : -1;
    case PaddingMode::Reflect: return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
    case PaddingMode::Replicate: return std::clamp<int64_t>(i, 0, n - 1);
    case PaddingMode::Circular: return ((i % n) + n) % n;
  }
  return -1;
}

PadPlan pad_plan(const Tensor& x, const std::vector<int64_t>& pads, PaddingMode mode) {
  check(pads.size() % 2 == 0, "pad: padding must be (before, after) pairs, got {} values",
        pads.size());
  const int64_t pairs = int64_t(pads.size()) / 2, dims = x.dim();
  check(pairs <= dims, "pad: {} values pad {} dims but the input {} has {}", pads.size(), pairs,
        x.shape(), dims);
  check(dims >= 1, "pad: cannot pad a 0-D tensor");
  const int64_t k = std::max<int64_t>(pairs, 1);  // the last dim is always in the plan
  PadPlan p;
  p.in_shape = x.shape();
  std::vector<int64_t> out_dims(x.shape().begin(), x.shape().end());
  for (int64_t d = 0; d < dims - k; ++d) p.outer *= x.size(d);
  for (int64_t d = dims - k; d < dims; ++d) {
    const int64_t j = dims - 1 - d;  // pads[2j], pads[2j + 1] pad dim d
    const int64_t before = j < pairs ? pads[2 * j] : 0, after = j < pairs ? pads[2 * j + 1] : 0;
    const int64_t n = x.size(d), size = n + before + after;
    if (mode != PaddingMode::Constant) {
      check(before >= 0 && after >= 0,
            "pad: negative padding ({}, {}) of dim {} is only supported in constant mode, got {}",
            before, after, d, to_string(mode));
      check(n > 0 || (before == 0 && after == 0), "pad: {} padding of dim {} of the empty input {}",
            to_string(mode), d, x.shape());
    }
    check(mode != PaddingMode::Reflect || (before < n && after < n) || (before == 0 && after == 0),
          "pad: reflect padding ({}, {}) of dim {} must be smaller than its size {} (input {})",
          before, after, d, n, x.shape());
    check(mode != PaddingMode::Circular || (before <= n && after <= n),
          "pad: circular padding ({}, {}) of dim {} must be at most its size {} (input {})",
          before, after, d, n, x.shape());
    check(size >= 0, "pad: padding ({}, {}) of dim {} of size {} leaves a negative size {}",
          before, after, d, n, size);
    std::vector<int64_t> table(size);
    for (int64_t o = 0; o < size; ++o) table[o] = source_index(o, n, before, mode);
    p.in.push_back(n), p.out.push_back(size), p.source.push_back(std::move(table));
    out_dims[d] = size;
  }
  p.out_shape = Shape(std::span<const int64_t>(out_dims));
  return p;
}

// Calls row(r, in_offset) for each output row r (a run of out.back() values) of one outer
// slice, with the offset of the input row it reads from, or -1 when a padded outer dim puts
// the whole row in the constant border.
template <typename Row>
void for_each_row(const PadPlan& p, Row&& row) {
  const int64_t k = int64_t(p.source.size());
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < k; ++d) rows *= p.out[d];
  for (int64_t r = 0; r < rows; ++r) {
    int64_t rest = r, offset = 0, stride = p.in.back();
    for (int64_t d = k - 2; d >= 0 && offset >= 0; --d) {
      const int64_t s = p.source[d][rest % p.out[d]];
      offset = s < 0 ? -1 : offset + s * stride;
      rest /= p.out[d], stride *= p.in[d];
    }
    row(r, offset);
  }
}

// Runs body(slice) for each outer slice, in parallel when there is enough work.
template <typename F>
void for_each_slice(const PadPlan& p, F&& body) {
  const int64_t grain = std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(p.out_block(), 1));
  kernels::parallel_for(p.outer, grain, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) body(n);
  });
}

Tensor pad_forward(const Tensor& x, const PadPlan& p, float value) {
  Tensor y = kernels::empty_like(x, p.out_shape);
  const int64_t W = p.out.back(), in_block = p.in_block(), out_block = p.out_block();
  const std::vector<int64_t>& last = p.source.back();
  dispatch_floating(x.dtype(), "pad", [&]<typename T>(std::type_identity<T>) {
    const T* xd = x.data_ptr<T>();
    T* yd = y.data_ptr<T>();
    const T v = value;
    for_each_slice(p, [&](int64_t n) {
      for_each_row(p, [&](int64_t r, int64_t offset) {
        T* yr = yd + n * out_block + r * W;
        if (offset < 0) return std::fill(yr, yr + W, v);
        const T* xr = xd + n * in_block + offset;
        for (int64_t j = 0; j < W; ++j) yr[j] = last[j] >= 0 ? xr[last[j]] : v;
      });
    });
  });
  return y;
}

// dL/dx: each output's gradient added to the input element it copied.
Tensor pad_backward(const Tensor& gy, const PadPlan& p) {
  Tensor g = gy.contiguous(), gx = kernels::zeros_like(g, p.in_shape);
  const int64_t W = p.out.back(), in_block = p.in_block(), out_block = p.out_block();
  const std::vector<int64_t>& last = p.source.back();
  dispatch_floating(g.dtype(), "pad", [&]<typename T>(std::type_identity<T>) {
    const T* gyd = g.data_ptr<T>();
    T* gxd = gx.data_ptr<T>();
    for_each_slice(p, [&](int64_t n) {  // slices never share input elements: no races
      for_each_row(p, [&](int64_t r, int64_t offset) {
        if (offset < 0) return;
        const T* gr = gyd + n * out_block + r * W;
        T* xr = gxd + n * in_block + offset;
        for (int64_t j = 0; j < W; ++j)
          if (last[j] >= 0) xr[last[j]] += gr[j];
      });
    });
  });
  return gx;
}

}  // namespace

PaddingMode padding_mode(const std::string& name) {
  if (name == "constant" || name == "zeros") return PaddingMode::Constant;
  if (name == "reflect") return PaddingMode::Reflect;
  if (name == "replicate") return PaddingMode::Replicate;
  if (name == "circular") return PaddingMode::Circular;
  throw Error(fmt::format("padding_mode: expected 'constant' (or 'zeros'), 'reflect', "
                          "'replicate' or 'circular', got '{}'", name));
}

std::string to_string(PaddingMode mode) {
  switch (mode) {
    case PaddingMode::Constant: return "constant";
    case PaddingMode::Reflect: return "reflect";
    case PaddingMode::Replicate: return "replicate";
    case PaddingMode::Circular: return "circular";
  }
  return "unknown";
}

// y = x copied into a bordered tensor; border elements copy x elsewhere or are `value`.
// dL/dx[i] = sum of dL/dy over the outputs that copied x[i].   Tangent: pad(tx), border 0.
Tensor pad(const Tensor& input, const std::vector<int64_t>& pads, PaddingMode mode, float value) {
  auto plan = std::make_shared<const PadPlan>(pad_plan(input, pads, mode));
  Tensor x = input.contiguous();
  Tensor y = pad_forward(x, *plan, value);
  record("pad", y, {x}, [plan](const Tensor& gy) { return grads(pad_backward(gy, *plan)); })
      .once_differentiable();
  record_tangent(y, {x}, [&](const Tensor& t) { return pad(t, pads, mode, 0); });
  return y;
}

Tensor pad(const Tensor& input, const std::vector<int64_t>& pads, const std::string& mode,
           float value) {
  return pad(input, pads, padding_mode(mode), value);
}

}  // namespace functional

Pad2dBase::Pad2dBase(std::vector<int64_t> padding_, PaddingMode mode_, float value_,
                     const char* layer)
    : padding(std::move(padding_)), mode(mode_), value(value_) {
  check(padding.size() == 4,
        "{}: padding must be one number or {{left, right, top, bottom}}, got {} values", layer,
        padding.size());
}

Tensor Pad2dBase::forward(const Tensor& input) {
  return functional::pad(input, padding, mode, value);
}

std::string Pad2dBase::extra_repr() const {
  return fmt::format("({}, {}, {}, {})", padding[0], padding[1], padding[2], padding[3]);
}

std::string ConstantPad2d::extra_repr() const {
  return fmt::format("padding=({}, {}, {}, {}), value={}", padding[0], padding[1], padding[2],
                     padding[3], value);
}

}  // namespace tg::nn
