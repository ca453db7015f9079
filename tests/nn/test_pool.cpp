// Tests of max_pool2d, avg_pool2d and adaptive_avg_pool2d and their modules: forward
// values and input gradients against PyTorch (fixtures from make_conv_fixtures.py, and
// make_options_fixtures.py for ceil_mode, dilation, count_include_pad, divisor_override),
// NaN propagation, unbatched input, printing and every error message. Each geometry's
// gradcheck (max pooling away from ties) and tangent check are rows of tests/op_table.h.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <numeric>

#include <tapegrad/nn/pool.h>
#include "tests/nn/fixture.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;
namespace F = tg::nn::functional;

namespace {

using Pool = std::function<Tensor(const Tensor&)>;

// The cases of make_conv_fixtures.py's POOL_CASES.
const std::pair<const char*, Pool> kCases[] = {
    {"max_k2", [](const Tensor& x) { return F::max_pool2d(x, 2); }},
    {"max_k3_s2_p1", [](const Tensor& x) { return F::max_pool2d(x, 3, 2, 1); }},
    {"max_k32_s21_p10", [](const Tensor& x) { return F::max_pool2d(x, {3, 2}, {2, 1}, {1, 0}); }},
    {"avg_k2", [](const Tensor& x) { return F::avg_pool2d(x, 2); }},
    {"avg_k3_s2_p1", [](const Tensor& x) { return F::avg_pool2d(x, 3, 2, 1); }},
    {"adaptive_3x2", [](const Tensor& x) { return F::adaptive_avg_pool2d(x, {3, 2}); }},
    {"adaptive_1x1", [](const Tensor& x) { return F::adaptive_avg_pool2d(x, 1); }},
    {"adaptive_5x7", [](const Tensor& x) { return F::adaptive_avg_pool2d(x, {5, 7}); }},
};

// The cases of make_options_fixtures.py's POOL_CASES: PyTorch's other pooling options.
const std::pair<const char*, Pool> kOptionCases[] = {
    {"max_k3_s2_ceil", [](const Tensor& x) { return F::max_pool2d(x, 3, 2, 0, 1, true); }},
    {"max_k2_s2_p1_ceil", [](const Tensor& x) { return F::max_pool2d(x, 2, 2, 1, 1, true); }},
    {"max_k3_p1_d2", [](const Tensor& x) { return F::max_pool2d(x, 3, 1, 1, 2); }},
    {"max_k2_s2_d2", [](const Tensor& x) { return F::max_pool2d(x, 2, 2, 0, 2); }},
    {"max_k23_s21_p11_d21_ceil",
     [](const Tensor& x) { return F::max_pool2d(x, {2, 3}, {2, 1}, {1, 1}, {2, 1}, true); }},
    {"avg_k3_s2_p1_ceil", [](const Tensor& x) { return F::avg_pool2d(x, 3, 2, 1, true); }},
    {"avg_k3_s2_p1_nopad", [](const Tensor& x) { return F::avg_pool2d(x, 3, 2, 1, false, false); }},
    {"avg_k32_s2_p10_ceil_nopad",
     [](const Tensor& x) { return F::avg_pool2d(x, {3, 2}, 2, {1, 0}, true, false); }},
    {"avg_k3_s2_p1_div5", [](const Tensor& x) { return F::avg_pool2d(x, 3, 2, 1, false, true, 5); }},
    {"avg_k2_ceil_div3", [](const Tensor& x) { return F::avg_pool2d(x, 2, 0, 0, true, true, 3); }},
    {"avg_k2_ceil", [](const Tensor& x) { return F::avg_pool2d(x, 2, 0, 0, true); }},
};

}  // namespace

TEST_CASE("nn pooling options: ceil_mode, dilation, count_include_pad, divisor_override match "
          "PyTorch") {
  test::Fixture f("pool_options.json");
  for (const auto& [name, pool] : kOptionCases) {
    CAPTURE(name);
    std::string n = name;
    Tensor x = f[n + ".x"].requires_grad_();
    Tensor y = pool(x);
    TG_CHECK_CLOSE(y, f[n + ".y"], 1e-5f, 1e-6f);
    y.backward(f[n + ".u"]);
    TG_CHECK_CLOSE(x.grad(), f[n + ".gx"], 1e-5f, 1e-6f);
    TG_CHECK_CLOSE(pool(f[n + ".x"].select(0, 0)), f[n + ".y"].select(0, 0), 1e-5f, 1e-6f);
  }
}

TEST_CASE("nn pooling options: by hand on a 1x1x3x3 ramp") {
  Tensor x = arange(9).reshape({1, 1, 3, 3});  // 0 1 2 / 3 4 5 / 6 7 8
  // ceil_mode keeps the partial windows {2, 5}, {6, 7} and {8}.
  CHECK(F::max_pool2d(x, 2, 2, 0, 1, true).to_vector() == std::vector<float>{4, 5, 7, 8});
  CHECK(F::avg_pool2d(x, 2, 2, 0, true).to_vector() == std::vector<float>{2, 3.5f, 6.5f, 8});
  // Taps 2 apart: the four corners.
  CHECK(F::max_pool2d(x, 2, 1, 0, 2).to_vector() == std::vector<float>{8});
  // count_include_pad: the corner window {0, 1, 3, 4} of a padded 3x3 kernel counts 9 or 4.
  CHECK(F::avg_pool2d(x, 3, 2, 1, false, true).to_vector()[0] == doctest::Approx(8.0 / 9));
  CHECK(F::avg_pool2d(x, 3, 2, 1, false, false).to_vector()[0] == doctest::Approx(2.0));
  CHECK(F::avg_pool2d(x, 3, 2, 1, false, true, -2).to_vector()[0] == doctest::Approx(-4.0));
  // The defaults give the same as the four-argument forms.
  Tensor r = randn({2, 3, 7, 6});
  CHECK(allclose(F::max_pool2d(r, 3, 2, 1, 1, false), F::max_pool2d(r, 3, 2, 1)));
  CHECK(allclose(F::avg_pool2d(r, 3, 2, 1, false, true), F::avg_pool2d(r, 3, 2, 1)));
}

TEST_CASE("nn pooling: forward and input gradients match PyTorch") {
  test::Fixture f("pool.json");
  for (const auto& [name, pool] : kCases) {
    CAPTURE(name);
    std::string n = name;
    Tensor x = f[n + ".x"].requires_grad_();
    Tensor y = pool(x);
    TG_CHECK_CLOSE(y, f[n + ".y"], 1e-5f, 1e-6f);
    y.backward(f[n + ".u"]);
    TG_CHECK_CLOSE(x.grad(), f[n + ".gx"], 1e-5f, 1e-6f);
    // Unbatched [C, H, W] input gives the same as a batch of one.
    TG_CHECK_CLOSE(pool(f[n + ".x"].select(0, 0)), f[n + ".y"].select(0, 0), 1e-5f, 1e-6f);
  }
}

TEST_CASE("nn max_pool2d: the max is taken over real pixels only; NaN propagates") {
  // Padding counts as -inf: an all-negative window at the border keeps its own max.
  Tensor x = -tensor({1, 2, 3, 4}, {1, 1, 2, 2}) - 10.0f;
  CHECK(F::max_pool2d(x, 2, 1, 1).to_vector() ==
        std::vector<float>{-11, -11, -12, -11, -11, -12, -13, -13, -14});
  Tensor n = tensor({1, NAN, 3, 4}, {1, 1, 2, 2});
  CHECK(std::isnan(F::max_pool2d(n, 2).item()));
  CHECK(std::isnan(F::max_pool2d(n, 2, 1, 1).to_vector()[4]));
}

TEST_CASE("nn max_pool2d 2x2 stride 2: ties keep the first, NaN wins, odd sizes drop the edge") {
  // Values from {0, 1, 2} (ties everywhere) and a few NaNs, on odd sizes, including rows of
  // more than 16 outputs (the AVX-512 path takes 16 at a time); the reference scans each
  // window in PyTorch's order (row by row), taking a value that is larger or NaN.
  for (auto [H, W] : {std::pair<int64_t, int64_t>{7, 9}, {5, 37}, {4, 64}}) {
    INFO("input ", H, "x", W);
    const int64_t N = 2, C = 3, OH = H / 2, OW = W / 2;
    std::vector<float> v(size_t(N * C * H * W));
    for (size_t i = 0; i < v.size(); ++i) v[i] = float((i * 7 + i / 5) % 3);
    for (size_t i : {5u, 40u, 41u, 200u, 333u}) v[i] = NAN;
    Tensor x = tensor(v, {N, C, H, W}).requires_grad_();
    Tensor y = F::max_pool2d(x, 2);
    REQUIRE(y.shape() == Shape{N, C, OH, OW});
    y.sum().backward();
    std::vector<float> expected_grad(v.size(), 0.0f);
    int mismatches = 0;
    for (int64_t plane = 0; plane < N * C; ++plane)
      for (int64_t i = 0; i < OH; ++i)
        for (int64_t j = 0; j < OW; ++j) {
          int64_t arg = plane * H * W + 2 * i * W + 2 * j;
          for (int64_t dh = 0; dh < 2; ++dh)
            for (int64_t dw = 0; dw < 2; ++dw) {
              int64_t at = plane * H * W + (2 * i + dh) * W + 2 * j + dw;
              if (v[size_t(at)] > v[size_t(arg)] || std::isnan(v[size_t(at)])) arg = at;
            }
          float got = y.data()[(plane * OH + i) * OW + j], want = v[size_t(arg)];
          if (std::isnan(want) ? !std::isnan(got) : got != want) ++mismatches;
          expected_grad[size_t(arg)] += 1;
        }
    CHECK(mismatches == 0);
    CHECK(x.grad().to_vector() == expected_grad);
  }
}

TEST_CASE("nn pooling modules: defaults, forward and printing") {
  Tensor x = randn({2, 3, 8, 6});
  nn::MaxPool2d max(2);
  CHECK(max.stride == F::Size2(2));  // stride defaults to the kernel size
  CHECK(allclose(max(x), F::max_pool2d(x, 2, 2)));
  CHECK(max.extra_repr() == "kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False");
  nn::AvgPool2d avg({3, 2}, 1, {1, 0});
  CHECK(allclose(avg(x), F::avg_pool2d(x, {3, 2}, 1, {1, 0})));
  CHECK(avg.extra_repr() == "kernel_size=(3, 2), stride=1, padding=(1, 0)");
  nn::AdaptiveAvgPool2d global(1);
  CHECK(global(x).shape() == Shape{2, 3, 1, 1});
  CHECK(allclose(global(x).flatten(1), x.mean({2, 3})));
  CHECK(global.extra_repr() == "output_size=1");
  CHECK(nn::parameter_count(max) + nn::parameter_count(avg) + nn::parameter_count(global) == 0);
  // The other options, in PyTorch's positional order.
  nn::MaxPool2d dilated(3, 2, 1, 2, true);
  CHECK(allclose(dilated(x), F::max_pool2d(x, 3, 2, 1, 2, true)));
  CHECK(dilated.extra_repr() == "kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True");
  nn::AvgPool2d options(3, 2, 1, true, false, 4);
  CHECK(options.divisor_override == 4);
  CHECK(allclose(options(x), F::avg_pool2d(x, 3, 2, 1, true, false, 4)));
  CHECK(!nn::AvgPool2d(2).divisor_override.has_value());
  CHECK(nn::AvgPool2d(2).count_include_pad);
}

TEST_CASE("nn pooling: errors name the operation and the values") {
  Tensor x = randn({1, 2, 5, 5});
  CHECK(error_of([&] { F::max_pool2d(randn({5, 5}), 2); }) ==
        "max_pool2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got [5, 5]");
  CHECK(error_of([&] { F::max_pool2d(x, {2, 0}); }) ==
        "max_pool2d: kernel_size must be positive, got (2, 0)");
  CHECK(error_of([&] { F::avg_pool2d(x, 2, -1); }) ==
        "avg_pool2d: stride must be positive, got (-1, -1)");
  CHECK(error_of([&] { F::max_pool2d(x, 3, 1, 2); }) ==
        "max_pool2d: padding (2, 2) should be between 0 and half the kernel size (3, 3)");
  CHECK(error_of([&] { F::avg_pool2d(x, 7); }) ==
        "avg_pool2d: kernel (7, 7) is larger than the padded input 5x5 (input [1, 2, 5, 5])");
  CHECK(error_of([&] { F::adaptive_avg_pool2d(x, {0, 2}); }) ==
        "adaptive_avg_pool2d: output size must be at least (1, 1), got (0, 2)");
  CHECK(error_of([&] { F::adaptive_avg_pool2d(randn({2, 5}), 1); }) ==
        "adaptive_avg_pool2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got [2, 5]");
  CHECK(error_of([&] { F::max_pool2d(x, 2, 1, 0, {1, 0}); }) ==
        "max_pool2d: dilation must be positive, got (1, 0)");
  CHECK(error_of([&] { F::max_pool2d(x, 3, 1, 0, 3); }) ==
        "max_pool2d: kernel (3, 3) with dilation (3, 3) spans 7x7, more than the padded input 5x5 "
        "(input [1, 2, 5, 5])");
  // PyTorch returns -inf for a window whose taps all fall in the padding; refused here.
  CHECK(error_of([] { F::max_pool2d(zeros({1, 1, 2, 2}), 2, 1, 1, 3); }) ==
        "max_pool2d: window 0 covers no input pixel (size 2, kernel 2, stride 1, padding 1, "
        "dilation 3)");
  CHECK(error_of([&] { F::max_pool2d(x, 4, 1, 3, 1, true); }) ==
        "max_pool2d: padding (3, 3) should be between 0 and half the kernel size (4, 4)");
  CHECK(error_of([&] { F::avg_pool2d(x, 2, 2, 0, true, true, 0); }) ==
        "avg_pool2d: divisor_override must not be 0");
  CHECK(error_of([] { nn::AvgPool2d(2, 2, 0, false, true, 0); }) ==
        "AvgPool2d: divisor_override must not be 0");
  CHECK(error_of([] { nn::AdaptiveAvgPool2d(0); }) ==
        "AdaptiveAvgPool2d: output size must be at least (1, 1), got (0, 0)");
}
