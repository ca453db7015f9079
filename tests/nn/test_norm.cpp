// Tests of batch_norm, group_norm, layer_norm and their modules against PyTorch
// (fixtures from make_conv_fixtures.py): a BatchNorm2d train step, a second one, then
// eval with the running statistics; BatchNorm1d on [N, C] and [N, C, L]; GroupNorm with
// several group counts; LayerNorm; InstanceNorm2d. Also gradcheck of every layer in train
// mode, Hessian-vector products, buffers, and every error message. The functions' own
// gradcheck and tangent checks are rows of tests/op_table.h.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include <tapegrad/autograd/forward.h>
#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/nn/norm.h>
#include "tests/nn/fixture.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;
namespace F = tg::nn::functional;

namespace {

// Loads the fixture's weight and bias into `m`, runs it on the fixture's x and checks
// the output and the gradients of sum(u * y) for x, weight and bias.
void check_case(nn::Module& m, const test::Fixture& f, const std::string& n) {
  CAPTURE(n);
  if (f.contains(n + ".weight")) {
    NoGradGuard g;
    m.parameters()[0].copy_(f[n + ".weight"]);
    m.parameters()[1].copy_(f[n + ".bias"]);
  }
  m.zero_grad();
  Tensor x = f[n + ".x"].requires_grad_();
  Tensor y = m(x);
  TG_CHECK_CLOSE(y, f[n + ".y"], 1e-4f, 1e-5f);
  y.backward(f[n + ".u"]);
  TG_CHECK_CLOSE(x.grad(), f[n + ".gx"], 1e-3f, 1e-5f);
  if (f.contains(n + ".weight")) {
    TG_CHECK_CLOSE(m.parameters()[0].grad(), f[n + ".gweight"], 1e-4f, 1e-4f);
    TG_CHECK_CLOSE(m.parameters()[1].grad(), f[n + ".gbias"], 1e-4f, 1e-4f);
  }
}

}  // namespace

TEST_CASE("nn BatchNorm2d: train steps update the running statistics, eval uses them") {
  test::Fixture f("norm.json");
  nn::BatchNorm2d bn(3, 1e-5f, 0.2f);
  check_case(bn, f, "bn2d");
  bn(f["bn2d.x2"]);
  TG_CHECK_CLOSE(bn.running_mean, f["bn2d.running_mean"], 1e-5f, 1e-6f);
  TG_CHECK_CLOSE(bn.running_var, f["bn2d.running_var"], 1e-5f, 1e-6f);  // unbiased
  CHECK(bn.num_batches_tracked.item() == 2);
  bn.eval();
  TG_CHECK_CLOSE(bn(f["bn2d.x3"]), f["bn2d.y_eval"], 1e-5f, 1e-5f);
  CHECK(bn.num_batches_tracked.item() == 2);  // eval does not count
  // Eval mode is an affine map per channel: its gradient is weight / sqrt(running_var + eps).
  Tensor x = f["bn2d.x3"].requires_grad_();
  bn(x).sum().backward();
  Tensor slope = (bn.weight / (bn.running_var + 1e-5f).sqrt()).view({1, 3, 1, 1});
  TG_CHECK_CLOSE(x.grad(), slope.expand(x.shape()).contiguous(), 1e-5f, 1e-6f);
  // Buffers and parameters under PyTorch's names.
  auto names = bn.state_dict();
  for (const char* key : {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"})
    CHECK(names.contains(key));
}

TEST_CASE("nn BatchNorm1d: [N, C] and [N, C, L] inputs") {
  test::Fixture f("norm.json");
  nn::BatchNorm1d bn(4);
  check_case(bn, f, "bn1d");
  TG_CHECK_CLOSE(bn.running_mean, f["bn1d.running_mean"], 1e-5f, 1e-6f);
  TG_CHECK_CLOSE(bn.running_var, f["bn1d.running_var"], 1e-5f, 1e-6f);
  nn::BatchNorm1d bnl(3);
  check_case(bnl, f, "bn1d_l");
  // Without running statistics, eval mode normalises with the batch's own.
  nn::BatchNorm1d plain(4, 1e-5f, 0.1f, false, false);
  CHECK(plain.parameters().empty());
  CHECK(plain.buffers().empty());
  plain.eval();
  Tensor y = plain(f["bn1d.x"]);
  TG_CHECK_CLOSE(y.mean({0}), zeros({4}), 0, 1e-5f);
  TG_CHECK_CLOSE(y.var({0}, 0), ones({4}), 1e-3f, 1e-3f);
}

TEST_CASE("nn GroupNorm, LayerNorm and InstanceNorm2d match PyTorch") {
  test::Fixture f("norm.json");
  for (int groups : {1, 2, 3, 6}) {
    nn::GroupNorm gn(groups, 6);
    check_case(gn, f, fmt::format("gn{}", groups));
  }
  nn::LayerNorm ln5({5});
  check_case(ln5, f, "ln5");
  nn::LayerNorm ln45({4, 5});
  check_case(ln45, f, "ln45");
  nn::InstanceNorm2d in2d(3, 1e-5f, true);
  check_case(in2d, f, "in2d");
  CHECK(ln5.extra_repr() == "(5,), eps=1e-05, elementwise_affine=True");
  CHECK(ln45.extra_repr() == "(4, 5), eps=1e-05, elementwise_affine=True");
  CHECK(nn::GroupNorm(3, 6).extra_repr() == "3, 6, eps=1e-05, affine=True");
}

TEST_CASE("nn normalisation: gradcheck of every layer in train mode") {
  manual_seed(6);
  // Spread inputs keep the variance well away from eps, where float32 differences are noisy.
  GradcheckOptions loose{.eps = 1e-2f, .atol = 2e-3f, .rtol = 2e-2f};
  nn::BatchNorm2d bn2(3);
  nn::BatchNorm1d bn1(4);
  nn::GroupNorm gn(2, 4);
  nn::LayerNorm ln({3, 2});
  nn::InstanceNorm2d in2d(2, 1e-5f, true);
  std::vector<std::pair<nn::Module*, Tensor>> cases = {
      {&bn2, randn({3, 3, 2, 2})}, {&bn1, randn({5, 4})},     {&bn1, randn({2, 4, 3})},
      {&gn, randn({2, 4, 3})},     {&ln, randn({2, 3, 3, 2})}, {&in2d, randn({2, 2, 3, 3})}};
  for (auto& [module, x] : cases) {
    for (Tensor p : module->parameters()) {  // non-trivial affine parameters
      NoGradGuard g;
      p.copy_(randn(p.shape()) * 0.5f + 1.0f);
    }
    std::vector<Tensor> tensors = module->parameters();
    tensors.insert(tensors.begin(), x);
    auto r = gradcheck([&, module = module, x = x] { return (*module)(x); }, tensors, loose);
    CHECK_MESSAGE(r.ok, r.message);
  }
}

TEST_CASE("nn normalisation: Hessian-vector products (reverse over forward) match differences") {
  // The tangent rules recompute the statistics with recorded ops so that backward through
  // them sees how mean and variance move with x: H v must match differenced gradients.
  manual_seed(8);
  Tensor c = randn({4, 3, 2, 2}), w = randn({3}) + 2.0f, b = randn({3});
  auto check_hvp = [&](const std::function<Tensor(const Tensor&)>& norm) {
    auto f = [&](const Tensor& x) { return (norm(x) * c).pow(2).sum() + (norm(x) * c).sum(); };
    Tensor x = randn({4, 3, 2, 2}), v = randn({4, 3, 2, 2});
    auto grad_at = [&](const Tensor& p) {
      Tensor leaf = p.detach().clone().requires_grad_();
      f(leaf).backward();
      return leaf.grad();
    };
    const float h = 1e-2f;
    Tensor differenced = (grad_at(x + v * h) - grad_at(x - v * h)) / (2 * h);
    TG_CHECK_CLOSE(hvp(f, x, v), differenced, 3e-2f, 3e-2f);
  };
  check_hvp([&](const Tensor& x) { return F::batch_norm(x, Tensor(), Tensor(), w, b, true); });
  check_hvp([&](const Tensor& x) { return F::group_norm(x, 3, w, b); });
}

// The sums run in float chunks of the values minus a shift: a mean 10^3 times the spread
// (x = 100 + 0.1 noise; float sums of x^2 would lose the variance entirely) must still give the
// statistics of the same values in double, and a long plane (S = 3000, several chunks) must
// not drift. (Much larger ratios lose the output to y = x * scale + shift's own rounding.)
TEST_CASE("nn batch_norm and group_norm: statistics stay exact when the mean dwarfs the spread") {
  manual_seed(12);
  for (int64_t s : {int64_t(16), int64_t(3000)}) {
    CAPTURE(s);
    Tensor x = randn({6, 2, s}) * 0.1f + 100.0f;
    std::vector<float> v = x.to_vector();
    std::vector<double> mean(2, 0), var(2, 0);
    const double count = 6.0 * double(s);
    for (int64_t i = 0; i < x.numel(); ++i) mean[i / s % 2] += v[i] / count;
    for (int64_t i = 0; i < x.numel(); ++i) var[i / s % 2] += std::pow(v[i] - mean[i / s % 2], 2);
    Tensor rm = zeros({2}), rv = ones({2});
    Tensor y = F::batch_norm(x, rm, rv, Tensor(), Tensor(), true, 1.0f);  // momentum 1: batch's
    std::vector<float> expected(v.size());
    for (int64_t i = 0; i < x.numel(); ++i) {
      const int64_t c = i / s % 2;
      expected[i] = float((v[i] - mean[c]) / std::sqrt(var[c] / count + 1e-5));
    }
    TG_CHECK_CLOSE(y, tensor(expected, x.shape()), 1e-3f, 1e-3f);
    TG_CHECK_CLOSE(rm, tensor({float(mean[0]), float(mean[1])}), 1e-7f, 0);
    TG_CHECK_CLOSE(rv, tensor({float(var[0] / (count - 1)), float(var[1] / (count - 1))}), 1e-3f,
                   0);
    // group_norm with one group per channel and sample shares the same sums.
    Tensor g = F::group_norm(x.reshape({6 * 2, 1, s}), 1).reshape(x.shape());
    Tensor centred = x - x.mean({2}, true);
    TG_CHECK_CLOSE(g, centred * (centred.pow(2).mean({2}, true) + 1e-5f).rsqrt(), 2e-3f, 2e-3f);
  }
}

TEST_CASE("nn normalisation: errors name the operation and the values") {
  Tensor rm = zeros({3}), rv = ones({3});
  CHECK(error_of([] { nn::BatchNorm1d(4)(randn({1, 4})); }) ==
        "batch_norm: expected more than 1 value per channel when training, got input of shape "
        "[1, 4]");
  CHECK(error_of([] { nn::BatchNorm2d(3)(randn({2, 4, 5, 5})); }) ==
        "BatchNorm2d: expected 3 channels (num_features), got input [2, 4, 5, 5]");
  CHECK(error_of([] { nn::BatchNorm2d(3)(randn({2, 3, 5})); }) ==
        "BatchNorm2d: expected 4-D input, got [2, 3, 5]");
  CHECK(error_of([] { nn::BatchNorm1d(3)(randn({2, 3, 5, 5})); }) ==
        "BatchNorm1d: expected 2-D or 3-D input, got [2, 3, 5, 5]");
  CHECK(error_of([&] { F::batch_norm(randn({2, 4}), rm, rv); }) ==
        "batch_norm: running_mean of shape [3] does not match the input's 4 channels (input [2, 4])");
  CHECK(error_of([&] { F::batch_norm(randn({2, 3}), rm, rv, ones({2})); }) ==
        "batch_norm: weight of shape [2] does not match the input's 3 channels (input [2, 3])");
  CHECK(error_of([&] { F::batch_norm(randn({2, 3}), Tensor(), Tensor()); }) ==
        "batch_norm: running_mean and running_var are needed when not training");
  CHECK(error_of([&] { F::batch_norm(randn({2, 3}), rm, Tensor(), Tensor(), Tensor(), true); }) ==
        "batch_norm: running_mean and running_var must be given together");
  CHECK(error_of([] { F::batch_norm(randn({3}), Tensor(), Tensor(), Tensor(), Tensor(), true); }) ==
        "batch_norm: expected an input [N, C, *] of at least 2 dims, got [3]");
  CHECK(error_of([] { F::group_norm(randn({2, 6, 4}), 4); }) ==
        "group_norm: 6 channels are not divisible by num_groups 4 (input [2, 6, 4])");
  CHECK(error_of([] { F::group_norm(randn({2, 6, 4}), 3, ones({5})); }) ==
        "group_norm: weight of shape [5] does not match the input's 6 channels (input [2, 6, 4])");
  CHECK(error_of([] { nn::GroupNorm(4, 6); }) ==
        "GroupNorm: num_channels 6 is not divisible by num_groups 4");
  CHECK(error_of([] { nn::GroupNorm(3, 6)(randn({2, 5, 4})); }) ==
        "GroupNorm: expected an input [N, 6, *], got [2, 5, 4]");
  CHECK(error_of([] { F::layer_norm(randn({2, 3}), {4}); }) ==
        "layer_norm: normalized_shape [4] does not match the trailing dims of input [2, 3]");
  CHECK(error_of([] { F::layer_norm(randn({2, 3}), {3}, ones({2})); }) ==
        "layer_norm: weight of shape [2] does not match normalized_shape [3]");
  CHECK(error_of([] { nn::LayerNorm(Shape{}); }) ==
        "LayerNorm: normalized_shape must be non-empty, got []");
  CHECK(error_of([] { nn::InstanceNorm2d(3)(randn({2, 4, 5, 5})); }) ==
        "InstanceNorm2d: expected 3 channels, got input [2, 4, 5, 5]");
  CHECK(error_of([] { nn::InstanceNorm2d(3)(randn({4, 5})); }) ==
        "InstanceNorm2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got [4, 5]");
  CHECK(error_of([] { nn::BatchNorm2d(0); }) == "BatchNorm: num_features must be positive, got 0");
  CHECK(error_of([] { nn::BatchNorm2d(3, 1e-5f, 1.5f); }) ==
        "BatchNorm: momentum must be in [0, 1], got 1.5");
}
