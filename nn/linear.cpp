// Linear and functional::linear. The op is fused (one tape node): the bias is
// written into the output first and sgemm adds x W^T on top (beta = 1), so
// there is no separate broadcast add in forward and no sum_to node in backward.
#include <tapegrad/nn/linear.h>

#include <algorithm>
#include <cmath>

#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/cpu.h>
#include <tapegrad/core/kernels.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/init.h>

namespace tg::nn {

namespace functional {

// y = x W^T + b.   dL/dx = dL/dy W,   dL/dW = dL/dy^T x,   dL/db = sum over rows of dL/dy
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  check(weight.defined(), "linear: weight is an undefined tensor");
  check(weight.dim() == 2, "linear: weight must be 2-D [out_features, in_features], got {}",
        weight.shape());
  int64_t out = weight.shape()[0], in = weight.shape()[1];
  check(input.dim() >= 1 && input.shape()[input.dim() - 1] == in,
        "linear: input {} does not match in_features {} (weight {})", input.shape(), in,
        weight.shape());
  check(!bias.defined() || (bias.dim() == 1 && bias.shape()[0] == out),
        "linear: bias {} does not match out_features {} (weight {})",
        bias.defined() ? bias.shape() : Shape{}, out, weight.shape());
  check_same_dtype(input.dtype(), weight.dtype(), "linear");
  if (bias.defined()) check_same_dtype(input.dtype(), bias.dtype(), "linear");

  // x as a contiguous [n, in] matrix and a contiguous w, made without recording anything:
  // the op records one node for all of this.
  int64_t n = 1;
  for (int d = 0; d + 1 < input.dim(); ++d) n *= input.shape()[d];  // rows: all leading dims
  Tensor x = input.dim() == 2 && input.is_contiguous()
                 ? input : input.detach().contiguous().reshape({n, in});
  Tensor w = weight.is_contiguous() ? weight : Tensor(kernels::copy(weight));
  Tensor y = kernels::zeros_like(x, {n, out});
  dispatch_floating(x.dtype(), "linear", [&]<typename T>(std::type_identity<T>) {
    T* yd = y.data_ptr<T>();
    if (bias.defined()) {  // every row starts as the bias; sgemm then adds x W^T
      Tensor b = bias.contiguous();
      const T* bd = b.data_ptr<T>();
      for (int64_t i = 0; i < n; ++i) std::copy(bd, bd + out, yd + i * out);
    }
    if (n > 0 && in > 0 && out > 0)
      kernels::gemm(false, true, n, out, in, T(1), x.data_ptr<T>(), in, w.data_ptr<T>(), in, T(1),
                    yd, out);
  });
  Shape out_shape = input.shape();
  out_shape[out_shape.size() - 1] = out;
  y.impl()->shape = out_shape;  // y is fresh and contiguous: relabel [n, out] as [*, out]
  y.impl()->strides = contiguous_strides(out_shape);

  record("linear", y, {input, weight, bias},
         [x, w, input, weight, in_shape = input.shape()](const Tensor& gy, NeedsGrad need) {
    int64_t n = x.shape()[0], out = w.shape()[0], in = w.shape()[1];
    Tensor g = gy.reshape({n, out}).contiguous();
    Tensor gx, gw, gb;
    if (recording_backward()) {  // create_graph: the same products, as differentiable ops
      if (need[0]) gx = g.matmul(weight).reshape(in_shape);
      if (need[1]) gw = g.t().matmul(input.reshape({n, in}));
      if (need[2]) gb = g.sum({0});
      return grads(gx, gw, gb);
    }
    dispatch_floating(x.dtype(), "linear", [&]<typename T>(std::type_identity<T>) {
      const T* gd = g.data_ptr<T>();
      if (need[0]) {
        gx = kernels::zeros_like(x, {n, in});
        if (n > 0 && in > 0 && out > 0)
          kernels::gemm(false, false, n, in, out, T(1), gd, out, w.data_ptr<T>(), in, T(0),
                        gx.data_ptr<T>(), in);
        gx = gx.reshape(in_shape);
      }
      if (need[1]) {
        gw = kernels::zeros_like(x, {out, in});
        if (n > 0 && in > 0 && out > 0)
          kernels::gemm(true, false, out, in, n, T(1), gd, out, x.data_ptr<T>(), in, T(0),
                        gw.data_ptr<T>(), in);
      }
      if (need[2]) {  // column sums, row by row so the inner loop is contiguous
        gb = kernels::zeros_like(x, {out});
        T* b = gb.data_ptr<T>();
        cpu::dispatch([&](auto) {
          for (int64_t i = 0; i < n; ++i) {
            const T* gi = gd + i * out;
#pragma omp simd
            for (int64_t k = 0; k < out; ++k) b[k] += gi[k];
          }
        });
      }
    });
    return grads(gx, gw, gb);
  }).saves(x, w);
  // J v = v_x W^T + x v_W^T + v_b
  record_tangent(y, {input, weight, bias},
                 [&](const Tensor& tx, const Tensor& tw, const Tensor& tb) {
                   return linear(tx, weight, tb) + linear(input, tw);
                 });
  return y;
}

}  // namespace functional

Linear::Linear(int64_t in_features, int64_t out_features, bool bias)
    : in_features(in_features), out_features(out_features) {
  check(in_features >= 0 && out_features >= 0,
        "Linear: in_features and out_features must be non-negative, got {} and {}", in_features,
        out_features);
  weight = register_parameter("weight", empty({out_features, in_features}));
  if (bias) this->bias = register_parameter("bias", empty({out_features}));
  reset_parameters();
}

void Linear::reset_parameters() {
  // PyTorch's default: kaiming_uniform_ with a = sqrt(5) gives bound 1/sqrt(fan_in) on the
  // weight; the bias gets the same bound.
  init::kaiming_uniform_(weight, std::sqrt(5.0f));
  if (bias.defined()) {
    float bound = in_features > 0 ? 1.0f / std::sqrt(float(in_features)) : 0.0f;
    init::uniform_(bias, -bound, bound);
  }
}

Tensor Linear::forward(const Tensor& input) { return functional::linear(input, weight, bias); }

std::string Linear::extra_repr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", in_features, out_features,
                     bias.defined() ? "True" : "False");
}

}  // namespace tg::nn
