// Tests of PSNR and SSIM: values against an independent PyTorch computation (F.conv2d with the
// Gaussian window; fixtures/make_image_quality_fixtures.py), hand-worked cases (identical
// images, a constant offset, constant images where SSIM is its luminance term alone), and
// every error message.
#include <doctest/doctest.h>

#include <cmath>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <tapegrad/train/image_quality.h>
#include "tests/json_fixture.h"
#include "tests/test_util.h"

using namespace tg;
using tg::test::JsonFixture;

TEST_CASE("psnr and ssim: agree with PyTorch on the fixture cases") {
  JsonFixture cases =
      JsonFixture::load(std::string(TG_TEST_DIR) + "/train/fixtures/image_quality.json")["cases"];
  REQUIRE(cases.size() >= 5);
  for (const std::string& name : cases.keys()) {
    INFO("case ", name);
    JsonFixture c = cases[name];
    std::vector<int64_t> dims = c["shape"].integers();
    Shape shape{std::span<const int64_t>(dims)};
    Tensor estimate = tensor(c["estimate"].floats(), shape);
    Tensor reference = tensor(c["reference"].floats(), shape);
    double given = c["data_range"].numbers().at(0);
    std::optional<double> range = given > 0 ? std::optional<double>(given) : std::nullopt;
    CHECK(train::psnr(estimate, reference, range) ==
          doctest::Approx(c["psnr"].numbers().at(0)).epsilon(1e-9));
    CHECK(train::ssim(estimate, reference, range) ==
          doctest::Approx(c["ssim"].numbers().at(0)).epsilon(1e-9));
  }
}

TEST_CASE("psnr and ssim: hand-worked values") {
  manual_seed(3);
  Tensor y = rand({12, 14});
  SUBCASE("identical images: psnr is +inf, ssim is 1") {
    CHECK(std::isinf(train::psnr(y, y)));
    CHECK(train::psnr(y, y) > 0);
    CHECK(train::ssim(y, y) == doctest::Approx(1.0).epsilon(1e-12));
  }
  SUBCASE("a constant offset c: psnr = 20 log10(L / c)") {
    Tensor x = y + 0.125f;  // exact in float32 for values in [0, 1)
    CHECK(train::psnr(x, y, 1.0) == doctest::Approx(20 * std::log10(8.0)).epsilon(1e-6));
    CHECK(train::psnr(x, y, 2.0) == doctest::Approx(20 * std::log10(16.0)).epsilon(1e-6));
  }
  SUBCASE("constant images a, b: variances vanish, ssim = (2ab + C1) / (a^2 + b^2 + C1)") {
    Tensor a = full({11, 13}, 0.5f), b = full({11, 13}, 0.25f);
    double c1 = 0.01 * 0.01;
    CHECK(train::ssim(b, a, 1.0) ==
          doctest::Approx((2 * 0.5 * 0.25 + c1) / (0.25 + 0.0625 + c1)).epsilon(1e-12));
    // L = 4: C1 = (0.04)^2
    c1 = 0.04 * 0.04;
    CHECK(train::ssim(b, a, 4.0) ==
          doctest::Approx((2 * 0.5 * 0.25 + c1) / (0.25 + 0.0625 + c1)).epsilon(1e-12));
  }
  SUBCASE("the default data_range is the reference's max - min") {
    Tensor x = y * 0.9f + 0.05f;
    double L = (y.max() - y.min()).item();
    CHECK(train::psnr(x, y) == doctest::Approx(train::psnr(x, y, L)));
    CHECK(train::ssim(x, y) == doctest::Approx(train::ssim(x, y, L)));
  }
}

TEST_CASE("psnr and ssim: errors name the function and the bad shapes or values") {
  Tensor a = rand({12, 12}), b = rand({12, 13});
  CHECK_THROWS_CONTAINING(
      train::psnr(a, b),
      "psnr: the estimate's shape [12, 12] differs from the reference's [12, 13]");
  CHECK_THROWS_CONTAINING(train::ssim(a, b), "ssim: the estimate's shape [12, 12]");
  CHECK_THROWS_CONTAINING(train::ssim(rand({2, 12, 12}), rand({2, 12, 12})),
                          "ssim: images must be 2-D (H, W), got shape [2, 12, 12]");
  CHECK_THROWS_CONTAINING(train::ssim(rand({10, 40}), rand({10, 40})),
                          "ssim: image [10, 40] is smaller than the 11 x 11 Gaussian window");
  CHECK_THROWS_CONTAINING(train::psnr(a, full({12, 12}, 2.f)), "psnr: the reference is constant");
  CHECK_THROWS_CONTAINING(train::psnr(a, a, 0.0), "psnr: data_range 0 must be finite and > 0");
  CHECK_THROWS_CONTAINING(train::ssim(a, a, -1.0), "ssim: data_range -1 must be finite and > 0");
  Tensor bad = a.clone();
  bad.data()[5] = NAN;
  CHECK_THROWS_CONTAINING(train::psnr(bad, a),
                          "psnr: the estimate has a non-finite value nan at element 5");
  CHECK_THROWS_CONTAINING(train::ssim(a, bad), "ssim: the reference has a non-finite value");
  CHECK_THROWS_CONTAINING(train::psnr(zeros({0}), zeros({0})), "psnr: the estimate is empty");
}
