// The full-batch methods: the derivatives they rest on (against hand-derived ones), L-BFGS
// and Newton on the Rosenbrock function, Newton's variants, Gauss-Newton, and Levenberg-
// Marquardt on the airfoil linear regression against the normal equations.
#include <cstdlib>
#include <filesystem>

#include <tapegrad/core/random.h>
#include <tapegrad/data/airfoil.h>
#include <tapegrad/optim/curvature.h>
#include <tapegrad/optim/lbfgs.h>
#include <tapegrad/optim/least_squares.h>
#include <tapegrad/optim/newton.h>
#include "tests/optim/optim_test_util.h"

using namespace tg;
using namespace tg::optim;
using tg::test::check_close;

namespace {

// f(x) = (1 - x1)^2 + 100 (x2 - x1^2)^2, minimum 0 at (1, 1); the classic start (-1.2, 1).
Tensor rosenbrock(const Tensor& x) {
  Tensor a = x.select(0, 0), b = x.select(0, 1);
  return (1 - a).pow(2) + 100 * (b - a.pow(2)).pow(2);
}

// Solves the normal equations (X^T X) w = X^T y in double by Cholesky, X [m, n] row-major:
// an independent reference for the least-squares methods.
std::vector<double> normal_equation_solution(const std::vector<double>& X,
                                             const std::vector<double>& y, int64_t m, int64_t n) {
  std::vector<double> A(n * n, 0.0), b(n, 0.0), L(n * n, 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      b[j] += X[i * n + j] * y[i];
      for (int64_t k = 0; k < n; ++k) A[j * n + k] += X[i * n + j] * X[i * n + k];
    }
  for (int64_t j = 0; j < n; ++j) {  // A = L L^T
    for (int64_t k = 0; k <= j; ++k) {
      double s = A[j * n + k];
      for (int64_t p = 0; p < k; ++p) s -= L[j * n + p] * L[k * n + p];
      L[j * n + k] = j == k ? std::sqrt(s) : s / L[k * n + k];
    }
  }
  std::vector<double> z(n), w(n);
  for (int64_t j = 0; j < n; ++j) {
    double s = b[j];
    for (int64_t p = 0; p < j; ++p) s -= L[j * n + p] * z[p];
    z[j] = s / L[j * n + j];
  }
  for (int64_t j = n - 1; j >= 0; --j) {
    double s = z[j];
    for (int64_t p = j + 1; p < n; ++p) s -= L[p * n + j] * w[p];
    w[j] = s / L[j * n + j];
  }
  return w;
}

// A linear regression as LM sees it: residuals X w + b - y of standardized features.
struct Regression {
  Tensor X, y;  // [m, 5], [m, 1]
  Tensor w = zeros({5, 1}, {.requires_grad = true}), b = zeros({1}, {.requires_grad = true});
  ParamFunction residuals() const {
    return [X = X, y = y, w = w, b = b] { return (X.matmul(w) + b - y).reshape({-1}); };
  }
  // The normal-equation solution for (w, b), from [X, 1].
  std::vector<double> exact() const {
    int64_t m = X.size(0);
    std::vector<float> xs = X.contiguous().to_vector(), ys = y.contiguous().to_vector();
    std::vector<double> A, Y(ys.begin(), ys.end());
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < 5; ++j) A.push_back(xs[i * 5 + j]);
      A.push_back(1.0);
    }
    return normal_equation_solution(A, Y, m, 6);
  }
};

// Solves the regression with LM and checks it against the normal equations.
void check_levenberg_marquardt(Regression& r, const char* what) {
  INFO(std::string(what));
  LevenbergMarquardt opt({r.w, r.b});
  std::vector<double> exact = r.exact();
  double first_cost = 0, last_cost = 0;
  for (int it = 0; it < 4; ++it) {
    last_cost = opt.step(r.residuals()).item();
    if (it == 0) first_cost = last_cost;
  }
  std::vector<float> got = r.w.to_vector();
  got.push_back(r.b.item());
  INFO("cost " << first_cost << " -> " << last_cost);
  check_close(got, exact, 1e-4, 0);
}

}  // namespace

TEST_SUITE("optim") {
  TEST_CASE("loss_derivatives gives the gradient and Hessian over several parameters") {
    // f(x, y) = x1^2 y + x1 x2 + sin(y) x2^2; x = (1.5, -0.5), y = 0.7.
    Tensor x = tensor({1.5f, -0.5f}, {2}, {.requires_grad = true});
    Tensor y = scalar_tensor(0.7f, {.requires_grad = true});
    auto f = [x, y] {
      Tensor x1 = x.select(0, 0), x2 = x.select(0, 1);
      return x1.pow(2) * y + x1 * x2 + y.sin() * x2.pow(2);
    };
    LossDerivatives d = loss_derivatives(f, {x, y}, "test");
    const double x1 = 1.5, x2 = -0.5, yv = 0.7;
    CHECK(d.loss == doctest::Approx(x1 * x1 * yv + x1 * x2 + std::sin(yv) * x2 * x2).epsilon(1e-6));
    check_close(std::vector<float>(d.gradient.begin(), d.gradient.end()),
                {2 * x1 * yv + x2, x1 + 2 * std::sin(yv) * x2, x1 * x1 + std::cos(yv) * x2 * x2},
                1e-5, 1e-5);
    std::vector<double> h = {2 * yv,
                             1,
                             2 * x1,  //
                             1,
                             2 * std::sin(yv),
                             2 * std::cos(yv) * x2,
                             2 * x1,
                             2 * std::cos(yv) * x2,
                             -std::sin(yv) * x2 * x2};
    check_close(std::vector<float>(d.hessian.begin(), d.hessian.end()), h, 1e-5, 1e-5);
    CHECK(x.tangent().defined() == false);  // the tangents are removed again
    REQUIRE(x.grad().defined());            // and the gradient is left in .grad()
    CHECK(x.grad().to_vector()[0] == doctest::Approx(2 * x1 * yv + x2).epsilon(1e-5));
  }

  TEST_CASE("Jacobians by forward and by reverse mode agree with the hand-derived one") {
    // r(a, k) = a exp(k t_i) - y_i for t = 0, 0.5, 1: dr/da = exp(k t), dr/dk = a t exp(k t).
    Tensor a = scalar_tensor(2.f, {.requires_grad = true}),
           k = scalar_tensor(-0.3f, {.requires_grad = true});
    Tensor t = tensor({0.f, 0.5f, 1.f}), y = tensor({1.f, 2.f, 3.f});
    auto r = [=] { return a * (k * t).exp() - y; };
    for (JacobianMode mode :
         {JacobianMode::forward, JacobianMode::reverse, JacobianMode::automatic}) {
      ResidualDerivatives d = residual_derivatives(r, {a, k}, mode, "test");
      REQUIRE(d.m == 3);
      REQUIRE(d.n == 2);
      std::vector<double> expected;
      for (double ti : {0.0, 0.5, 1.0}) {
        expected.push_back(std::exp(-0.3 * ti));
        expected.push_back(2 * ti * std::exp(-0.3 * ti));
      }
      check_close(std::vector<float>(d.jacobian.begin(), d.jacobian.end()), expected, 1e-6, 1e-5);
      check_close(std::vector<float>(d.residual.begin(), d.residual.end()),
                  {2 - 1.0, 2 * std::exp(-0.15) - 2, 2 * std::exp(-0.3) - 3}, 1e-6, 1e-5);
    }
  }

  TEST_CASE("L-BFGS solves the Rosenbrock function to 1e-6") {
    for (LineSearch search : {LineSearch::strong_wolfe, LineSearch::none}) {
      INFO("strong_wolfe ", search == LineSearch::strong_wolfe);
      Tensor x = tensor({-1.2f, 1.f}, {2}, {.requires_grad = true});
      // tolerance_change = 0: near the minimum f is ~1e-12, so PyTorch's default 1e-9 on the
      // change of f would stop at |x - x*| ~ 1e-6; the gradient test decides instead.
      LBFGS opt({x}, {.lr = search == LineSearch::none ? 0.5 : 1.0,
                      .max_iter = 50,
                      .tolerance_change = 0,
                      .history_size = 10,
                      .line_search_fn = search});
      auto closure = [&] {
        opt.zero_grad();
        Tensor loss = rosenbrock(x);
        loss.backward();
        return loss;
      };
      for (int step = 0; step < 40; ++step) opt.step(closure);
      check_close(x.to_vector(), {1, 1}, 1e-6, 0);
    }
  }

  TEST_CASE("L-BFGS stops on its tolerances and keeps history_size pairs") {
    // The course's quadratic. With the defaults, the first step stops on tolerance_change (f
    // changed by < 1e-9) long before max_iter.
    tg::test::CourseQuadratic q;
    LBFGS quadratic({q.x}, {.max_iter = 100, .line_search_fn = LineSearch::strong_wolfe});
    quadratic.step(q.closure());
    CHECK(quadratic.n_iter() < 20);
    check_close(q.x.to_vector(), {0, 0}, 1e-4, 0);
    // With tolerance_grad alone: once max|g| <= 1e-5, a step stops after its one evaluation.
    tg::test::CourseQuadratic q1;
    LBFGS by_grad({q1.x}, {.max_iter = 100,
                           .tolerance_grad = 1e-5,
                           .tolerance_change = 0,
                           .line_search_fn = LineSearch::strong_wolfe});
    by_grad.step(q1.closure());
    CHECK(by_grad.n_iter() < 30);
    std::vector<float> x1 = q1.x.to_vector();
    CHECK(std::max(std::abs(0.2 * x1[0]), std::abs(4.0 * x1[1])) <= 1e-5);
    int64_t evals = by_grad.func_evals(), iterations = by_grad.n_iter();
    by_grad.step(q1.closure());
    CHECK(by_grad.func_evals() == evals + 1);
    CHECK(by_grad.n_iter() == iterations);
    // max_eval bounds the closure calls of one step.
    tg::test::CourseQuadratic q2;
    LBFGS bounded({q2.x}, {.lr = 0.1, .max_iter = 100, .max_eval = 7});
    bounded.step(q2.closure());
    CHECK(bounded.func_evals() == 7);

    Tensor x = tensor({-1.2f, 1.f}, {2}, {.requires_grad = true});
    LBFGS opt({x}, {.max_iter = 200,
                    .tolerance_grad = 0,
                    .tolerance_change = 1e-3,
                    .history_size = 2,
                    .line_search_fn = LineSearch::strong_wolfe});
    auto closure = [&] {
      opt.zero_grad();
      Tensor loss = rosenbrock(x);
      loss.backward();
      return loss;
    };
    opt.step(closure);
    CHECK(opt.n_iter() < 200);  // stopped early: the loss changed by less than 1e-3
    StateDict s = opt.state_dict();
    CHECK(s.number("lbfgs.history") <= 2);
  }

  TEST_CASE("Newton's method solves the Rosenbrock function to 1e-6") {
    Tensor x = tensor({-1.2f, 1.f}, {2}, {.requires_grad = true});
    Newton opt({x});
    int steps = 0;
    while (steps < 20 &&
           !(std::abs(x.to_vector()[0] - 1) <= 1e-6 && std::abs(x.to_vector()[1] - 1) <= 1e-6)) {
      opt.step([&] { return rosenbrock(x); });
      ++steps;
    }
    INFO("steps ", steps);
    CHECK(steps <= 8);
    check_close(x.to_vector(), {1, 1}, 1e-6, 0);
    REQUIRE(x.grad().defined());  // the gradient at the last start point
  }

  TEST_CASE("Newton solves a quadratic in one step; damped and diagonal variants") {
    // The course's quadratic has a diagonal Hessian: both variants jump to the minimum.
    for (bool diagonal : {false, true}) {
      tg::test::CourseQuadratic q;
      Newton opt({q.x}, {.diagonal = diagonal});
      Tensor f0 = opt.step([x = q.x] { return (x.pow(2) * tensor({0.1f, 2.f})).sum(); });
      CHECK(f0.item() == doctest::Approx(10.5));
      check_close(q.x.to_vector(), {0, 0}, 1e-6, 0);
    }
    // A coupled quadratic f = 1/2 x^T A x - c^T x, A = [[3, 1], [1, 2]]: damped Newton with
    // eta = 0.5 halves the distance to x* = A^-1 c per step; the diagonal step does not solve it.
    auto f = [](const Tensor& x) {
      Tensor x1 = x.select(0, 0), x2 = x.select(0, 1);
      return 0.5f * (3 * x1.pow(2) + 2 * x1 * x2 + 2 * x2.pow(2)) - (x1 + 2 * x2);
    };
    const double star[2] = {0.0, 1.0};  // A^-1 (1, 2)
    Tensor x = tensor({4.f, -3.f}, {2}, {.requires_grad = true});
    Newton damped({x}, {.lr = 0.5});
    for (int t = 1; t <= 3; ++t) {
      damped.step([&] { return f(x); });
      double scale = std::pow(0.5, t);
      check_close(x.to_vector(),
                  {star[0] + (4 - star[0]) * scale, star[1] + (-3 - star[1]) * scale}, 1e-5, 1e-5);
    }
    Tensor z = tensor({4.f, -3.f}, {2}, {.requires_grad = true});
    Newton diagonal({z}, {.diagonal = true});
    diagonal.step([&] { return f(z); });
    // x_i -= g_i / H_ii: g = A x - c = (8, -4), diag(H) = (3, 2).
    check_close(z.to_vector(), {4 - 8.0 / 3, -3 + 4.0 / 2}, 1e-5, 1e-5);
  }

  TEST_CASE("Gauss-Newton fits an exponential model and solves linear least squares in one step") {
    // y = 2 exp(-0.5 t), exact data: the residuals vanish at (a, k) = (2, -0.5).
    Tensor t = linspace(0, 3, 12);
    Tensor y = 2 * (-0.5f * t).exp();
    Tensor a = scalar_tensor(1.f, {.requires_grad = true}),
           k = scalar_tensor(-0.1f, {.requires_grad = true});
    GaussNewton opt({a, k});
    for (int it = 0; it < 10; ++it) opt.step([=] { return a * (k * t).exp() - y; });
    CHECK(a.item() == doctest::Approx(2).epsilon(1e-5));
    CHECK(k.item() == doctest::Approx(-0.5).epsilon(1e-5));

    manual_seed(3);
    Regression r{randn({40, 5}), randn({40, 1})};
    GaussNewton one({r.w, r.b}, {.jacobian = JacobianMode::reverse});
    one.step(r.residuals());
    std::vector<float> got = r.w.to_vector();
    got.push_back(r.b.item());
    check_close(got, r.exact(), 1e-5, 1e-5);
  }

  TEST_CASE("Levenberg-Marquardt solves the airfoil regression like the normal equations") {
    // The course's airfoil data if it was fetched (scripts/fetch-data.sh airfoil), standardized
    // as in d2l's get_data_ch11; and always a synthetic regression of the same shape.
    const char* dir = std::getenv("TAPEGRAD_DATA_DIR");
    std::string path = std::string(dir ? dir : std::string(TG_TEST_DIR) + "/../datasets") +
                       "/airfoil_self_noise.dat";
    if (std::filesystem::exists(path)) {
      data::Table table = data::read_airfoil(path);
      data::standardize_columns(table);
      Tensor all = tensor(table.values, table.shape()).narrow(0, 0, 1500);
      Regression r{all.narrow(1, 0, 5).contiguous(), all.narrow(1, 5, 1).contiguous()};
      check_levenberg_marquardt(r, "airfoil_self_noise.dat");
    } else {
      MESSAGE("airfoil data not found at ", path, ": checking the synthetic regression only");
    }
    manual_seed(7);
    Tensor X = randn({1500, 5});
    X = (X + 0.5f * X.narrow(1, 0, 1)).detach();  // correlated features, like the airfoil's
    Tensor y = (X.matmul(tensor({0.3f, -0.8f, 0.1f, 0.5f, -0.2f}, {5, 1})) + 0.4f +
                0.3f * randn({1500, 1}))
                   .detach();
    Regression r{X, y};
    check_levenberg_marquardt(r, "synthetic");
  }

  TEST_CASE("Levenberg-Marquardt adapts its damping and reaches a nonlinear fit") {
    Tensor t = linspace(0, 3, 12);
    Tensor y = 2 * (-0.5f * t).exp();
    Tensor a = scalar_tensor(0.2f, {.requires_grad = true}),
           k = scalar_tensor(1.f, {.requires_grad = true});
    auto r = [=] { return a * (k * t).exp() - y; };
    LevenbergMarquardt opt({a, k}, {.damping = 1.0, .scale_by_diagonal = false});
    CHECK(opt.damping() == 1.0);
    double cost = opt.step(r).item();
    REQUIRE(opt.last_step_accepted());
    CHECK(opt.damping() == doctest::Approx(0.1));  // accepted: lambda / 10
    for (int it = 0; it < 30; ++it) {
      double next = opt.step(r).item();
      CHECK(next <= cost);  // the cost never rises
      cost = next;
    }
    CHECK(a.item() == doctest::Approx(2).epsilon(1e-4));
    CHECK(k.item() == doctest::Approx(-0.5).epsilon(1e-4));
    StateDict s = opt.state_dict();
    CHECK(s.number("state.0.damping") == opt.damping());
  }

  TEST_CASE("second-order methods name their misuse") {
    Tensor x = tensor({1.f, 2.f}, {2}, {.requires_grad = true});
    Newton newton({x});
    CHECK_THROWS_CONTAINING(newton.step(), "Newton: step() needs the loss function");
    CHECK_THROWS_CONTAINING(newton.step([&] { return x * 2; }),
                            "Newton: the loss function must return a scalar, got [2]");
    CHECK_THROWS_CONTAINING(newton.step([&] {
      Tensor l = x.pow(2).sum();
      l.backward();
      return l;
    }),
                            "Newton: the loss function called backward()");
    CHECK_THROWS_CONTAINING(newton.step([&] { return x.sum(); }),
                            "Newton: the Hessian is singular");
    CHECK(x.tangent().defined() == false);  // removed even when the step throws
    CHECK_THROWS_CONTAINING(Newton({zeros({5000}, {.requires_grad = true})}),
                            "Newton: 5000 parameter elements are too many");
    CHECK_THROWS_CONTAINING(GaussNewton({x}).step(),
                            "GaussNewton: step() needs the residual function");
    CHECK_THROWS_CONTAINING(LevenbergMarquardt({x}).step(),
                            "LevenbergMarquardt: step() needs the residual function");
    CHECK_THROWS_CONTAINING(LevenbergMarquardt({x}, {.damping = 0}),
                            "LevenbergMarquardt: invalid damping: 0");
    CHECK_THROWS_CONTAINING(LevenbergMarquardt({x}, {.damping_up = 1}),
                            "LevenbergMarquardt: invalid damping_up: 1");
    CHECK_THROWS_CONTAINING(LBFGS({x}).step(), "LBFGS: step() needs a closure");
    CHECK_THROWS_CONTAINING(LBFGS({x}, {.history_size = 0}),
                            "LBFGS: invalid history_size: 0 (expected > 0)");
    CHECK_THROWS_CONTAINING(LBFGS({x}, {.max_iter = 0}), "LBFGS: invalid max_iter: 0");
    CHECK_THROWS_CONTAINING(LBFGS({x}, {.lr = -1}), "LBFGS: invalid learning rate: -1");
    CHECK_THROWS_CONTAINING(Newton({x}, {.lr = -0.5}), "Newton: invalid learning rate: -0.5");
  }

}  // TEST_SUITE("optim")
