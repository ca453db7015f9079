// Tests of conv_transpose2d and ConvTranspose2d: values and gradients against PyTorch
// (make_conv_family_fixtures.py) over stride, padding, output_padding, groups and dilation,
// the adjoint identity with conv2d, a tangent on the weight alone, init, printing and errors.
#include <doctest/doctest.h>

#include <cmath>

#include <tapegrad/autograd/forward.h>
#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/core/parallel.h>
#include <tapegrad/nn/conv_transpose.h>
#include "tests/nn/fixture.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;
namespace F = tg::nn::functional;

namespace {

// make_conv_family_fixtures.py's CONV_T_CASES, with the same arguments.
struct Case {
  const char* name;
  F::Size2 stride, padding, output_padding;
  int64_t groups;
  F::Size2 dilation;
  bool bias;
};

const Case kCases[] = {
    {"basic", 1, 0, 0, 1, 1, true},
    {"stride2", 2, 1, 1, 1, 1, true},
    {"groups2", {2, 1}, {1, 0}, {1, 0}, 2, 1, true},
    {"dilation", 1, 1, 0, 1, 2, true},
    {"opad_dilation", 1, 0, 1, 1, 2, true},
    {"pointwise", 1, 0, 0, 1, 1, false},
    {"k4_s2_p1", 2, 1, 0, 1, 1, true},
    {"odd_stride3", {3, 2}, 0, {2, 1}, 1, 1, true},
    {"unbatched", 2, 0, 1, 1, 1, true},
};

double dot(const Tensor& a, const Tensor& b) { return (a * b).sum().item(); }

}  // namespace

TEST_CASE("nn conv_transpose2d: forward and all gradients match PyTorch") {
  test::Fixture f("conv_transpose.json");
  const int saved_threads = get_num_threads();
  for (int threads : {1, 2}) {  // serial images, and images spread over the pool
    set_num_threads(threads);
    for (const Case& c : kCases) {
      CAPTURE(c.name);
      CAPTURE(threads);
      std::string n = c.name;
      Tensor x = f[n + ".x"].requires_grad_(), w = f[n + ".w"].requires_grad_();
      Tensor b = c.bias ? f[n + ".b"].requires_grad_() : Tensor();
      Tensor y = F::conv_transpose2d(x, w, b, c.stride, c.padding, c.output_padding, c.groups,
                                     c.dilation);
      TG_CHECK_CLOSE(y, f[n + ".y"], 1e-4f, 1e-5f);
      y.backward(f[n + ".u"]);
      TG_CHECK_CLOSE(x.grad(), f[n + ".gx"], 1e-4f, 1e-5f);
      TG_CHECK_CLOSE(w.grad(), f[n + ".gw"], 1e-4f, 1e-4f);
      if (c.bias) TG_CHECK_CLOSE(b.grad(), f[n + ".gb"], 1e-4f, 1e-4f);
    }
  }
  set_num_threads(saved_threads);
}

TEST_CASE("nn ConvTranspose2d: the module matches PyTorch's; init, names and printing") {
  test::Fixture f("conv_transpose.json");
  nn::ConvTranspose2d up(4, 6, 3, 2, 1, 1, 2);
  CHECK(up.weight.shape() == Shape{4, 3, 3, 3});  // [in, out / groups, kH, kW]
  CHECK(up.named_parameters()[0].first == "weight");
  CHECK(up.named_parameters()[1].first == "bias");
  const float bound = 1 / std::sqrt(27.0f);  // PyTorch's fan_in: weight.size(1) * 3 * 3
  for (const Tensor& p : up.parameters()) {
    CHECK(p.abs().max().item() <= bound);
    CHECK(p.abs().max().item() > 0.7f * bound);
  }
  {
    NoGradGuard g;
    up.weight.copy_(f["module.weight"]);
    up.bias.copy_(f["module.bias"]);
  }
  Tensor x = f["module.x"].requires_grad_();
  Tensor y = up(x);
  TG_CHECK_CLOSE(y, f["module.y"], 1e-4f, 1e-5f);
  y.backward(f["module.u"]);
  TG_CHECK_CLOSE(x.grad(), f["module.gx"], 1e-4f, 1e-5f);
  TG_CHECK_CLOSE(up.weight.grad(), f["module.gweight"], 1e-4f, 1e-4f);
  TG_CHECK_CLOSE(up.bias.grad(), f["module.gbias"], 1e-4f, 1e-4f);
  CHECK(up.extra_repr() == "4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), "
                           "output_padding=(1, 1), groups=2");
  // DCGAN's upsampling block doubles H and W.
  nn::ConvTranspose2d dcgan({.in = 8, .out = 4, .kernel = 4, .stride = 2, .padding = 1,
                             .bias = false});
  CHECK(dcgan(randn({1, 8, 5, 7})).shape() == Shape{1, 4, 10, 14});
  CHECK(dcgan.extra_repr() ==
        "8, 4, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False");
}

TEST_CASE("nn conv_transpose2d: the adjoint of conv2d, <T(x), z> = <x, conv2d(z)>") {
  manual_seed(2);
  Tensor w = randn({4, 3, 3, 2});  // conv2d: 4 out, 6 in (groups 2); transposed: 4 in, 6 out
  Tensor x = randn({2, 4, 3, 4});
  Tensor tx = F::conv_transpose2d(x, w, Tensor(), {2, 3}, {1, 0}, 0, 2, 1);
  Tensor z = randn(tx.shape());
  Tensor cz = F::conv2d(z, w, Tensor(), {2, 3}, {1, 0}, 1, 2);
  REQUIRE(cz.shape() == x.shape());
  CHECK(dot(tx, z) == doctest::Approx(dot(x, cz)).epsilon(1e-4));
}

TEST_CASE("nn ConvTranspose2d: gradcheck and a tangent on the weight alone") {
  manual_seed(4);
  nn::ConvTranspose2d up({.in = 2, .out = 3, .kernel = {3, 2}, .stride = 2, .padding = {1, 0},
                          .output_padding = 1});
  Tensor x = randn({2, 2, 3, 3});
  std::vector<Tensor> tensors = up.parameters();
  tensors.insert(tensors.begin(), x);
  auto r = gradcheck([&] { return up(x); }, tensors);
  CHECK_MESSAGE(r.ok, r.message);
  Tensor w = randn({2, 3, 3, 3}), v = randn({2, 3, 3, 3});
  auto [y, t] = jvp([&] { return F::conv_transpose2d(x, w, Tensor(), 2); }, {w}, {v});
  TG_CHECK_CLOSE(t, F::conv_transpose2d(x, v, Tensor(), 2), 1e-5f, 1e-5f);  // linear in w
}

TEST_CASE("nn conv_transpose2d: errors name the operation and the values") {
  Tensor x = randn({1, 4, 3, 3}), w = randn({4, 2, 3, 3});
  CHECK(error_of([&] { F::conv_transpose2d(x, w, Tensor(), 2, 0, 2); }) ==
        "conv_transpose2d: output_padding (2, 2) must be non-negative and smaller than stride "
        "(2, 2) or dilation (1, 1)");
  CHECK(error_of([&] { F::conv_transpose2d(x, w, Tensor(), 1, 0, {0, 1}); }) ==
        "conv_transpose2d: output_padding (0, 1) must be non-negative and smaller than stride "
        "(1, 1) or dilation (1, 1)");
  CHECK(error_of([&] { F::conv_transpose2d(x, randn({3, 2, 3, 3})); }) ==
        "conv_transpose2d: input has 4 channels but weight [3, 2, 3, 3] expects 3 (weight [in, "
        "out / groups, kH, kW]); input [1, 4, 3, 3]");
  CHECK(error_of([&] { F::conv_transpose2d(x, w, Tensor(), 1, 0, 0, 3); }) ==
        "conv_transpose2d: input channels 4 are not divisible by groups 3");
  CHECK(error_of([&] { F::conv_transpose2d(x, w, randn({4}), 1, 0, 0, 1); }) ==
        "conv_transpose2d: bias of shape [4] does not match the weight's 2 output channels (2 x "
        "groups 1)");
  CHECK(error_of([&] { F::conv_transpose2d(randn({4, 3}), w); }) ==
        "conv_transpose2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got [4, 3]");
  CHECK(error_of([&] { F::conv_transpose2d(x, randn({4, 2, 3})); }) ==
        "conv_transpose2d: expected a 4-D weight [in, out / groups, kH, kW], got [4, 2, 3]");
  CHECK(error_of([&] { F::conv_transpose2d(randn({1, 4, 1, 1}), w, Tensor(), 1, 2); }) ==
        "conv_transpose2d: output size -1x-1 is not positive (input [1, 4, 1, 1], weight "
        "[4, 2, 3, 3], stride (1, 1), padding (2, 2))");
  CHECK(error_of([&] { F::conv_transpose2d(x, w, Tensor(), 0); }) ==
        "conv_transpose2d: stride must be positive, got (0, 0)");
  CHECK(error_of([] { nn::ConvTranspose2d(4, 6, 3, 2, 0, 3); }) ==
        "ConvTranspose2d: output_padding (3, 3) must be non-negative and smaller than stride "
        "(2, 2) or dilation (1, 1)");
  CHECK(error_of([] { nn::ConvTranspose2d(4, 6, 3, 1, 0, 0, 4); }) ==
        "ConvTranspose2d: out channels 6 are not divisible by groups 4");
}
