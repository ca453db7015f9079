// Tests of conv1d and Conv1d: values and gradients against PyTorch (make_conv_family_fixtures.py)
// over stride/padding/dilation/groups and "same"/"valid", the padding modes of the module,
// numpy.convolve's three modes (the course's 1-D convolution), init, printing and errors.
#include <doctest/doctest.h>

#include <cmath>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/nn/conv.h>
#include "tests/nn/fixture.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;
namespace F = tg::nn::functional;
using F::PaddingMode;

namespace {

// make_conv_family_fixtures.py's CONV1D_CASES.
struct Conv1dCase {
  const char* name;
  int64_t stride;
  F::ConvPadding padding;
  int64_t dilation, groups;
  bool bias;
};

const Conv1dCase kCases[] = {
    {"basic", 1, 0, 1, 1, true},
    {"stride_pad", 2, 1, 1, 1, true},
    {"dilation", 1, 2, 2, 1, true},
    {"groups", 2, 1, 1, 2, false},
    {"same_even", 1, "same", 1, 1, true},
    {"same_dilation", 1, "same", 3, 2, true},
    {"valid", 1, "valid", 1, 1, true},
    {"unbatched", 1, 1, 1, 1, true},
};

// The Conv1d module cases of the same script.
struct ModuleCase {
  const char* name;
  nn::Conv1dOptions options;
};

const ModuleCase kModules[] = {
    {"module_reflect", {.in = 3, .out = 2, .kernel = 4, .padding = "same",
                        .padding_mode = PaddingMode::Reflect}},
    {"module_circular", {.in = 2, .out = 4, .kernel = 3, .stride = 2, .padding = 2, .groups = 2,
                         .padding_mode = PaddingMode::Circular}},
    {"module_replicate", {.in = 3, .out = 2, .kernel = 3, .padding = 1, .dilation = 2,
                          .padding_mode = PaddingMode::Replicate}},
};

}  // namespace

TEST_CASE("nn conv1d: forward and all gradients match PyTorch") {
  test::Fixture f("conv1d.json");
  for (const Conv1dCase& c : kCases) {
    CAPTURE(c.name);
    std::string n = c.name;
    Tensor x = f[n + ".x"].requires_grad_(), w = f[n + ".w"].requires_grad_();
    Tensor b = c.bias ? f[n + ".b"].requires_grad_() : Tensor();
    Tensor y = F::conv1d(x, w, b, c.stride, c.padding, c.dilation, c.groups);
    TG_CHECK_CLOSE(y, f[n + ".y"], 1e-4f, 1e-5f);
    y.backward(f[n + ".u"]);
    TG_CHECK_CLOSE(x.grad(), f[n + ".gx"], 1e-4f, 1e-5f);
    TG_CHECK_CLOSE(w.grad(), f[n + ".gw"], 1e-4f, 1e-4f);
    if (c.bias) TG_CHECK_CLOSE(b.grad(), f[n + ".gb"], 1e-4f, 1e-4f);
  }
}

TEST_CASE("nn Conv1d: padding modes match PyTorch's module") {
  test::Fixture f("conv1d.json");
  for (const ModuleCase& c : kModules) {
    CAPTURE(c.name);
    std::string n = c.name;
    nn::Conv1d conv(c.options);
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

TEST_CASE("nn conv1d: numpy.convolve's full, same and valid modes (flipped kernel)") {
  test::Fixture f("conv1d.json");
  for (int64_t k : {3, 4}) {
    CAPTURE(k);
    std::string n = fmt::format("numpy_k{}", k);
    Tensor a = f[n + ".a"], v = f[n + ".v"];
    Tensor x = a.view({1, 1, a.numel()});
    std::vector<float> flipped = v.to_vector();
    std::reverse(flipped.begin(), flipped.end());
    Tensor w = tensor(flipped, {1, 1, k});
    auto as_1d = [](const Tensor& y) { return y.flatten(); };
    // 'full': padding = dilation * (k - 1) on both sides.
    TG_CHECK_CLOSE(as_1d(F::conv1d(x, w, Tensor(), 1, k - 1)), f[n + ".full"], 1e-5f, 1e-5f);
    // 'same': PyTorch's "same" for odd k; numpy puts an even kernel's extra zero on the left.
    Tensor same = k % 2 ? F::conv1d(x, w, Tensor(), 1, "same")
                        : F::conv1d(F::pad(x, {k / 2, k / 2 - 1}), w);
    TG_CHECK_CLOSE(as_1d(same), f[n + ".same"], 1e-5f, 1e-5f);
    TG_CHECK_CLOSE(as_1d(F::conv1d(x, w, Tensor(), 1, "valid")), f[n + ".valid"], 1e-5f, 1e-5f);
  }
}

TEST_CASE("nn Conv1d: parameters, PyTorch's init bounds, gradcheck and printing") {
  manual_seed(0);
  nn::Conv1d conv(4, 6, 3, 2, 1, 1, 2);
  CHECK(conv.weight.shape() == Shape{6, 2, 3});
  CHECK(conv.named_parameters()[0].first == "weight");
  CHECK(conv.named_parameters()[1].first == "bias");
  const float bound = 1 / std::sqrt(6.0f);  // fan_in = in / groups * k = 6
  for (const Tensor& p : conv.parameters()) {
    CHECK(p.abs().max().item() <= bound);
    CHECK(p.abs().max().item() > 0.7f * bound);
  }
  Tensor x = randn({2, 4, 7});
  CHECK(conv(x).shape() == Shape{2, 6, 4});
  CHECK(conv(x.select(0, 0)).shape() == Shape{6, 4});
  std::vector<Tensor> tensors = conv.parameters();
  tensors.insert(tensors.begin(), x);
  auto r = gradcheck([&] { return conv(x); }, tensors);
  CHECK_MESSAGE(r.ok, r.message);
  CHECK(conv.extra_repr() == "4, 6, kernel_size=(3,), stride=(2,), padding=(1,), groups=2");
  nn::Conv1d same({.in = 2, .out = 3, .kernel = 4, .padding = "same", .dilation = 2,
                   .bias = false, .padding_mode = PaddingMode::Replicate});
  CHECK(same.extra_repr() == "2, 3, kernel_size=(4,), stride=(1,), padding=same, "
                             "dilation=(2,), bias=False, padding_mode=replicate");
  CHECK(same(randn({1, 2, 9})).shape() == Shape{1, 3, 9});
}

TEST_CASE("nn conv1d: errors name the operation and the values") {
  Tensor x = randn({2, 4, 8}), w = randn({6, 4, 3});
  CHECK(error_of([&] { F::conv1d(randn({2, 4, 8, 1}), w); }) ==
        "conv1d: expected a 2-D [C, L] or 3-D [N, C, L] input, got [2, 4, 8, 1]");
  CHECK(error_of([&] { F::conv1d(x, randn({6, 4, 3, 3})); }) ==
        "conv1d: expected a 3-D weight [out, in / groups, k], got [6, 4, 3, 3]");
  CHECK(error_of([&] { F::conv1d(x, w, Tensor(), 2, "same"); }) ==
        "conv1d: padding='same' is not supported for strided convolutions, got stride 2");
  CHECK(error_of([&] { F::conv1d(x, randn({6, 3, 3})); }) ==
        "conv1d: input [2, 4, 8] and weight [6, 3, 3] do not match with groups 1 (weight [out, "
        "in / groups, k]: in = 4 channels, out divisible by groups)");
  CHECK(error_of([&] { F::conv1d(x, randn({6, 4, 9})); }) ==
        "conv1d: kernel size (dilated) 9 is larger than the padded input length 8 (input [2, 4, 8])");
  CHECK(error_of([&] { F::conv1d(x, w, randn({5})); }) ==
        "conv1d: bias of shape [5] does not match the weight's 6 output channels");
  CHECK(error_of([&] { F::conv1d(x, w, Tensor(), 1, {1, 2}); }) ==
        "conv1d: padding must be one non-negative number, got (1, 2)");
  CHECK(error_of([&] { F::conv1d(x, w, Tensor(), 0); }) ==
        "conv1d: stride, dilation and groups must be positive, got 0, 1 and 1");
  CHECK(error_of([] { nn::Conv1d(3, 6, 3, 2, "same"); }) ==
        "Conv1d: padding='same' is not supported for strided convolutions, got stride 2");
  CHECK(error_of([] { nn::Conv1d(3, 6, 3, 1, 0, 1, 2); }) ==
        "Conv1d: in channels 3 are not divisible by groups 2");
}
