// The optimizers in float64: second-order methods and L-BFGS reach what float32 cannot (the
// minimum to 1e-12), clipping and prox_tv keep the dtype, and the parameter checks name the
// dtype. The first-order rules in float64 are checked against their double references in
// test_first_order.cpp; resuming in float64 in test_state_dict.cpp.
#include <cmath>

#include <tapegrad/optim/clip.h>
#include <tapegrad/optim/lbfgs.h>
#include <tapegrad/optim/least_squares.h>
#include <tapegrad/optim/newton.h>
#include <tapegrad/optim/prox_tv.h>
#include <tapegrad/optim/sgd.h>
#include "tests/optim/optim_test_util.h"

using namespace tg;
using namespace tg::optim;
using tg::test::check_close;

TEST_SUITE("optim") {
  TEST_CASE("float64: L-BFGS solves the Rosenbrock function to 1e-12") {
    for (LineSearch search : {LineSearch::strong_wolfe, LineSearch::none}) {
      INFO("strong_wolfe ", search == LineSearch::strong_wolfe);
      Tensor x =
          tensor(std::vector<double>{-1.2, 1}, {2}, {.dtype = kFloat64, .requires_grad = true});
      LBFGS opt({x}, {.lr = search == LineSearch::none ? 0.5 : 1.0,
                      .max_iter = 50,
                      .tolerance_grad = 1e-14,
                      .tolerance_change = 0,
                      .history_size = 10,
                      .line_search_fn = search});
      auto closure = [&] {
        opt.zero_grad();
        Tensor a = x.select(0, 0), b = x.select(0, 1);
        Tensor loss = (1 - a).pow(2) + 100 * (b - a.pow(2)).pow(2);
        loss.backward();
        return loss;
      };
      for (int step = 0; step < 40; ++step) opt.step(closure);
      CHECK(x.dtype() == kFloat64);
      check_close(x.to_vector<double>(), {1, 1}, 1e-12, 0);
    }
  }

  TEST_CASE("float64: Newton and Gauss-Newton land on the minimum to 1e-14") {
    // f = 1/2 x^T A x - c^T x, A = [[3, 1], [1, 2]], c = (1, 2): x* = (0, 1) in one step.
    Tensor x = tensor(std::vector<double>{4, -3}, {2}, {.dtype = kFloat64, .requires_grad = true});
    Newton newton({x});
    Tensor f0 = newton.step([&] {
      Tensor x1 = x.select(0, 0), x2 = x.select(0, 1);
      return 0.5 * (3 * x1.pow(2) + 2 * x1 * x2 + 2 * x2.pow(2)) - (x1 + 2 * x2);
    });
    CHECK(f0.dtype() == kFloat64);
    CHECK(f0.item<double>() == 0.5 * (48 - 24 + 18) - (4 - 6));
    check_close(x.to_vector<double>(), {0, 1}, 1e-14, 0);
    // Linear least squares y = 3 t - 0.7 at t = 0.1, 0.2, ..., 0.5 (exact data): one step.
    Tensor t = arange(0.1, 0.55, 0.1, {.dtype = kFloat64});
    Tensor y = 3 * t - 0.7;
    Tensor w = zeros({1}, {.dtype = kFloat64, .requires_grad = true});
    Tensor b = zeros({1}, {.dtype = kFloat64, .requires_grad = true});
    GaussNewton gn({w, b});
    gn.step([&] { return w * t + b - y; });
    CHECK(std::abs(w.item<double>() - 3) < 1e-13);
    CHECK(std::abs(b.item<double>() + 0.7) < 1e-13);
    LevenbergMarquardt lm({w, b});
    lm.step([&] { return w * t + b - y; });  // already exact: the trial is refused
    CHECK(std::abs(w.item<double>() - 3) < 1e-13);
  }

  TEST_CASE("float64: clipping and projections keep the dtype and double precision") {
    Tensor a = zeros({2}, {.dtype = kFloat64, .requires_grad = true});
    a.set_grad(tensor(std::vector<double>{3, 4}, {2}, {.dtype = kFloat64}));
    CHECK(clip_grad_norm_({a}, 1) == 5);
    CHECK(a.grad().dtype() == kFloat64);
    const double k = 1 / (5 + 1e-6);
    CHECK(a.grad().to_vector<double>() == std::vector<double>{3 * k, 4 * k});
    clip_grad_value_({a}, 0.5);
    CHECK(a.grad().to_vector<double>() == std::vector<double>{0.5, 0.5});
    Tensor p = tensor(std::vector<double>{0.3, 0.4}, {2}, {.dtype = kFloat64});
    CHECK(project_l2_ball_({p}, 0.25) == doctest::Approx(0.5));
    check_close(p.to_vector<double>(), {0.15, 0.2}, 1e-16, 1e-15);
  }

  TEST_CASE("float64: prox_tv gives float64, and float32's result is it rounded") {
    manual_seed(2);
    Tensor v = randn({2, 6, 7});
    Tensor x32 = prox_tv(v, 0.4f, {.lower = 0.0f});
    Tensor x64 = prox_tv(v.to(kFloat64), 0.4f, {.lower = 0.0f});
    CHECK(x64.dtype() == kFloat64);
    CHECK(x32.dtype() == kFloat32);
    // The solver runs in double either way: float32 is the same numbers, rounded once.
    CHECK(x64.to(kFloat32).to_vector() == x32.to_vector());
    CHECK(total_variation(x64) == doctest::Approx(total_variation(x32)).epsilon(1e-6));
  }

  TEST_CASE("parameters must be floating; L-BFGS's must share one dtype") {
    Tensor i = zeros({2}, {.dtype = kInt64});
    CHECK(test::error_of([&] { SGD opt({i}); }) ==
          "SGD: parameter 0 of shape [2] is int64; only float32 and float64 tensors can be "
          "optimized");
    Tensor w = zeros({2}, {.requires_grad = true});
    Tensor v = zeros({3}, {.dtype = kFloat64, .requires_grad = true});
    CHECK(test::error_of([&] { LBFGS opt({w, v}); }) ==
          "LBFGS: the parameters are float32 and float64; they form one flat vector, so they "
          "must share a dtype; hint: convert them with .to()");
    SGD mixed({w, v}, {.lr = 0.5});  // first-order methods take each parameter in its own dtype
    w.set_grad(ones({2}));
    v.set_grad(ones({3}, {.dtype = kFloat64}));
    mixed.step();
    CHECK(w.to_vector() == std::vector<float>{-0.5f, -0.5f});
    CHECK(v.to_vector<double>() == std::vector<double>{-0.5, -0.5, -0.5});
  }
}  // TEST_SUITE("optim")
