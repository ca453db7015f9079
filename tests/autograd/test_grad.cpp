// tg::grad and create_graph (torch.autograd.grad's semantics): gradients returned without
// touching .grad(), with respect to leaves or computed tensors; higher derivatives by hand;
// a reverse-over-reverse Hessian against hessian() and PyTorch; a gradient-penalty step
// against PyTorch (fixtures/make_double_backward.py); the errors.
#include <cmath>

#include <tapegrad/autograd/forward.h>
#include <tapegrad/autograd/grad.h>
#include <tapegrad/nn/functional.h>
#include "tests/json_fixture.h"
#include "tests/test_util.h"

using namespace tg;
using tg::test::check_values;

namespace {

// The named array of the fixture file as a tensor.
Tensor fixture(const std::string& name) {
  static const test::JsonFixture file = test::JsonFixture::load(
      std::string(TG_TEST_DIR) + "/autograd/fixtures/double_backward.json");
  test::JsonFixture a = file["arrays"][name];
  std::vector<int64_t> shape = a["shape"].integers();
  return tensor(a["data"].floats(), Shape(std::span<const int64_t>(shape)));
}

}  // namespace

TEST_CASE("grad returns gradients and leaves .grad() alone") {
  Tensor x = tensor({1, 2, 3}, {3}, {.requires_grad = true});
  Tensor w = tensor({0.5f, -1, 2}, {3}, {.requires_grad = true});
  Tensor y = (x * w).sum();
  std::vector<Tensor> g = grad({y}, {w});
  REQUIRE(g.size() == 1);
  check_values(g[0], {1, 2, 3});
  CHECK_FALSE(x.grad().defined());
  CHECK_FALSE(w.grad().defined());
}

TEST_CASE("grad with respect to a computed tensor, with grad_outputs, and several outputs") {
  Tensor x = tensor({1, 2}, {2}, {.requires_grad = true});
  Tensor h = x * 3;           // computed
  Tensor y = h * h;           // dy/dh = 2h = [6, 12]
  std::vector<Tensor> g = grad({y}, {h, x}, {tensor({1, 10})});
  check_values(g[0], {6, 120});
  check_values(g[1], {18, 360});  // dh/dx = 3
  // Two outputs: their seeded gradients add up.
  Tensor a = x.sum(), b = (x * x).sum();
  check_values(grad({a, b}, {x})[0], {3, 5});
}

TEST_CASE("grad: unused inputs, and the errors") {
  Tensor x = tensor({1, 2}, {2}, {.requires_grad = true});
  Tensor z = tensor({5}, {1}, {.requires_grad = true});
  Tensor y = (x * 2).sum();
  CHECK_THROWS_CONTAINING(grad({y}, {x, z}, {}, {.retain_graph = true}),
                          "grad: input 1 of shape [1] was not used");
  std::vector<Tensor> g = grad({y}, {x, z}, {}, {.allow_unused = true});
  check_values(g[0], {2, 2});
  CHECK_FALSE(g[1].defined());
  CHECK_THROWS_CONTAINING(grad({(x * 2).sum()}, {tensor({1})}), "input 0 of shape [1] does not require grad");
  CHECK_THROWS_CONTAINING(grad({x * 2}, {x}), "grad can be implicitly created only for a scalar");
  CHECK_THROWS_CONTAINING(grad({(x * 2).sum()}, {x}, {ones({3})}), "gradient of shape [3] for a tensor of shape []");
  CHECK_THROWS_CONTAINING(grad({}, {x}), "grad: no outputs given");
  CHECK_THROWS_CONTAINING(grad({Tensor()}, {x}), "grad: output 0 is an undefined tensor");
}

TEST_CASE("grad frees the graph unless asked to keep it") {
  Tensor x = tensor({2}, {1}, {.requires_grad = true});
  Tensor y = (x.exp() * x).sum();
  grad({y}, {x});
  CHECK_THROWS_CONTAINING(grad({y}, {x}), "was already freed");
  Tensor y2 = (x.exp() * x).sum();
  grad({y2}, {x}, {}, {.retain_graph = true});
  CHECK_NOTHROW(grad({y2}, {x}));
}

TEST_CASE("create_graph: derivatives of every order by hand") {
  // y = x^3 sin(x) at x = 0.7: y' = 3x^2 sin x + x^3 cos x, y'' = 6x sin x + 6x^2 cos x - x^3 sin x
  const double v = 0.7;
  Tensor x = tensor({float(v)}, {}, {.requires_grad = true});
  Tensor y = x.pow(3) * x.sin();
  Tensor d1 = grad({y}, {x}, {}, {.create_graph = true})[0];
  Tensor d2 = grad({d1}, {x}, {}, {.create_graph = true})[0];
  Tensor d3 = grad({d2}, {x})[0];
  CHECK(d1.item() == doctest::Approx(3 * v * v * std::sin(v) + v * v * v * std::cos(v)).epsilon(1e-5));
  CHECK(d2.item() == doctest::Approx(6 * v * std::sin(v) + 6 * v * v * std::cos(v) -
                                     v * v * v * std::sin(v)).epsilon(1e-5));
  // y''' = 6 sin x + 18 x cos x - 9 x^2 sin x - x^3 cos x
  CHECK(d3.item() == doctest::Approx(6 * std::sin(v) + 18 * v * std::cos(v) -
                                     9 * v * v * std::sin(v) - v * v * v * std::cos(v)).epsilon(1e-4));
}

TEST_CASE("create_graph through outputs read by their own backward (exp, tanh, sigmoid, sqrt)") {
  // d2/dx2 of each at x = 0.4, by hand
  const double v = 0.4, t = std::tanh(v), s = 1 / (1 + std::exp(-v));
  struct Case {
    const char* name;
    Tensor (*f)(const Tensor&);
    double second;
  } cases[] = {
      {"exp", [](const Tensor& x) { return x.exp(); }, std::exp(v)},
      {"tanh", [](const Tensor& x) { return x.tanh(); }, -2 * t * (1 - t * t)},
      {"sigmoid", [](const Tensor& x) { return x.sigmoid(); }, s * (1 - s) * (1 - 2 * s)},
      {"sqrt", [](const Tensor& x) { return x.sqrt(); }, -0.25 * std::pow(v, -1.5)},
      {"rsqrt", [](const Tensor& x) { return x.rsqrt(); }, 0.75 * std::pow(v, -2.5)},
      {"div", [](const Tensor& x) { return scalar_tensor(3) / x; }, 6 / (v * v * v)},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    Tensor x = tensor({float(v)}, {}, {.requires_grad = true});
    Tensor d1 = grad({c.f(x)}, {x}, {}, {.create_graph = true})[0];
    CHECK(grad({d1}, {x})[0].item() == doctest::Approx(c.second).epsilon(1e-4));
  }
}

TEST_CASE("backward(create_graph) keeps the gradient's history in .grad()") {
  Tensor x = tensor({1.5f}, {}, {.requires_grad = true});
  x.pow(3).backward({}, {}, /*create_graph=*/true);  // .grad() = 3x^2, recorded
  Tensor g = x.grad();
  REQUIRE(g.requires_grad());
  check_values(grad({g}, {x})[0], {9});  // d(3x^2)/dx = 6x
  x.zero_grad();  // x -> .grad() -> its graph -> x is a cycle (PyTorch's too): break it
}

TEST_CASE("reverse-over-reverse Hessian equals hessian() and PyTorch's") {
  Tensor a = fixture("a"), z = fixture("z");
  auto h = [&](const Tensor& v) {
    return (matmul(a, v).tanh() * v.slice(0, 0, 2).exp().sum()).sum() + v.pow(3).sum();
  };
  Tensor leaf = z.detach().requires_grad_();
  Tensor g = grad({h(leaf)}, {leaf}, {}, {.create_graph = true})[0];
  std::vector<Tensor> rows;
  for (int64_t i = 0; i < 3; ++i)
    rows.push_back(grad({g.select(0, i)}, {leaf}, {}, {.retain_graph = true})[0]);
  Tensor rr = stack(rows);
  CHECK(allclose(rr, fixture("hessian"), 1e-4f, 1e-5f));
  CHECK(allclose(rr, hessian(h, z), 1e-4f, 1e-5f));
}

TEST_CASE("a gradient-penalty step matches PyTorch") {
  namespace F = nn::functional;
  Tensor x = fixture("x").requires_grad_();
  std::vector<Tensor> params;
  for (const char* name : {"w1", "b1", "w2", "b2"}) params.push_back(fixture(name).requires_grad_());
  auto critic = [&](const Tensor& t) {
    return F::linear(F::linear(t, params[0], params[1]).tanh(), params[2], params[3]);
  };
  Tensor out = critic(x);
  Tensor gx = grad({out.sum()}, {x}, {}, {.create_graph = true})[0];
  CHECK(allclose(gx, fixture("input_grad"), 1e-5f, 1e-6f));
  Tensor penalty = ((gx * gx).sum({1}).sqrt() - 1).pow(2).mean();
  Tensor loss = out.mean() + 10 * penalty;
  CHECK(penalty.item() == doctest::Approx(fixture("penalty").item()).epsilon(1e-5));
  CHECK(loss.item() == doctest::Approx(fixture("loss").item()).epsilon(1e-5));
  loss.backward();
  const char* after[] = {"w1_after", "b1_after", "w2_after", "b2_after"};
  for (size_t k = 0; k < params.size(); ++k) {
    INFO(after[k]);
    Tensor stepped = params[k].detach() - 0.05f * params[k].grad();
    CHECK(allclose(stepped, fixture(after[k]), 1e-5f, 1e-6f));
  }
}
