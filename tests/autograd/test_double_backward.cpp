// Double backward on every op in the table (tests/op_table.h): with create_graph the first
// derivatives are themselves on the tape, and differentiating them (reverse over reverse)
// must agree with finite differences of first derivatives (gradgradcheck) and with the
// Hessian-vector product of reverse over forward (hvp: tangent rules, then one backward), an
// independent route. The recorded first derivatives must equal the plain ones (closures with a
// fused shortcut compute the same formula twice). A row whose tape holds a once-differentiable
// op must refuse the second backward by name instead of treating its gradient as a constant.
#include <set>

#include <tapegrad/autograd/grad.h>
#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/autograd/node.h>
#include "tests/op_table.h"

using namespace tg;

namespace {

// The first once-differentiable op on y's tape, or null (an iterative walk over the graph).
const char* once_differentiable_op(const Tensor& y) {
  if (!y.grad_fn()) return nullptr;
  std::vector<Node*> stack{y.grad_fn().get()};
  std::set<Node*> seen;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    if (!n->differentiable) return n->name;
    for (const Edge& e : n->edges)
      if (e.node) stack.push_back(e.node.get());
  }
  return nullptr;
}

std::vector<Tensor> leaves_of(const test::OpCase& c) {
  std::vector<Tensor> xs;
  for (Tensor x : test::make_inputs(c)) xs.push_back(x.requires_grad_());
  return xs;
}

double dot(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  double s = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    std::vector<double> x = a[k].to_vector<double>(), y = b[k].to_vector<double>();
    for (size_t i = 0; i < x.size(); ++i) s += x[i] * y[i];
  }
  return s;
}

}  // namespace

TEST_CASE("double backward: every op in the table, against finite differences and hvp") {
  manual_seed(21);
  for (const test::OpCase& c : test::op_table()) {
    SUBCASE(c.name.c_str()) {
      std::vector<Tensor> xs = leaves_of(c);
      Tensor y = c.f(xs);
      if (const char* op = once_differentiable_op(y)) {
        INFO(c.name, " holds once-differentiable '", op, "'");
        CHECK_THROWS_CONTAINING(gradgradcheck(c.f, xs, c.tolerance),
                                fmt::format("'{}' does not support double backward", op));
        continue;
      }
      // Finite differences of first derivatives are noisier than of values: 3x the row's
      // (float64) tolerances here; the exact cross-check is the hvp comparison below.
      GradcheckOptions loose = c.tolerance;
      loose.atol = loose.atol.value_or(1e-5) * 3;
      loose.rtol = loose.rtol.value_or(1e-3) * 3;
      GradcheckResult r = gradgradcheck(c.f, xs, loose);
      INFO(c.name, ": ", r.message);
      CHECK(r.ok);

      // Recorded first derivatives equal the plain ones.
      Tensor u = randn(y.shape(), {.dtype = y.dtype()});
      std::vector<Tensor> plain = grad({(c.f(xs) * u).sum()}, xs, {}, {.allow_unused = true});
      std::vector<Tensor> recorded =
          grad({(c.f(xs) * u).sum()}, xs, {}, {.create_graph = true, .allow_unused = true});
      for (size_t k = 0; k < xs.size(); ++k) {
        if (!plain[k].defined()) continue;
        REQUIRE(recorded[k].defined());
        CHECK(allclose(recorded[k], plain[k], 1e-5f, 1e-6f));
      }

      // <v, H v> by reverse over reverse against reverse over forward (hvp).
      if (!c.forward_mode) continue;
      std::vector<Tensor> v;
      for (const Tensor& x : xs) v.push_back(randn(x.shape(), {.dtype = x.dtype()}));
      Tensor directional = zeros({});
      for (size_t k = 0; k < xs.size(); ++k)
        if (recorded[k].defined()) directional = directional + (recorded[k] * v[k]).sum();
      std::vector<Tensor> hv_rr(xs.size());
      if (directional.requires_grad())
        hv_rr = grad({directional}, xs, {}, {.allow_unused = true});
      for (size_t k = 0; k < xs.size(); ++k)
        if (!hv_rr[k].defined()) hv_rr[k] = zeros_like(xs[k]);
      std::vector<Tensor> hv_rf = hvp([&] { return (c.f(xs) * u).sum(); }, xs, v);
      double a = dot(v, hv_rr), b = dot(v, hv_rf);
      INFO(c.name, ": <v, Hv> reverse-over-reverse ", a, ", reverse-over-forward ", b);
      CHECK(a == doctest::Approx(b).epsilon(1e-3).scale(1));
    }
  }
}

TEST_CASE("double backward: a once-differentiable op fails only when its gradient is differentiated") {
  Tensor x = randn({1, 1, 4, 4}, {.requires_grad = true});
  Tensor w = randn({2, 1, 3, 3}, {.requires_grad = true});
  Tensor loss = nn::functional::conv2d(x, w).pow(2).sum();
  // First derivatives with create_graph work, and equal the plain ones.
  std::vector<Tensor> g = grad({loss}, {x, w}, {}, {.create_graph = true});
  std::vector<Tensor> plain = grad({nn::functional::conv2d(x, w).pow(2).sum()}, {x, w});
  CHECK(allclose(g[0], plain[0], 1e-5f, 1e-6f));
  CHECK(allclose(g[1], plain[1], 1e-5f, 1e-6f));
  // Differentiating them again is refused by name, not answered with a wrong zero.
  CHECK_THROWS_CONTAINING(g[0].sum().backward(), "'conv2d' does not support double backward");
}
