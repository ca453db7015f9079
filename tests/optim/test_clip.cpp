// Gradient clipping by norm and by value, and projections onto an L2 ball or a box, with
// values worked out by hand; plus projected gradient descent on a constrained problem.
#include <limits>

#include <tapegrad/optim/clip.h>
#include <tapegrad/optim/sgd.h>
#include "tests/optim/optim_test_util.h"

using namespace tg;
using namespace tg::optim;
using tg::test::check_close;

TEST_SUITE("optim") {
  TEST_CASE("clip_grad_norm_ rescales all gradients by their joint norm") {
    Tensor a = zeros({2}, {.requires_grad = true}), b = zeros({1}, {.requires_grad = true});
    Tensor c = zeros({3}, {.requires_grad = true});  // no grad: ignored
    a.set_grad(tensor({3.f, 4.f}));
    b.set_grad(tensor({12.f}, {1}));
    CHECK(clip_grad_norm_({a, b, c}, 26) == doctest::Approx(13));  // below max_norm: unchanged
    check_close(a.grad().to_vector(), {3, 4}, 0, 0);
    CHECK(clip_grad_norm_({a, b, c}, 6.5) == doctest::Approx(13));
    const double k = 6.5 / (13 + 1e-6);
    check_close(a.grad().to_vector(), {3 * k, 4 * k}, 1e-6, 1e-6);
    check_close(b.grad().to_vector(), {12 * k}, 1e-6, 1e-6);
    CHECK(!c.grad().defined());

    a.set_grad(tensor({3.f, -4.f}));
    b.set_grad(tensor({1.f}, {1}));
    CHECK(clip_grad_norm_({a, b}, 2, std::numeric_limits<double>::infinity()) ==
          doctest::Approx(4));
    check_close(a.grad().to_vector(), {1.5, -2}, 1e-6, 1e-6);
    a.set_grad(tensor({3.f, -4.f}));
    b.set_grad(tensor({1.f}, {1}));
    CHECK(clip_grad_norm_({a, b}, 100, 1) == doctest::Approx(8));
  }

  TEST_CASE("clip_grad_norm_ reports non-finite norms when asked") {
    Tensor a = zeros({2}, {.requires_grad = true});
    a.set_grad(tensor({1.f, std::numeric_limits<float>::quiet_NaN()}));
    CHECK_THROWS_CONTAINING(clip_grad_norm_({a}, 1, 2, true),
                            "clip_grad_norm_: the total norm of order 2 of the gradients is nan");
    CHECK(std::isnan(clip_grad_norm_({a}, 1)));
    CHECK_THROWS_CONTAINING(clip_grad_norm_({a}, 1, 0), "clip_grad_norm_: invalid norm_type: 0");
    CHECK_THROWS_CONTAINING(clip_grad_norm_({a}, -1), "clip_grad_norm_: invalid max_norm: -1");
  }

  TEST_CASE("clip_grad_value_ clamps every gradient element") {
    Tensor a = zeros({4}, {.requires_grad = true});
    a.set_grad(tensor({-3.f, -0.5f, 0.25f, 2.f}));
    clip_grad_value_({a}, 1);
    check_close(a.grad().to_vector(), {-1, -0.5, 0.25, 1}, 0, 0);
    CHECK_THROWS_CONTAINING(clip_grad_value_({a}, -1), "clip_grad_value_: invalid clip_value: -1");
  }

  TEST_CASE("projections onto an L2 ball and a box") {
    Tensor a = tensor({3.f, 0.f}, {2}, {.requires_grad = true}),
           b = tensor({4.f}, {1}, {.requires_grad = true});
    CHECK(project_l2_ball_({a, b}, 10) == doctest::Approx(5));  // inside: unchanged
    check_close(a.to_vector(), {3, 0}, 0, 0);
    CHECK(project_l2_ball_({a, b}, 1) == doctest::Approx(5));
    check_close(a.to_vector(), {0.6, 0}, 1e-7, 1e-6);
    check_close(b.to_vector(), {0.8}, 1e-7, 1e-6);
    Tensor c = tensor({-2.f, 0.5f, 3.f}, {3}, {.requires_grad = true});
    project_box_({c}, -1, 1);
    check_close(c.to_vector(), {-1, 0.5, 1}, 0, 0);
    CHECK_THROWS_CONTAINING(project_box_({c}, 1, -1), "project_box_: invalid box: low 1 > high -1");
    CHECK_THROWS_CONTAINING(project_l2_ball_({c}, -1), "project_l2_ball_: invalid radius: -1");
  }

  TEST_CASE("projected gradient descent finds the constrained minimum") {
    // min ||x - (3, 4)||^2 subject to ||x|| <= 1: the answer is (0.6, 0.8).
    Tensor x = zeros({2}, {.requires_grad = true});
    SGD opt({x}, {.lr = 0.1});
    for (int t = 0; t < 100; ++t) {
      opt.zero_grad();
      (x - tensor({3.f, 4.f})).pow(2).sum().backward();
      opt.step();
      project_l2_ball_({x}, 1);
    }
    check_close(x.to_vector(), {0.6, 0.8}, 1e-6, 1e-6);
    // The same inside the box [0, 1]^2: (1, 1).
    Tensor y = zeros({2}, {.requires_grad = true});
    SGD box({y}, {.lr = 0.1});
    for (int t = 0; t < 100; ++t) {
      box.zero_grad();
      (y - tensor({3.f, 0.5f})).pow(2).sum().backward();
      box.step();
      project_box_({y}, 0, 1);
    }
    check_close(y.to_vector(), {1, 0.5}, 1e-6, 1e-6);
  }

}  // TEST_SUITE("optim")
