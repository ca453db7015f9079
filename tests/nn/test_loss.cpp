// Tests of the losses: every reduction against PyTorch, the course's squared_loss,
// cross-entropy's fused op (values, stability, gradient, label smoothing, Hessian-vector
// product), the options (class weight, ignore_index, probability targets: loss_options.json
// from make_options_fixtures.py) and every error message. Each loss's gradcheck and tangent check, under every
// reduction, are rows of tests/op_table.h.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include <tapegrad/autograd/forward.h>
#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/core/random.h>
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
        "cross_entropy: target 2.5 at index 1 is not an integer class index (float32 target); "
        "hint: class indices are an int64 tensor, tensor(std::vector<int64_t>{...})");
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

// ---- dtypes: int64 class targets (PyTorch's), float64 inputs ------------------------------

namespace {

Tensor longs(std::vector<int64_t> v) { return tensor(v, {int64_t(v.size())}); }

// Values away from the kinks of l1 (0) and huber (|d| = delta = 1): d in +-[0.2, 0.8] or
// +-[1.3, 2], in float64.
Tensor away_from_kinks(const Shape& shape) {
  Tensor small = test::sample(shape, 0.2f, 0.8f, true), big = test::sample(shape, 1.3f, 2.0f, true);
  return where(rand(shape).gt(scalar_tensor(0.5f)), big, small).to(kFloat64);
}

}  // namespace

TEST_CASE("nn loss dtypes: int64 class targets give what float targets holding them give") {
  manual_seed(3);
  Tensor z = randn({5, 4}), w = tensor({0.5f, 2, 1, 3});
  Tensor t_long = longs({0, 3, 1, 3, 2}), t_float = tensor({0, 3, 1, 3, 2});
  using Loss = std::function<Tensor(const Tensor&, const Tensor&)>;
  const std::pair<const char*, Loss> cases[] = {
      {"cross_entropy", [](auto& x, auto& t) { return F::cross_entropy(x, t); }},
      {"cross_entropy weight ignore smooth",
       [&](auto& x, auto& t) {
         return F::cross_entropy(x, t, {.weight = w, .ignore_index = 1, .label_smoothing = 0.2f});
       }},
      {"nll_loss weight ignore",
       [&](auto& x, auto& t) {
         return F::nll_loss(x, t, {.weight = w, .ignore_index = 2, .reduction = Reduction::Sum});
       }},
      {"CrossEntropyLoss", [](auto& x, auto& t) { return nn::CrossEntropyLoss()(x, t); }},
  };
  for (const auto& [name, loss] : cases) {
    CAPTURE(name);
    Tensor a = z.clone().requires_grad_(), b = z.clone().requires_grad_();
    Tensor la = loss(a, t_long), lb = loss(b, t_float);
    CHECK(la.item() == lb.item());  // the same indices reach the same loop
    la.backward();
    lb.backward();
    CHECK(a.grad().to_vector() == b.grad().to_vector());
  }
  // Unbatched: a 0-d int64 target.
  CHECK(F::cross_entropy(z.select(0, 1), scalar_tensor(3, {.dtype = kInt64})).item() ==
        F::cross_entropy(z.select(0, 1), scalar_tensor(3)).item());
}

TEST_CASE("nn loss dtypes: float64 losses keep double precision (values by hand)") {
  // Rows [1, 0] and [0, 2] with classes 0 and 1: l_0 = log(1 + e^-1), l_1 = log(1 + e^-2).
  Tensor z = tensor(std::vector<double>{1, 0, 0, 2}, {2, 2}, {.dtype = kFloat64});
  const double l0 = std::log1p(std::exp(-1.0)), l1 = std::log1p(std::exp(-2.0));
  Tensor t = longs({0, 1});
  Tensor ce = F::cross_entropy(z, t);
  CHECK(ce.dtype() == kFloat64);
  CHECK(std::abs(ce.item<double>() - (l0 + l1) / 2) < 1e-15);
  Tensor w = tensor(std::vector<double>{2, 3}, {2}, {.dtype = kFloat64});
  CHECK(std::abs(F::cross_entropy(z, t, {.weight = w}).item<double>() - (2 * l0 + 3 * l1) / 5) <
        1e-15);
  // The gradient (softmax - onehot) / N, in double: row 0 is [-e^-1, e^-1] / (1 + e^-1) / 2.
  Tensor zg = z.clone().requires_grad_();
  F::cross_entropy(zg, t).backward();
  CHECK(zg.grad().dtype() == kFloat64);
  const double p = std::exp(-1.0) / (1 + std::exp(-1.0));
  CHECK(std::abs(zg.grad().at<double>({0, 0}) + p / 2) < 1e-15);
  // nll_loss picks -x[i, t_i]; mse of d = 1e-9 needs double (its square underflows float's
  // precision next to nothing, but 1e-18 is exact enough in double).
  CHECK(F::nll_loss(z, t, Reduction::Sum).item<double>() == -3.0);
  Tensor a = tensor(std::vector<double>{1 + 1e-9}, {1}, {.dtype = kFloat64});
  Tensor b = tensor(std::vector<double>{1}, {1}, {.dtype = kFloat64});
  CHECK(F::mse_loss(a, b).item<double>() == doctest::Approx(1e-18).epsilon(1e-6));
  CHECK(F::l1_loss(a, b).item<double>() == doctest::Approx(1e-9).epsilon(1e-6));
  CHECK(F::huber_loss(a, b).item<double>() == doctest::Approx(0.5e-18).epsilon(1e-6));
  CHECK(F::squared_loss(a, b).item<double>() == doctest::Approx(0.5e-18).epsilon(1e-6));
}

TEST_CASE("nn loss dtypes: float64 gradchecks of every loss") {
  manual_seed(11);
  using V = const std::vector<Tensor>&;
  Tensor t = longs({2, 0, 4, 1, 4, 3});
  Tensor w = tensor({0.5f, 2, 1, 1.5f, 3}).to(kFloat64);
  Tensor logits = randn({6, 5}, {.dtype = kFloat64});
  Tensor probs = F::softmax(randn({6, 5}, {.dtype = kFloat64}), 1).detach();
  Tensor x = randn({3, 4}, {.dtype = kFloat64});
  Tensor y = (x - away_from_kinks({3, 4})).detach();  // x - y away from 0 and from +-1
  for (auto [r, rname] : kReductions) {
    CAPTURE(rname);
    const std::pair<const char*, std::function<GradcheckResult()>> cases[] = {
        {"mse_loss",
         [&] { return gradcheck([=](V v) { return F::mse_loss(v[0], v[1], r); }, {x, y}); }},
        {"squared_loss",
         [&] { return gradcheck([=](V v) { return F::squared_loss(v[0], v[1], r); }, {x, y}); }},
        {"l1_loss",
         [&] { return gradcheck([=](V v) { return F::l1_loss(v[0], v[1], r); }, {x, y}); }},
        {"huber_loss",
         [&] { return gradcheck([=](V v) { return F::huber_loss(v[0], v[1], r); }, {x, y}); }},
        {"cross_entropy",
         [&] { return gradcheck([=](V v) { return F::cross_entropy(v[0], t, r); }, {logits}); }},
        {"cross_entropy weight ignore smooth",
         [&] {
           return gradcheck([=](V v) {
             return F::cross_entropy(v[0], t, {.weight = w, .ignore_index = 0, .reduction = r,
                                               .label_smoothing = 0.1f});
           }, {logits});
         }},
        {"cross_entropy probabilities",
         [&] {
           return gradcheck([=](V v) {
             return F::cross_entropy(v[0], v[1], {.weight = w, .reduction = r,
                                                  .label_smoothing = 0.2f});
           }, {logits, probs});
         }},
        {"nll_loss weight ignore",
         [&] {
           return gradcheck([=](V v) {
             return F::nll_loss(F::log_softmax(v[0], 1), t, {.weight = w, .ignore_index = 4,
                                                             .reduction = r});
           }, {logits});
         }},
    };
    for (const auto& [name, check_one] : cases) {
      CAPTURE(name);
      GradcheckResult g = check_one();
      CHECK_MESSAGE(g.ok, g.message);
    }
  }
}

TEST_CASE("nn loss dtypes: float64 and float32 agree to float32 rounding") {
  manual_seed(5);
  Tensor z = randn({8, 10}) * 3, t = longs({1, 9, 0, 0, 5, 7, 2, 3});
  double d32 = F::cross_entropy(z, t, Reduction::Mean, 0.1f).item<float>();
  double d64 = F::cross_entropy(z.to(kFloat64), t, Reduction::Mean, 0.1f).item<double>();
  CHECK(std::abs(d32 - d64) <= 1e-6 * std::abs(d64));
  Tensor g32 = z.clone().requires_grad_(), g64 = z.to(kFloat64).requires_grad_();
  F::cross_entropy(g32, t).backward();
  F::cross_entropy(g64, t).backward();
  CHECK(allclose(g32.grad().to(kFloat64), g64.grad(), 1e-5, 1e-7));
}

TEST_CASE("nn loss dtypes: errors name the op and the dtypes") {
  Tensor logits = zeros({4, 3});
  CHECK(error_of([&] { F::cross_entropy(logits, tensor({0, 1.5f, 2, 1})); }) ==
        "cross_entropy: target 1.5 at index 1 is not an integer class index (float32 target); "
        "hint: class indices are an int64 tensor, tensor(std::vector<int64_t>{...})");
  CHECK(error_of([&] { F::nll_loss(logits, tensor({0, 1, 2, 1.5f}).to(kFloat64)); }) ==
        "nll_loss: target 1.5 at index 3 is not an integer class index (float64 target); "
        "hint: class indices are an int64 tensor, tensor(std::vector<int64_t>{...})");
  CHECK(error_of([&] { F::cross_entropy(logits, longs({0, 1, 3, 1})); }) ==
        "cross_entropy: target 3 at index 2 is out of range for 3 classes");
  CHECK(error_of([&] { F::nll_loss(logits, longs({0, -7, 2, 1})); }) ==
        "nll_loss: target -7 at index 1 is out of range for 3 classes");
  CHECK(error_of([&] { F::cross_entropy(logits, zeros({4, 3}, {.dtype = kInt64})); }) ==
        "cross_entropy: probability target [4, 3] is int64 but the input is float32; hint: class "
        "indices are a [N] target, probabilities a floating target of the input's dtype");
  CHECK(error_of([&] { F::cross_entropy(logits.to(kFloat64), zeros({4, 3})); }) ==
        "cross_entropy: probability target [4, 3] is float32 but the input is float64; hint: "
        "class indices are a [N] target, probabilities a floating target of the input's dtype");
  CHECK(error_of([&] {
          F::cross_entropy(logits.to(kFloat64), longs({0, 1, 2, 1}), {.weight = ones({3})});
        }) == "cross_entropy: weight is float32 but the input is float64; hint: convert the "
              "weight with .to(tg::kFloat64)");
  CHECK(error_of([&] {
          F::nll_loss(logits, longs({0, 1, 2, 1}), {.weight = ones({3}, {.dtype = kFloat64})});
        }) == "nll_loss: weight is float64 but the input is float32; hint: convert the weight "
              "with .to(tg::kFloat32)");
  CHECK(error_of([&] {
          F::cross_entropy(zeros({4, 3}, {.dtype = kInt64}), longs({0, 1, 2, 1}));
        }) ==
        "cross_entropy: int64 tensors are not supported (only float32 and float64); convert "
        "with .to(tg::kFloat32)");
  CHECK(error_of([] { F::mse_loss(zeros({2}), zeros({2}, {.dtype = kFloat64})); }) ==
        "mse_loss: input is float32 but target is float64; hint: convert the target with "
        ".to(tg::kFloat32)");
  CHECK(error_of([] { F::l1_loss(zeros({2}, {.dtype = kFloat64}), zeros({2})); }) ==
        "l1_loss: input is float64 but target is float32; hint: convert the target with "
        ".to(tg::kFloat64)");
  CHECK(error_of([] { F::huber_loss(zeros({2}), zeros({2}, {.dtype = kInt64})); }) ==
        "huber_loss: input is float32 but target is int64; hint: convert the target with "
        ".to(tg::kFloat32)");
  CHECK(error_of([] { F::squared_loss(zeros({2, 1}), zeros({2}, {.dtype = kFloat64})); }) ==
        "squared_loss: input is float32 but target is float64; hint: convert the target with "
        ".to(tg::kFloat32)");
}
