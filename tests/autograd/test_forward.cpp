// Forward mode on tensors: for every op in the table, <u, J v> from the
// tangents equals <J^T u, v> from the tape; Hessian-vector products against
// finite differences of gradients; the Hessian of a quadratic.
#include <tapegrad/autograd/forward.h>
#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/core/random.h>
#include "tests/autograd/op_table.h"

using namespace tg;

namespace {

double dot(const Tensor& a, const Tensor& b) {
  std::vector<float> x = a.to_vector(), y = b.to_vector();
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += double(x[i]) * y[i];
  return s;
}

}  // namespace

TEST_CASE("forward mode agrees with reverse mode on every core op") {
  manual_seed(11);
  for (const test::OpCase& c : test::core_op_table()) {
    SUBCASE(c.name.c_str()) {
      std::vector<Tensor> x = test::make_inputs(c), v;
      for (const Tensor& xi : x) v.push_back(randn(xi.shape()));
      auto [y, jv] = jvp(c.f, x, v);
      Tensor u = randn(y.shape());
      auto [y2, jtu] = vjp(c.f, x, u);
      double forward = dot(u, jv), reverse = 0;
      for (size_t i = 0; i < x.size(); ++i) reverse += dot(jtu[i], v[i]);
      INFO(c.name, ": <u, Jv> = ", forward, ", <J^T u, v> = ", reverse);
      CHECK(forward == doctest::Approx(reverse).epsilon(1e-4).scale(1));
      CHECK(allclose(y, y2));
    }
  }
}

TEST_CASE("jvp of a known function") {
  // f(x) = sin(x) * x, f'(x) = cos(x) x + sin(x)
  Tensor x = tensor({0.5f, 1.0f}), v = tensor({1, 2});
  auto [y, t] = jvp([](const std::vector<Tensor>& in) { return in[0].sin() * in[0]; }, {x}, {v});
  CHECK(t.to_vector()[0] == doctest::Approx((std::cos(0.5) * 0.5 + std::sin(0.5)) * 1));
  CHECK(t.to_vector()[1] == doctest::Approx((std::cos(1.0) + std::sin(1.0)) * 2));
}

TEST_CASE("Hessian of a quadratic x^T Q x / 2 is Q") {
  Tensor q = tensor({4, 1, 0, 1, 3, -1, 0, -1, 2}, {3, 3});
  auto f = [&](const Tensor& x) { return x.matmul(q.matmul(x)) * 0.5f; };
  Tensor h = hessian(f, tensor({0.3f, -1, 2}));
  CHECK(allclose(h, q, 1e-5f, 1e-5f));
}

TEST_CASE("hvp matches finite differences of gradients") {
  manual_seed(3);
  // a non-quadratic scalar function touching several ops
  auto f = [](const Tensor& x) { return (x.tanh() * x.exp()).sum() + x.pow(2).sum().sqrt(); };
  Tensor x = randn({5}), v = randn({5});
  Tensor hv = hvp(f, x, v);
  auto grad = [&](const Tensor& at) {
    return vjp([&](const std::vector<Tensor>& in) { return f(in[0]); }, {at}, scalar_tensor(1)).second[0];
  };
  float eps = 1e-2f;
  Tensor fd = (grad(x + v * eps) - grad(x - v * eps)) / (2 * eps);
  INFO("hvp ", hv.to_vector()[0], " fd ", fd.to_vector()[0]);
  CHECK(allclose(hv, fd, 2e-2f, 2e-3f));
}

TEST_CASE("jacobian by forward passes") {
  // f(x) = [x0 * x1, sin(x0)]  J = [[x1, x0], [cos x0, 0]]
  auto f = [](const Tensor& x) { return stack({x.select(0, 0) * x.select(0, 1), x.select(0, 0).sin()}); };
  Tensor j = jacobian(f, tensor({0.5f, 2}));
  test::check_values(j, {2, 0.5f, float(std::cos(0.5)), 0});
}

TEST_CASE("forward-mode errors") {
  CHECK_THROWS_CONTAINING(make_dual(zeros({2}), zeros({3})), "make_dual: tangent of shape [3] for a primal of shape [2]");
  CHECK_THROWS_CONTAINING(hvp([](const Tensor& x) { return x * 2; }, zeros({2}), zeros({2})), "hvp: f must return a scalar");
}
