// Tests of Dual<T>: every rule against central finite differences and against
// a hand-derived closed form, nested duals against closed-form second
// derivatives, the gradient/jacobian helpers, the AD survey's example, the
// formatter, the forward trace table, and Dual<T> against the tensor tangent rules and
// backward closures of the same ops.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include <tapegrad/autograd/dual.h>
#include <tapegrad/autograd/forward.h>
#include <tapegrad/autograd/forward_trace.h>

namespace {

using tg::Dual;
// Plain doubles take std::; duals find tg:: by argument-dependent lookup.
using std::abs, std::cos, std::cosh, std::exp, std::log, std::max, std::min, std::pow, std::sin,
    std::sinh, std::sqrt, std::tan, std::tanh;

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
using tg::sigmoid;

// Central difference of g at x; the step scales with |x| to keep rounding small.
template <typename G>
double central_difference(G&& g, double x) {
  double h = 1e-5 * std::max(1.0, std::abs(x));
  return (g(x + h) - g(x - h)) / (2 * h);
}

// Checks one rule at each point: value, f' and f'' against finite differences
// and against the closed forms d1 = f' and d2 = f''. `f` is generic, so the
// same lambda runs on double, Dual<double> and Dual<Dual<double>>.
template <typename F, typename D1, typename D2>
void check_rule(const char* name, F f, D1 d1, D2 d2, std::vector<double> points) {
  for (double x : points) {
    CAPTURE(name);
    CAPTURE(x);
    Dual<double> y = f(Dual<double>(x, 1.0));
    CHECK(y.value() == doctest::Approx(f(x)).epsilon(1e-14));
    CHECK(y.deriv() == doctest::Approx(central_difference(f, x)).epsilon(1e-6));
    CHECK(y.deriv() == doctest::Approx(d1(x)).epsilon(1e-12));

    double second = tg::second_derivative(f, x);
    auto first = [&](double t) { return tg::derivative(f, t); };
    CHECK(second == doctest::Approx(central_difference(first, x)).epsilon(1e-6));
    CHECK(second == doctest::Approx(d2(x)).epsilon(1e-12));
    CHECK(tg::derivative(f, x) == y.deriv());
  }
}

}  // namespace

// One row of the rule table: f(x) as an expression in x, the closed forms of
// f'(x) and f''(x), and the points to check at.
#define RULE(f, d1, d2, points)                                                   \
  check_rule(                                                                     \
      #f, [](auto x) { return f; }, []([[maybe_unused]] double x) { return d1; }, \
      []([[maybe_unused]] double x) { return d2; }, points)

// The table of every scalar rule, at points away from kinks.
TEST_CASE("dual: every rule agrees with finite differences and closed forms") {
  const std::vector<double> any = {-1.3, 0.4, 2.0};
  const std::vector<double> positive = {0.4, 1.7, 3.0};

  // Arithmetic with a scalar on either side (double, float and int), and dual op dual.
  RULE(-x, -1.0, 0.0, any);
  RULE(x + 3, 1.0, 0.0, any);
  RULE(2.5 + x, 1.0, 0.0, any);
  RULE(x - 3, 1.0, 0.0, any);
  RULE(3.0 - x, -1.0, 0.0, any);
  RULE(x * 3, 3.0, 0.0, any);
  RULE(1.5f * x, 1.5, 0.0, any);
  RULE(x / 4, 0.25, 0.0, any);
  RULE(3.0 / x, -3 / (x * x), 6 / (x * x * x), any);
  RULE(x + x, 2.0, 0.0, any);
  RULE(x * x - x, 2 * x - 1, 2.0, any);
  RULE(x / (x + 1), 1 / ((x + 1) * (x + 1)), -2 / ((x + 1) * (x + 1) * (x + 1)), positive);
  check_rule(
      "compound assignment",
      [](auto x) {
        auto y = x;
        y += 2;  // x + 2
        y *= x;  // x^2 + 2x
        y -= 1;  // x^2 + 2x - 1
        y /= 3;  // (x^2 + 2x - 1) / 3
        return y;
      },
      [](double x) { return (2 * x + 2) / 3; }, [](double) { return 2.0 / 3; }, any);

  // Elementary functions.
  RULE(sin(x), std::cos(x), -std::sin(x), any);
  RULE(cos(x), -std::sin(x), -std::cos(x), any);
  RULE(tan(x), 1 / std::pow(std::cos(x), 2), 2 * std::sin(x) / std::pow(std::cos(x), 3), any);
  RULE(exp(x), std::exp(x), std::exp(x), any);
  RULE(log(x), 1 / x, -1 / (x * x), positive);
  RULE(sqrt(x), 0.5 / std::sqrt(x), -0.25 * std::pow(x, -1.5), positive);
  RULE(abs(x), x < 0 ? -1.0 : 1.0, 0.0, any);
  RULE(tanh(x), 1 - std::pow(std::tanh(x), 2), -2 * std::tanh(x) * (1 - std::pow(std::tanh(x), 2)),
       any);
  RULE(sigmoid(x), sigmoid(x) * (1 - sigmoid(x)),
       sigmoid(x) * (1 - sigmoid(x)) * (1 - 2 * sigmoid(x)), any);
  RULE(cosh(x), std::sinh(x), std::cosh(x), any);
  RULE(sinh(x), std::cosh(x), std::sinh(x), any);

  // Powers: dual^scalar (double and int exponent), scalar^dual, dual^dual.
  RULE(pow(x, 2.5), 2.5 * std::pow(x, 1.5), 3.75 * std::sqrt(x), positive);
  RULE(pow(x, 3), 3 * x * x, 6 * x, any);
  RULE(pow(2.0, x), std::pow(2.0, x) * std::numbers::ln2,
       std::pow(2.0, x) * std::numbers::ln2 * std::numbers::ln2, any);
  RULE(pow(x, x), std::pow(x, x) * (std::log(x) + 1),
       std::pow(x, x) * (std::pow(std::log(x) + 1, 2) + 1 / x), positive);

  // min and max: dual with scalar on either side, and dual with dual (on (0, 1)
  // x^2 < x, above 1 the other way round).
  RULE(min(x, 1.0), x < 1 ? 1.0 : 0.0, 0.0, any);
  RULE(min(1.0, x), x < 1 ? 1.0 : 0.0, 0.0, any);
  RULE(max(x, 1.0), x > 1 ? 1.0 : 0.0, 0.0, any);
  RULE(max(1.0, x), x > 1 ? 1.0 : 0.0, 0.0, any);
  RULE(min(x, x * x), x < 1 ? 2 * x : 1.0, x < 1 ? 2.0 : 0.0, positive);
  RULE(max(x, x * x), x < 1 ? 1.0 : 2 * x, x < 1 ? 0.0 : 2.0, positive);
}
#undef RULE

TEST_CASE("dual: construction, accessors and comparisons on the value") {
  Dual<double> c = 3;  // implicit from a plain scalar: a constant
  CHECK(c.value() == 3.0);
  CHECK(c.deriv() == 0.0);
  Dual<double> zero;
  CHECK(zero.value() == 0.0);
  CHECK(zero.deriv() == 0.0);
  Dual<Dual<double>> nested = 2.0;
  CHECK(nested.value().value() == 2.0);
  CHECK(nested.deriv().value() == 0.0);

  Dual<double> x{2.0, 5.0}, y{2.0, -1.0}, z{3.0, 0.0};
  CHECK(x == y);  // equal values, different derivatives
  CHECK_FALSE(x != y);
  CHECK(x != z);
  CHECK(x < z);
  CHECK(x <= y);
  CHECK(z > x);
  CHECK(z >= x);
  CHECK(x == 2);
  CHECK(2 == x);
  CHECK(x < 2.5);
  CHECK(1 < x);
  CHECK(x <= 2);
  CHECK(3 >= x);
  CHECK(x > 1.5f);
  CHECK(x != 7);
  CHECK_FALSE(x > 2);
  CHECK(Dual<Dual<double>>(1.0) < Dual<Dual<double>>(2.0));
  CHECK(Dual<Dual<double>>(1.0) < 2);

  // A scalar operand is not a dual <c, 0>: <inf, 1> * 2 has derivative 2, where the
  // product rule would compute 1 * 2 + inf * 0 = NaN.
  const double inf = std::numeric_limits<double>::infinity();
  Dual<double> big{inf, 1.0};
  CHECK((big * 2.0).deriv() == 2.0);
  CHECK((2 * big).deriv() == 2.0);
  CHECK((big / 2.0).deriv() == 0.5);
  CHECK(std::isnan((big * Dual<double>(2.0)).deriv()));
}

TEST_CASE("dual: the two-argument rules give both partial derivatives") {
  // Seeding one input at a time gives each partial; compare with closed forms.
  const double a = 1.7, b = 0.6;
  auto grad_of = [&](auto f) {
    return tg::gradient([&](const std::vector<Dual<double>>& v) { return f(v[0], v[1]); }, {a, b});
  };
  auto check_grad = [&](const char* name, std::vector<double> got, std::vector<double> want) {
    CAPTURE(name);
    REQUIRE(got.size() == 2);
    CHECK(got[0] == doctest::Approx(want[0]).epsilon(1e-12));
    CHECK(got[1] == doctest::Approx(want[1]).epsilon(1e-12));
  };
  check_grad("a + b", grad_of([](auto u, auto v) { return u + v; }), {1, 1});
  check_grad("a - b", grad_of([](auto u, auto v) { return u - v; }), {1, -1});
  check_grad("a * b", grad_of([](auto u, auto v) { return u * v; }), {b, a});
  check_grad("a / b", grad_of([](auto u, auto v) { return u / v; }), {1 / b, -a / (b * b)});
  check_grad("a ^ b", grad_of([](auto u, auto v) { return pow(u, v); }),
             {b * std::pow(a, b - 1), std::pow(a, b) * std::log(a)});
  check_grad("min(a, b)", grad_of([](auto u, auto v) { return min(u, v); }), {0, 1});
  check_grad("max(a, b)", grad_of([](auto u, auto v) { return max(u, v); }), {1, 0});
  // An int scalar on either side.
  Dual<double> x{0.5, 1.0};
  CHECK(min(1, x).deriv() == 1.0);
  CHECK(max(x, 1).deriv() == 0.0);
  CHECK(max(x, 1).value() == 1.0);
  // Ties take the first argument.
  Dual<double> p{1.0, 1.0}, q{1.0, 2.0};
  CHECK(min(p, q).deriv() == 1.0);
  CHECK(max(p, q).deriv() == 1.0);
  // abs at its kink has derivative 0, like PyTorch.
  CHECK(abs(Dual<double>(0.0, 1.0)).deriv() == 0.0);
}

TEST_CASE("dual: nested duals carry f, f', f' and f''") {
  // f(x) = x cos(c x), the course's nonconvex Newton example.
  const double c = 0.15 * std::numbers::pi;
  auto f = [c](auto x) { return x * cos(c * x); };
  for (double x : {-2.0, 7.27, 10.0}) {
    CAPTURE(x);
    using D = Dual<double>;
    Dual<D> y = f(Dual<D>(D(x, 1.0), D(1.0, 0.0)));
    double d1 = std::cos(c * x) - c * x * std::sin(c * x);
    double d2 = -2 * c * std::sin(c * x) - x * c * c * std::cos(c * x);
    CHECK(y.value().value() == doctest::Approx(x * std::cos(c * x)).epsilon(1e-14));
    CHECK(y.value().deriv() == doctest::Approx(d1).epsilon(1e-12));
    CHECK(y.deriv().value() == doctest::Approx(d1).epsilon(1e-12));
    CHECK(y.deriv().deriv() == doctest::Approx(d2).epsilon(1e-12));
  }
  // cosh(c x) with c = 0.5: f'' = c^2 cosh(c x).
  auto g = [](auto x) { return cosh(0.5 * x); };
  CHECK(tg::second_derivative(g, 10.0) == doctest::Approx(0.25 * std::cosh(5.0)).epsilon(1e-12));
  // Three levels deep: seeding every level's derivative with 1 leaves f''' at
  // the bottom; (x^4)''' = 24 x.
  using D = Dual<double>;
  using DD = Dual<D>;
  Dual<DD> x{DD{D{2.0, 1.0}, D{1.0, 0.0}}, DD{D{1.0, 0.0}, D{0.0, 0.0}}};
  CHECK(pow(x, 4).deriv().deriv().deriv() == doctest::Approx(48.0));
}

TEST_CASE("dual: gradient and jacobian of small functions") {
  // f(x, y, z) = x y + sin(z) x:  grad = [y + sin z, x, x cos z]
  auto f = [](const std::vector<Dual<double>>& v) { return v[0] * v[1] + sin(v[2]) * v[0]; };
  std::vector<double> g = tg::gradient(f, {1.5, -2.0, 0.7});
  REQUIRE(g.size() == 3);
  CHECK(g[0] == doctest::Approx(-2.0 + std::sin(0.7)).epsilon(1e-14));
  CHECK(g[1] == doctest::Approx(1.5).epsilon(1e-14));
  CHECK(g[2] == doctest::Approx(1.5 * std::cos(0.7)).epsilon(1e-14));

  // Polar to Cartesian: (r cos t, r sin t); J = [[cos t, -r sin t], [sin t, r cos t]].
  auto polar = [](const std::vector<Dual<double>>& v) {
    return std::vector<Dual<double>>{v[0] * cos(v[1]), v[0] * sin(v[1])};
  };
  const double r = 2.0, t = 0.3;
  std::vector<std::vector<double>> jac = tg::jacobian(polar, {r, t});
  REQUIRE(jac.size() == 2);
  REQUIRE(jac[0].size() == 2);
  CHECK(jac[0][0] == doctest::Approx(std::cos(t)));
  CHECK(jac[0][1] == doctest::Approx(-r * std::sin(t)));
  CHECK(jac[1][0] == doctest::Approx(std::sin(t)));
  CHECK(jac[1][1] == doctest::Approx(r * std::cos(t)));

  // A 3-output, 1-input function: one column.
  auto curve = [](const std::vector<Dual<double>>& v) {
    return std::vector<Dual<double>>{v[0], v[0] * v[0], exp(v[0])};
  };
  std::vector<std::vector<double>> column = tg::jacobian(curve, {0.5});
  REQUIRE(column.size() == 3);
  CHECK(column[0] == std::vector<double>{1.0});
  CHECK(column[1] == std::vector<double>{1.0});
  CHECK(column[2][0] == doctest::Approx(std::exp(0.5)));

  // No inputs: an empty gradient, and m empty Jacobian rows.
  auto constant = [](const std::vector<Dual<double>>&) {
    return std::vector<Dual<double>>{Dual<double>(1.0), Dual<double>(2.0)};
  };
  CHECK(
      tg::gradient([](const std::vector<Dual<double>>&) { return Dual<double>(1.0); }, {}).empty());
  CHECK(tg::jacobian(constant, {}) == std::vector<std::vector<double>>(2));
}

TEST_CASE("dual: jacobian rejects a function whose output count changes") {
  int calls = 0;
  auto unstable = [&calls](const std::vector<Dual<double>>& v) {
    return std::vector<Dual<double>>(++calls == 1 ? 2 : 3, v[0]);
  };
  CHECK_THROWS_WITH_AS(tg::jacobian(unstable, {1.0, 2.0}),
                       "jacobian: f returned 3 outputs on pass 1 but 2 on pass 0", tg::Error);
}

// Baydin et al. (2018), table 2: y = ln(x1) + x1 x2 - sin(x2) at (2, 5).
TEST_CASE("dual: the AD survey's forward-mode example") {
  auto y_of = [](auto x1, auto x2) { return log(x1) + x1 * x2 - sin(x2); };
  Dual<double> y = y_of(Dual<double>(2.0, 1.0), Dual<double>(5.0, 0.0));
  CHECK(y.value() == doctest::Approx(11.652).epsilon(1e-4));
  CHECK(y.value() == doctest::Approx(std::log(2.0) + 10.0 - std::sin(5.0)).epsilon(1e-15));
  CHECK(y.deriv() == 5.5);  // 1/x1 + x2 = 0.5 + 5, exact in binary
  // A second pass seeded (0, 1): dy/dx2 = x1 - cos(x2) = 2 - cos 5 = 1.71634...
  Dual<double> y2 = y_of(Dual<double>(2.0, 0.0), Dual<double>(5.0, 1.0));
  CHECK(y2.deriv() == doctest::Approx(2.0 - std::cos(5.0)).epsilon(1e-15));
  CHECK(y2.deriv() == doctest::Approx(1.716338).epsilon(1e-6));
  // gradient() does exactly these two passes.
  std::vector<double> g =
      tg::gradient([&](const std::vector<Dual<double>>& v) { return y_of(v[0], v[1]); }, {2, 5});
  CHECK(g == std::vector<double>{y.deriv(), y2.deriv()});
}

TEST_CASE("dual: formatter prints <value, deriv>") {
  CHECK(fmt::format("{}", Dual<double>(2.0, 1.0)) == "<2, 1>");
  CHECK(fmt::format("{:.3f}", Dual<double>(2.0, -0.5)) == "<2.000, -0.500>");
  CHECK(fmt::format("{:>5}", Dual<float>(1.5f, 0.0f)) == "<  1.5,     0>");
  Dual<Dual<double>> nested{Dual<double>(2.0, 1.0), Dual<double>(1.0, 0.0)};
  CHECK(fmt::format("{}", nested) == "<<2, 1>, <1, 0>>");
}

TEST_CASE("dual: forward trace table of the AD survey's example") {
  tg::ForwardTrace trace;
  Dual<double> vm1 = trace.input("v-1", "x1", 2.0, 1.0);
  Dual<double> v0 = trace.input("v0", "x2", 5.0, 0.0);
  Dual<double> v1 = trace.record("v1", "ln v-1", "dv-1 / v-1", log(vm1));
  Dual<double> v2 = trace.record("v2", "v-1 * v0", "dv-1 * v0 + v-1 * dv0", vm1 * v0);
  Dual<double> v3 = trace.record("v3", "sin v0", "dv0 * cos v0", sin(v0));
  Dual<double> v4 = trace.record("v4", "v1 + v2", "dv1 + dv2", v1 + v2);
  Dual<double> v5 = trace.record("v5", "v4 - v3", "dv4 - dv3", v4 - v3);
  trace.record("y", "v5", "", v5);  // no tangent rule text: the row shows just dy

  REQUIRE(trace.entries().size() == 8);
  CHECK(trace.entries()[2].value.deriv() == 0.5);
  CHECK(trace.entries()[7].value.value() == doctest::Approx(11.652).epsilon(1e-4));
  CHECK(trace.entries()[7].value.deriv() == 5.5);
  CHECK(trace.table() ==
        "Forward primal trace    | Forward tangent trace (dv: derivative of v)\n"
        "------------------------+-------------------------------------\n"
        "v-1 = x1       =  2.000 | dv-1 = dx1                   = 1.000\n"
        "v0  = x2       =  5.000 | dv0  = dx2                   = 0.000\n"
        "v1  = ln v-1   =  0.693 | dv1  = dv-1 / v-1            = 0.500\n"
        "v2  = v-1 * v0 = 10.000 | dv2  = dv-1 * v0 + v-1 * dv0 = 5.000\n"
        "v3  = sin v0   = -0.959 | dv3  = dv0 * cos v0          = 0.000\n"
        "v4  = v1 + v2  = 10.693 | dv4  = dv1 + dv2             = 5.500\n"
        "v5  = v4 - v3  = 11.652 | dv5  = dv4 - dv3             = 5.500\n"
        "y   = v5       = 11.652 | dy                           = 5.500\n");
}

TEST_CASE("dual: Dual<T>, the tangent rules and the backward closures give one derivative") {
  // autograd/README.md's table: for each op the scalar JVP of Dual<double>, the tensor
  // tangent rule (jvp) and the backward closure (vjp) are the same derivative, here at
  // five points in one tensor each.
  using tg::Tensor;
  struct Op {
    const char* name;
    Dual<double> (*dual)(const Dual<double>&);
    Tensor (*tensor)(const Tensor&);
  };
  const Op ops[] = {
      {"sin", [](const Dual<double>& u) { return sin(u); }, [](const Tensor& x) { return x.sin(); }},
      {"cos", [](const Dual<double>& u) { return cos(u); }, [](const Tensor& x) { return x.cos(); }},
      {"exp", [](const Dual<double>& u) { return exp(u); }, [](const Tensor& x) { return x.exp(); }},
      {"log", [](const Dual<double>& u) { return log(u); }, [](const Tensor& x) { return x.log(); }},
      {"sqrt", [](const Dual<double>& u) { return sqrt(u); },
       [](const Tensor& x) { return x.sqrt(); }},
      {"tanh", [](const Dual<double>& u) { return tanh(u); },
       [](const Tensor& x) { return x.tanh(); }},
      {"sigmoid", [](const Dual<double>& u) { return sigmoid(u); },
       [](const Tensor& x) { return x.sigmoid(); }},
      {"pow 2.5", [](const Dual<double>& u) { return pow(u, 2.5); },
       [](const Tensor& x) { return x.pow(2.5f); }},
      {"x sin(x) / (1 + x^2)", [](const Dual<double>& u) { return u * sin(u) / (1.0 + u * u); },
       [](const Tensor& x) { return x * x.sin() / (1 + x * x); }},
  };
  const std::vector<float> xs = {0.3f, 0.9f, 1.4f, 2.2f, 3.1f};
  for (const Op& op : ops) {
    CAPTURE(op.name);
    auto f = [&op](const std::vector<Tensor>& in) { return op.tensor(in[0]); };
    Tensor x = tg::tensor(xs), ones = tg::ones({5});
    std::vector<float> by_jvp = tg::jvp(f, {x}, {ones}).second.to_vector();
    std::vector<float> by_vjp = tg::vjp(f, {x}, ones).second[0].to_vector();
    for (size_t i = 0; i < xs.size(); ++i) {
      double by_dual = op.dual(Dual<double>{xs[i], 1.0}).deriv();
      CHECK(by_jvp[i] == doctest::Approx(by_dual).epsilon(1e-5));
      CHECK(by_vjp[i] == doctest::Approx(by_dual).epsilon(1e-5));
    }
  }
}
