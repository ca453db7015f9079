// Tests of the TV proximal operator: the FGP solution matches an independent PyTorch solution
// (Chambolle-Pock primal-dual, fixtures/make_prox_tv_fixtures.py), its objective is no larger
// than at v or at nearby points, constant images are fixed points, the lower bound holds,
// channels are solved independently, and errors name the bad value.
#include <doctest/doctest.h>

#include <cmath>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <tapegrad/optim/prox_tv.h>
#include "tests/json_fixture.h"
#include "tests/test_util.h"

using namespace tg;
using tg::test::JsonFixture;

namespace {

double objective(const Tensor& x, const Tensor& v, float weight) {
  double sq = (x - v).pow(2).sum().item();
  return 0.5 * sq + weight * optim::total_variation(x);
}

}  // namespace

TEST_CASE("prox_tv: matches an independent PyTorch solution (Chambolle-Pock)") {
  JsonFixture cases =
      JsonFixture::load(std::string(TG_TEST_DIR) + "/optim/fixtures/prox_tv.json")["cases"];
  REQUIRE(cases.size() == 3);
  for (const std::string& name : cases.keys()) {
    INFO("case ", name);
    JsonFixture c = cases[name];
    std::vector<int64_t> dims = c["shape"].integers();
    Shape shape{std::span<const int64_t>(dims)};
    Tensor v = tensor(c["v"].floats(), shape);
    float weight = c["weight"].floats().at(0);
    std::vector<float> lower = c["lower"].floats();
    optim::ProxTVOptions options{.iterations = 3000};
    if (!lower.empty()) options.lower = lower[0];
    Tensor x = optim::prox_tv(v, weight, options);
    std::vector<double> expected = c["x"].numbers();
    std::vector<float> got = x.to_vector();
    REQUIRE(got.size() == expected.size());
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - expected[i]));
    CHECK(worst < 2e-4);
    CHECK(objective(x, v, weight) == doctest::Approx(c["objective"].numbers().at(0)).epsilon(1e-5));
    // the default 50 iterations come within a few percent (measured: 0.02% at weight 0.2,
    // 0.3% at 0.6, 3% at 1.5: FGP's dual step 1 / (8 w) shrinks as the weight grows)
    Tensor x50 = optim::prox_tv(v, weight, {.lower = options.lower});
    CHECK(objective(x50, v, weight) <= c["objective"].numbers().at(0) * (1 + 0.05));
    CHECK(objective(x50, v, weight) >= objective(x, v, weight));
  }
}

TEST_CASE("prox_tv: its objective is no larger than at v or at perturbed points") {
  manual_seed(7);
  Tensor v = rand({2, 10, 12});
  const float weight = 0.3f;
  Tensor x = optim::prox_tv(v, weight, {.iterations = 500});
  double best = objective(x, v, weight);
  CHECK(best < objective(v, v, weight));
  for (int trial = 0; trial < 20; ++trial) {
    Tensor y = x + 0.01f * randn({2, 10, 12});
    CHECK(best <= objective(y, v, weight) + 1e-6);
  }
  // the mean of each channel is kept (TV ignores constants; no constraint)
  CHECK(x.sum().item() == doctest::Approx(v.sum().item()).epsilon(1e-4));
}

TEST_CASE(
    "prox_tv: constant images are fixed points; a lower bound holds; channels are "
    "independent") {
  Tensor c = full({3, 5, 6}, 0.7f);
  test::check_values(optim::prox_tv(c, 2.f), std::vector<float>(90, 0.7f), 1e-6f);

  manual_seed(2);
  Tensor v = randn({2, 8, 8});
  Tensor x = optim::prox_tv(v, 0.5f, {.lower = 0.f});
  CHECK(x.min().item() >= 0.f);
  // each channel alone gives the same result as the pair
  Tensor x1 = optim::prox_tv(v.select(0, 1).contiguous(), 0.5f, {.lower = 0.f});
  test::check_values(x.select(0, 1).contiguous(), x1.to_vector(), 1e-6f);
  // weight 0 returns v, projected
  test::check_values(optim::prox_tv(v, 0.f), v.to_vector(), 1e-7f);
  test::check_values(optim::prox_tv(v, 0.f, {.lower = 0.f}), v.clamp_min(0.f).to_vector(), 1e-7f);
  // a huge weight flattens each channel to its mean
  Tensor flat = optim::prox_tv(v, 1e4f, {.iterations = 2000});
  for (int ch = 0; ch < 2; ++ch) {
    float mean = v.select(0, ch).mean().item();
    Tensor channel = flat.select(0, ch);
    CHECK(channel.max().item() == doctest::Approx(mean).epsilon(1e-3).scale(1));
    CHECK(channel.min().item() == doctest::Approx(mean).epsilon(1e-3).scale(1));
  }
}

TEST_CASE("total_variation: hand-worked values") {
  // [[0, 1], [2, 4]]: (0,0): sqrt(2^2 + 1^2); (0,1): |1 - 4|; (1,0): |2 - 4|
  Tensor x = tensor({0, 1, 2, 4}, {2, 2});
  CHECK(optim::total_variation(x) == doctest::Approx(std::sqrt(5.0) + 3 + 2));
  CHECK(optim::total_variation(tensor({1, 3, 6}, {1, 3})) == doctest::Approx(5));
  CHECK(optim::total_variation(full({2, 4, 4}, 3.f)) == 0);
}

TEST_CASE("prox_tv: errors name the bad value") {
  Tensor v = rand({4, 4});
  CHECK_THROWS_CONTAINING(optim::prox_tv(rand({5}), 1.f),
                          "prox_tv: input must have shape (..., H, W), got [5]");
  CHECK_THROWS_CONTAINING(optim::prox_tv(v, -0.5f), "prox_tv: weight -0.5 must be finite and >= 0");
  CHECK_THROWS_CONTAINING(optim::prox_tv(v, NAN), "prox_tv: weight nan");
  CHECK_THROWS_CONTAINING(optim::prox_tv(v, 1.f, {.iterations = 0}),
                          "prox_tv: iterations 0 must be >= 1");
  CHECK_THROWS_CONTAINING(optim::prox_tv(v, 1.f, {.lower = INFINITY}),
                          "prox_tv: lower bound inf is not finite");
  Tensor bad = v.clone();
  bad.data()[3] = NAN;
  CHECK_THROWS_CONTAINING(optim::prox_tv(bad, 1.f),
                          "prox_tv: input [4, 4] has a non-finite value nan at element 3");
  CHECK_THROWS_CONTAINING(optim::total_variation(rand({3})),
                          "total_variation: input must have shape");
}
