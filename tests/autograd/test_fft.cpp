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
