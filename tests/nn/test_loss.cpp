// Tests of the losses: every reduction against PyTorch, the course's squared_loss,
// cross-entropy's fused op (values, stability, gradient, label smoothing, Hessian-vector
// product), and every error message. Each loss's gradcheck and tangent check, under every
// reduction, are rows of tests/op_table.h.
#include <doctest/doctest.h>

#include <tapegrad/autograd/forward.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/loss.h>
#include "tests/nn/fixture.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;
namespace F = tg::nn::functional;
using nn::Reduction;

namespace {

const std::pair<Reduction, const char*> kReductions[] = {
    {Reduction::Mean, "mean"}, {Reduction::Sum, "sum"}, {Reduction::None, "none"}};

}  // namespace

TEST_CASE("nn loss: regression losses match PyTorch for every reduction") {
  test::Fixture f("loss.json");
  Tensor x = f["input"], y = f["target"];
  for (auto [r, name] : kReductions) {
    CAPTURE(name);
    TG_CHECK_CLOSE(F::mse_loss(x, y, r), f[fmt::format("mse_{}", name)]);
    TG_CHECK_CLOSE(nn::MSELoss(r)(x, y), f[fmt::format("mse_{}", name)]);
    TG_CHECK_CLOSE(F::l1_loss(x, y, r), f[fmt::format("l1_{}", name)]);
    TG_CHECK_CLOSE(nn::L1Loss(r)(x, y), f[fmt::format("l1_{}", name)]);
    TG_CHECK_CLOSE(F::huber_loss(x, y, r), f[fmt::format("huber_{}", name)]);
    TG_CHECK_CLOSE(nn::HuberLoss(r)(x, y), f[fmt::format("huber_{}", name)]);
  }
  TG_CHECK_CLOSE(nn::HuberLoss(0.5f)(x, y), f["huber_delta_0.5"]);
  TG_CHECK_CLOSE(F::huber_loss(x, y, Reduction::Mean, 0.5f), f["huber_delta_0.5"]);
}

TEST_CASE("nn loss: squared_loss is the course's (y_hat - y)^2 / 2") {
  test::Fixture f("loss.json");
  Tensor y_hat = f["input"], y = f["target"];
  TG_CHECK_CLOSE(F::squared_loss(y_hat, y), f["squared_mean"]);
  TG_CHECK_CLOSE(F::squared_loss(y_hat, y, Reduction::None), f["squared_none"]);
  TG_CHECK_CLOSE(nn::SquaredLoss()(y_hat, y), f["squared_mean"]);
  // Like the course, y is reshaped to y_hat's shape (labels [N] against outputs [N, 1]).
  TG_CHECK_CLOSE(F::squared_loss(y_hat.reshape({12, 1}), y.reshape({12})), f["squared_mean"]);
}

TEST_CASE("nn loss: cross_entropy and nll_loss match PyTorch") {
  test::Fixture f("loss.json");
  Tensor logits = f["logits"], classes = f["classes"];
  for (auto [r, name] : kReductions) {
    CAPTURE(name);
    TG_CHECK_CLOSE(F::cross_entropy(logits, classes, r), f[fmt::format("ce_{}", name)]);
    TG_CHECK_CLOSE(nn::CrossEntropyLoss(r)(logits, classes), f[fmt::format("ce_{}", name)]);
    TG_CHECK_CLOSE(F::cross_entropy(logits, classes, r, 0.1f),
                   f[fmt::format("ce_smooth_{}", name)]);
    TG_CHECK_CLOSE(F::nll_loss(f["log_probs"], classes, r), f[fmt::format("nll_{}", name)]);
    TG_CHECK_CLOSE(nn::NLLLoss(r)(f["log_probs"], classes), f[fmt::format("nll_{}", name)]);
  }
  TG_CHECK_CLOSE(F::cross_entropy(f["big_logits"], classes), f["ce_big_mean"]);
  TG_CHECK_CLOSE(F::cross_entropy(logits.select(0, 2), classes.select(0, 2)), f["ce_single"]);
  // NLL of log_softmax is cross-entropy.
  TG_CHECK_CLOSE(F::nll_loss(F::log_softmax(logits, 1), classes), f["ce_mean"]);
  // nll_loss picks with where, so a log-probability of -inf elsewhere does not make nan.
  Tensor logp = tensor({-INFINITY, 0.0f}, {1, 2});
  CHECK(F::nll_loss(logp, tensor({1.0f}, {1})).item() == 0.0f);
}

TEST_CASE("nn loss: cross_entropy's gradient is (softmax - onehot) / N, as PyTorch's") {
  test::Fixture f("loss.json");
  Tensor logits = f["logits"].requires_grad_();
  F::cross_entropy(logits, f["classes"]).backward();
  TG_CHECK_CLOSE(logits.grad(), f["ce_grad"]);
  Tensor smoothed = f["logits"].requires_grad_();
  F::cross_entropy(smoothed, f["classes"], Reduction::Mean, 0.1f).backward();
  TG_CHECK_CLOSE(smoothed.grad(), f["ce_smooth_grad"]);
  Tensor direct = (F::softmax(f["logits"], 1) - tensor({0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
                                                        1, 0, 0, 1, 0, 0}, {4, 5})) / 4.0f;
  TG_CHECK_CLOSE(logits.grad(), direct);
}

TEST_CASE("nn loss: cross_entropy's Hessian-vector product by reverse over forward") {
  // The tangent rule is built from recorded ops, so backward through it gives H v, where
  // H = (diag(p_i) - p_i p_i^T) / N for each row i, whatever the targets and smoothing.
  test::Fixture f("loss.json");
  Tensor logits = f["logits"], classes = f["classes"];
  manual_seed(3);
  Tensor v = randn({4, 5});
  auto loss = [&](const Tensor& x) {
    return F::cross_entropy(x, classes, Reduction::Mean, 0.1f);
  };
  Tensor hv = hvp(loss, logits, v);
  Tensor p = F::softmax(logits, 1);
  Tensor expected = (p * v - p * (p * v).sum({1}, true)) / 4.0f;
  TG_CHECK_CLOSE(hv, expected, 1e-4f, 1e-6f);
}

TEST_CASE("nn loss: errors name the offending values") {
  Tensor logits = zeros({4, 10});
  CHECK(error_of([&] { F::cross_entropy(logits, tensor({0, 1, 2, 10})); }) ==
        "cross_entropy: target 10 at index 3 is out of range for 10 classes");
  CHECK(error_of([&] { nn::CrossEntropyLoss()(logits, tensor({0, -1, 2, 3})); }) ==
        "cross_entropy: target -1 at index 1 is out of range for 10 classes");
  CHECK(error_of([&] { F::cross_entropy(logits, tensor({0, 2.5f, 2, 3})); }) ==
        "cross_entropy: target 2.5 at index 1 is not an integer class index");
  CHECK(error_of([&] { F::cross_entropy(logits, tensor({0, 1, 2})); }) ==
        "cross_entropy: target [3] does not match input [4, 10] (expected target [4] of class "
        "indices)");
  CHECK(error_of([&] { F::cross_entropy(zeros({4, 10, 2}), tensor({0, 1, 2, 3})); }) ==
        "cross_entropy: input must be [N, C] (or [C]), got [4, 10, 2]");
  CHECK(error_of([&] { F::cross_entropy(zeros({10}), tensor({1}, {1})); }) ==
        "cross_entropy: input [10] needs a 0-d target, got [1]");
  CHECK(error_of([&] { F::cross_entropy(logits, tensor({0, 1, 2, 3}), Reduction::Mean, 1.5f); }) ==
        "cross_entropy: label_smoothing must be in [0, 1], got 1.5");
  CHECK(error_of([] { nn::CrossEntropyLoss(Reduction::Mean, -0.1f); }) ==
        "CrossEntropyLoss: label_smoothing must be in [0, 1], got -0.1");
  CHECK(error_of([&] { F::nll_loss(logits, tensor({0, 1, 2, 12})); }) ==
        "nll_loss: target 12 at index 3 is out of range for 10 classes");
  CHECK(error_of([] { F::mse_loss(zeros({4, 1}), zeros({4})); }) ==
        "mse_loss: input [4, 1] and target [4] have different shapes; hint: reshape the target "
        "to the input's shape");
  CHECK(error_of([] { F::l1_loss(zeros({2}), zeros({3})); }) ==
        "l1_loss: input [2] and target [3] have different shapes; hint: reshape the target to "
        "the input's shape");
  CHECK(error_of([] { F::huber_loss(zeros({2}), zeros({2}), Reduction::Mean, 0.0f); }) ==
        "huber_loss: delta must be positive, got 0");
  CHECK(error_of([] { nn::HuberLoss(-1.0f); }) == "HuberLoss: delta must be positive, got -1");
  CHECK(error_of([] { F::squared_loss(zeros({4, 1}), zeros({3})); }) ==
        "squared_loss: y [3] cannot be reshaped to y_hat's shape [4, 1]");
}

TEST_CASE("nn loss: a loss module is used through the Loss base") {
  test::Fixture f("loss.json");
  std::unique_ptr<nn::Loss> criterion = std::make_unique<nn::CrossEntropyLoss>();
  TG_CHECK_CLOSE((*criterion)(f["logits"], f["classes"]), f["ce_mean"]);
  CHECK(criterion->name() == "CrossEntropyLoss");
  CHECK(criterion->reduction == Reduction::Mean);
}
