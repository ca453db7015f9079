// Tests of pad() and the padding layers, and of Conv2d's padding_mode and padding "same" /
// "valid": values and gradients against PyTorch (make_conv_family_fixtures.py), small cases
// worked by hand, the module's gradcheck, printing, and every error message.
#include <doctest/doctest.h>

#include <tapegrad/autograd/forward.h>
#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/nn/conv.h>
#include <tapegrad/nn/padding.h>
#include "tests/nn/fixture.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;
namespace F = tg::nn::functional;
using F::PaddingMode;

namespace {

// make_conv_family_fixtures.py's PAD_CASES.
struct PadCase {
  const char* name;
  std::vector<int64_t> pads;
  const char* mode;
  float value;
};

const PadCase kPadCases[] = {
    {"constant4d", {1, 2, 2, 1}, "constant", 0.5f},
    {"reflect4d", {2, 4, 1, 3}, "reflect", 0},
    {"replicate4d", {3, 1, 0, 2}, "replicate", 0},
    {"circular4d", {2, 5, 1, 4}, "circular", 0},
    {"reflect3d", {3, 2}, "reflect", 0},
    {"replicate3d", {4, 1}, "replicate", 0},
    {"circular3d", {3, 7}, "circular", 0},
    {"constant_crop", {-1, 2, 0, -2}, "constant", 0},
    {"constant3dims", {1, 1, 0, 2, 1, 0}, "constant", -1},
};

// The module cases of the same script: Conv2d with PyTorch's arguments, weights from the file.
struct ConvCase {
  const char* name;
  nn::Conv2dOptions options;
};

const ConvCase kConvCases[] = {
    {"conv_reflect", {.in = 3, .out = 4, .kernel = 3, .padding = 1,
                      .padding_mode = PaddingMode::Reflect}},
    {"conv_replicate", {.in = 3, .out = 4, .kernel = {3, 2}, .stride = 2, .padding = {2, 1},
                        .padding_mode = PaddingMode::Replicate}},
    {"conv_circular", {.in = 2, .out = 4, .kernel = 3, .padding = 2, .dilation = 2,
                       .padding_mode = PaddingMode::Circular}},
    {"conv_same_even", {.in = 3, .out = 4, .kernel = {4, 2}, .padding = "same"}},
    {"conv_same_dilation_groups", {.in = 2, .out = 4, .kernel = 3, .padding = "same",
                                   .dilation = 2, .groups = 2}},
    {"conv_same_reflect_even", {.in = 3, .out = 2, .kernel = 4, .padding = "same",
                                .padding_mode = PaddingMode::Reflect}},
    {"conv_valid", {.in = 3, .out = 2, .kernel = 3, .padding = "valid",
                    .padding_mode = PaddingMode::Circular}},
};

}  // namespace

TEST_CASE("nn pad: every mode's values and gradients match PyTorch") {
  test::Fixture f("padding.json");
  for (const PadCase& c : kPadCases) {
    CAPTURE(c.name);
    std::string n = c.name;
    Tensor x = f[n + ".x"].requires_grad_();
    Tensor y = F::pad(x, c.pads, c.mode, c.value);
    TG_CHECK_CLOSE(y, f[n + ".y"], 0, 0);  // copies: exact
    y.backward(f[n + ".u"]);
    TG_CHECK_CLOSE(x.grad(), f[n + ".gx"], 1e-6f, 1e-6f);
  }
}

TEST_CASE("nn pad: small cases by hand, and the enum and string forms agree") {
  Tensor x = tensor({1, 2, 3}, {1, 3}).requires_grad_();
  test::check_values(F::pad(x, {2, 1}, PaddingMode::Reflect), {3, 2, 1, 2, 3, 2});
  test::check_values(F::pad(x, {2, 1}, PaddingMode::Replicate), {1, 1, 1, 2, 3, 3});
  test::check_values(F::pad(x, {2, 1}, PaddingMode::Circular), {2, 3, 1, 2, 3, 1});
  test::check_values(F::pad(x, {2, 1}, PaddingMode::Constant, 9), {9, 9, 1, 2, 3, 9});
  test::check_values(F::pad(x, {-1, 0}), {2, 3});
  // Reflect reads x[2], x[1], x[0], x[1], x[2], x[1]: x[1] three times, x[2] twice.
  F::pad(x, {2, 1}, "reflect").sum().backward();
  test::check_values(x.grad(), {1, 3, 2});
  // Two dims: the corners of reflect come from both reflections.
  Tensor m = tensor({1, 2, 3, 4}, {2, 2});
  test::check_values(F::pad(m, {1, 0, 0, 1}, "replicate"), {1, 1, 2, 3, 3, 4, 3, 3, 4});
  test::check_values(F::pad(m, {0, 1, 1, 0}, "circular"), {3, 4, 3, 1, 2, 1, 3, 4, 3});
  CHECK(F::pad(m, {}).shape() == Shape{2, 2});
  CHECK(F::padding_mode("zeros") == PaddingMode::Constant);
  CHECK(F::to_string(PaddingMode::Circular) == "circular");
}

TEST_CASE("nn pad: the tangent is the pad of the tangent (zero border)") {
  Tensor x = randn({2, 3, 4}), v = randn({2, 3, 4});
  auto [y, t] = jvp([&] { return F::pad(x, {1, 2, 3, 0}, "constant", 5); }, {x}, {v});
  TG_CHECK_CLOSE(t, F::pad(v, {1, 2, 3, 0}), 0, 0);
  auto [y2, t2] = jvp([&] { return F::pad(x, {3, 2}, "reflect"); }, {x}, {v});
  TG_CHECK_CLOSE(t2, F::pad(v, {3, 2}, "reflect"), 0, 0);
}

TEST_CASE("nn Conv2d: padding_mode and padding same/valid match PyTorch") {
  test::Fixture f("padding.json");
  for (const ConvCase& c : kConvCases) {
    CAPTURE(c.name);
    std::string n = c.name;
    nn::Conv2d conv(c.options);
    {
      NoGradGuard g;
      conv.weight.copy_(f[n + ".weight"]);
      conv.bias.copy_(f[n + ".bias"]);
    }
    Tensor x = f[n + ".x"].requires_grad_();
    Tensor y = conv(x);
    TG_CHECK_CLOSE(y, f[n + ".y"], 1e-4f, 1e-5f);
    y.backward(f[n + ".u"]);
    TG_CHECK_CLOSE(x.grad(), f[n + ".gx"], 1e-4f, 1e-5f);
    TG_CHECK_CLOSE(conv.weight.grad(), f[n + ".gweight"], 1e-4f, 1e-4f);
    TG_CHECK_CLOSE(conv.bias.grad(), f[n + ".gbias"], 1e-4f, 1e-4f);
  }
}

TEST_CASE("nn conv2d: padding same keeps the size for odd and even kernels; valid is 0") {
  Tensor x = randn({1, 2, 7, 6});
  for (int64_t kh : {1, 2, 3, 4})
    for (int64_t kw : {1, 2, 5}) {
      CAPTURE(kh);
      CAPTURE(kw);
      Tensor w = randn({3, 2, kh, kw});
      CHECK(F::conv2d(x, w, Tensor(), 1, "same").shape() == Shape{1, 3, 7, 6});
      CHECK(F::conv2d(x, w, Tensor(), 1, "same", 2).shape() == Shape{1, 3, 7, 6});
      TG_CHECK_CLOSE(F::conv2d(x, w, Tensor(), 1, "valid"), F::conv2d(x, w), 0, 0);
    }
  // An even kernel pads one more zero on the right/bottom (PyTorch's rule): same as pad first.
  Tensor w = randn({3, 2, 2, 4});
  TG_CHECK_CLOSE(F::conv2d(x, w, Tensor(), 1, "same"),
                 F::conv2d(F::pad(x, {1, 2, 0, 1}), w), 1e-5f, 1e-6f);
}

TEST_CASE("nn Conv2d: gradcheck with reflect padding; printing as PyTorch") {
  manual_seed(5);
  nn::Conv2d conv({.in = 2, .out = 3, .kernel = 3, .stride = 2, .padding = {2, 1},
                   .padding_mode = PaddingMode::Reflect});
  Tensor x = randn({2, 2, 5, 6});
  std::vector<Tensor> tensors = conv.parameters();
  tensors.insert(tensors.begin(), x);
  auto r = gradcheck([&] { return conv(x); }, tensors);
  CHECK_MESSAGE(r.ok, r.message);
  CHECK(conv.extra_repr() ==
        "2, 3, kernel_size=(3, 3), stride=(2, 2), padding=(2, 1), padding_mode=reflect");
  nn::Conv2d same(2, 3, 3, 1, "same", 1, 1, true, PaddingMode::Circular);
  CHECK(same.extra_repr() ==
        "2, 3, kernel_size=(3, 3), stride=(1, 1), padding=same, padding_mode=circular");
  CHECK(same(x).shape() == Shape{2, 3, 5, 6});
  CHECK(nn::Conv2d(2, 3, 3, 1, "valid").extra_repr() ==
        "2, 3, kernel_size=(3, 3), stride=(1, 1), padding=valid");
}

TEST_CASE("nn padding layers: values, shapes and printing as PyTorch") {
  Tensor x = arange(12).reshape({1, 1, 3, 4});
  nn::ReflectionPad2d reflect(1);
  CHECK(reflect(x).shape() == Shape{1, 1, 5, 6});
  TG_CHECK_CLOSE(reflect(x), F::pad(x, {1, 1, 1, 1}, "reflect"), 0, 0);
  nn::ReplicationPad2d replicate({1, 0, 2, 0});
  CHECK(replicate(x).shape() == Shape{1, 1, 5, 5});
  nn::ConstantPad2d constant({1, 2, 3, 4}, 0.5f);
  CHECK(constant(x).select(3, 0).sum().item() == doctest::Approx(0.5f * 10));
  CHECK(nn::ZeroPad2d(1).extra_repr() == "(1, 1, 1, 1)");
  CHECK(constant.extra_repr() == "padding=(1, 2, 3, 4), value=0.5");
  CHECK(replicate.extra_repr() == "(1, 0, 2, 0)");
  CHECK(reflect.name() == "ReflectionPad2d");
  CHECK(nn::parameter_count(reflect) == 0);
}

TEST_CASE("nn pad and conv padding: errors name the operation and the values") {
  Tensor x = randn({1, 2, 4, 5});
  CHECK(error_of([&] { F::pad(x, {5, 0}, "reflect"); }) ==
        "pad: reflect padding (5, 0) of dim 3 must be smaller than its size 5 (input [1, 2, 4, 5])");
  CHECK(error_of([&] { F::pad(x, {0, 0, 1, 4}, "reflect"); }) ==
        "pad: reflect padding (1, 4) of dim 2 must be smaller than its size 4 (input [1, 2, 4, 5])");
  CHECK(error_of([&] { F::pad(x, {6, 0}, "circular"); }) ==
        "pad: circular padding (6, 0) of dim 3 must be at most its size 5 (input [1, 2, 4, 5])");
  CHECK(error_of([&] { F::pad(x, {-1, 0}, "replicate"); }) ==
        "pad: negative padding (-1, 0) of dim 3 is only supported in constant mode, got replicate");
  CHECK(error_of([&] { F::pad(x, {-3, -3}); }) ==
        "pad: padding (-3, -3) of dim 3 of size 5 leaves a negative size -1");
  CHECK(error_of([&] { F::pad(x, {1, 1, 1}); }) ==
        "pad: padding must be (before, after) pairs, got 3 values");
  CHECK(error_of([&] { F::pad(randn({3}), {1, 1, 1, 1}); }) ==
        "pad: 4 values pad 2 dims but the input [3] has 1");
  CHECK(error_of([&] { F::pad(x, {1, 1}, "mirror"); }) ==
        "padding_mode: expected 'constant' (or 'zeros'), 'reflect', 'replicate' or 'circular', "
        "got 'mirror'");
  CHECK(error_of([] { nn::ReflectionPad2d({1, 2}); }) ==
        "ReflectionPad2d: padding must be one number or {left, right, top, bottom}, got 2 values");
  Tensor w = randn({3, 2, 3, 3});
  CHECK(error_of([&] { F::conv2d(x, w, Tensor(), 2, "same"); }) ==
        "conv2d: padding='same' is not supported for strided convolutions, got stride (2, 2)");
  CHECK(error_of([&] { F::conv2d(x, w, Tensor(), 1, std::string("full")); }) ==
        "conv: padding must be a size, 'same' or 'valid', got 'full'\n"
        "hint: numpy's 'full' is padding = dilation * (kernel_size - 1)");
  CHECK(error_of([] { nn::Conv2d(2, 3, 3, {2, 1}, "same"); }) ==
        "Conv2d: padding='same' is not supported for strided convolutions, got stride (2, 1)");
  // Reflect padding larger than the input, through Conv2d's padding_mode: pad() names itself.
  nn::Conv2d conv({.in = 2, .out = 3, .kernel = 3, .padding = 4,
                   .padding_mode = PaddingMode::Reflect});
  CHECK(error_of([&] { conv(x); }) ==
        "pad: reflect padding (4, 4) of dim 2 must be smaller than its size 4 (input [1, 2, 4, 5])");
}
