// Tests of conv2d and Conv2d: forward values and gradients against PyTorch over
// stride/padding/dilation/groups combinations (fixtures from make_conv_fixtures.py),
// gradcheck of the module, a tangent on the weight alone, skipped gradients, the module's
// init and parameter counts (LeNet's 456, 2416 and 62006), and every error message.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include <tapegrad/autograd/forward.h>
#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/core/parallel.h>
#include <tapegrad/nn/activation.h>
#include <tapegrad/nn/conv.h>
#include <tapegrad/nn/linear.h>
#include <tapegrad/nn/pool.h>
#include <tapegrad/nn/sequential.h>
#include "tests/nn/fixture.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;
namespace F = tg::nn::functional;

namespace {

// The cases of make_conv_fixtures.py's CONV_CASES, with the same arguments.
struct ConvCase {
  const char* name;
  F::Size2 stride, padding, dilation;
  int64_t groups;
  bool bias;
};

const ConvCase kCases[] = {
    {"basic", 1, 0, 1, 1, true},
    {"stride_pad", {2, 1}, {1, 0}, 1, 1, true},
    {"dilation", 1, 2, 2, 1, true},
    {"groups", 2, 1, 1, 2, true},
    {"depthwise", 1, 1, 1, 3, false},
    {"pointwise", 1, 0, 1, 1, true},
    {"wide_stride", {1, 3}, {0, 2}, 1, 1, true},
};

Tensor conv(const ConvCase& c, const std::vector<Tensor>& v) {
  return F::conv2d(v[0], v[1], c.bias ? v[2] : Tensor(), c.stride, c.padding, c.dilation,
                   c.groups);
}

}  // namespace

TEST_CASE("nn conv2d: forward and all gradients match PyTorch") {
  test::Fixture f("conv.json");
  const int saved_threads = get_num_threads();
  for (int threads : {1, 2}) {  // serial images, and images spread over the pool
    set_num_threads(threads);
    for (const ConvCase& c : kCases) {
      CAPTURE(c.name);
      CAPTURE(threads);
      std::string n = c.name;
      Tensor x = f[n + ".x"].requires_grad_(), w = f[n + ".w"].requires_grad_();
      Tensor b = c.bias ? f[n + ".b"].requires_grad_() : Tensor();
      Tensor y = conv(c, {x, w, b});
      TG_CHECK_CLOSE(y, f[n + ".y"], 1e-4f, 1e-5f);
      y.backward(f[n + ".u"]);
      TG_CHECK_CLOSE(x.grad(), f[n + ".gx"], 1e-4f, 1e-5f);
      TG_CHECK_CLOSE(w.grad(), f[n + ".gw"], 1e-4f, 1e-4f);
      if (c.bias) TG_CHECK_CLOSE(b.grad(), f[n + ".gb"], 1e-4f, 1e-4f);
    }
  }
  set_num_threads(saved_threads);
}

TEST_CASE("nn conv2d: unbatched and non-contiguous inputs give the batched result") {
  test::Fixture f("conv.json");
  Tensor x = f["basic.x"], w = f["basic.w"], b = f["basic.b"];
  TG_CHECK_CLOSE(F::conv2d(x.select(0, 1), w, b), f["basic.y"].select(0, 1), 1e-4f, 1e-5f);
  Tensor xt = x.transpose(2, 3).contiguous().transpose(2, 3);  // same values, other strides
  REQUIRE_FALSE(xt.is_contiguous());
  TG_CHECK_CLOSE(F::conv2d(xt, w, b), f["basic.y"], 1e-4f, 1e-5f);
}

TEST_CASE("nn Conv2d: gradcheck for the input and the module's parameters") {
  // conv2d's own gradcheck and tangent checks, per geometry, are rows of tests/op_table.h.
  manual_seed(3);
  nn::Conv2d conv(nn::Conv2dOptions{.in = 2, .out = 3, .kernel = 3, .stride = 2, .padding = 1});
  Tensor x = randn({2, 2, 5, 5});
  std::vector<Tensor> tensors = conv.parameters();
  tensors.insert(tensors.begin(), x);
  auto r = gradcheck([&] { return conv(x); }, tensors);
  CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("nn conv2d: a tangent on the weight alone") {
  Tensor x = randn({2, 3, 6, 6}), w = randn({4, 3, 3, 3}), v = randn({4, 3, 3, 3});
  auto [y, t] = jvp([&] { return F::conv2d(x, w); }, {w}, {v});
  TG_CHECK_CLOSE(t, F::conv2d(x, v), 1e-5f, 1e-5f);  // conv2d is linear in w
}

TEST_CASE("nn conv2d: gradients are computed only for inputs that need them") {
  // LeNet's conv1: the image needs no gradient, the weight and bias do.
  Tensor x = randn({2, 3, 8, 8}), w = randn({6, 3, 5, 5}, {.requires_grad = true});
  Tensor b = randn({6}, {.requires_grad = true});
  F::conv2d(x, w, b).sum().backward();
  CHECK_FALSE(x.grad().defined());
  CHECK(w.grad().shape() == Shape{6, 3, 5, 5});
  CHECK(b.grad().shape() == Shape{6});
  // Only the input: the weight's gradient is skipped.
  Tensor x2 = randn({2, 3, 8, 8}, {.requires_grad = true}), w2 = randn({6, 3, 5, 5});
  F::conv2d(x2, w2).sum().backward();
  CHECK(x2.grad().shape() == Shape{2, 3, 8, 8});
  CHECK_FALSE(w2.grad().defined());
}

TEST_CASE("nn Conv2d: parameters, PyTorch's init bounds, options form and printing") {
  manual_seed(0);
  nn::Conv2d conv1(3, 6, 5), conv2(6, 16, 5);
  CHECK(nn::parameter_count(conv1) == 456);  // LeNet's two convolutions
  CHECK(nn::parameter_count(conv2) == 2416);
  CHECK(conv1.weight.shape() == Shape{6, 3, 5, 5});
  CHECK(conv1.named_parameters()[0].first == "weight");
  CHECK(conv1.named_parameters()[1].first == "bias");
  // kaiming_uniform_(a = sqrt(5)) and the bias both give U(+-1/sqrt(fan_in)), fan_in = 75.
  const float bound = 1 / std::sqrt(75.0f);
  for (const Tensor& p : conv1.parameters()) {
    CHECK(p.abs().max().item() <= bound);
    CHECK(p.abs().max().item() > 0.8f * bound);  // spread over the whole range
  }
  nn::Conv2d grouped({.in = 4, .out = 6, .kernel = {3, 1}, .stride = 2, .padding = {1, 0},
                      .groups = 2, .bias = false});
  CHECK(grouped.weight.shape() == Shape{6, 2, 3, 1});
  CHECK_FALSE(grouped.bias.defined());
  CHECK(grouped(randn({1, 4, 7, 5})).shape() == Shape{1, 6, 4, 3});
  CHECK(conv1.extra_repr() == "3, 6, kernel_size=(5, 5), stride=(1, 1)");
  CHECK(grouped.extra_repr() ==
        "4, 6, kernel_size=(3, 1), stride=(2, 2), padding=(1, 0), groups=2, bias=False");
}

TEST_CASE("nn Conv2d: the course's LeNet has 62006 parameters and runs forward and backward") {
  manual_seed(0);
  nn::Sequential net(nn::Conv2d(3, 6, 5), nn::ReLU(), nn::MaxPool2d(2), nn::Conv2d(6, 16, 5),
                     nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(400, 120),
                     nn::ReLU(), nn::Linear(120, 84), nn::ReLU(), nn::Linear(84, 10));
  CHECK(nn::parameter_count(net) == 62006);
  Tensor y = net(randn({4, 3, 32, 32}));
  CHECK(y.shape() == Shape{4, 10});
  y.sum().backward();
  for (const Tensor& p : net.parameters()) CHECK(p.grad().shape() == p.shape());
}

TEST_CASE("nn conv2d: errors name the operation and the values") {
  Tensor x = randn({2, 4, 8, 8}), w = randn({6, 3, 3, 3});
  CHECK(error_of([&] { F::conv2d(x, w); }) ==
        "conv2d: input has 4 channels but weight expects 3 (groups 1); weight [6, 3, 3, 3], "
        "input [2, 4, 8, 8]");
  CHECK(error_of([&] { F::conv2d(randn({2, 4, 8, 8}), randn({6, 2, 3, 3}), Tensor(), 1, 0, 1, 3); }) ==
        "conv2d: input channels 4 are not divisible by groups 3");
  CHECK(error_of([&] { F::conv2d(randn({2, 4, 8, 8}), randn({5, 2, 3, 3}), Tensor(), 1, 0, 1, 2); }) ==
        "conv2d: weight [5, 2, 3, 3] has 5 output channels, not divisible by groups 2");
  CHECK(error_of([&] { F::conv2d(x, randn({6, 4, 3, 3}), randn({5})); }) ==
        "conv2d: bias of shape [5] does not match the weight's 6 output channels");
  CHECK(error_of([&] { F::conv2d(randn({1, 3, 4, 4}), randn({6, 3, 5, 5})); }) ==
        "conv2d: kernel size (dilated) 5x5 is larger than the padded input 4x4 (input [1, 3, 4, 4])");
  CHECK(error_of([&] { F::conv2d(randn({1, 3, 6, 6}), randn({6, 3, 3, 3}), Tensor(), 1, 0, 3); }) ==
        "conv2d: kernel size (dilated) 7x7 is larger than the padded input 6x6 (input [1, 3, 6, 6])");
  CHECK(error_of([&] { F::conv2d(randn({8, 8}), w); }) ==
        "conv2d: expected a 4-D input [N, C, H, W], got [8, 8]");
  CHECK(error_of([&] { F::conv2d(x, randn({6, 4, 3})); }) ==
        "conv2d: expected a 4-D weight [out, in / groups, kH, kW], got [6, 4, 3]");
  CHECK(error_of([&] { F::conv2d(x, randn({6, 4, 3, 3}), Tensor(), 0); }) ==
        "conv2d: stride must be positive, got (0, 0)");
  CHECK(error_of([&] { F::conv2d(x, randn({6, 4, 3, 3}), Tensor(), 1, {-1, 0}); }) ==
        "conv2d: padding must be non-negative, got (-1, 0)");
  CHECK(error_of([&] { F::conv2d(x, randn({6, 4, 3, 3}), Tensor(), 1, 0, {1, 0}); }) ==
        "conv2d: dilation must be positive, got (1, 0)");
  CHECK(error_of([&] { F::conv2d(x, randn({6, 4, 3, 3}), Tensor(), 1, 0, 1, 0); }) ==
        "conv2d: groups must be at least 1, got 0");
  CHECK(error_of([] { nn::Conv2d(3, 0, 5); }) ==
        "Conv2d: channels must be positive, got in 3 and out 0");
  CHECK(error_of([] { nn::Conv2d(3, 6, {5, 0}); }) ==
        "Conv2d: kernel size must be positive, got (5, 0)");
  CHECK(error_of([] { nn::Conv2d(3, 6, 5, 1, 0, 1, 0); }) ==
        "Conv2d: groups must be at least 1, got 0");
  CHECK(error_of([] { nn::Conv2d(3, 6, 5, 1, 0, 1, 2); }) ==
        "Conv2d: in channels 3 are not divisible by groups 2");
  CHECK(error_of([] { nn::Conv2d(4, 6, 5, 1, 0, 1, 4); }) ==
        "Conv2d: out channels 6 are not divisible by groups 4");
}
