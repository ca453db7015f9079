// The first-order optimizers against two independent references: PyTorch's trajectories
// (fixtures/optim_trajectories.json, every parameter after every step) and the update rules
// written in plain double arithmetic on the course's quadratic. Then the course's printed
// numbers, convergence on the quadratic, parameter groups and zero_grad.
#include <functional>
#include <map>
#include <memory>

#include <tapegrad/optim/adadelta.h>
#include <tapegrad/optim/adagrad.h>
#include <tapegrad/optim/adam.h>
#include <tapegrad/optim/adamax.h>
#include <tapegrad/optim/lbfgs.h>
#include <tapegrad/optim/lr_scheduler.h>
#include <tapegrad/optim/nadam.h>
#include <tapegrad/optim/rmsprop.h>
#include <tapegrad/optim/sgd.h>
#include <tapegrad/optim/yogi.h>
#include "tests/optim/optim_test_util.h"

using namespace tg;
using namespace tg::optim;
using tg::test::check_close;
using tg::test::CourseQuadratic;
using tg::test::FixtureProblem;
using Point = std::array<double, 2>;

namespace {

using Factory = std::function<std::unique_ptr<Optimizer>(Tensor W, Tensor b)>;

// An optimizer of type Opt over {W, b} with one set of options.
template <typename Opt, typename Options>
Factory over_w_b(Options o) {
  return [o](Tensor W, Tensor b) { return std::make_unique<Opt>(std::vector{W, b}, o); };
}

// An optimizer of type Opt with W and b in two groups.
template <typename Opt, typename Options>
Factory two_groups(Options for_w, Options for_b) {
  return [=](Tensor W, Tensor b) {
    return std::make_unique<Opt>(std::vector<ParamGroup<Options>>{{{W}, for_w}, {{b}, for_b}});
  };
}

// The C++ side of every case of make_optim_fixtures.py, with the same options.
const std::map<std::string, Factory>& fixture_cases() {
  using LS = LineSearch;
  static const std::map<std::string, Factory> cases = {
      {"sgd", over_w_b<SGD>(SGDOptions{.lr = 0.1})},
      {"sgd_momentum", over_w_b<SGD>(SGDOptions{.lr = 0.1, .momentum = 0.9})},
      {"sgd_dampening_wd",
       over_w_b<SGD>(
           SGDOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.3, .weight_decay = 0.01})},
      {"sgd_nesterov", over_w_b<SGD>(SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true})},
      {"sgd_groups",
       two_groups<SGD>(SGDOptions{.lr = 0.1, .momentum = 0.9}, SGDOptions{.lr = 0.01})},
      {"adagrad", over_w_b<Adagrad>(AdagradOptions{.lr = 0.1})},
      {"adagrad_decay_wd",
       over_w_b<Adagrad>(AdagradOptions{
           .lr = 0.1, .lr_decay = 0.05, .weight_decay = 0.1, .initial_accumulator_value = 0.2})},
      {"rmsprop", over_w_b<RMSprop>(RMSpropOptions{.lr = 0.01})},
      {"rmsprop_centered_momentum",
       over_w_b<RMSprop>(RMSpropOptions{
           .lr = 0.01, .alpha = 0.9, .weight_decay = 0.1, .momentum = 0.5, .centered = true})},
      {"adadelta", over_w_b<Adadelta>(AdadeltaOptions{})},
      {"adadelta_wd",
       over_w_b<Adadelta>(AdadeltaOptions{.lr = 0.5, .rho = 0.8, .weight_decay = 0.1})},
      {"adam", over_w_b<Adam>(AdamOptions{.lr = 0.05})},
      {"adam_amsgrad_wd",
       over_w_b<Adam>(
           AdamOptions{.lr = 0.05, .betas = {0.8, 0.99}, .weight_decay = 0.1, .amsgrad = true})},
      {"adam_groups",
       two_groups<Adam>(AdamOptions{.lr = 0.05}, AdamOptions{.lr = 0.2, .betas = {0.5, 0.9}})},
      {"adamw", over_w_b<AdamW>(AdamWOptions{.lr = 0.05, .weight_decay = 0.1})},
      {"adamw_amsgrad", over_w_b<AdamW>(AdamWOptions{.lr = 0.05, .amsgrad = true})},
      {"adamax", over_w_b<Adamax>(AdamaxOptions{.lr = 0.05})},
      {"adamax_wd",
       over_w_b<Adamax>(AdamaxOptions{.lr = 0.05, .betas = {0.8, 0.9}, .weight_decay = 0.1})},
      {"nadam", over_w_b<NAdam>(NAdamOptions{.lr = 0.05})},
      {"nadam_wd",
       over_w_b<NAdam>(NAdamOptions{.lr = 0.05, .weight_decay = 0.1, .momentum_decay = 0.01})},
      {"lbfgs", over_w_b<LBFGS>(LBFGSOptions{.max_iter = 4})},
      {"lbfgs_strong_wolfe",
       over_w_b<LBFGS>(
           LBFGSOptions{.max_iter = 5, .history_size = 3, .line_search_fn = LS::strong_wolfe})},
  };
  return cases;
}

// Runs `opt` and a scalar reference side by side on the course quadratic and compares x after
// every step. `ref(x, g, t)` updates x in place from the gradient g at x, at step t = 1, 2, ...
// Twice: in float32 within `rtol`, then in float64, where the optimizer's loops and the
// reference do the same double arithmetic, so they agree to 1e-12.
template <typename Ref>
void compare_with_reference(const std::function<std::unique_ptr<Optimizer>(Tensor)>& make, Ref ref,
                            int steps = 12, double rtol = 2e-5) {
  for (Dtype dtype : {kFloat32, kFloat64}) {
    INFO(dtype_name(dtype));
    CourseQuadratic q(dtype);
    auto opt = make(q.x);
    Ref rule = ref;  // a fresh copy of the reference's state
    Point x = {-5, -2};
    for (int t = 1; t <= steps; ++t) {
      opt->step(q.closure());
      rule(x, CourseQuadratic::grad(x), t);
      INFO("step ", t);
      if (dtype == kFloat32)
        check_close(q.x.to_vector(), {x[0], x[1]}, 1e-6, rtol);
      else
        check_close(q.x.to_vector<double>(), {x[0], x[1]}, 1e-12, 1e-12);
    }
  }
}

template <typename Opt, typename Options>
std::function<std::unique_ptr<Optimizer>(Tensor)> make(Options options) {
  return [options](Tensor x) { return std::make_unique<Opt>(std::vector{x}, options); };
}

}  // namespace

TEST_SUITE("optim") {
  TEST_CASE("first-order optimizers and LBFGS follow PyTorch's trajectories") {
    const tg::test::JsonFixture json = tg::test::optim_fixture()["cases"];
    for (const std::string& name : json.keys()) CHECK_MESSAGE(fixture_cases().count(name), name);
    for (const auto& [name, factory] : fixture_cases()) {
      INFO("case ", name);
      REQUIRE(json.contains(name));
      FixtureProblem problem;
      auto opt = factory(problem.W, problem.b);
      const tg::test::JsonFixture trajectory = json[name];
      for (size_t step = 0; step < trajectory.size(); ++step) {
        INFO("step ", step + 1);
        opt->step(problem.closure());
        check_close(problem.flat(), trajectory[step].numbers(), 2e-6, 2e-5);
      }
    }
  }

  TEST_CASE("in float64 every optimizer keeps float64 state and matches its float32 run") {
    const tg::test::JsonFixture json = tg::test::optim_fixture()["cases"];
    for (const auto& [name, factory] : fixture_cases()) {
      INFO("case ", name);
      FixtureProblem p32, p64(kFloat64);
      auto opt32 = factory(p32.W, p32.b), opt64 = factory(p64.W, p64.b);
      const tg::test::JsonFixture trajectory = json[name];
      for (size_t step = 0; step < trajectory.size(); ++step) {
        INFO("step ", step + 1);
        opt32->step(p32.closure());
        opt64->step(p64.closure());
        CHECK(p64.W.dtype() == kFloat64);
        // Within float32's rounding of the same run, and as close to PyTorch's (float32) run.
        std::vector<float> run32 = p32.flat();
        check_close(p64.flat64(), std::vector<double>(run32.begin(), run32.end()), 2e-6, 2e-5);
        check_close(p64.flat64(), trajectory[step].numbers(), 2e-6, 2e-5);
      }
      StateDict state = opt64->state_dict();
      for (const auto& [key, t] : state) {
        INFO(key);
        CHECK(t.dtype() == kFloat64);
      }
    }
  }

  TEST_CASE("SGD follows its update rule") {
    for (auto o : {SGDOptions{.lr = 0.1}, SGDOptions{.lr = 0.1, .momentum = 0.9},
                   SGDOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.3, .weight_decay = 0.05},
                   SGDOptions{.lr = 0.05, .momentum = 0.5, .nesterov = true}}) {
      INFO("momentum ", o.momentum, " dampening ", o.dampening, " nesterov ", o.nesterov);
      compare_with_reference(make<SGD>(o), [o, v = Point{}](Point& x, Point g, int t) mutable {
        for (int i = 0; i < 2; ++i) {
          double gi = g[i] + o.weight_decay * x[i];
          v[i] = t == 1 ? gi : o.momentum * v[i] + (1 - o.dampening) * gi;
          double d = o.momentum == 0 ? gi : o.nesterov ? gi + o.momentum * v[i] : v[i];
          x[i] -= o.lr * d;
        }
      });
    }
  }

  TEST_CASE("Adagrad follows its update rule, PyTorch's and the course's") {
    for (auto o :
         {AdagradOptions{.lr = 0.4},
          AdagradOptions{.lr = 0.4, .eps = 1e-6, .eps_inside_sqrt = true},
          AdagradOptions{
              .lr = 0.3, .lr_decay = 0.1, .weight_decay = 0.1, .initial_accumulator_value = 0.5}}) {
      INFO("eps_inside_sqrt ", o.eps_inside_sqrt, " lr_decay ", o.lr_decay);
      Point s = {o.initial_accumulator_value, o.initial_accumulator_value};
      compare_with_reference(make<Adagrad>(o), [o, s](Point& x, Point g, int t) mutable {
        double eta = o.lr / (1 + (t - 1) * o.lr_decay);
        for (int i = 0; i < 2; ++i) {
          double gi = g[i] + o.weight_decay * x[i];
          s[i] += gi * gi;
          x[i] -=
              eta * gi / (o.eps_inside_sqrt ? std::sqrt(s[i] + o.eps) : std::sqrt(s[i]) + o.eps);
        }
      });
    }
  }

  TEST_CASE("RMSprop follows its update rule, PyTorch's and the course's") {
    for (auto o :
         {RMSpropOptions{.lr = 0.01},
          RMSpropOptions{.lr = 0.4, .alpha = 0.9, .eps = 1e-6, .eps_inside_sqrt = true},
          RMSpropOptions{
              .lr = 0.01, .alpha = 0.9, .weight_decay = 0.1, .momentum = 0.5, .centered = true}}) {
      INFO("centered ", o.centered, " momentum ", o.momentum, " inside ", o.eps_inside_sqrt);
      compare_with_reference(make<RMSprop>(o), [o, s = Point{}, m = Point{}, b = Point{}](
                                                   Point& x, Point g, int) mutable {
        for (int i = 0; i < 2; ++i) {
          double gi = g[i] + o.weight_decay * x[i];
          s[i] = o.alpha * s[i] + (1 - o.alpha) * gi * gi;
          m[i] = o.alpha * m[i] + (1 - o.alpha) * gi;
          double v = o.centered ? s[i] - m[i] * m[i] : s[i];
          double d = o.eps_inside_sqrt ? std::sqrt(v + o.eps) : std::sqrt(v) + o.eps;
          b[i] = o.momentum * b[i] + gi / d;
          x[i] -= o.lr * (o.momentum > 0 ? b[i] : gi / d);
        }
      });
    }
  }

  TEST_CASE("Adadelta follows its update rule, PyTorch's and the course's") {
    for (auto o : {AdadeltaOptions{}, AdadeltaOptions{.rho = 0.9, .eps = 1e-5},
                   AdadeltaOptions{.lr = 0.5, .rho = 0.8, .weight_decay = 0.1}}) {
      INFO("rho ", o.rho, " eps ", o.eps);
      compare_with_reference(
          make<Adadelta>(o), [o, s = Point{}, delta = Point{}](Point& x, Point g, int) mutable {
            for (int i = 0; i < 2; ++i) {
              double gi = g[i] + o.weight_decay * x[i];
              s[i] = o.rho * s[i] + (1 - o.rho) * gi * gi;
              double step = std::sqrt(delta[i] + o.eps) / std::sqrt(s[i] + o.eps) * gi;
              delta[i] = o.rho * delta[i] + (1 - o.rho) * step * step;
              x[i] -= o.lr * step;
            }
          });
    }
  }

  // Adam-family references, with the course's bias-corrected notation v^ and s^.
  TEST_CASE("Adam and AdamW follow their update rules") {
    for (auto o :
         {AdamOptions{.lr = 0.1}, AdamOptions{.lr = 0.1, .eps = 1e-6},
          AdamOptions{.lr = 0.1, .betas = {0.8, 0.99}, .weight_decay = 0.1, .amsgrad = true}}) {
      INFO("amsgrad ", o.amsgrad);
      compare_with_reference(make<Adam>(o), [o, v = Point{}, s = Point{}, s_max = Point{}](
                                                Point& x, Point g, int t) mutable {
        for (int i = 0; i < 2; ++i) {
          double gi = g[i] + o.weight_decay * x[i];
          v[i] = o.betas[0] * v[i] + (1 - o.betas[0]) * gi;
          s[i] = o.betas[1] * s[i] + (1 - o.betas[1]) * gi * gi;
          s_max[i] = std::max(s_max[i], s[i]);
          double v_hat = v[i] / (1 - std::pow(o.betas[0], t));
          double s_hat = (o.amsgrad ? s_max[i] : s[i]) / (1 - std::pow(o.betas[1], t));
          x[i] -= o.lr * v_hat / (std::sqrt(s_hat) + o.eps);
        }
      });
    }
    for (auto o :
         {AdamWOptions{.lr = 0.1, .weight_decay = 0.2}, AdamWOptions{.lr = 0.1, .amsgrad = true}}) {
      INFO("AdamW amsgrad ", o.amsgrad);
      compare_with_reference(make<AdamW>(o), [o, v = Point{}, s = Point{}, s_max = Point{}](
                                                 Point& x, Point g, int t) mutable {
        for (int i = 0; i < 2; ++i) {
          x[i] *= 1 - o.lr * o.weight_decay;  // decoupled: the gradient was taken before
          v[i] = o.betas[0] * v[i] + (1 - o.betas[0]) * g[i];
          s[i] = o.betas[1] * s[i] + (1 - o.betas[1]) * g[i] * g[i];
          s_max[i] = std::max(s_max[i], s[i]);
          double v_hat = v[i] / (1 - std::pow(o.betas[0], t));
          double s_hat = (o.amsgrad ? s_max[i] : s[i]) / (1 - std::pow(o.betas[1], t));
          x[i] -= o.lr * v_hat / (std::sqrt(s_hat) + o.eps);
        }
      });
    }
  }

  TEST_CASE("Adamax, NAdam and Yogi follow their update rules") {
    for (auto o : {AdamaxOptions{.lr = 0.1},
                   AdamaxOptions{.lr = 0.1, .betas = {0.8, 0.9}, .weight_decay = 0.1}}) {
      compare_with_reference(make<Adamax>(o),
                             [o, v = Point{}, u = Point{}](Point& x, Point g, int t) mutable {
                               for (int i = 0; i < 2; ++i) {
                                 double gi = g[i] + o.weight_decay * x[i];
                                 v[i] = o.betas[0] * v[i] + (1 - o.betas[0]) * gi;
                                 u[i] = std::max(o.betas[1] * u[i], std::abs(gi) + o.eps);
                                 x[i] -= o.lr / (1 - std::pow(o.betas[0], t)) * v[i] / u[i];
                               }
                             });
    }
    for (auto o : {NAdamOptions{.lr = 0.1},
                   NAdamOptions{.lr = 0.1, .weight_decay = 0.1, .momentum_decay = 0.01}}) {
      compare_with_reference(make<NAdam>(o), [o, v = Point{}, s = Point{}, product = 1.0](
                                                 Point& x, Point g, int t) mutable {
        auto mu = [&](int k) {
          return o.betas[0] * (1 - 0.5 * std::pow(0.96, k * o.momentum_decay));
        };
        product *= mu(t);
        for (int i = 0; i < 2; ++i) {
          double gi = g[i] + o.weight_decay * x[i];
          v[i] = o.betas[0] * v[i] + (1 - o.betas[0]) * gi;
          s[i] = o.betas[1] * s[i] + (1 - o.betas[1]) * gi * gi;
          double d = std::sqrt(s[i] / (1 - std::pow(o.betas[1], t))) + o.eps;
          x[i] -= o.lr * (1 - mu(t)) / (1 - product) * gi / d +
                  o.lr * mu(t + 1) / (1 - product * mu(t + 1)) * v[i] / d;
        }
      });
    }
    for (auto o :
         {YogiOptions{}, YogiOptions{.lr = 0.1, .betas = {0.8, 0.99}, .weight_decay = 0.1}}) {
      compare_with_reference(
          make<Yogi>(o), [o, v = Point{}, s = Point{}](Point& x, Point g, int t) mutable {
            for (int i = 0; i < 2; ++i) {
              double gi = g[i] + o.weight_decay * x[i], g2 = gi * gi;
              v[i] = o.betas[0] * v[i] + (1 - o.betas[0]) * gi;
              s[i] = s[i] - (1 - o.betas[1]) * (s[i] > g2 ? 1 : s[i] < g2 ? -1 : 0) * g2;
              double v_hat = v[i] / (1 - std::pow(o.betas[0], t));
              double s_hat = s[i] / (1 - std::pow(o.betas[1], t));
              x[i] -= o.lr * v_hat / (std::sqrt(s_hat) + o.eps);
            }
          });
    }
  }

  // d2l prints "epoch 20, x1: ..., x2: ..." for these runs of f = 0.1 x1^2 + 2 x2^2.
  TEST_CASE("the course's printed results are reproduced") {
    struct Run {
      const char* what;
      std::function<std::unique_ptr<Optimizer>(Tensor)> make;
      Point printed;
    };
    std::vector<Run> runs = {
        {"gd, eta 0.4 (11.6)", make<SGD>(SGDOptions{.lr = 0.4}), {-0.943467, -0.000073}},
        {"gd, eta 0.6 (11.6, diverges in x2)",
         make<SGD>(SGDOptions{.lr = 0.6}),
         {-0.387814, -1673.365109}},
        {"momentum, eta 0.6, beta 0.5 (11.6)",
         make<SGD>(SGDOptions{.lr = 0.6, .momentum = 0.5}),
         {0.007188, 0.002553}},
        {"momentum, eta 0.6, beta 0.25 (11.6)",
         make<SGD>(SGDOptions{.lr = 0.6, .momentum = 0.25}),
         {-0.126340, -0.186632}},
        {"adagrad, eta 0.4 (11.7)",
         make<Adagrad>(AdagradOptions{.lr = 0.4, .eps = 1e-6, .eps_inside_sqrt = true}),
         {-2.382563, -0.158591}},
        {"adagrad, eta 2 (11.7)",
         make<Adagrad>(AdagradOptions{.lr = 2, .eps = 1e-6, .eps_inside_sqrt = true}),
         {-0.002295, -0.000000}},
        {"rmsprop, eta 0.4, gamma 0.9 (11.8)",
         make<RMSprop>(
             RMSpropOptions{.lr = 0.4, .alpha = 0.9, .eps = 1e-6, .eps_inside_sqrt = true}),
         {-0.010599, 0.000000}},
    };
    for (const Run& run : runs) {
      INFO(std::string(run.what));
      CourseQuadratic q;
      auto opt = run.make(q.x);
      for (int epoch = 0; epoch < 20; ++epoch) opt->step(q.closure());
      std::vector<float> x = q.x.to_vector();
      for (int i = 0; i < 2; ++i)
        CHECK(std::abs(x[i] - run.printed[i]) <= 5e-6 + 2e-6 * std::abs(run.printed[i]));
    }
  }

  TEST_CASE("every first-order method drives the course's quadratic to its minimum") {
    struct Run {
      const char* what;
      std::function<std::unique_ptr<Optimizer>(Tensor)> make;
      int steps;
      double decay = 1;  // ExponentialLR's gamma, for the methods that hover at a constant lr
    };
    std::vector<Run> runs = {
        {"SGD", make<SGD>(SGDOptions{.lr = 0.4}), 150},
        {"SGD momentum", make<SGD>(SGDOptions{.lr = 0.4, .momentum = 0.5}), 100},
        {"SGD Nesterov", make<SGD>(SGDOptions{.lr = 0.3, .momentum = 0.5, .nesterov = true}), 100},
        {"Adagrad", make<Adagrad>(AdagradOptions{.lr = 2}), 100},
        {"RMSprop", make<RMSprop>(RMSpropOptions{.lr = 0.3, .alpha = 0.9}), 300, 0.98},
        {"RMSprop centered",
         make<RMSprop>(RMSpropOptions{.lr = 0.3, .alpha = 0.9, .centered = true}), 300, 0.98},
        {"Adadelta", make<Adadelta>(AdadeltaOptions{.rho = 0.99, .eps = 1e-4}), 600},
        {"Adam", make<Adam>(AdamOptions{.lr = 0.3}), 300},
        {"AdamW", make<AdamW>(AdamWOptions{.lr = 0.3, .weight_decay = 1e-3}), 300},
        {"Adamax", make<Adamax>(AdamaxOptions{.lr = 0.3}), 300},
        {"NAdam", make<NAdam>(NAdamOptions{.lr = 0.3}), 300},
        {"Yogi", make<Yogi>(YogiOptions{.lr = 0.3}), 300},
        {"LBFGS", make<LBFGS>(LBFGSOptions{}), 3},
    };
    for (const Run& run : runs) {
      INFO(std::string(run.what));
      CourseQuadratic q;
      auto opt = run.make(q.x);
      ExponentialLR schedule(*opt, {.gamma = run.decay});
      for (int t = 0; t < run.steps; ++t) {
        opt->step(q.closure());
        schedule.step();
      }
      std::vector<float> x = q.x.to_vector();
      double f = CourseQuadratic::value({x[0], x[1]});
      INFO("x = (", x[0], ", ", x[1], "), f = ", f);
      CHECK(f < 1e-4);  // from f = 10.5
    }
  }

  TEST_CASE("parameter groups keep their own options and learning rates") {
    Tensor a = ones({2}, {.requires_grad = true}), b = ones({3}, {.requires_grad = true});
    SGD opt({{.params = {a}, .options = {.lr = 0.1}}, {.params = {b}, .options = {.lr = 0.5}}});
    CHECK(opt.num_param_groups() == 2);
    CHECK(opt.lr(0) == 0.1);
    CHECK(opt.lr(1) == 0.5);
    a.set_grad(ones({2}));
    b.set_grad(ones({3}));
    opt.step();
    check_close(a.to_vector(), {0.9, 0.9}, 1e-7, 0);
    check_close(b.to_vector(), {0.5, 0.5, 0.5}, 1e-7, 0);
    opt.set_lr(1, 0.25);
    CHECK(opt.lr(1) == 0.25);
    opt.set_lr(2.0);
    CHECK(opt.lr(0) == 2.0);
    CHECK(opt.lr(1) == 2.0);
    CHECK(opt.parameters().size() == 2);
    CHECK(opt.options(0).lr == 2.0);
  }

  TEST_CASE("step skips parameters without a gradient and never records on the tape") {
    Tensor a = ones({2}, {.requires_grad = true}), b = ones({2}, {.requires_grad = true});
    Adam opt({a, b}, {.lr = 0.1});
    a.set_grad(tensor({1.f, -1.f}));
    opt.step();  // grad mode is on here: the update must run under no-grad by itself
    CHECK(a.is_leaf());
    CHECK(a.requires_grad());
    check_close(a.to_vector(), {0.9, 1.1}, 1e-6, 1e-6);  // Adam's first step is lr * sign(g)
    check_close(b.to_vector(), {1, 1}, 0, 0);
    CHECK(opt.state(0, 0).step == 1);
    CHECK(opt.state(0, 1).step == 0);
    CHECK(opt.state(0, 1).buffers.empty());
    CHECK(opt.state(0, 0).buffers.count("exp_avg") == 1);
  }

  TEST_CASE("zero_grad drops or zeroes the gradients") {
    Tensor a = ones({2}, {.requires_grad = true});
    SGD opt({a}, {.lr = 0.1});
    a.set_grad(ones({2}));
    opt.zero_grad(/*set_to_none=*/false);
    REQUIRE(a.grad().defined());
    check_close(a.grad().to_vector(), {0, 0}, 0, 0);
    opt.zero_grad();
    CHECK(!a.grad().defined());
  }

  TEST_CASE("a learning rate of zero leaves the parameters where they are") {
    CourseQuadratic q;
    Adam opt({q.x}, {.lr = 0});
    for (int t = 0; t < 3; ++t) opt.step(q.closure());
    check_close(q.x.to_vector(), {-5, -2}, 0, 0);
  }

}  // TEST_SUITE("optim")
