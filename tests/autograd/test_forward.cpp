// Forward mode on tensors: for every op in the table (tests/op_table.h), <u, J v> from
// the tangents equals <J^T u, v> from the tape; Hessian-vector products against finite
// differences of gradients; Hessians and Jacobians; the forms over tensors read in place.
#include <tapegrad/autograd/forward.h>
#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/core/random.h>
#include "tests/op_table.h"

using namespace tg;

TEST_CASE("forward mode agrees with reverse mode on every op in the table") {
  manual_seed(11);
  for (const test::OpCase& c : test::op_table()) {
    if (!c.forward_mode) continue;  // an output that is itself a tangent (see its row)
    SUBCASE(c.name.c_str()) {
      auto [forward, reverse, same_value] = test::jvp_vjp(c.f, test::make_inputs(c));
      INFO(c.name, ": <u, Jv> = ", forward, ", <J^T u, v> = ", reverse);
      CHECK(forward == doctest::Approx(reverse).epsilon(c.jvp_rtol).scale(1));
      CHECK(same_value);
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
    return vjp([&](const std::vector<Tensor>& in) { return f(in[0]); }, {at}, scalar_tensor(1))
        .second[0];
  };
  float eps = 1e-2f;
  Tensor fd = (grad(x + v * eps) - grad(x - v * eps)) / (2 * eps);
  INFO("hvp ", hv.to_vector()[0], " fd ", fd.to_vector()[0]);
  CHECK(allclose(hv, fd, 2e-2f, 2e-3f));
}

TEST_CASE("jacobian by forward passes") {
  // f(x) = [x0 * x1, sin(x0)]  J = [[x1, x0], [cos x0, 0]]
  auto f = [](const Tensor& x) {
    return stack({x.select(0, 0) * x.select(0, 1), x.select(0, 0).sin()});
  };
  Tensor j = jacobian(f, tensor({0.5f, 2}));
  test::check_values(j, {2, 0.5f, float(std::cos(0.5)), 0});
}

TEST_CASE("forward-mode errors") {
  CHECK_THROWS_CONTAINING(make_dual(zeros({2}), zeros({3})),
                          "make_dual: tangent of shape [3] for a primal of shape [2]");
  CHECK_THROWS_CONTAINING(hvp([](const Tensor& x) { return x * 2; }, zeros({2}), zeros({2})),
                          "hvp: f must return a scalar");
}

TEST_CASE("jacobian: forward and reverse mode agree, for a wide and a tall f") {
  manual_seed(4);
  Tensor a = randn({3, 5});
  auto wide = [&](const Tensor& x) { return a.matmul(x.tanh()); };     // R^5 -> R^3
  auto tall = [&](const Tensor& x) { return a.t().matmul(x).sin(); };  // R^3 -> R^5
  Tensor x5 = randn({5}), x3 = randn({3});
  for (auto [f, x] : {std::pair{std::function<Tensor(const Tensor&)>(wide), x5},
                      std::pair{std::function<Tensor(const Tensor&)>(tall), x3}}) {
    Tensor fwd = jacobian(f, x, JacobianMode::forward), rev = jacobian(f, x, JacobianMode::reverse);
    CHECK(fwd.shape() == Shape{f(x).numel(), x.numel()});
    CHECK(allclose(fwd, rev, 1e-5f, 1e-6f));
    CHECK(allclose(jacobian(f, x), fwd, 1e-5f, 1e-6f));
  }
  // wide: J = a diag(1 - tanh(x)^2), by hand
  Tensor expected = a * (1 - x5.tanh().pow(2)).unsqueeze(0);
  CHECK(allclose(jacobian(wide, x5), expected, 1e-5f, 1e-6f));
}

// ---- the forms over tensors read in place (a model's parameters) -------------------------------

TEST_CASE("parameter forms: values and derivatives of f(w, b) = sum(tanh(X w + b)^2)") {
  manual_seed(9);
  Tensor X = randn({4, 3});
  Tensor w = randn({3}, {.requires_grad = true}), b = randn({1}, {.requires_grad = true});
  ParamFunction f = [&] { return (X.matmul(w) + b).tanh().pow(2).sum(); };
  // The same function of one explicit flat vector [w, b], as a reference.
  auto flat = [&](const Tensor& p) {
    return (X.matmul(p.narrow(0, 0, 3)) + p.narrow(0, 3, 1)).tanh().pow(2).sum();
  };
  Tensor p = cat({w.detach(), b.detach()});
  Tensor grad_ref =
      vjp([&](const std::vector<Tensor>& in) { return flat(in[0]); }, {p}, scalar_tensor(1))
          .second[0];

  w.set_grad(ones({3}));  // a gradient the caller accumulated: the transforms keep it
  auto [g, value] = grad_and_value(f, {w, b});
  CHECK(value.item() == doctest::Approx(flat(p).item()));
  CHECK(allclose(cat({g[0], g[1]}), grad_ref, 1e-5f, 1e-6f));

  Tensor vw = randn({3}), vb = randn({1});
  auto [y, jv] = jvp(f, {w, b}, {vw, vb});
  CHECK(jv.item() == doctest::Approx(test::dot(grad_ref, cat({vw, vb}))).epsilon(1e-5));
  auto [y2, jtu] = vjp(f, {w, b}, scalar_tensor(2));
  CHECK(allclose(cat({jtu[0], jtu[1]}), grad_ref * 2, 1e-5f, 1e-6f));

  Tensor h = hessian(f, {w, b});
  CHECK(allclose(h, hessian(flat, p), 1e-5f, 1e-5f));
  std::vector<Tensor> hv = hvp(f, {w, b}, {vw, vb});
  CHECK(allclose(cat({hv[0], hv[1]}), h.matmul(cat({vw, vb})), 1e-4f, 1e-5f));

  ParamFunction r = [&] { return (X.matmul(w) + b).tanh(); };  // residuals R^4 of R^4
  Tensor j = jacobian(r, {w, b}, JacobianMode::reverse);
  CHECK(allclose(j, jacobian(r, {w, b}, JacobianMode::forward), 1e-5f, 1e-6f));
  Tensor j_ref = jacobian(
      [&](const Tensor& q) { return (X.matmul(q.narrow(0, 0, 3)) + q.narrow(0, 3, 1)).tanh(); }, p);
  CHECK(allclose(j, j_ref, 1e-5f, 1e-6f));

  // Everything as it was: the caller's gradient and flags, no tangents left behind.
  CHECK(w.grad().to_vector() == std::vector<float>{1, 1, 1});
  CHECK_FALSE(b.grad().defined());
  CHECK(w.requires_grad());
  CHECK_FALSE(w.tangent().defined());
  CHECK_FALSE(b.tangent().defined());
}

TEST_CASE("parameter forms differentiate tensors that do not require grad, and restore that") {
  Tensor x = tensor({1, 2});
  auto [g, value] = grad_and_value([&] { return (x * x).sum(); }, {x});
  test::check_values(g[0], {2, 4});
  CHECK(value.item() == 5);
  CHECK_FALSE(x.requires_grad());
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("parameter forms: errors") {
  Tensor x = tensor({1, 2}, {2}, {.requires_grad = true});
  Tensor y = x * 2;
  CHECK_THROWS_CONTAINING(
      grad_and_value([&] { return y.sum(); }, {y}),
      "grad_and_value: parameter 0 of shape [2] is not a leaf (it was computed by 'mul')");
  CHECK_THROWS_CONTAINING(grad_and_value([&] { return x * 1; }, {x}),
                          "grad_and_value: f must return a scalar, got shape [2]");
  CHECK_THROWS_CONTAINING(hessian([&] { return x * 1; }, {x}),
                          "hessian: f must return a scalar, got shape [2]");
  CHECK_THROWS_CONTAINING(hvp([&] { return x.sum(); }, {x}, {}), "hvp: 1 parameters but 0 vectors");
  CHECK_THROWS_CONTAINING(hvp([&] { return x.sum(); }, {x}, {zeros({3})}),
                          "hvp: tangent of shape [3] for parameter 0 of shape [2]");
  CHECK_THROWS_CONTAINING(jvp([&] { return x; }, {x}, {zeros({2}), zeros({2})}),
                          "jvp: 1 parameters but 2 tangents");
  CHECK_THROWS_CONTAINING(vjp([&] { return x * 2; }, {x}, zeros({3})),
                          "vjp: cotangent of shape [3] for an output of shape [2]");
  int calls = 0;
  CHECK_THROWS_CONTAINING(jacobian([&] { return zeros({++calls}); }, {x}, JacobianMode::forward),
                          "jacobian: f returned 1 values, then 2");
  CHECK_FALSE(x.tangent().defined());  // removed again after the error
}

TEST_CASE("dual levels: make_dual needs one, and its end drops the tangents") {
  Tensor x = randn({3}, {.requires_grad = true}), v = randn({3});
  CHECK_THROWS_CONTAINING(make_dual(x, v), "tangents exist only inside a DualLevel scope");
  {
    DualLevel level;
    CHECK_THROWS_CONTAINING(make_dual(Tensor(), v), "make_dual: the primal is an undefined tensor");
    CHECK_THROWS_CONTAINING(jvp([](const std::vector<Tensor>& in) { return in[0].sin(); }, {x},
                                {Tensor()}),
                            "make_dual: the tangent is an undefined tensor");
  }
  Tensor kept;
  std::weak_ptr<TensorImpl> inner;
  {
    DualLevel level;
    Tensor y = make_dual(x, v).tanh();  // recorded: tanh's tangent rule saves y itself
    CHECK(allclose(y.tangent(), (1 - x.tanh().pow(2)) * v, 1e-6f, 1e-6f));  // by hand
    kept = make_dual(x, v) * 2;
    inner = y.impl_ptr();
  }
  CHECK_FALSE(kept.tangent().defined());  // dropped with its level
  CHECK(inner.expired());                 // y -> tangent -> tape -> y did not keep y alive
}
