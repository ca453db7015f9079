// Tests of the activation layers, Flatten, Dropout and Identity: values against PyTorch
// (including log-softmax of huge logits and along a middle dim), gradcheck of each module
// (the primitives' own gradcheck and tangent checks are rows of tests/op_table.h),
// Dropout's statistics and errors.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/nn/activation.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/sequential.h>
#include "tests/nn/fixture.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;
namespace F = tg::nn::functional;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

void check_gradient(const Fn& f, const Tensor& x) {
  auto r = gradcheck(f, {x});
  CHECK_MESSAGE(r.ok, r.message);
}

}  // namespace

TEST_CASE("nn activation: values match PyTorch") {
  test::Fixture f("activation.json");
  Tensor x = f["x"];
  TG_CHECK_CLOSE(nn::ReLU()(x), f["relu"]);
  TG_CHECK_CLOSE(F::relu(x), f["relu"]);
  TG_CHECK_CLOSE(nn::Tanh()(x), f["tanh"]);
  TG_CHECK_CLOSE(nn::Sigmoid()(x), f["sigmoid"]);
  TG_CHECK_CLOSE(nn::LeakyReLU()(x), f["leaky_relu_default"]);
  TG_CHECK_CLOSE(nn::LeakyReLU(0.2f)(x), f["leaky_relu_0.2"]);
  TG_CHECK_CLOSE(F::leaky_relu(x, 0.2f), f["leaky_relu_0.2"]);
  TG_CHECK_CLOSE(nn::Softmax(1)(x), f["softmax_1"]);
  TG_CHECK_CLOSE(F::softmax(x, 0), f["softmax_0"]);
  TG_CHECK_CLOSE(nn::LogSoftmax(1)(x), f["log_softmax_1"]);
  TG_CHECK_CLOSE(F::log_softmax(x, -2), f["log_softmax_0"]);
  TG_CHECK_CLOSE(F::log_softmax(f["x4"], 1), f["log_softmax_x4_1"]);
  TG_CHECK_CLOSE(F::softmax(f["x4"], -1), f["softmax_x4_-1"]);
  TG_CHECK_CLOSE(nn::Identity()(x), x, 0.0f, 0.0f);
}

TEST_CASE("nn activation: log_softmax and softmax stay finite for huge logits") {
  test::Fixture f("activation.json");
  TG_CHECK_CLOSE(F::log_softmax(f["big"], 1), f["log_softmax_big"], 1e-5f, 1e-4f);
  TG_CHECK_CLOSE(F::softmax(f["big"], 1), f["softmax_big"]);
  Tensor huge = tensor({1e30f, 0.0f, -1e30f});
  TG_CHECK_CLOSE(F::log_softmax(huge, 0), tensor({0.0f, -1e30f, -2e30f}));
  CHECK(F::log_softmax(scalar_tensor(3), 0).item() == 0);  // one element: log 1
}

TEST_CASE("nn activation: gradcheck of the activation modules") {
  // The functions with their own backward (leaky_relu, log_softmax) are rows of the op
  // table (tests/op_table.h), checked by both modes; here the modules over them.
  manual_seed(0);
  // Away from relu's and leaky_relu's kink at 0: |x| >= 0.1.
  Tensor x = randn({3, 5});
  x = where(x.abs().lt(scalar_tensor(0.1f)), x + 0.3f, x);
  check_gradient([](const std::vector<Tensor>& v) { return nn::ReLU()(v[0]); }, x);
  check_gradient([](const std::vector<Tensor>& v) { return nn::Tanh()(v[0]); }, x);
  check_gradient([](const std::vector<Tensor>& v) { return nn::Sigmoid()(v[0]); }, x);
  check_gradient([](const std::vector<Tensor>& v) { return nn::Softmax(0)(v[0]); }, x);
  Tensor x4 = randn({2, 3, 2, 2});
  check_gradient([](const std::vector<Tensor>& v) { return nn::Flatten()(v[0]); }, x4);
  nn::Dropout dropout(0.5f);
  dropout.eval();
  check_gradient([&](const std::vector<Tensor>& v) { return dropout(v[0]); }, x);
  nn::Sequential net(nn::LeakyReLU(0.1f), nn::LogSoftmax(1), nn::Flatten(0));
  auto r = gradcheck([&] { return net(x); }, {x});
  CHECK_MESSAGE(r.ok, r.message);
}

TEST_CASE("nn activation: Flatten merges the requested dims") {
  Tensor x = zeros({2, 3, 4, 5});
  CHECK(nn::Flatten()(x).shape() == Shape{2, 60});
  CHECK(nn::Flatten(0)(x).shape() == Shape{120});
  CHECK(nn::Flatten(1, 2)(x).shape() == Shape{2, 12, 5});
  CHECK(nn::Flatten(-3, -2).extra_repr() == "start_dim=-3, end_dim=-2");
}

TEST_CASE("nn activation: Dropout keeps the mean, zeroes a fraction p, and is seeded") {
  float p = 0.3f;
  nn::Dropout dropout(p);
  Tensor x = ones({200000});
  manual_seed(7);
  Tensor y = dropout(x);
  std::vector<float> v = y.to_vector();
  int64_t zeros_seen = 0, others = 0;  // others: neither 0 nor the scaled 1 / (1 - p)
  for (float e : v) {
    if (e == 0) ++zeros_seen;
    else if (e != 1 / (1 - p)) ++others;
  }
  CHECK(others == 0);
  // 200000 draws: the std of the zero fraction is sqrt(p (1 - p) / n) ~ 0.001.
  CHECK(double(zeros_seen) / v.size() == doctest::Approx(p).epsilon(0.02));
  CHECK(y.mean().item() == doctest::Approx(1.0).epsilon(0.01));
  manual_seed(7);
  TG_CHECK_CLOSE(dropout(x), y, 0.0f, 0.0f);  // same seed, same mask

  // The gradient is the same mask: 1 / (1 - p) where kept, 0 where dropped.
  Tensor leaf = ones({1000}, {.requires_grad = true});
  Tensor out = dropout(leaf);
  out.sum().backward();
  TG_CHECK_CLOSE(leaf.grad(), out.detach(), 0.0f, 0.0f);

  dropout.eval();  // identity in eval mode
  CHECK(dropout(x).same(x));
  CHECK(F::dropout(x, 0.0f).same(x));
  CHECK(F::dropout(x, 0.5f, false).same(x));
}

TEST_CASE("nn activation: errors") {
  CHECK(error_of([] { nn::Dropout(1.0f); }) == "Dropout: probability p must be in [0, 1), got 1");
  CHECK(error_of([] { nn::Dropout(-0.1f); }) ==
        "Dropout: probability p must be in [0, 1), got -0.1");
  CHECK(error_of([] { F::dropout(ones({2}), 1.5f); }) ==
        "dropout: probability p must be in [0, 1), got 1.5");
  CHECK(error_of([] { F::softmax(ones({2, 3}), 2); }) ==
        "softmax: dim 2 out of range for a tensor of 2 dims (expected -2..1)");
  CHECK(error_of([] { F::log_softmax(ones({2, 3}), -3); }) ==
        "log_softmax: dim -3 out of range for a tensor of 2 dims (expected -2..1)");
}

TEST_CASE("nn activation: modules print their options like PyTorch") {
  nn::Sequential net(nn::ReLU(), nn::LeakyReLU(), nn::Softmax(1), nn::LogSoftmax(-1),
                     nn::Flatten(), nn::Dropout(), nn::Identity(), nn::Tanh(), nn::Sigmoid());
  CHECK(nn::to_string(net) ==
        "Sequential(\n"
        "  (0): ReLU()\n"
        "  (1): LeakyReLU(negative_slope=0.01)\n"
        "  (2): Softmax(dim=1)\n"
        "  (3): LogSoftmax(dim=-1)\n"
        "  (4): Flatten(start_dim=1, end_dim=-1)\n"
        "  (5): Dropout(p=0.5)\n"
        "  (6): Identity()\n"
        "  (7): Tanh()\n"
        "  (8): Sigmoid()\n"
        ")\n"
        "Total params: 0\n"
        "Trainable params: 0\n"
        "Non-trainable params: 0");
}
