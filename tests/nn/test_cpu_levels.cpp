// nn's vectorised loops at every instruction-set level against the baseline (cpu::dispatch):
// max pooling (values and argmax, with ties and NaNs), batch and group norm, the bias
// gradients of linear and conv2d, on random shapes whose rows end in partial vectors.
#include <random>
#include <vector>

#include <tapegrad/core/random.h>
#include <tapegrad/nn/functional.h>
#include "tests/cpu_levels.h"
#include "tests/test_util.h"

using namespace tg;
using tg::test::append;
using tg::test::check_levels_agree;
namespace F = tg::nn::functional;

namespace {

// A fresh leaf holding `data`'s values, so that every level starts from no gradient.
Tensor leaf(const Tensor& data) {
  Tensor t = data.detach().clone();
  t.requires_grad_();
  return t;
}

// y = f(leaves...), then the gradients of sum(y * gy): y and every leaf's gradient, in order.
template <typename Fn>
std::vector<float> forward_backward(std::vector<Tensor> inputs, const Tensor& gy, Fn f) {
  std::vector<Tensor> leaves;
  for (const Tensor& t : inputs) leaves.push_back(t.defined() ? leaf(t) : Tensor());
  Tensor y = f(leaves);
  (y * gy).sum().backward();
  std::vector<float> out;
  append(out, y);
  for (const Tensor& t : leaves)
    if (t.defined()) append(out, t.grad());
  return out;
}

}  // namespace

TEST_CASE("cpu: max_pool2d's values and argmax are the baseline's at every level") {
  manual_seed(3);
  std::mt19937 rng(3);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  struct Window {
    int kernel, stride, padding, dilation = 1;
    bool ceil_mode = false;
  };
  // 2x2/2 takes the AVX-512 path, 3x3/1 the gathers, 3x3/2 padded the clipped windows;
  // dilated whole windows take the gathers, ceil_mode's partial windows the clipped loop.
  for (Window w : {Window{2, 2, 0}, Window{3, 1, 0}, Window{3, 2, 1}, Window{2, 2, 1},
                   Window{2, 2, 0, 2}, Window{2, 2, 0, 1, true}, Window{3, 2, 1, 2, true}}) {
    for (int trial = 0; trial < 12; ++trial) {
      const int span = w.dilation * (w.kernel - 1) + 1;
      const int64_t n = pick(1, 2), c = pick(1, 3), h = pick(span, 21),
                    width = pick(span, 70);  // up to 35 outputs a row: 16 + 16 + tail
      INFO("kernel ", w.kernel, " stride ", w.stride, " padding ", w.padding, " dilation ",
           w.dilation, " ceil_mode ", w.ceil_mode, ", input [", n, ", ", c, ", ", h, ", ", width,
           "]");
      // Few distinct values, so windows hold ties, and a few NaNs, which must win.
      Tensor x = empty({n, c, h, width});
      float* xd = x.data();
      for (int64_t i = 0; i < x.numel(); ++i) xd[i] = pick(0, 40) == 0 ? NAN : float(pick(0, 3));
      Tensor y0 = F::max_pool2d(x, w.kernel, w.stride, w.padding, w.dilation, w.ceil_mode);
      Tensor gy = randn(y0.shape());
      check_levels_agree([&] {
        return forward_backward({x}, gy, [&](const std::vector<Tensor>& in) {
          return F::max_pool2d(in[0], w.kernel, w.stride, w.padding, w.dilation, w.ceil_mode);
        });
      });
    }
  }
}

TEST_CASE("cpu: batch_norm and group_norm agree with the baseline at every level") {
  manual_seed(5);
  std::mt19937 rng(5);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 10; ++trial) {
    const int64_t n = pick(2, 4), groups = pick(1, 3), c = groups * pick(1, 3), h = pick(1, 9),
                  w = pick(1, 23);
    INFO("input [", n, ", ", c, ", ", h, ", ", w, "], ", groups, " groups");
    Tensor x = randn({n, c, h, w}) * 3 + 1, weight = randn({c}), bias = randn({c});
    Tensor gy = randn({n, c, h, w});
    check_levels_agree(
        [&] {
          Tensor running_mean = zeros({c}), running_var = ones({c});
          std::vector<float> out = forward_backward(
              {x, weight, bias}, gy, [&](const std::vector<Tensor>& in) {
                return F::batch_norm(in[0], running_mean, running_var, in[1], in[2], true);
              });
          append(out, running_mean);
          append(out, running_var);
          return out;
        },
        1e-5f);
    check_levels_agree(
        [&] {
          return forward_backward({x, weight, bias}, gy, [&](const std::vector<Tensor>& in) {
            return F::group_norm(in[0], groups, in[1], in[2]);
          });
        },
        1e-5f);
  }
}

TEST_CASE("cpu: linear and conv2d (im2col, col2im, bias gradient) agree at every level") {
  manual_seed(9);
  std::mt19937 rng(9);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 8; ++trial) {
    const int64_t batch = pick(1, 5), in = pick(1, 40), out = pick(1, 37);
    Tensor x = randn({batch, in}), w = randn({out, in}), b = randn({out});
    Tensor gy_linear = randn({batch, out});
    check_levels_agree(
        [&] {
          return forward_backward({x, w, b}, gy_linear, [](const std::vector<Tensor>& t) {
            return F::linear(t[0], t[1], t[2]);
          });
        },
        1e-5f);
    const int64_t c = pick(1, 3), oc = pick(1, 4), k = pick(1, 4), h = pick(k, 19),
                  width = pick(k, 37), stride = pick(1, 2), padding = pick(0, k / 2);
    INFO("conv: [", batch, ", ", c, ", ", h, ", ", width, "] kernel ", k, " stride ", stride,
         " padding ", padding);
    Tensor image = randn({batch, c, h, width}), kernel = randn({oc, c, k, k}), bias = randn({oc});
    Tensor gy = randn(F::conv2d(image, kernel, bias, stride, padding).shape());
    check_levels_agree(
        [&] {
          return forward_backward({image, kernel, bias}, gy, [&](const std::vector<Tensor>& t) {
            return F::conv2d(t[0], t[1], t[2], stride, padding);
          });
        },
        1e-5f);
  }
}

// At AVX-512, 3x3 convolutions with stride 1 and padding 1 run the direct kernel
// (core/conv3x3.h) in forward and input gradient: it must agree with the im2col + GEMM path of
// the baseline on shapes whose pixel counts end in partial vectors (1x1, 4x4, 3x7, 17x5, ...)
// and whose channel counts are not multiples of its block of 8, with and without bias. The
// weight gradient sums up to 800 products in another order than the GEMM, with cancellation:
// the tolerance is relative to max(1, |value|), so 1e-4 (a wrong tap or channel is off by O(1)).
TEST_CASE("cpu: the direct 3x3 convolution agrees with im2col + GEMM at every level") {
  manual_seed(11);
  std::mt19937 rng(11);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const std::vector<std::pair<int64_t, int64_t>> sizes = {{1, 1}, {4, 4}, {3, 7}, {8, 8},
                                                          {17, 5}, {2, 33}, {16, 16}, {9, 1}};
  for (size_t trial = 0; trial < sizes.size(); ++trial) {
    const auto [h, width] = sizes[trial];
    const int64_t batch = pick(1, 3), c = pick(1, 19), oc = pick(1, 21);
    const bool with_bias = trial % 2 == 0;
    INFO("conv3x3: [", batch, ", ", c, ", ", h, ", ", width, "] -> ", oc, " channels, bias ",
         with_bias);
    Tensor image = randn({batch, c, h, width}), kernel = randn({oc, c, 3, 3});
    Tensor bias = with_bias ? randn({oc}) : Tensor();
    Tensor gy = randn({batch, oc, h, width});
    check_levels_agree(
        [&] {
          return forward_backward({image, kernel, bias}, gy, [&](const std::vector<Tensor>& t) {
            return F::conv2d(t[0], t[1], t[2], 1, 1);
          });
        },
        1e-4f);
  }
}

// At AVX-512, those convolutions with at least 8 input and output channels on images whose tile
// rows fill vectors (32 x 32, 16 x 16, 8 x 8, 4 x 16, 2 x 64, ...) run the Winograd kernel
// (core/winograd3x3.h) in forward and input gradient instead: the same check on such shapes,
// a batch that does not divide into its groups of images, channels past its blocks of 8.
TEST_CASE("cpu: the Winograd 3x3 convolution agrees with im2col + GEMM at every level") {
  manual_seed(12);
  struct Case {
    int64_t batch, c, h, width, oc;
  };
  const std::vector<Case> cases = {{2, 16, 32, 32, 16}, {5, 9, 8, 8, 12}, {3, 20, 4, 16, 8},
                                   {1, 8, 2, 64, 17}, {6, 33, 16, 16, 10}};
  for (size_t trial = 0; trial < cases.size(); ++trial) {
    const Case k = cases[trial];
    const bool with_bias = trial % 2 == 1;
    INFO("winograd: [", k.batch, ", ", k.c, ", ", k.h, ", ", k.width, "] -> ", k.oc,
         " channels, bias ", with_bias);
    Tensor image = randn({k.batch, k.c, k.h, k.width}), kernel = randn({k.oc, k.c, 3, 3});
    Tensor bias = with_bias ? randn({k.oc}) : Tensor();
    Tensor gy = randn({k.batch, k.oc, k.h, k.width});
    check_levels_agree(
        [&] {
          return forward_backward({image, kernel, bias}, gy, [&](const std::vector<Tensor>& t) {
            return F::conv2d(t[0], t[1], t[2], 1, 1);
          });
        },
        1e-4f);
  }
}

// add_relu's forward (kernels::zip) and its backward mask, same shapes and broadcast, on sizes
// ending in partial vectors; exact at every level (an add, a compare, a select).
TEST_CASE("cpu: add_relu agrees with the baseline at every level") {
  manual_seed(13);
  std::mt19937 rng(13);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 8; ++trial) {
    const int64_t n = pick(1, 3), c = pick(1, 5), hw = pick(1, 70);
    const bool broadcast = trial % 2 == 1;
    INFO("add_relu: [", n, ", ", c, ", ", hw, "], broadcast ", broadcast);
    Tensor a = randn({n, c, hw}), b = broadcast ? randn({c, 1}) : randn({n, c, hw});
    Tensor gy = randn({n, c, hw});
    check_levels_agree([&] {
      return forward_backward({a, b}, gy, [](const std::vector<Tensor>& t) {
        return F::add_relu(t[0], t[1]);
      });
    });
  }
}
