// fft2 / ifft2 / complex / complex_abs: values and gradients against PyTorch's torch.fft on
// view_as_real data (tests/autograd/fixtures/fft.json, make_fft_fixtures.py), transforms of
// simple signals by hand, round trips, Parseval, and every error naming its op. Gradcheck and
// forward-vs-reverse run on their rows of tests/op_table.h; double backward on the same rows.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include <tapegrad/tapegrad.h>
#include "tests/json_fixture.h"
#include "tests/nn/fixture.h"  // TG_CHECK_CLOSE
#include "tests/test_util.h"

using namespace tg;
using test::check_values;

namespace {

Tensor fft_array(const std::string& name) {
  static const test::JsonFixture arrays =
      test::JsonFixture::load(std::string(TG_TEST_DIR) + "/autograd/fixtures/fft.json")["arrays"];
  const test::JsonFixture a = arrays[name];
  std::vector<int64_t> dims = a["shape"].integers();
  return tensor(a["data"].floats(), Shape(std::span(dims)));
}

// f on name.x0 gives name.y, and the gradient of sum(name.u * f) is name.grad0.
void check_against_torch(const std::string& name, const std::function<Tensor(const Tensor&)>& f,
                         float tol = 2e-5f) {
  INFO("case ", name);
  Tensor x = fft_array(name + ".x0").requires_grad_();
  Tensor y = f(x);
  TG_CHECK_CLOSE(y, fft_array(name + ".y"), tol, tol);
  (y * fft_array(name + ".u")).sum().backward();
  TG_CHECK_CLOSE(x.grad(), fft_array(name + ".grad0"), tol, tol);
}

}  // namespace

TEST_CASE("fft2/ifft2: values and gradients against torch.fft for every norm") {
  for (std::string norm : {"backward", "forward", "ortho"}) {
    check_against_torch("fft2_" + norm, [&](const Tensor& x) { return fft2(x, norm); });
    check_against_torch("ifft2_" + norm, [&](const Tensor& x) { return ifft2(x, norm); });
  }
  check_against_torch("fft2_odd", [](const Tensor& x) { return fft2(x); }, 1e-4f);
  check_against_torch("ifft2_prime_ortho", [](const Tensor& x) { return ifft2(x, "ortho"); });
}

TEST_CASE("complex_abs: values against PyTorch, and a zero gradient at z = 0") {
  check_against_torch("complex_abs", [](const Tensor& x) { return complex_abs(x); });
  Tensor z = zeros({2, 2}, {.requires_grad = true});
  Tensor r = complex_abs(z);
  check_values(r, {0, 0});
  r.sum().backward();
  check_values(z.grad(), {0, 0, 0, 0});
  check_values(complex_abs(tensor({3, 4, -5, 12}, {2, 2})), {5, 13});
}

TEST_CASE("the zero-filled MRI reconstruction against PyTorch") {
  Tensor mask = fft_array("zero_filled.mask");
  check_against_torch("zero_filled", [&](const Tensor& x) {
    Tensor k = fft2(complex(x, zeros_like(x)), "ortho") * mask;
    return complex_abs(ifft2(k, "ortho"));
  });
}

TEST_CASE("fft2 by hand: a delta transforms to a constant, a constant to a delta") {
  Tensor delta = zeros({2, 4, 2});  // one complex 2 x 4 image, 1 at (0, 0)
  delta.data()[0] = 1;
  // unscaled: all ones; ortho: 1/sqrt(8) everywhere (real parts), imaginary parts 0
  check_values(fft2(delta).select(-1, 0), std::vector<float>(8, 1.f));
  check_values(fft2(delta).select(-1, 1), std::vector<float>(8, 0.f));
  check_values(fft2(delta, "ortho").select(-1, 0), std::vector<float>(8, 1 / std::sqrt(8.f)));
  Tensor one = complex(ones({2, 4}), zeros({2, 4}));
  std::vector<float> spike(8, 0.f);
  spike[0] = 8;
  check_values(fft2(one).select(-1, 0), spike, 1e-5f);
  spike[0] = 1;  // "forward" divides the forward transform by H W
  check_values(fft2(one, "forward").select(-1, 0), spike, 1e-6f);
  // e^{2 pi i m / W} along W = 4 (m = 1): all of its energy lands in bin (0, 1)
  Tensor wave = complex(tensor({1, 0, -1, 0}, {1, 4}), tensor({0, 1, 0, -1}, {1, 4}));
  check_values(fft2(wave).select(-1, 0), {0, 4, 0, 0}, 1e-5f);
}

TEST_CASE("ifft2 inverts fft2 for each norm; ortho keeps the energy (Parseval)") {
  Tensor x = randn({3, 5, 6, 2});
  for (const char* norm : {"backward", "forward", "ortho"}) {
    INFO("norm ", norm);
    CHECK(allclose(ifft2(fft2(x, norm), norm), x, 1e-4f, 1e-5f));
    CHECK(allclose(fft2(ifft2(x, norm), norm), x, 1e-4f, 1e-5f));
  }
  float energy = x.pow(2).sum().item();
  CHECK(fft2(x, "ortho").pow(2).sum().item() == doctest::Approx(energy).epsilon(1e-5));
  // a non-contiguous input (a transposed view) is read through its strides
  Tensor t = randn({6, 5, 2}).transpose(0, 1);
  CHECK(allclose(fft2(t), fft2(t.contiguous()), 1e-5f, 1e-5f));
}

TEST_CASE("fft2/ifft2/complex/complex_abs: errors name the op and the shape") {
  CHECK_THROWS_CONTAINING(fft2(zeros({4, 2})), "fft2: expected complex data as [..., H, W, 2]");
  CHECK_THROWS_CONTAINING(fft2(zeros({4, 2})), "got shape [4, 2]");
  CHECK_THROWS_CONTAINING(ifft2(zeros({2, 4, 4})), "ifft2: expected complex data");
  CHECK_THROWS_CONTAINING(ifft2(zeros({2, 4, 4})), "got shape [2, 4, 4]");
  CHECK_THROWS_CONTAINING(fft2(zeros({0, 4, 2})), "fft2: the transformed dims must not be empty");
  CHECK_THROWS_CONTAINING(
      fft2(zeros({4, 4, 2}), "orthonormal"),
      "fft2: norm must be \"backward\", \"forward\" or \"ortho\", got \"orthonormal\"");
  CHECK_THROWS_CONTAINING(ifft2(zeros({4, 4, 2}), ""), "ifft2: norm must be");
  CHECK_THROWS_CONTAINING(complex(zeros({2, 3}), zeros({3, 2})),
                          "complex: the real part has shape [2, 3] but the imaginary part [3, 2]");
  CHECK_THROWS_CONTAINING(
      complex_abs(zeros({4, 3})),
      "complex_abs: expected complex data as [..., 2] (re, im), got shape [4, 3]");
  // an empty batch is fine: nothing to transform
  CHECK(fft2(zeros({0, 3, 4, 2})).shape() == Shape{0, 3, 4, 2});
}

// ---- float64: a DFT by matrix products in double (core/fft.h), not KissFFT ----------------

namespace {

// The 2-D DFT of x [B, H, W, 2] by its definition, in long double: the independent reference.
std::vector<double> direct_dft2(const Tensor& x, bool inverse, double scale) {
  const int64_t b = x.size(0), h = x.size(1), w = x.size(2);
  std::vector<double> v = x.to_vector<double>(), out(v.size());
  const long double two_pi = 2 * std::acos(-1.0L), sign = inverse ? 1 : -1;
  for (int64_t n = 0; n < b; ++n)
    for (int64_t k = 0; k < h; ++k)
      for (int64_t l = 0; l < w; ++l) {
        long double re = 0, im = 0;
        for (int64_t i = 0; i < h; ++i)
          for (int64_t j = 0; j < w; ++j) {
            long double a = sign * two_pi *
                            ((long double)(i * k % h) / h + (long double)(j * l % w) / w);
            long double xr = v[size_t(((n * h + i) * w + j) * 2)];
            long double xi = v[size_t(((n * h + i) * w + j) * 2 + 1)];
            re += xr * std::cos(a) - xi * std::sin(a);
            im += xr * std::sin(a) + xi * std::cos(a);
          }
        out[size_t(((n * h + k) * w + l) * 2)] = double(re * scale);
        out[size_t(((n * h + k) * w + l) * 2 + 1)] = double(im * scale);
      }
  return out;
}

// max |a - b| / max |b|
double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  double worst = 0, size = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]));
    size = std::max(size, std::abs(b[i]));
  }
  return worst / size;
}

}  // namespace

TEST_CASE("fft2/ifft2 in float64 match the DFT's definition (long double) to 1e-13") {
  manual_seed(4);
  for (Shape shape :
       {Shape{2, 5, 7, 2}, Shape{1, 8, 8, 2}, Shape{1, 13, 1, 2}, Shape{3, 1, 6, 2}}) {
    Tensor x = randn(shape, {.dtype = kFloat64});
    const double n = double(shape[1] * shape[2]);
    for (const char* norm : {"backward", "forward", "ortho"}) {
      INFO("shape ", shape, " norm ", norm);
      const std::string nm = norm;
      const double forward_scale = nm == "ortho" ? 1 / std::sqrt(n) : nm == "forward" ? 1 / n : 1;
      const double inverse_scale = nm == "ortho" ? 1 / std::sqrt(n) : nm == "backward" ? 1 / n : 1;
      Tensor y = fft2(x, norm), z = ifft2(x, norm);
      CHECK(y.dtype() == kFloat64);
      CHECK(relative_error(y.to_vector<double>(), direct_dft2(x, false, forward_scale)) < 1e-13);
      CHECK(relative_error(z.to_vector<double>(), direct_dft2(x, true, inverse_scale)) < 1e-13);
    }
  }
  // By hand, exactly: a delta is all ones, e^{2 pi i m / 4} (m = 1) lands in bin (0, 1).
  Tensor delta = zeros({1, 2, 4, 2}, {.dtype = kFloat64});
  delta.data_ptr<double>()[0] = 1;
  Tensor d = fft2(delta);
  CHECK(d.select(-1, 0).to_vector<double>() == std::vector<double>(8, 1.0));
  CHECK(d.select(-1, 1).to_vector<double>() == std::vector<double>(8, 0.0));
  Tensor wave = complex(tensor(std::vector<double>{1, 0, -1, 0}, {1, 4}, {.dtype = kFloat64}),
                        tensor(std::vector<double>{0, 1, 0, -1}, {1, 4}, {.dtype = kFloat64}));
  std::vector<double> bins = fft2(wave).select(-1, 0).to_vector<double>();
  for (size_t i = 0; i < 4; ++i) CHECK(std::abs(bins[i] - (i == 1 ? 4 : 0)) < 1e-15);
}

TEST_CASE("fft2/ifft2 in float64: round trips exact to 1e-12; the float32 result to 1e-6") {
  manual_seed(9);
  Tensor x = randn({2, 16, 12, 2}, {.dtype = kFloat64});
  for (const char* norm : {"backward", "forward", "ortho"}) {
    INFO("norm ", norm);
    CHECK(relative_error(ifft2(fft2(x, norm), norm).to_vector<double>(), x.to_vector<double>()) <
          1e-12);
    CHECK(relative_error(fft2(ifft2(x, norm), norm).to_vector<double>(), x.to_vector<double>()) <
          1e-12);
    // float32 (KissFFT) of the same values, which are float32 numbers: within its rounding.
    Tensor x32 = x.to(kFloat32), exact = x32.to(kFloat64);
    std::vector<float> y32 = fft2(x32, norm).to_vector();
    CHECK(relative_error(std::vector<double>(y32.begin(), y32.end()),
                         fft2(exact, norm).to_vector<double>()) < 1e-6);
  }
  // Parseval in double.
  Tensor y = fft2(x, "ortho");
  CHECK(std::abs(y.pow(2).sum().item<double>() / x.pow(2).sum().item<double>() - 1) < 1e-14);
}

TEST_CASE("fft2/ifft2 in float64: gradients against torch.fft, gradcheck, dtype errors") {
  // PyTorch's (float32) fixtures, computed here in float64: the same to float32's rounding.
  for (std::string name : {"fft2_backward", "ifft2_ortho", "fft2_odd", "zero_filled"}) {
    INFO("case ", name);
    Tensor x = fft_array(name + ".x0").to(kFloat64).requires_grad_();
    Tensor y = name == "fft2_odd" || name == "fft2_backward" ? fft2(x)
               : name == "ifft2_ortho"                      ? ifft2(x, "ortho")
                                                            : Tensor();
    if (name == "zero_filled") {
      Tensor mask = fft_array("zero_filled.mask").to(kFloat64);
      y = complex_abs(ifft2(fft2(complex(x, zeros_like(x)), "ortho") * mask, "ortho"));
    }
    CHECK(y.dtype() == kFloat64);
    TG_CHECK_CLOSE(y.to(kFloat32), fft_array(name + ".y"), 1e-4f, 2e-5f);
    (y * fft_array(name + ".u").to(kFloat64)).sum().backward();
    CHECK(x.grad().dtype() == kFloat64);
    TG_CHECK_CLOSE(x.grad().to(kFloat32), fft_array(name + ".grad0"), 1e-4f, 2e-5f);
  }
  for (const char* norm : {"backward", "forward", "ortho"}) {
    INFO("norm ", norm);
    using V = const std::vector<Tensor>&;
    GradcheckResult g = gradcheck([&](V v) { return fft2(v[0], norm); }, {randn({2, 3, 5, 2})});
    CHECK_MESSAGE(g.ok, g.message);
    g = gradcheck([&](V v) { return ifft2(v[0], norm); }, {randn({3, 4, 2})});
    CHECK_MESSAGE(g.ok, g.message);
  }
  CHECK(test::error_of([] { ifft2(zeros({1, 4097, 2}, {.dtype = kFloat64})); }) ==
        "ifft2: float64 transforms are DFTs by matrix products, at most 4096 per dim, got shape "
        "[1, 4097, 2]; hint: transform in float32 (KissFFT) for sizes this large");
  CHECK(test::error_of([] { fft2(zeros({2, 2, 2}, {.dtype = kInt64})); }) ==
        "fft2: int64 tensors are not supported (only float32 and float64); convert with "
        ".to(tg::kFloat32)");
}
