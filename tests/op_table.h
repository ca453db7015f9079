// The table of every differentiable op: the core ops of autograd/ and every primitive with
// a hand-written backward in nn/ (plus the nn functions composed from them). Two suites
// run it: tests/autograd/test_gradcheck.cpp (the tape's gradient against central finite
// differences) and tests/autograd/test_forward.cpp (forward mode against reverse mode:
// <u, J v> = <J^T u, v>). A new op adds one row here; a test there fails when a recorded
// op name in autograd/ or nn/ appears on no row's tape, so a missing row shows.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <tapegrad/autograd/fft.h>
#include <tapegrad/autograd/forward.h>
#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/autograd/indexing.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/autograd/tensor.h>
#include <tapegrad/core/random.h>
#include <tapegrad/nn/functional.h>
#include "tests/test_util.h"

namespace tg::test {

struct InputSpec {
  Shape shape;
  float lo = -2, hi = 2;
  bool signed_away = false;  // |x| in [lo, hi] with random sign: away from kinks at 0
  bool distinct = false;     // evenly spaced values in random order: no ties (max-pooling)
};

struct OpCase {
  std::string name;
  std::vector<InputSpec> inputs;
  TensorFunction f;
  GradcheckOptions tolerance = {};  // wider for the normalisations (their own comment says why)
  double jvp_rtol = 1e-4;           // <u, J v> against <J^T u, v>
  bool forward_mode = true;  // false only for a row whose output is itself a tangent
};

/// Values for one input: uniform in [lo, hi] (see InputSpec for the other two kinds).
inline Tensor make_input(const InputSpec& s) {
  if (!s.distinct) return sample(s.shape, s.lo, s.hi, s.signed_away);
  int64_t n = s.shape.numel();
  std::vector<int64_t> order = randperm(n).to_vector<int64_t>();
  std::vector<float> v;
  const float step = (s.hi - s.lo) / float(std::max<int64_t>(n - 1, 1));
  for (int64_t i : order) v.push_back(s.lo + step * float(i));
  return tensor(v, s.shape);
}

/// The row's inputs in `dtype`: float64 by default, the dtype of gradchecks (the values are
/// drawn in float32 either way, so both dtypes see the same numbers).
inline std::vector<Tensor> make_inputs(const OpCase& c, Dtype dtype = kFloat64) {
  std::vector<Tensor> xs;
  for (const InputSpec& s : c.inputs) xs.push_back(make_input(s).to(dtype));
  return xs;
}

using V = const std::vector<Tensor>&;

/// A constant in the dtype of x (the rows run in float32 and in float64).
inline Tensor like(const Tensor& x, std::initializer_list<float> values, const Shape& shape) {
  return tensor(values, shape, {.dtype = x.dtype()});
}
/// An int64 index or class tensor.
inline Tensor idx(std::vector<int64_t> values, const Shape& shape) { return tensor(values, shape); }
inline Tensor idx(std::vector<int64_t> values) {
  return idx(values, {int64_t(values.size())});
}

inline InputSpec in(Shape shape, float lo = -2, float hi = 2, bool signed_away = false) {
  return {shape, lo, hi, signed_away};
}
inline InputSpec distinct(Shape shape) { return {shape, -2, 2, false, true}; }

/// A tensor of `shape` with values from `gen` (uniform in [-1, 1)), independent of the global seed.
inline Tensor random_like(const Shape& shape, Generator& gen, Dtype dtype = kFloat32) {
  std::vector<float> v(size_t(shape.numel()));
  for (float& x : v) x = gen.uniform() * 2 - 1;
  return tensor(v, shape, {.dtype = dtype});
}

inline double dot(const Tensor& a, const Tensor& b) {
  std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += x[i] * y[i];
  return s;
}

/// <u, J v> by forward mode (jvp) and <J^T u, v> by reverse mode (vjp) for random u and v
/// drawn from `seed`: equal up to rounding when the tangent rule and the backward closure
/// are the two faces of the same derivative. Also whether both passes computed the same f.
struct JvpVjp {
  double forward, reverse;
  bool same_value;
};
inline JvpVjp jvp_vjp(const TensorFunction& f, const std::vector<Tensor>& inputs,
                      uint64_t seed = 7) {
  Generator gen;
  gen.seed(seed);
  std::vector<Tensor> v;
  for (const Tensor& x : inputs) v.push_back(random_like(x.shape(), gen, x.dtype()));
  auto [y, jv] = jvp(f, inputs, v);
  Tensor u = random_like(y.shape(), gen, y.dtype());
  auto [y2, jtu] = vjp(f, inputs, u);
  double reverse = 0;
  for (size_t i = 0; i < inputs.size(); ++i) reverse += dot(jtu[i], v[i]);
  return {dot(u, jv), reverse, allclose(y, y2)};
}

inline std::vector<OpCase> core_op_table() {
  InputSpec m23 = in({2, 3}), pos23 = in({2, 3}, 0.5f, 2), away23 = in({2, 3}, 0.2f, 2, true);
  return {
      {"add", {m23, m23}, [](V x) { return x[0] + x[1]; }},
      {"add broadcast", {m23, in({3})}, [](V x) { return x[0] + x[1]; }},
      {"add broadcast both", {in({2, 1}), in({1, 3})}, [](V x) { return x[0] + x[1]; }},
      {"sub", {m23, in({2, 1})}, [](V x) { return x[0] - x[1]; }},
      {"mul", {m23, m23}, [](V x) { return x[0] * x[1]; }},
      {"mul broadcast", {in({4, 1, 3}), in({2, 1})}, [](V x) { return x[0] * x[1]; }},
      {"div", {m23, in({3}, 0.5f, 2, true)}, [](V x) { return x[0] / x[1]; }},
      {"neg", {m23}, [](V x) { return -x[0]; }},
      {"scalar affine", {m23}, [](V x) { return (x[0] * 3 + 1) - 2 / (x[0] * x[0] + 1) + (1 - x[0]) / 4; }},
      {"pow scalar", {pos23}, [](V x) { return x[0].pow(2.5f); }},
      {"pow square", {m23}, [](V x) { return x[0].pow(2); }},
      {"pow tensor", {pos23, m23}, [](V x) { return x[0].pow(x[1]); }},
      {"exp", {m23}, [](V x) { return x[0].exp(); }},
      {"log", {pos23}, [](V x) { return x[0].log(); }},
      {"sqrt", {pos23}, [](V x) { return x[0].sqrt(); }},
      {"rsqrt", {pos23}, [](V x) { return x[0].rsqrt(); }},
      {"abs", {away23}, [](V x) { return x[0].abs(); }},
      {"sign (zero gradient) times x", {away23}, [](V x) { return x[0].sign() * x[0]; }},
      {"sin", {m23}, [](V x) { return x[0].sin(); }},
      {"cos", {m23}, [](V x) { return x[0].cos(); }},
      {"tanh", {m23}, [](V x) { return x[0].tanh(); }},
      {"sigmoid", {m23}, [](V x) { return x[0].sigmoid(); }},
      {"relu", {away23}, [](V x) { return x[0].relu(); }},
      {"clamp", {away23}, [](V x) { return x[0].clamp(-1.1f, 1.1f); }},
      {"maximum", {m23, in({3})}, [](V x) { return x[0].maximum(x[1]); }},
      {"minimum", {m23, m23}, [](V x) { return x[0].minimum(x[1]); }},
      {"where", {m23, in({3})}, [](V x) { return where(x[0].gt(scalar_tensor(0)), x[0], x[1]); }},
      {"clone", {m23}, [](V x) { return x[0].clone() * x[0]; }},
      {"reshape", {m23}, [](V x) { return x[0].reshape({3, 2}) * x[0].reshape({3, 2}); }},
      {"view", {m23}, [](V x) { return x[0].view({6}) * 2; }},
      {"flatten", {in({2, 2, 3})}, [](V x) { return x[0].flatten(1) * 2; }},
      {"permute", {in({2, 3, 4})}, [](V x) { return x[0].permute({2, 0, 1}) * like(x[0], {1, 2, 3, 4}, {4, 1, 1}); }},
      {"transpose + contiguous", {m23}, [](V x) { return x[0].t().contiguous() * x[0].t(); }},
      {"narrow", {m23}, [](V x) { return x[0].narrow(1, 1, 2); }},
      {"slice step", {in({7, 2})}, [](V x) { return x[0].slice(0, 1, 7, 3); }},
      {"slice_scatter", {in({7, 2}), in({2, 2})}, [](V x) { return slice_scatter(x[0], x[1], 0, 1, 7, 3); }},
      {"select", {m23}, [](V x) { return x[0].select(1, -1); }},
      {"squeeze/unsqueeze", {in({2, 1, 3})}, [](V x) { return x[0].squeeze().unsqueeze(0) * x[0].squeeze(1); }},
      {"expand", {in({2, 1})}, [](V x) { return x[0].expand({3, 2, 4}); }},
      {"cat", {m23, in({2, 1})}, [](V x) { return cat({x[0], x[1], x[0]}, 1); }},
      {"stack", {m23, m23}, [](V x) { return stack({x[0], x[1]}, 1); }},
      {"sum", {m23}, [](V x) { return x[0].sum(); }},
      {"sum dims keepdim", {in({2, 3, 4})}, [](V x) { return x[0].sum({0, 2}, true); }},
      {"mean", {in({2, 3, 4})}, [](V x) { return x[0].mean({1}); }},
      {"var", {in({3, 4})}, [](V x) { return x[0].var({1}); }},
      {"std", {in({3, 4}, 0.5f, 2)}, [](V x) { return x[0].std(); }},
      {"max", {m23}, [](V x) { return x[0].max(); }},
      {"max dim", {in({3, 4})}, [](V x) { return x[0].max(1).first; }},
      {"min dim keepdim", {in({3, 4})}, [](V x) { return x[0].min(0, true).first; }},
      {"matmul", {in({3, 4}), in({4, 2})}, [](V x) { return x[0].matmul(x[1]); }},
      {"matmul transposed views", {in({4, 3}), in({2, 4})}, [](V x) { return x[0].t().matmul(x[1].t()); }},
      {"matmul batched", {in({2, 3, 4}), in({2, 4, 2})}, [](V x) { return x[0].matmul(x[1]); }},
      {"matmul batch x matrix", {in({2, 3, 4}), in({4, 2})}, [](V x) { return x[0].matmul(x[1]); }},
      {"matmul vector", {in({3, 4}), in({4})}, [](V x) { return x[0].matmul(x[1]); }},
      {"dot", {in({4}), in({4})}, [](V x) { return x[0].matmul(x[1]); }},
      {"sum_to", {in({4, 2, 3})}, [](V x) { return sum_to(x[0], {2, 1}); }},
      {"composite: mse", {in({5, 1}), in({5, 1})}, [](V x) { return (x[0] - x[1]).pow(2).mean(); }},
      // in float64 both conversions are no-ops; the dtype test runs this row in float32 too
      {"to float64 and back", {m23}, [](V x) { return (x[0].to(kFloat64) * x[0].to(kFloat64).sin()).to(x[0].dtype()); }},
      // ---- logsumexp, index ops (index tensors are constants), N-d matmul, indexing sugar ----
      {"logsumexp", {in({3, 4})}, [](V x) { return x[0].logsumexp(1); }},
      {"logsumexp dim -1 keepdim", {in({2, 3, 4})}, [](V x) { return x[0].logsumexp(-1, true); }},
      {"logsumexp outer dim, large values", {in({3, 2}, 20, 40)}, [](V x) { return x[0].logsumexp(0); }},
      {"gather", {in({3, 4})}, [](V x) { return x[0].gather(0, idx({2, 0, 1, 2, 1, 1, 0, 0}, {2, 4})); }},
      {"gather dim -1, smaller index", {in({2, 3, 4})},
       [](V x) { return x[0].gather(-1, idx({3, 3, 0, 1, 2, 0, 1, 0}, {2, 2, 2})); }},
      {"scatter_add", {in({3, 4}), in({2, 3})},
       [](V x) { return x[0].scatter_add(0, idx({0, 2, 2, 1, 0, 2}, {2, 3}), x[1]); }},
      {"scatter_add dim -1, src larger than index", {in({2, 4}), in({3, 3})},
       [](V x) { return x[0].scatter_add(-1, idx({1, 1, 3, 0}, {2, 2}), x[1]); }},
      {"index_select", {in({4, 3})}, [](V x) { return x[0].index_select(0, idx({2, 0, 2})); }},
      {"index_select dim -1", {in({2, 3, 4})}, [](V x) { return x[0].index_select(-1, idx({3, 1})); }},
      {"index_add alpha", {in({3, 4}), in({3, 2})},
       [](V x) { return x[0].index_add(1, idx({1, 3}), x[1], 0.5f); }},
      {"masked_fill", {m23}, [](V x) { return x[0].masked_fill(idx({1, 0, 1}), 0.5f); }},
      {"masked_fill broadcast both", {in({2, 1})},
       [](V x) { return x[0].masked_fill(like(x[0], {0, 1, 1, 0, 0, 1}, {2, 1, 3}), -1); }},
      {"matmul 4-D x 3-D broadcast", {in({2, 1, 3, 4}), in({3, 4, 2})}, [](V x) { return x[0].matmul(x[1]); }},
      {"matmul 4-D x 1-D", {in({2, 3, 2, 4}), in({4})}, [](V x) { return x[0].matmul(x[1]); }},
      {"matmul 1-D x 4-D", {in({3}), in({2, 1, 3, 2})}, [](V x) { return x[0].matmul(x[1]); }},
      {"matmul 2-D x 4-D", {in({2, 3}), in({2, 2, 3, 2})}, [](V x) { return x[0].matmul(x[1]); }},
      {"matmul 5-D x 2-D, transposed view", {in({1, 2, 2, 4, 3})},
       [](V x) { return x[0].transpose(-1, -2).matmul(x[0].select(0, 0).select(0, 1).select(0, 0)); }},
      {"index: int, slice, None, Ellipsis", {in({3, 4, 5})},
       [](V x) { using namespace indexing; return x[0].index({-1, Slice(1, None, 2), None, Ellipsis, Slice(None, -1)}); }},
      {"index: index tensor", {in({3, 4})},
       [](V x) { return x[0].index({indexing::Ellipsis, idx({-1, 0, 3, 3}, {2, 2})}); }},
      // ---- FFTs and complex helpers (autograd/ops_fft.cpp); complex as a trailing 2 ----
      {"fft2 ortho", {in({2, 3, 4, 2})}, [](V x) { return fft2(x[0], "ortho"); }},
      {"fft2 backward norm, odd sizes", {in({5, 3, 2})}, [](V x) { return fft2(x[0]); }},
      {"ifft2 ortho", {in({2, 4, 3, 2})}, [](V x) { return ifft2(x[0], "ortho"); }},
      {"ifft2 forward norm, batch of 2 x 2", {in({2, 2, 3, 5, 2})},
       [](V x) { return ifft2(x[0], "forward"); }},
      {"complex", {m23, m23}, [](V x) { return complex(x[0], x[1]); }},
      {"complex_abs", {in({3, 4, 2}, 0.2f, 2, true)}, [](V x) { return complex_abs(x[0]); }},
      {"undersampled ifft2 magnitude", {in({1, 4, 4})}, [](V x) {
         Tensor mask = like(x[0], {1, 0, 1, 1}, {1, 4, 1});  // keep columns 0, 2, 3 of k-space
         return complex_abs(ifft2(fft2(complex(x[0], x[0] * 0.5f), "ortho") * mask, "ortho"));
       }},
  };
}

/// nn's primitives (hand-written backward and tangent rules in nn/*.cpp), then the nn
/// functions composed from them, each under the geometries its kernel treats differently.
inline std::vector<OpCase> nn_op_table() {
  namespace F = nn::functional;
  using nn::Reduction;
  // Normalisations divide by a standard deviation computed from the same values. In float32
  // they needed a step of 1e-2 and 2% tolerance to stay above the noise; the table runs in
  // float64, gradcheck's default, whose own tolerances suffice.
  const GradcheckOptions norm{};
  InputSpec gamma = in({3}, 0.5f, 1.5f);
  std::vector<OpCase> rows = {
      // ---- linear.cpp ----
      {"linear", {in({3, 4}), in({5, 4}), in({5})},
       [](V x) { return F::linear(x[0], x[1], x[2]); }},
      {"linear 3-D input", {in({2, 3, 4}), in({2, 4}), in({2})},
       [](V x) { return F::linear(x[0], x[1], x[2]); }},
      {"linear 3-D input, no bias", {in({2, 3, 4}), in({5, 4})},
       [](V x) { return F::linear(x[0], x[1]); }},
      // ---- conv.cpp ----
      {"conv2d", {in({2, 3, 5, 5}), in({4, 3, 3, 3}), in({4})},
       [](V x) { return F::conv2d(x[0], x[1], x[2]); }},
      {"conv2d stride (2, 1) padding (1, 0)", {in({2, 3, 6, 5}), in({4, 3, 3, 2}), in({4})},
       [](V x) { return F::conv2d(x[0], x[1], x[2], {2, 1}, {1, 0}); }},
      {"conv2d stride 2 padding 1", {in({1, 2, 6, 6}), in({3, 2, 3, 3}), in({3})},
       [](V x) { return F::conv2d(x[0], x[1], x[2], 2, 1); }},
      {"conv2d dilation 2 padding 2", {in({1, 2, 5, 5}), in({3, 2, 3, 3}), in({3})},
       [](V x) { return F::conv2d(x[0], x[1], x[2], 1, 2, 2); }},
      {"conv2d groups 2 stride 2 padding 1", {in({2, 4, 5, 5}), in({6, 2, 3, 3}), in({6})},
       [](V x) { return F::conv2d(x[0], x[1], x[2], 2, 1, 1, 2); }},
      {"conv2d stride (1, 3) padding (0, 2)", {in({1, 2, 4, 7}), in({2, 2, 3, 3}), in({2})},
       [](V x) { return F::conv2d(x[0], x[1], x[2], {1, 3}, {0, 2}); }},
      {"conv2d depthwise, no bias", {in({1, 3, 4, 4}), in({3, 1, 3, 3})},
       [](V x) { return F::conv2d(x[0], x[1], Tensor(), 1, 1, 1, 3); }},
      {"conv2d 1x1 (no im2col)", {in({2, 3, 3, 3}), in({2, 3, 1, 1}), in({2})},
       [](V x) { return F::conv2d(x[0], x[1], x[2]); }},
      {"conv2d unbatched", {in({3, 4, 4}), in({2, 3, 3, 3})},
       [](V x) { return F::conv2d(x[0], x[1]); }},
      // conv2d_relu: small inputs and weights (|conv| <= 0.27) and biases of either sign in
      // [3, 4], so every output is far from the ReLU's kink and both sides occur.
      {"conv2d_relu",
       {in({2, 3, 5, 5}, -0.1f, 0.1f), in({4, 3, 3, 3}, -0.1f, 0.1f), in({4}, 3, 4, true)},
       [](V x) { return F::conv2d_relu(x[0], x[1], x[2], 1, 1); }},
      {"conv2d_relu stride 2, valid",
       {in({1, 2, 6, 6}, -0.1f, 0.1f), in({3, 2, 3, 3}, -0.1f, 0.1f), in({3}, 3, 4, true)},
       [](V x) { return F::conv2d_relu(x[0], x[1], x[2], 2, "valid"); }},
      // ---- padding.cpp; conv.cpp's padding "same", padding modes (pad, then conv2d: what
      // Conv2d does) and conv1d; conv_transpose.cpp; upsample.cpp ----
      {"pad constant, value 0.5", {in({3, 4})},
       [](V x) { return F::pad(x[0], {1, 2, 2, 0}, "constant", 0.5f); }},
      {"pad constant, negative (crop)", {in({2, 3, 5})},
       [](V x) { return F::pad(x[0], {-1, 2, 1, -1}); }},
      {"pad reflect, odd sizes", {in({1, 2, 5, 3})},
       [](V x) { return F::pad(x[0], {2, 1, 3, 4}, "reflect"); }},
      {"pad replicate", {in({2, 3, 4})}, [](V x) { return F::pad(x[0], {3, 1}, "replicate"); }},
      {"pad circular", {in({1, 2, 3, 5})},
       [](V x) { return F::pad(x[0], {5, 2, 1, 3}, "circular"); }},
      {"conv2d padding same, even kernel", {in({1, 2, 5, 6}), in({3, 2, 4, 2}), in({3})},
       [](V x) { return F::conv2d(x[0], x[1], x[2], 1, "same"); }},
      {"conv2d reflect padding, stride 2", {in({2, 2, 5, 5}), in({3, 2, 3, 3}), in({3})},
       [](V x) { return F::conv2d(F::pad(x[0], {1, 1, 2, 2}, "reflect"), x[1], x[2], 2); }},
      {"conv2d replicate padding, groups 2", {in({1, 4, 4, 5}), in({4, 2, 3, 3}), in({4})},
       [](V x) { return F::conv2d(F::pad(x[0], {1, 1, 1, 1}, "replicate"), x[1], x[2], 1, 0, 1, 2); }},
      {"conv2d circular padding, dilation 2", {in({1, 2, 5, 4}), in({2, 2, 3, 3}), in({2})},
       [](V x) { return F::conv2d(F::pad(x[0], {2, 2, 2, 2}, "circular"), x[1], x[2], 1, 0, 2); }},
      {"conv1d", {in({2, 3, 7}), in({4, 3, 3}), in({4})},
       [](V x) { return F::conv1d(x[0], x[1], x[2]); }},
      {"conv1d stride 2 padding 1 dilation 2 groups 2", {in({2, 4, 9}), in({6, 2, 3}), in({6})},
       [](V x) { return F::conv1d(x[0], x[1], x[2], 2, 1, 2, 2); }},
      {"conv1d padding same, even kernel, unbatched", {in({3, 7}), in({2, 3, 4})},
       [](V x) { return F::conv1d(x[0], x[1], Tensor(), 1, "same"); }},
      {"conv_transpose2d", {in({2, 3, 3, 3}), in({3, 2, 3, 3}), in({2})},
       [](V x) { return F::conv_transpose2d(x[0], x[1], x[2]); }},
      {"conv_transpose2d stride 2 padding 1 output_padding 1",
       {in({1, 2, 3, 4}), in({2, 3, 3, 3}), in({3})},
       [](V x) { return F::conv_transpose2d(x[0], x[1], x[2], 2, 1, 1); }},
      {"conv_transpose2d groups 2 stride (2, 1), odd sizes",
       {in({1, 4, 3, 5}), in({4, 2, 3, 2}), in({4})},
       [](V x) { return F::conv_transpose2d(x[0], x[1], x[2], {2, 1}, {1, 0}, {1, 0}, 2); }},
      {"conv_transpose2d dilation 2, output_padding 1 >= stride",
       {in({1, 2, 3, 3}), in({2, 2, 2, 2}), in({2})},
       [](V x) { return F::conv_transpose2d(x[0], x[1], x[2], 1, 0, 1, 1, 2); }},
      {"conv_transpose2d 1x1 (no col2im), no bias", {in({2, 3, 3, 3}), in({3, 2, 1, 1})},
       [](V x) { return F::conv_transpose2d(x[0], x[1]); }},
      {"conv_transpose2d unbatched", {in({2, 3, 3}), in({2, 3, 3, 3})},
       [](V x) { return F::conv_transpose2d(x[0], x[1], Tensor(), 2); }},
      {"interpolate nearest to (5, 7) from odd sizes", {in({1, 2, 3, 5})},
       [](V x) { return F::interpolate(x[0], {.size = F::Size2(5, 7)}); }},
      {"interpolate nearest scale 2", {in({2, 1, 2, 3})},
       [](V x) { return F::interpolate(x[0], {.scale_factor = 2}); }},
      {"interpolate bilinear scale 2", {in({1, 2, 3, 3})},
       [](V x) {
         return F::interpolate(x[0], {.scale_factor = 2, .mode = F::InterpolateMode::Bilinear});
       }},
      {"interpolate bilinear align_corners to (5, 4)", {in({1, 2, 3, 3})},
       [](V x) {
         return F::interpolate(x[0], {.size = F::Size2(5, 4),
                                      .mode = F::InterpolateMode::Bilinear,
                                      .align_corners = true});
       }},
      {"interpolate bilinear down to (2, 3)", {in({1, 1, 5, 7})},
       [](V x) {
         return F::interpolate(x[0], {.size = F::Size2(2, 3), .mode = F::InterpolateMode::Bilinear});
       }},
      // ---- pool.cpp (max pooling away from ties: distinct values) ----
      {"max_pool2d 2x2", {distinct({2, 2, 4, 4})}, [](V x) { return F::max_pool2d(x[0], 2); }},
      {"max_pool2d 2x2 odd size", {distinct({1, 2, 5, 7})},
       [](V x) { return F::max_pool2d(x[0], 2); }},
      {"max_pool2d k3 stride 2 padding 1", {distinct({1, 2, 5, 5})},
       [](V x) { return F::max_pool2d(x[0], 3, 2, 1); }},
      {"max_pool2d k(3, 2) stride (2, 1) padding (1, 0)", {distinct({1, 2, 5, 4})},
       [](V x) { return F::max_pool2d(x[0], {3, 2}, {2, 1}, {1, 0}); }},
      {"max_pool2d unbatched", {distinct({2, 4, 4})}, [](V x) { return F::max_pool2d(x[0], 2); }},
      // max_pool2d's tangent is itself an op (max_pool2d_take) with a backward, which a
      // Hessian-vector product replays: here the tangent v is an input, so the gradient for v
      // goes through it. A tangent carries no tangent of its own (one level of forward mode).
      {"max_pool2d's tangent (reverse over forward)", {distinct({2, 2, 4, 4}), in({2, 2, 4, 4})},
       [](V x) {
         DualLevel level;
         Tensor dual = x[0].expand(x[0].shape());
         detail::set_tangent(dual, x[1], "test");  // x[1] itself, not detached as make_dual does
         return F::max_pool2d(dual, 2).tangent();
       },
       {}, 0, /*forward_mode=*/false},
      {"avg_pool2d 2x2", {in({2, 2, 4, 4})}, [](V x) { return F::avg_pool2d(x[0], 2); }},
      {"avg_pool2d k3 stride 2 padding 1", {in({1, 2, 5, 5})},
       [](V x) { return F::avg_pool2d(x[0], 3, 2, 1); }},
      {"adaptive_avg_pool2d (3, 2)", {in({1, 2, 5, 5})},
       [](V x) { return F::adaptive_avg_pool2d(x[0], {3, 2}); }},
      {"adaptive_avg_pool2d larger than the input", {in({1, 1, 3, 4})},
       [](V x) { return F::adaptive_avg_pool2d(x[0], {5, 7}); }},
      {"adaptive_avg_pool2d global", {in({2, 3, 3, 3})},
       [](V x) { return F::adaptive_avg_pool2d(x[0], 1); }},
      // ---- norm.cpp ----
      {"batch_norm train, running stats", {in({4, 3, 2, 2}), gamma, in({3})},
       [](V x) {
         // updated in place, fresh on every call
         Tensor mean = zeros({3}, {.dtype = x[0].dtype()}), var = ones({3}, {.dtype = x[0].dtype()});
         return F::batch_norm(x[0], mean, var, x[1], x[2], true);
       },
       norm, 1e-3},
      {"batch_norm train [N, C], no affine", {in({5, 3})},
       [](V x) { return F::batch_norm(x[0], Tensor(), Tensor(), Tensor(), Tensor(), true); },
       norm, 1e-3},
      {"batch_norm train [N, C, L]", {in({2, 3, 4}), gamma, in({3})},
       [](V x) { return F::batch_norm(x[0], Tensor(), Tensor(), x[1], x[2], true); }, norm, 1e-3},
      {"batch_norm eval", {in({4, 3, 2, 2}), gamma, in({3})},
       [](V x) {
         return F::batch_norm(x[0], like(x[0], {0.5f, -0.2f, 0.1f}, {3}), like(x[0], {2, 0.5f, 1}, {3}),
                              x[1], x[2], false);
       }},
      {"group_norm 2 groups", {in({2, 4, 3, 2}), in({4}, 0.5f, 1.5f), in({4})},
       [](V x) { return F::group_norm(x[0], 2, x[1], x[2]); }, norm, 1e-3},
      {"group_norm one group per channel, no affine", {in({2, 3, 2, 3})},
       [](V x) { return F::group_norm(x[0], 3); }, norm, 1e-3},
      {"layer_norm", {in({2, 3, 2}), in({3, 2}, 0.5f, 1.5f), in({3, 2})},
       [](V x) { return F::layer_norm(x[0], {3, 2}, x[1], x[2]); }, norm, 1e-3},
      // ---- add_relu (activation.cpp): a + b kept at least 0.1 away from the kink at 0 ----
      {"add_relu", {in({2, 3}, 0.2f, 2, true), in({2, 3}, -0.1f, 0.1f)},
       [](V x) { return F::add_relu(x[0], x[1]); }},
      {"add_relu broadcast", {in({2, 3, 4}, 0.2f, 2, true), in({3, 1}, -0.1f, 0.1f)},
       [](V x) { return F::add_relu(x[0], x[1]); }},
      {"add_relu broadcast first", {in({4}, -0.1f, 0.1f), in({3, 4}, 0.2f, 2, true)},
       [](V x) { return F::add_relu(x[0], x[1]); }},
      // ---- activation.cpp ----
      {"leaky_relu", {in({3, 4}, 0.1f, 2, true)}, [](V x) { return F::leaky_relu(x[0], 0.2f); }},
      {"log_softmax dim 1", {in({3, 5})}, [](V x) { return F::log_softmax(x[0], 1); }},
      {"log_softmax dim 0", {in({3, 5})}, [](V x) { return F::log_softmax(x[0], 0); }},
      {"log_softmax inner dim", {in({2, 3, 4, 2})}, [](V x) { return F::log_softmax(x[0], 2); }},
      {"softmax", {in({3, 5})}, [](V x) { return F::softmax(x[0], -1); }},
      {"dropout train (fixed mask)", {in({4, 5})},
       [](V x) {
         manual_seed(5);  // the same mask on every call
         return F::dropout(x[0], 0.3f);
       }},
      // ---- loss.cpp ----
      {"cross_entropy unbatched", {in({5})},
       [](V x) { return F::cross_entropy(x[0], idx({3}, {})); }},
  };
  const std::pair<Reduction, const char*> reductions[] = {
      {Reduction::Mean, "mean"}, {Reduction::Sum, "sum"}, {Reduction::None, "none"}};
  Tensor classes = idx({1, 0, 4, 2});
  for (auto [r, name] : reductions) {
    auto row = [&](const char* op, std::vector<InputSpec> inputs, TensorFunction f) {
      rows.push_back({fmt::format("{} {}", op, name), std::move(inputs), std::move(f)});
    };
    row("cross_entropy", {in({4, 5})}, [=](V x) { return F::cross_entropy(x[0], classes, r); });
    row("cross_entropy label smoothing", {in({4, 5})},
        [=](V x) { return F::cross_entropy(x[0], classes, r, 0.1f); });
    row("nll_loss of log_softmax", {in({4, 5})},
        [=](V x) { return F::nll_loss(F::log_softmax(x[0], 1), classes, r); });
    row("mse_loss", {in({4, 2}), in({4, 2})}, [=](V x) { return F::mse_loss(x[0], x[1], r); });
    // |input - target| >= 0.2: away from the kink.
    row("l1_loss", {in({4, 2}, 0.3f, 2, true), in({4, 2}, -0.1f, 0.1f)},
        [=](V x) { return F::l1_loss(x[0], x[1], r); });
    row("huber_loss", {in({4, 2}), in({4, 2})}, [=](V x) { return F::huber_loss(x[0], x[1], r); });
    row("huber_loss delta 0.5", {in({4, 2}), in({4, 2})},
        [=](V x) { return F::huber_loss(x[0], x[1], r, 0.5f); });
    row("squared_loss", {in({4, 1}), in({4})}, [=](V x) { return F::squared_loss(x[0], x[1], r); });
  }
  // ---- pool.cpp's and loss.cpp's options (ceil_mode, dilation, divisor; weight,
  // ignore_index, probability targets) ----
  Tensor weight = tensor({0.5f, 1.5f, 1, 2, 0.8f});
  const std::vector<OpCase> options = {
      {"max_pool2d ceil_mode", {distinct({1, 2, 5, 5})},
       [](V x) { return F::max_pool2d(x[0], 2, 2, 0, 1, true); }},
      {"max_pool2d dilation 2 padding 1 ceil_mode", {distinct({1, 2, 6, 5})},
       [](V x) { return F::max_pool2d(x[0], 3, 2, 1, 2, true); }},
      {"max_pool2d dilation (2, 1), whole windows", {distinct({2, 1, 5, 4})},
       [](V x) { return F::max_pool2d(x[0], 2, 1, 0, {2, 1}); }},
      {"avg_pool2d ceil_mode padding 1", {in({1, 2, 6, 6})},
       [](V x) { return F::avg_pool2d(x[0], 3, 2, 1, true); }},
      {"avg_pool2d count_include_pad false", {in({1, 2, 5, 5})},
       [](V x) { return F::avg_pool2d(x[0], 3, 2, 1, true, false); }},
      {"avg_pool2d divisor_override", {in({1, 2, 5, 5})},
       [](V x) { return F::avg_pool2d(x[0], 2, 2, 0, true, true, 3); }},
  };
  rows.insert(rows.end(), options.begin(), options.end());
  for (auto [r, name] : reductions) {
    auto row = [&](const char* op, std::vector<InputSpec> inputs, TensorFunction f) {
      rows.push_back({fmt::format("{} {}", op, name), std::move(inputs), std::move(f)});
    };
    Tensor with_ignored = idx({1, -100, 4, 2});
    row("cross_entropy weight", {in({4, 5})},
        [=](V x) { return F::cross_entropy(x[0], classes, {.weight = weight.to(x[0].dtype()), .reduction = r}); });
    row("cross_entropy weight, ignore_index, label smoothing", {in({4, 5})}, [=](V x) {
      return F::cross_entropy(x[0], with_ignored,
                              {.weight = weight.to(x[0].dtype()), .reduction = r, .label_smoothing = 0.2f});
    });
    row("cross_entropy ignore_index 4", {in({4, 5})},
        [=](V x) { return F::cross_entropy(x[0], classes, {.ignore_index = 4, .reduction = r}); });
    row("cross_entropy probability targets", {in({4, 5}), in({4, 5}, 0, 1)},
        [=](V x) { return F::cross_entropy(x[0], x[1], {.reduction = r}); });
    row("cross_entropy probability targets, weight, smoothing", {in({4, 5}), in({4, 5}, 0, 1)},
        [=](V x) {
          return F::cross_entropy(x[0], x[1],
                                  {.weight = weight.to(x[0].dtype()), .reduction = r, .label_smoothing = 0.3f});
        });
    row("nll_loss weight, ignore_index", {in({4, 5})}, [=](V x) {
      return F::nll_loss(x[0], classes, {.weight = weight.to(x[0].dtype()), .ignore_index = 0, .reduction = r});
    });
  }
  return rows;
}

/// Every row: core ops first, then nn's.
inline std::vector<OpCase> op_table() {
  std::vector<OpCase> rows = core_op_table();
  for (OpCase& c : nn_op_table()) rows.push_back(std::move(c));
  return rows;
}

}  // namespace tg::test
