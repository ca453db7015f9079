// Tests of interpolate and Upsample: values and gradients against PyTorch
// (make_conv_family_fixtures.py) for nearest and bilinear, by size and by scale factor, with
// and without align_corners; small cases by hand, the tangent, printing and errors.
#include <doctest/doctest.h>

#include <tapegrad/autograd/forward.h>
#include <tapegrad/nn/upsample.h>
#include "tests/nn/fixture.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;
namespace F = tg::nn::functional;
using F::InterpolateMode;
using F::InterpolateOptions;

namespace {

constexpr InterpolateMode kNearest = InterpolateMode::Nearest, kBilinear = InterpolateMode::Bilinear;

// make_conv_family_fixtures.py's UPSAMPLE_CASES.
struct Case {
  const char* name;
  InterpolateOptions options;
};

const Case kCases[] = {
    {"nearest_size", {.size = F::Size2(7, 5)}},
    {"nearest_scale2", {.scale_factor = 2}},
    {"nearest_scale1.7", {.scale_factor = 1.7}},
    {"nearest_down", {.size = F::Size2(3, 2)}},
    {"bilinear_scale2", {.scale_factor = 2, .mode = kBilinear}},
    {"bilinear_scale2_corners", {.scale_factor = 2, .mode = kBilinear, .align_corners = true}},
    {"bilinear_size", {.size = F::Size2(5, 7), .mode = kBilinear, .align_corners = false}},
    {"bilinear_size_corners", {.size = F::Size2(5, 7), .mode = kBilinear, .align_corners = true}},
    {"bilinear_scale_1.5_2.5", {.scale_factor = F::Scale2(1.5, 2.5), .mode = kBilinear}},
    {"bilinear_down", {.size = F::Size2(2, 3), .mode = kBilinear}},
    {"bilinear_to_one_corners", {.size = F::Size2(1, 2), .mode = kBilinear, .align_corners = true}},
};

}  // namespace

TEST_CASE("nn interpolate: nearest and bilinear values and gradients match PyTorch") {
  test::Fixture f("upsample.json");
  for (const Case& c : kCases) {
    CAPTURE(c.name);
    std::string n = c.name;
    Tensor x = f[n + ".x"].requires_grad_();
    Tensor y = F::interpolate(x, c.options);
    TG_CHECK_CLOSE(y, f[n + ".y"], 1e-5f, 1e-6f);
    y.backward(f[n + ".u"]);
    TG_CHECK_CLOSE(x.grad(), f[n + ".gx"], 1e-5f, 1e-5f);
  }
}

TEST_CASE("nn interpolate: small cases by hand") {
  Tensor x = tensor({1, 2, 3, 4}, {1, 1, 2, 2});
  test::check_values(F::interpolate(x, {.scale_factor = 2}),
                     {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  // Nearest picks floor(dst * in / out): 3 -> 5 reads 0, 0, 1, 1, 2.
  Tensor row = tensor({10, 20, 30}, {1, 1, 1, 3});
  test::check_values(F::interpolate(row, {.size = F::Size2(1, 5)}), {10, 10, 20, 20, 30});
  // align_corners: the ends line up, the rest is evenly spaced.
  Tensor two = tensor({0, 1}, {1, 1, 1, 2});
  test::check_values(
      F::interpolate(two, {.size = F::Size2(1, 3), .mode = kBilinear, .align_corners = true}),
      {0, 0.5f, 1});
  // Half-pixel centres: output j samples 0.5 (j + 0.5) - 0.5, clamped at 0.
  test::check_values(F::interpolate(two, {.scale_factor = 2, .mode = kBilinear}),
                     {0, 0.25f, 0.75f, 1, 0, 0.25f, 0.75f, 1});
  // Backward: each input collects the weights it was read with (1/4 + 3/4 + 1 for the right one).
  Tensor t = two.detach().requires_grad_();
  F::interpolate(t, {.scale_factor = 2, .mode = kBilinear}).sum().backward();
  test::check_values(t.grad(), {4, 4});
}

TEST_CASE("nn interpolate: the tangent is the interpolation of the tangent") {
  Tensor x = randn({2, 3, 4, 5}), v = randn({2, 3, 4, 5});
  InterpolateOptions o{.size = F::Size2(7, 3), .mode = kBilinear};
  auto [y, t] = jvp([&] { return F::interpolate(x, o); }, {x}, {v});
  TG_CHECK_CLOSE(t, F::interpolate(v, o), 0, 0);
}

TEST_CASE("nn Upsample: forwards to interpolate; prints as PyTorch") {
  Tensor x = randn({1, 2, 3, 4});
  nn::Upsample up({.scale_factor = 2, .mode = kBilinear});
  CHECK(up(x).shape() == Shape{1, 2, 6, 8});
  TG_CHECK_CLOSE(up(x), F::interpolate(x, {.scale_factor = 2, .mode = kBilinear}), 0, 0);
  CHECK(up.extra_repr() == "scale_factor=2.0, mode=bilinear");
  CHECK(nn::Upsample({.size = F::Size2(3, 4)}).extra_repr() == "size=(3, 4), mode=nearest");
  CHECK(nn::Upsample({.scale_factor = F::Scale2(1.5, 2)}).extra_repr() ==
        "scale_factor=(1.5, 2.0), mode=nearest");
  CHECK(nn::parameter_count(up) == 0);
}

TEST_CASE("nn interpolate: errors name the operation and the values") {
  Tensor x = randn({1, 2, 3, 4});
  CHECK(error_of([] { F::interpolate(randn({2, 3, 4}), {.scale_factor = 2}); }) ==
        "interpolate: expected a 4-D input [N, C, H, W], got [2, 3, 4]");
  CHECK(error_of([&] { F::interpolate(x, {.size = 4, .scale_factor = 2}); }) ==
        "interpolate: exactly one of size and scale_factor must be given, got both");
  CHECK(error_of([&] { F::interpolate(x, {}); }) ==
        "interpolate: exactly one of size and scale_factor must be given, got neither");
  CHECK(error_of([&] { F::interpolate(x, {.scale_factor = 2, .align_corners = true}); }) ==
        "interpolate: align_corners can only be set with mode bilinear, not nearest");
  CHECK(error_of([&] { F::interpolate(x, {.scale_factor = 0.2}); }) ==
        "interpolate: output size 0x0 must be positive (input [1, 2, 3, 4])");
  CHECK(error_of([&] { F::interpolate(x, {.scale_factor = -1}); }) ==
        "interpolate: scale_factor must be positive, got (-1, -1)");
  CHECK(error_of([&] { F::interpolate(x, {.size = F::Size2(0, 3)}); }) ==
        "interpolate: output size 0x3 must be positive (input [1, 2, 3, 4])");
  CHECK(error_of([] { nn::Upsample({.size = 2, .mode = kNearest, .align_corners = false}); }) ==
        "Upsample: align_corners can only be set with mode bilinear, not nearest");
}
