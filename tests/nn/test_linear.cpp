// Tests of Linear and functional::linear: forward values and gradients against PyTorch,
// any leading dims, no bias, PyTorch's default init bounds, gradcheck of the module (the
// fused op's own gradcheck and tangent checks are rows of tests/op_table.h), shape errors.
#include <doctest/doctest.h>

#include <cmath>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/linear.h>
#include "tests/nn/fixture.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;
namespace F = tg::nn::functional;

namespace {

// A Linear holding PyTorch's parameters from the fixture.
nn::Linear torch_linear(const test::Fixture& f) {
  nn::Linear lin(4, 5);
  lin.load_state_dict({{"weight", f["weight"]}, {"bias", f["bias"]}});
  return lin;
}

}  // namespace

TEST_CASE("nn linear: forward matches PyTorch, for 2-D and 3-D inputs and without bias") {
  test::Fixture f("linear.json");
  nn::Linear lin = torch_linear(f);
  TG_CHECK_CLOSE(lin(f["x"]), f["y"]);
  TG_CHECK_CLOSE(lin(f["x3"]), f["y3"]);
  TG_CHECK_CLOSE(F::linear(f["x"], f["weight"], f["bias"]), f["y"]);
  TG_CHECK_CLOSE(F::linear(f["x"], f["weight_nb"]), f["y_nb"]);
  nn::Linear no_bias(4, 2, false);
  CHECK_FALSE(no_bias.bias.defined());
  CHECK(no_bias.parameters().size() == 1);
  no_bias.load_state_dict({{"weight", f["weight_nb"]}});
  TG_CHECK_CLOSE(no_bias(f["x"]), f["y_nb"]);
  // A 1-D input is one example, as in PyTorch; a transposed (strided) input works too.
  TG_CHECK_CLOSE(lin(f["x"].select(0, 1)), f["y"].select(0, 1));
  Tensor xt = f["x"].t().contiguous().t();
  CHECK_FALSE(xt.is_contiguous());
  TG_CHECK_CLOSE(lin(xt), f["y"]);
}

TEST_CASE("nn linear: gradients match PyTorch's") {
  test::Fixture f("linear.json");
  nn::Linear lin = torch_linear(f);
  Tensor x = f["x"].requires_grad_();
  lin(x).backward(f["u"]);
  TG_CHECK_CLOSE(x.grad(), f["grad_x"]);
  TG_CHECK_CLOSE(lin.weight.grad(), f["grad_weight"]);
  TG_CHECK_CLOSE(lin.bias.grad(), f["grad_bias"]);
}

TEST_CASE("nn Linear: gradcheck for the input and the module's parameters") {
  // linear's own gradcheck and tangent checks are rows of tests/op_table.h.
  manual_seed(0);
  nn::Linear lin(6, 3), lin_nb(3, 2, false);
  for (auto [module, x] : {std::pair{&lin, randn({4, 6})}, std::pair{&lin_nb, randn({2, 5, 3})}}) {
    std::vector<Tensor> tensors = module->parameters();
    tensors.insert(tensors.begin(), x);
    auto r = gradcheck([module = module, x = x] { return (*module)(x); }, tensors);
    CHECK_MESSAGE(r.ok, r.message);
  }
}

TEST_CASE("nn linear: PyTorch's default init, reproducible under manual_seed") {
  manual_seed(5);
  nn::Linear a(400, 300);
  float bound = 1.0f / std::sqrt(400.0f);
  CHECK(a.weight.abs().max().item() <= bound);
  CHECK(a.weight.abs().max().item() > 0.99f * bound);  // uses the whole range
  CHECK(a.bias.abs().max().item() <= bound);
  // U(-b, b) has std b / sqrt(3).
  CHECK(a.weight.std().item() == doctest::Approx(bound / std::sqrt(3.0f)).epsilon(0.01));
  CHECK(a.weight.mean().item() == doctest::Approx(0).epsilon(0.01).scale(bound));
  manual_seed(5);
  nn::Linear b(400, 300);
  TG_CHECK_CLOSE(a.weight, b.weight, 0.0f, 0.0f);
  TG_CHECK_CLOSE(a.bias, b.bias, 0.0f, 0.0f);
  CHECK(a.weight.is_leaf());
  CHECK(a.weight.requires_grad());
  CHECK(fmt::format("{}", a).starts_with("Linear(in_features=400, out_features=300, bias=True)"));
}

TEST_CASE("nn linear: errors name both shapes") {
  nn::Linear lin(5, 3);
  CHECK(error_of([&] { lin(zeros({4, 3})); }) ==
        "linear: input [4, 3] does not match in_features 5 (weight [3, 5])");
  CHECK(error_of([&] { F::linear(zeros({4, 5}), zeros({3, 5}), zeros({4})); }) ==
        "linear: bias [4] does not match out_features 3 (weight [3, 5])");
  CHECK(error_of([&] { F::linear(zeros({4, 5}), zeros({5})); }) ==
        "linear: weight must be 2-D [out_features, in_features], got [5]");
  CHECK(error_of([&] { F::linear(scalar_tensor(1), zeros({3, 5})); }) ==
        "linear: input [] does not match in_features 5 (weight [3, 5])");
  CHECK(error_of([] { nn::Linear(-1, 3); }) ==
        "Linear: in_features and out_features must be non-negative, got -1 and 3");
}

TEST_CASE("nn linear: empty batches and zero features") {
  nn::Linear lin(3, 2);
  Tensor x = zeros({0, 3}, {.requires_grad = true});
  Tensor y = lin(x);
  CHECK(y.shape() == Shape{0, 2});
  y.backward(zeros({0, 2}));
  TG_CHECK_CLOSE(lin.weight.grad(), zeros({2, 3}), 0.0f, 0.0f);
  TG_CHECK_CLOSE(lin.bias.grad(), zeros({2}), 0.0f, 0.0f);
  CHECK(x.grad().shape() == Shape{0, 3});
  nn::Linear none(0, 2);
  TG_CHECK_CLOSE(none(zeros({4, 0})), none.bias.expand({4, 2}), 0.0f, 0.0f);
}
