// Tests of nn::init: fans and gains against PyTorch, the bounds and spreads of every
// initialiser on large tensors, seeding, use on parameters that require grad, and errors.
#include <doctest/doctest.h>

#include <cmath>

#include <tapegrad/nn/init.h>
#include <tapegrad/nn/linear.h>
#include "tests/nn/fixture.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;
namespace init = tg::nn::init;
using init::Mode;
using init::Nonlinearity;

namespace {

float max_abs(const Tensor& t) { return t.abs().max().item(); }

}  // namespace

TEST_CASE("nn init: fans and gains match PyTorch") {
  test::Fixture f("init.json");
  auto [conv_in, conv_out] = init::calculate_fan_in_and_fan_out(empty({6, 3, 5, 5}));
  CHECK(float(conv_in) == f["fans_conv"].at({0}));
  CHECK(float(conv_out) == f["fans_conv"].at({1}));
  auto [in, out] = init::calculate_fan_in_and_fan_out(empty({5, 4}));
  CHECK(float(in) == f["fans_linear"].at({0}));
  CHECK(float(out) == f["fans_linear"].at({1}));
  Tensor gains = tensor({init::calculate_gain(Nonlinearity::Linear),
                         init::calculate_gain(Nonlinearity::Sigmoid),
                         init::calculate_gain(Nonlinearity::Tanh),
                         init::calculate_gain(Nonlinearity::ReLU),
                         init::calculate_gain(Nonlinearity::LeakyReLU),
                         init::calculate_gain(Nonlinearity::LeakyReLU, 0.2f),
                         init::calculate_gain(Nonlinearity::LeakyReLU, std::sqrt(5.0f))});
  TG_CHECK_CLOSE(gains, f["gains"]);
}

TEST_CASE("nn init: kaiming_uniform_ stays within its bound and fills it") {
  manual_seed(0);
  Tensor w = empty({256, 64, 3, 3});  // fan_in 576, fan_out 2304
  init::kaiming_uniform_(w, 0, Mode::FanIn, Nonlinearity::ReLU);
  float bound = std::sqrt(2.0f) * std::sqrt(3.0f / 576);
  CHECK(max_abs(w) <= bound);
  CHECK(max_abs(w) > 0.999f * bound);
  CHECK(w.std().item() == doctest::Approx(bound / std::sqrt(3.0f)).epsilon(0.01));
  init::kaiming_uniform_(w, 0, Mode::FanOut, Nonlinearity::ReLU);
  CHECK(max_abs(w) <= std::sqrt(2.0f) * std::sqrt(3.0f / 2304));
  // The default (leaky_relu, a = 0) is the ReLU gain; Linear's a = sqrt(5) gives 1/sqrt(fan_in).
  init::kaiming_uniform_(w);
  CHECK(max_abs(w) <= bound);
  init::kaiming_uniform_(w, std::sqrt(5.0f));
  CHECK(max_abs(w) <= 1 / std::sqrt(576.0f));
  CHECK(max_abs(w) > 0.999f / std::sqrt(576.0f));
}

TEST_CASE("nn init: normal initialisers have the requested spread") {
  manual_seed(1);
  Tensor w = empty({500, 400});
  init::kaiming_normal_(w, 0, Mode::FanIn, Nonlinearity::ReLU);
  CHECK(w.std().item() == doctest::Approx(std::sqrt(2.0f / 400)).epsilon(0.01));
  CHECK(std::abs(w.mean().item()) < 0.01f * std::sqrt(2.0f / 400));
  init::kaiming_normal_(w, 0, Mode::FanOut, Nonlinearity::Tanh);
  CHECK(w.std().item() == doctest::Approx(5.0f / 3.0f / std::sqrt(500.0f)).epsilon(0.01));
  init::xavier_normal_(w, 2.0f);
  CHECK(w.std().item() == doctest::Approx(2.0f * std::sqrt(2.0f / 900)).epsilon(0.01));
  init::normal_(w, 3.0f, 0.5f);
  CHECK(w.mean().item() == doctest::Approx(3.0f).epsilon(0.001));
  CHECK(w.std().item() == doctest::Approx(0.5f).epsilon(0.01));
}

TEST_CASE("nn init: uniform, xavier_uniform and the constants") {
  manual_seed(2);
  Tensor w = empty({300, 200});
  init::xavier_uniform_(w);
  float a = std::sqrt(6.0f / 500);
  CHECK(max_abs(w) <= a);
  CHECK(max_abs(w) > 0.999f * a);
  init::uniform_(w, -2.0f, 5.0f);
  CHECK(w.min().item() >= -2.0f);
  CHECK(w.max().item() < 5.0f);
  CHECK(w.mean().item() == doctest::Approx(1.5f).epsilon(0.01));
  TG_CHECK_CLOSE(init::constant_(w, 0.25f), full({300, 200}, 0.25f), 0.0f, 0.0f);
  TG_CHECK_CLOSE(init::zeros_(w), zeros({300, 200}), 0.0f, 0.0f);
  TG_CHECK_CLOSE(init::ones_(w), ones({300, 200}), 0.0f, 0.0f);
  CHECK(init::ones_(w).same(w));  // returns the same tensor, filled in place
}

TEST_CASE("nn init: seeded, works on parameters, and records nothing") {
  nn::Linear lin(30, 20);
  manual_seed(3);
  init::kaiming_normal_(lin.weight);
  Tensor first = lin.weight.clone();
  manual_seed(3);
  init::kaiming_normal_(lin.weight);
  TG_CHECK_CLOSE(lin.weight, first.detach(), 0.0f, 0.0f);
  CHECK(lin.weight.is_leaf());
  CHECK(lin.weight.requires_grad());
  // Strided views are filled too (e.g. a slice of a larger weight).
  Tensor big = zeros({4, 6});
  init::ones_(big.slice(1, 0, 6, 2));
  CHECK(big.sum().item() == 12);
  init::xavier_uniform_(empty({0, 5}));  // zero elements: nothing to do, no error
}

TEST_CASE("nn init: errors") {
  CHECK(error_of([] { init::kaiming_uniform_(empty({5})); }) ==
        "calculate_fan_in_and_fan_out: fan in and fan out need at least 2 dims, got [5]");
  CHECK(error_of([] { init::xavier_normal_(scalar_tensor(1)); }) ==
        "calculate_fan_in_and_fan_out: fan in and fan out need at least 2 dims, got []");
  CHECK(error_of([] { init::uniform_(empty({2}), 1.0f, 0.0f); }) ==
        "uniform_: low 1 is greater than high 0");
  CHECK(error_of([] { init::normal_(empty({2}), 0.0f, -1.0f); }) ==
        "normal_: std must be non-negative, got -1");
}
