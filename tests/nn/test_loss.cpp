// Tests of the losses: every reduction against PyTorch, the course's squared_loss,
// cross-entropy's fused op (values, stability, gradient, label smoothing, Hessian-vector
// product), the options (class weight, ignore_index, probability targets: loss_options.json
// from make_options_fixtures.py) and every error message. Each loss's gradcheck and tangent check, under every
// reduction, are rows of tests/op_table.h.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

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

TEST_CASE("nn loss options: weight, ignore_index and probability targets match PyTorch") {
  test::Fixture f("loss_options.json");
  Tensor logits = f["logits"], classes = f["classes"], w = f["weight"], probs = f["probs"];
  using Loss = std::function<Tensor(const Tensor&, Reduction)>;
  const std::pair<const char*, Loss> cases[] = {
      {"ce_weight",
       [&](const Tensor& z, Reduction r) {
         return F::cross_entropy(z, classes, {.weight = w, .reduction = r});
       }},
      {"ce_ignore",
       [&](const Tensor& z, Reduction r) {
         return F::cross_entropy(z, classes, {.ignore_index = 1, .reduction = r});
       }},
      {"ce_weight_ignore_smooth",
       [&](const Tensor& z, Reduction r) {
         return F::cross_entropy(
             z, classes, {.weight = w, .ignore_index = 3, .reduction = r, .label_smoothing = 0.2f});
       }},
      {"ce_probs",
       [&](const Tensor& z, Reduction r) { return F::cross_entropy(z, probs, {.reduction = r}); }},
      {"ce_probs_weight_smooth",
       [&](const Tensor& z, Reduction r) {
         return F::cross_entropy(z, probs,
                                 {.weight = w, .reduction = r, .label_smoothing = 0.3f});
       }},
      {"nll_weight_ignore",
       [&](const Tensor& z, Reduction r) {
         return F::nll_loss(z, classes, {.weight = w, .ignore_index = 0, .reduction = r});
       }},
  };
  for (const auto& [name, loss] : cases) {
    for (auto [r, rname] : kReductions) {
      std::string key = fmt::format("{}_{}", name, rname);
      CAPTURE(key);
      Tensor z = (std::string(name).starts_with("nll") ? f["log_probs"] : f["logits"]);
      z.requires_grad_();
      Tensor out = loss(z, r);
      TG_CHECK_CLOSE(out, f[key], 1e-5f, 1e-6f);
      out.backward(f[key + ".u"]);
      TG_CHECK_CLOSE(z.grad(), f[key + ".grad"], 1e-5f, 1e-6f);
    }
  }
  // Probability targets are differentiated too (composed from log_softmax, as in PyTorch);
  // the weight is not.
  Tensor q = probs.clone().requires_grad_(), wg = w.clone().requires_grad_();
  F::cross_entropy(logits, q, {.weight = wg, .label_smoothing = 0.3f}).backward();
  TG_CHECK_CLOSE(q.grad(), f["ce_probs_weight_smooth_mean.grad_target"], 1e-5f, 1e-6f);
  CHECK(!wg.grad().defined());
  // Unbatched: logits [C] with a 0-d class index or [C] probabilities.
  TG_CHECK_CLOSE(F::cross_entropy(logits.select(0, 2), classes.select(0, 2), {.weight = w}),
                 f["single_weight"]);
  TG_CHECK_CLOSE(F::cross_entropy(logits.select(0, 2), probs.select(0, 2),
                                  {.label_smoothing = 0.1f}),
                 f["single_probs"]);
  // The modules give the same, and keep the weight as a buffer, as PyTorch.
  nn::CrossEntropyLoss ce({.weight = w, .ignore_index = 3, .label_smoothing = 0.2f});
  TG_CHECK_CLOSE(ce(logits, classes), f["ce_weight_ignore_smooth_mean"]);
  CHECK(ce.state_dict().contains("weight"));
  nn::NLLLoss nll({.weight = w, .ignore_index = 0, .reduction = Reduction::Sum});
  TG_CHECK_CLOSE(nll(f["log_probs"], classes), f["nll_weight_ignore_sum"]);
  CHECK(nn::NLLLoss().state_dict().size() == 0);
}

TEST_CASE("nn loss options: by hand") {
  // Two rows, targets 0 and 1 with weights 2 and 3: the mean is (2 l_0 + 3 l_1) / 5.
  Tensor z = tensor({1, 0, 0, 2}, {2, 2}), t = tensor({0, 1}), w = tensor({2, 3});
  const double l0 = std::log(1 + std::exp(-1.0)), l1 = std::log(1 + std::exp(-2.0));
  CHECK(F::cross_entropy(z, t, {.weight = w}).item() == doctest::Approx((2 * l0 + 3 * l1) / 5));
  // An ignored row adds nothing and leaves the mean: only row 1 is counted.
  CHECK(F::cross_entropy(z, t, {.ignore_index = 0}).item() == doctest::Approx(l1));
  CHECK(F::nll_loss(z, t, {.weight = w, .ignore_index = 0}).item() == doctest::Approx(-2.0));
  CHECK(F::cross_entropy(z, t, {.ignore_index = 0, .reduction = Reduction::None}).to_vector() ==
        std::vector<float>{0, float(l1)});
  // Every target ignored: the mean is 0 / 0, as PyTorch's; the gradient is 0.
  Tensor zg = z.clone().requires_grad_();
  Tensor all = F::cross_entropy(zg, tensor({-100, -100}));
  CHECK(std::isnan(all.item()));
  all.backward();
  CHECK(zg.grad().to_vector() == std::vector<float>{0, 0, 0, 0});
  // A one-hot probability target is the class-index loss.
  Tensor onehot = tensor({1, 0, 0, 1}, {2, 2});
  CHECK(F::cross_entropy(z, onehot).item() == doctest::Approx(F::cross_entropy(z, t).item()));
}

TEST_CASE("nn loss options: errors name the offending values") {
  Tensor logits = zeros({4, 3}), t = tensor({0, 1, 2, 1});
  CHECK(error_of([&] { F::cross_entropy(logits, t, {.weight = ones({4})}); }) ==
        "cross_entropy: weight [4] should hold one value per class, [3]");
  CHECK(error_of([&] { F::nll_loss(logits, t, {.weight = ones({3, 1})}); }) ==
        "nll_loss: weight [3, 1] should hold one value per class, [3]");
  CHECK(error_of([&] { F::cross_entropy(logits, zeros({4, 3}), {.weight = ones({2})}); }) ==
        "cross_entropy: weight [2] should hold one value per class, [3]");
  CHECK(error_of([&] { F::cross_entropy(logits, zeros({4, 3}), {.ignore_index = 0}); }) ==
        "cross_entropy: ignore_index 0 is not supported with probability targets (target [4, 3] "
        "has the input's shape); hint: ignore_index applies to class-index targets [N]");
  CHECK(error_of([&] { F::cross_entropy(logits, zeros({4, 3}), {.label_smoothing = 2}); }) ==
        "cross_entropy: label_smoothing must be in [0, 1], got 2");
  // ignore_index does not make other out-of-range targets valid.
  CHECK(error_of([&] { F::cross_entropy(logits, tensor({0, -100, 3, 1})); }) ==
        "cross_entropy: target 3 at index 2 is out of range for 3 classes");
  CHECK(error_of([&] { F::nll_loss(logits, tensor({0, 5, 2, 1}), {.ignore_index = 2}); }) ==
        "nll_loss: target 5 at index 1 is out of range for 3 classes");
  CHECK(error_of([] { nn::CrossEntropyLoss({.weight = ones({3, 1})}); }) ==
        "CrossEntropyLoss: weight must be [C], one value per class, got [3, 1]");
  CHECK(error_of([] { nn::NLLLoss({.weight = scalar_tensor(1)}); }) ==
        "NLLLoss: weight must be [C], one value per class, got []");
}
