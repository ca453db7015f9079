// Every nn layer in float64: after module.to(kFloat64) each layer's output is float64 and
// agrees with its float32 output on the same values (within float32 rounding), and gradcheck
// (finite differences in float64, eps 1e-6) passes for the input and every parameter. A kernel
// that secretly computed in float32 would pass the agreement check but fail the gradcheck (its
// difference quotients would carry ~0.1 relative rounding error). Also: Module::to keeps the
// parameter handles, and a float32 input to a float64 layer is an error naming the op.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/nn/activation.h>
#include <tapegrad/nn/conv.h>
#include <tapegrad/nn/conv_transpose.h>
#include <tapegrad/nn/fusion.h>
#include <tapegrad/nn/linear.h>
#include <tapegrad/nn/norm.h>
#include <tapegrad/nn/padding.h>
#include <tapegrad/nn/pool.h>
#include <tapegrad/nn/resnet.h>
#include <tapegrad/nn/sequential.h>
#include <tapegrad/nn/unet.h>
#include <tapegrad/nn/upsample.h>
#include "tests/test_util.h"

using namespace tg;
namespace F = tg::nn::functional;

namespace {

// max |a - b| over the elements, both read as doubles.
double max_diff(const Tensor& a, const Tensor& b) {
  std::vector<double> va = a.to_vector<double>(), vb = b.to_vector<double>();
  REQUIRE(va.size() == vb.size());
  double m = 0;
  for (size_t i = 0; i < va.size(); ++i) m = std::max(m, std::abs(va[i] - vb[i]));
  return m;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (double v : t.to_vector<double>()) m = std::max(m, std::abs(v));
  return m;
}

// Runs `layer` on x32 in float32, converts the layer to float64 and checks that its output
// on the same values is float64 and agrees within `tol` (relative to the output's scale), that
// gradcheck passes for the input and every parameter, and that backward leaves float64
// gradients. `inputs_only`: gradcheck the input alone (big models).
void check_float64(nn::Module& layer, const Tensor& x32, double tol = 1e-4,
                   bool inputs_only = false) {
  Tensor y32 = layer(x32);
  REQUIRE(y32.dtype() == kFloat32);
  layer.to(kFloat64);
  if (!layer.parameters().empty()) CHECK(layer.dtype() == kFloat64);
  Tensor x = x32.to(kFloat64);
  Tensor y = layer(x);
  REQUIRE(y.dtype() == kFloat64);
  REQUIRE(y.shape() == y32.shape());
  CHECK(max_diff(y, y32) <= tol * (1 + max_abs(y)));

  std::vector<Tensor> tensors = inputs_only ? std::vector<Tensor>() : layer.parameters();
  tensors.insert(tensors.begin(), x);
  auto r = gradcheck([&] { return layer(x); }, tensors);
  CHECK_MESSAGE(r.ok, r.message);

  layer.zero_grad();
  Tensor xg = x.detach().requires_grad_();
  layer(xg).pow(2).sum().backward();
  CHECK(xg.grad().dtype() == kFloat64);
  for (const Tensor& p : layer.parameters())
    if (p.requires_grad()) CHECK(p.grad().dtype() == kFloat64);
}

}  // namespace

TEST_CASE("nn float64: Conv2d over strides, padding, dilation, groups and padding modes") {
  manual_seed(11);
  SUBCASE("3x3, stride 1, padding 1 (float32's direct kernel; float64 takes im2col)") {
    nn::Conv2d conv(nn::Conv2dOptions{.in = 3, .out = 4, .kernel = 3, .padding = 1});
    check_float64(conv, randn({2, 3, 5, 6}));
  }
  SUBCASE("stride, padding, dilation and groups") {
    nn::Conv2d conv(nn::Conv2dOptions{
        .in = 4, .out = 6, .kernel = {3, 2}, .stride = {2, 1}, .padding = {1, 2},
        .dilation = {1, 2}, .groups = 2});
    check_float64(conv, randn({2, 4, 7, 6}));
  }
  SUBCASE("1x1 (im2col is the identity), no bias") {
    nn::Conv2d conv(nn::Conv2dOptions{.in = 3, .out = 2, .kernel = 1, .bias = false});
    check_float64(conv, randn({3, 3, 4, 4}));
  }
  SUBCASE("padding 'same' with an even kernel (an uneven split)") {
    nn::Conv2d conv(nn::Conv2dOptions{.in = 2, .out = 3, .kernel = {2, 4}, .padding = "same"});
    check_float64(conv, randn({2, 2, 5, 5}));
  }
  for (auto mode : {F::PaddingMode::Reflect, F::PaddingMode::Replicate,
                    F::PaddingMode::Circular}) {
    CAPTURE(F::to_string(mode));
    nn::Conv2d conv(nn::Conv2dOptions{
        .in = 2, .out = 2, .kernel = 3, .padding = 1, .padding_mode = mode});
    check_float64(conv, randn({2, 2, 4, 5}));
  }
  SUBCASE("unbatched input") {
    nn::Conv2d conv(2, 3, 3);
    check_float64(conv, randn({2, 5, 5}));
  }
}

TEST_CASE("nn float64: Conv1d and ConvTranspose2d") {
  manual_seed(12);
  SUBCASE("Conv1d with groups, dilation and circular padding") {
    nn::Conv1d conv(nn::Conv1dOptions{.in = 4, .out = 2, .kernel = 3, .padding = 2,
                                      .dilation = 2, .groups = 2,
                                      .padding_mode = F::PaddingMode::Circular});
    check_float64(conv, randn({2, 4, 9}));
  }
  SUBCASE("Conv1d, stride 2") {
    nn::Conv1d conv(3, 2, 4, 2, 1);
    check_float64(conv, randn({3, 3, 10}));
  }
  SUBCASE("ConvTranspose2d with stride, output_padding, groups and dilation") {
    nn::ConvTranspose2d up(nn::ConvTranspose2dOptions{
        .in = 4, .out = 2, .kernel = 3, .stride = 2, .padding = 1, .output_padding = 1,
        .groups = 2, .dilation = 1});
    check_float64(up, randn({2, 4, 3, 4}));
  }
  SUBCASE("ConvTranspose2d 1x1 (col2im is the identity)") {
    nn::ConvTranspose2d up(nn::ConvTranspose2dOptions{.in = 3, .out = 2, .kernel = 1});
    check_float64(up, randn({2, 3, 3, 3}));
  }
}

TEST_CASE("nn float64: Linear, with any leading dims and without a bias") {
  manual_seed(13);
  nn::Linear a(5, 3);
  check_float64(a, randn({4, 5}));
  nn::Linear b(4, 2, false);
  check_float64(b, randn({2, 3, 4}));
}

TEST_CASE("nn float64: max, average and adaptive pooling") {
  manual_seed(14);
  SUBCASE("MaxPool2d 2x2 stride 2 (float32's AVX-512 kernel)") {
    nn::MaxPool2d pool(2);
    check_float64(pool, randn({2, 3, 6, 8}));
  }
  SUBCASE("MaxPool2d with padding, dilation and ceil_mode") {
    nn::MaxPool2d pool(3, 2, 1, 2, true);
    check_float64(pool, randn({2, 2, 8, 7}));
  }
  SUBCASE("MaxPool2d 3x3 stride 1, whole windows") {
    nn::MaxPool2d pool(3, 1);
    check_float64(pool, randn({1, 2, 5, 6}));
  }
  SUBCASE("AvgPool2d, ceil_mode and count_include_pad false") {
    nn::AvgPool2d pool(3, 2, 1, true, false);
    check_float64(pool, randn({2, 2, 6, 7}));
  }
  SUBCASE("AvgPool2d with divisor_override") {
    nn::AvgPool2d pool(2, 1, 0, false, true, 3);
    check_float64(pool, randn({1, 2, 4, 5}));
  }
  SUBCASE("AdaptiveAvgPool2d") {
    nn::AdaptiveAvgPool2d pool({3, 2});
    check_float64(pool, randn({2, 3, 7, 5}));
  }
}

TEST_CASE("nn float64: BatchNorm in training and eval mode, with its running statistics") {
  manual_seed(15);
  SUBCASE("BatchNorm2d") {
    nn::BatchNorm2d bn(3);
    Tensor x = randn({4, 3, 3, 2}) * 2 + 1;
    check_float64(bn, x);  // training: batch statistics
    CHECK(bn.running_mean.dtype() == kFloat64);
    CHECK(bn.running_var.dtype() == kFloat64);
    bn.eval();
    bn.to(kFloat32);
    check_float64(bn, randn({2, 3, 2, 2}));  // eval: the running statistics
  }
  SUBCASE("BatchNorm1d on [N, C] and [N, C, L], without affine or running statistics") {
    nn::BatchNorm1d a(4);
    check_float64(a, randn({5, 4}));
    nn::BatchNorm1d b(2, 1e-5f, 0.1f, false, false);
    check_float64(b, randn({3, 2, 4}));
    b.eval();  // no running statistics: eval still uses the batch's
    check_float64(b, randn({3, 2, 4}));
  }
}

TEST_CASE("nn float64: BatchNorm's running statistics match float32's on the same batches") {
  manual_seed(16);
  nn::BatchNorm2d b32(3, 1e-5f, 0.3f), b64(3, 1e-5f, 0.3f);
  b64.to(kFloat64);
  for (int step = 0; step < 3; ++step) {
    Tensor x = randn({4, 3, 2, 3}) * 3 + 2;
    b32(x);
    b64(x.to(kFloat64));
  }
  CHECK(b64.running_mean.dtype() == kFloat64);
  CHECK(max_diff(b64.running_mean, b32.running_mean) <= 1e-5);
  CHECK(max_diff(b64.running_var, b32.running_var) <= 1e-5);
  CHECK(max_abs(b64.running_mean) > 0.5);  // they moved away from 0 and 1
}

TEST_CASE("nn float64: GroupNorm, LayerNorm and InstanceNorm2d") {
  manual_seed(17);
  nn::GroupNorm g(2, 4);
  {
    NoGradGuard no_grad;  // non-trivial affine parameters
    g.weight.copy_(randn({4}));
    g.bias.copy_(randn({4}));
  }
  check_float64(g, randn({3, 4, 2, 3}));
  nn::LayerNorm l({3, 2});
  check_float64(l, randn({2, 4, 3, 2}));
  nn::InstanceNorm2d i(3, 1e-5f, true);
  check_float64(i, randn({2, 3, 3, 3}));
}

TEST_CASE("nn float64: padding layers and interpolation") {
  manual_seed(18);
  nn::ReflectionPad2d reflect(std::vector<int64_t>{2, 1, 1, 2});
  check_float64(reflect, randn({2, 2, 4, 5}));
  nn::ReplicationPad2d replicate(2);
  check_float64(replicate, randn({1, 2, 3, 3}));
  nn::ConstantPad2d constant(std::vector<int64_t>{1, -1, 2, 0}, 0.5f);
  check_float64(constant, randn({2, 1, 3, 4}));
  Tensor x = randn({2, 2, 3, 4});
  auto circular = [](const Tensor& t) { return F::pad(t, {1, 2, 2, 1}, "circular"); };
  CHECK(max_diff(circular(x.to(kFloat64)), circular(x)) == 0);  // a copy: exact
  // The inputs form converts x to float64 (its default).
  auto r = gradcheck([&](const std::vector<Tensor>& in) { return circular(in[0]); }, {x});
  CHECK_MESSAGE(r.ok, r.message);

  nn::Upsample nearest({.scale_factor = F::Scale2(2, 1.5)});
  check_float64(nearest, randn({2, 2, 3, 4}));
  nn::Upsample bilinear({.size = F::Size2(5, 7), .mode = F::InterpolateMode::Bilinear});
  check_float64(bilinear, randn({1, 2, 3, 4}));
  nn::Upsample corners({.scale_factor = 2, .mode = F::InterpolateMode::Bilinear,
                        .align_corners = true});
  check_float64(corners, randn({1, 2, 3, 3}));
}

TEST_CASE("nn float64: a small network, a residual block and a U-Net") {
  manual_seed(19);
  nn::Sequential net(nn::Conv2d(2, 3, 3, 1, 1), nn::BatchNorm2d(3), nn::ReLU(),
                     nn::MaxPool2d(2), nn::Flatten(), nn::Linear(12, 2));
  check_float64(net, randn({3, 2, 4, 4}));
  nn::BasicBlock block({.in = 2, .out = 2});
  check_float64(block, randn({2, 2, 4, 4}));
  block.eval();
  block.to(kFloat32);
  check_float64(block, randn({2, 2, 4, 4}), 1e-4, true);
  // Without weight gradients eval folds each BatchNorm into its convolution (nn::conv_bn):
  // the same values as the unfolded layers, up to float64 rounding.
  {
    Tensor x = randn({2, 2, 4, 4}, {.dtype = kFloat64});
    Tensor unfolded = block(x);
    NoGradGuard no_grad;
    Tensor folded = block(x);
    CHECK(folded.dtype() == kFloat64);
    CHECK(max_diff(folded, unfolded) <= 1e-12 * (1 + max_abs(unfolded)));
  }
  nn::UNet unet({.in = 1, .out = 2, .channels = 4, .depth = 1, .groups = 2});
  check_float64(unet, randn({1, 1, 4, 4}), 1e-4, true);
}

TEST_CASE("nn float64: fuse_conv_bn_eval keeps the layers' dtype") {
  manual_seed(20);
  nn::Conv2d conv(2, 3, 3, 1, 1);
  nn::BatchNorm2d bn(3);
  bn(conv(randn({4, 2, 5, 5})));  // non-trivial running statistics
  conv.eval(), bn.eval();
  conv.to(kFloat64), bn.to(kFloat64);
  nn::Conv2d fused = nn::fuse_conv_bn_eval(conv, bn);
  CHECK(fused.weight.dtype() == kFloat64);
  CHECK(fused.bias.dtype() == kFloat64);
  Tensor x = randn({2, 2, 5, 5}, {.dtype = kFloat64});
  Tensor y = fused(x);
  CHECK(y.dtype() == kFloat64);
  CHECK(max_diff(y, bn(conv(x))) <= 1e-12 * (1 + max_abs(y)));  // float64 rounding only
}

TEST_CASE("nn Module::to: converts parameters, buffers and gradients in place") {
  manual_seed(21);
  nn::Sequential net(nn::Linear(3, 4), nn::BatchNorm1d(4));
  Tensor w = net.parameters()[0];
  std::vector<float> before = w.to_vector();
  Tensor x = randn({5, 3});
  net(x).sum().backward();
  std::vector<float> grad_before = w.grad().to_vector();

  CHECK(&net.to(kFloat64) == &net);
  CHECK(w.dtype() == kFloat64);  // the same handle: every holder sees the new data
  CHECK(w.same(net.parameters()[0]));
  CHECK(w.requires_grad());
  CHECK(w.is_leaf());
  CHECK(w.to_vector<double>() == std::vector<double>(before.begin(), before.end()));
  CHECK(w.grad().dtype() == kFloat64);
  CHECK(w.grad().to_vector<double>() ==
        std::vector<double>(grad_before.begin(), grad_before.end()));
  for (const Tensor& b : net.buffers()) CHECK(b.dtype() == kFloat64);
  CHECK(net.dtype() == kFloat64);

  net.to(kFloat32);  // float -> double -> float is exact
  CHECK(w.dtype() == kFloat32);
  CHECK(w.to_vector() == before);

  CHECK_THROWS_CONTAINING(net.to(kInt64), "Module::to");
}

TEST_CASE("nn Module::to: int64 buffers stay, and an old graph refuses backward") {
  struct Counter : nn::Module {
    Tensor steps, scale;
    Counter()
        : steps(register_buffer("steps", tensor(std::vector<int64_t>{3}, {1}))),
          scale(register_parameter("scale", ones({2}))) {}
    Tensor forward(const Tensor& x) override { return x * scale; }
  };
  Counter c;
  Tensor y = c(ones({2}));
  c.to(kFloat64);
  CHECK(c.steps.dtype() == kInt64);
  CHECK(c.scale.dtype() == kFloat64);
  // The product saved the float32 scale; after the conversion backward names the op.
  CHECK_THROWS_CONTAINING(y.sum().backward(), "mul");
  CHECK(c(ones({2}, {.dtype = kFloat64})).dtype() == kFloat64);
}

TEST_CASE("nn float64: a float32 input to a float64 layer is an error naming the op") {
  manual_seed(22);
  auto expect = [](nn::Module& layer, const Tensor& x32, const std::string& op) {
    layer.to(kFloat64);
    std::string message = test::error_of([&] { layer(x32); });
    INFO(message);
    CHECK(message.rfind(op + ":", 0) == 0);
    CHECK(message.find("float32") != std::string::npos);
    CHECK(message.find("float64") != std::string::npos);
  };
  nn::Conv2d conv2d(2, 3, 3);
  expect(conv2d, randn({1, 2, 4, 4}), "conv2d");
  nn::Conv2d reflect(nn::Conv2dOptions{
      .in = 2, .out = 3, .kernel = 3, .padding = 1, .padding_mode = F::PaddingMode::Reflect});
  expect(reflect, randn({1, 2, 4, 4}), "conv2d");
  nn::Conv1d conv1d(2, 3, 3);
  expect(conv1d, randn({1, 2, 5}), "conv1d");
  nn::ConvTranspose2d up(2, 3, 2, 2);
  expect(up, randn({1, 2, 3, 3}), "conv_transpose2d");
  nn::Linear linear(3, 2);
  expect(linear, randn({4, 3}), "linear");
  nn::BatchNorm2d bn(2);
  expect(bn, randn({2, 2, 3, 3}), "batch_norm");
  nn::GroupNorm gn(1, 2);
  expect(gn, randn({2, 2, 3}), "group_norm");
  nn::LayerNorm ln({3});
  expect(ln, randn({2, 3}), "layer_norm");
  // The other way round, through the functional forms: a float64 input, float32 parameters.
  Tensor x64 = randn({1, 2, 4, 4}, {.dtype = kFloat64});
  CHECK_THROWS_CONTAINING(F::conv2d(x64, randn({3, 2, 3, 3})), "conv2d: ");
  CHECK_THROWS_CONTAINING(F::conv2d(x64, randn({3, 2, 3, 3}, {.dtype = kFloat64}), randn({3})),
                          "conv2d: ");
  CHECK_THROWS_CONTAINING(F::linear(randn({2, 3}, {.dtype = kFloat64}), randn({4, 3})),
                          "linear: ");
}
