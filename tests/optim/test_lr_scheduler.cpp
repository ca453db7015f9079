// Learning-rate schedules: PyTorch's sequences (fixtures/optim_trajectories.json), the
// course's closed forms, per-step versus per-epoch use, and resuming from a state dict;
// ReduceLROnPlateau against PyTorch's on fixed metric sequences (fixtures/plateau.json).
#include <cmath>
#include <limits>
#include <numbers>

#include <tapegrad/optim/lr_scheduler.h>
#include <tapegrad/optim/sgd.h>
#include "tests/optim/optim_test_util.h"

using namespace tg;
using namespace tg::optim;

namespace {

// One parameter and an SGD optimizer with lr 0.1, as in the fixture script.
struct Setup {
  Tensor p = zeros({1}, {.requires_grad = true});
  SGD opt{{p}, {.lr = 0.1}};
};

// lr after construction, then after each of `steps` calls of step().
std::vector<double> run(LRScheduler& s, Optimizer& opt, int steps) {
  std::vector<double> lrs{opt.lr()};
  for (int t = 0; t < steps; ++t) {
    s.step();
    lrs.push_back(opt.lr());
  }
  return lrs;
}

void check_sequence(const std::vector<double>& got, const std::vector<double>& expected,
                    double rtol = 1e-12) {
  REQUIRE(got.size() == expected.size());
  for (size_t t = 0; t < got.size(); ++t) {
    INFO("t = ", t, ": ", got[t], " vs ", expected[t]);
    CHECK(std::abs(got[t] - expected[t]) <= 1e-15 + rtol * std::abs(expected[t]));
  }
}

}  // namespace

TEST_SUITE("optim") {
  TEST_CASE("schedulers follow PyTorch's learning-rate sequences") {
    const tg::test::JsonFixture json = tg::test::optim_fixture()["schedules"];
    auto expected = [&](const char* name) { return json[name].numbers(); };
    auto steps = [&](const char* name) { return int(json[name].size()) - 1; };
    {
      Setup s;
      StepLR sched(s.opt, {.step_size = 3, .gamma = 0.5});
      check_sequence(run(sched, s.opt, steps("step")), expected("step"));
    }
    {
      Setup s;
      MultiStepLR sched(s.opt, {.milestones = {2, 5, 9}, .gamma = 0.3});
      check_sequence(run(sched, s.opt, steps("multistep")), expected("multistep"));
    }
    {
      Setup s;
      ExponentialLR sched(s.opt, {.gamma = 0.9});
      check_sequence(run(sched, s.opt, steps("exponential")), expected("exponential"));
    }
    {
      Setup s;  // PyTorch's recursive form drifts from the closed form by ~1e-15 relative
      CosineAnnealingLR sched(s.opt, {.T_max = 10, .eta_min = 0.01});
      check_sequence(run(sched, s.opt, steps("cosine")), expected("cosine"), 1e-10);
    }
    {
      Setup s;
      LinearLR sched(s.opt, {.start_factor = 0.25, .end_factor = 1.0, .total_iters = 4});
      check_sequence(run(sched, s.opt, steps("linear")), expected("linear"));
    }
    {
      Setup s;
      PolynomialLR sched(s.opt, {.total_iters = 6, .power = 2.0});
      check_sequence(run(sched, s.opt, steps("polynomial")), expected("polynomial"));
    }
    {
      Setup s;
      auto warmup =
          std::make_shared<LinearLR>(s.opt, LinearLROptions{.start_factor = 0.1, .total_iters = 3});
      auto cosine =
          std::make_shared<CosineAnnealingLR>(s.opt, CosineAnnealingLROptions{.T_max = 8});
      SequentialLR sched(s.opt, {warmup, cosine}, {3});
      check_sequence(run(sched, s.opt, steps("warmup_cosine")), expected("warmup_cosine"), 1e-10);
    }
  }

  TEST_CASE("the course's schedules match their closed forms") {
    const double eta0 = 0.1;
    {  // exponential decay eta0 exp(-lambda t)
      Setup s;
      const double lambda = 0.2;
      ExponentialLR sched(s.opt, {.gamma = std::exp(-lambda)});
      std::vector<double> lrs = run(sched, s.opt, 30), closed;
      for (int t = 0; t <= 30; ++t) closed.push_back(eta0 * std::exp(-lambda * t));
      check_sequence(lrs, closed, 1e-12);
    }
    {  // polynomial decay eta0 (beta t + 1)^-alpha
      Setup s;
      PolynomialDecayLR sched(s.opt, {.alpha = 0.5, .beta = 0.1});
      std::vector<double> lrs = run(sched, s.opt, 30), closed;
      for (int t = 0; t <= 30; ++t) closed.push_back(eta0 * std::pow(0.1 * t + 1, -0.5));
      check_sequence(lrs, closed);
    }
    {  // piecewise constant: eta0, then x0.5 from t = 15, x0.25 from t = 30 (d2l 11.11)
      Setup s;
      MultiStepLR sched(s.opt, {.milestones = {15, 30}, .gamma = 0.5});
      std::vector<double> lrs = run(sched, s.opt, 40), closed;
      for (int t = 0; t <= 40; ++t) closed.push_back(eta0 * (t < 15 ? 1 : t < 30 ? 0.5 : 0.25));
      check_sequence(lrs, closed);
    }
    {  // step decay: x gamma every step_size steps
      Setup s;
      StepLR sched(s.opt, {.step_size = 4, .gamma = 0.7});
      std::vector<double> lrs = run(sched, s.opt, 20), closed;
      for (int t = 0; t <= 20; ++t) closed.push_back(eta0 * std::pow(0.7, t / 4));
      check_sequence(lrs, closed);
    }
    {  // d2l's CosineScheduler(max_update 20, base 0.1, final 0.01, warmup 5, warmup_begin 0.02)
      Setup s;
      const int max_update = 20, warmup = 5;
      const double final_lr = 0.01, begin = 0.02;
      auto up = std::make_shared<LinearLR>(
          s.opt, LinearLROptions{.start_factor = begin / eta0, .total_iters = warmup});
      auto down = std::make_shared<CosineAnnealingLR>(
          s.opt, CosineAnnealingLROptions{.T_max = max_update - warmup, .eta_min = final_lr});
      SequentialLR sched(s.opt, {up, down}, {warmup});
      std::vector<double> lrs = run(sched, s.opt, max_update), closed;
      for (int t = 0; t <= max_update; ++t) {
        closed.push_back(t < warmup ? begin + (eta0 - begin) * t / warmup
                                    : final_lr + (eta0 - final_lr) *
                                                     (1 + std::cos(std::numbers::pi * (t - warmup) /
                                                                   (max_update - warmup))) /
                                                     2);
      }
      check_sequence(lrs, closed);
    }
    {  // LambdaLR
      Setup s;
      LambdaLR sched(s.opt, [](int64_t t) { return 1.0 / (1 + t); });
      check_sequence(run(sched, s.opt, 3), {0.1, 0.05, 0.1 / 3, 0.025});
    }
  }

  TEST_CASE("a schedule per minibatch agrees with the same schedule per epoch at epoch ends") {
    const int epochs = 6, batches = 4;
    Setup per_epoch, per_step;
    CosineAnnealingLR a(per_epoch.opt, {.T_max = epochs});
    CosineAnnealingLR b(per_step.opt, {.T_max = epochs * batches});
    for (int e = 0; e < epochs; ++e) {
      for (int i = 0; i < batches; ++i) b.step();
      a.step();
      CHECK(per_step.opt.lr() == doctest::Approx(per_epoch.opt.lr()).epsilon(1e-12));
    }
  }

  TEST_CASE("schedulers set every group and resume from their state dict") {
    Tensor a = zeros({1}, {.requires_grad = true}), b = zeros({1}, {.requires_grad = true});
    SGD opt({{.params = {a}, .options = {.lr = 0.1}}, {.params = {b}, .options = {.lr = 1.0}}});
    StepLR sched(opt, {.step_size = 2, .gamma = 0.5});
    for (int t = 0; t < 5; ++t) sched.step();
    CHECK(sched.last_epoch() == 5);
    CHECK(sched.get_last_lr() == std::vector<double>{0.025, 0.25});
    auto saved = sched.state_dict();

    Tensor c = zeros({1}, {.requires_grad = true}), d = zeros({1}, {.requires_grad = true});
    SGD opt2({{.params = {c}, .options = {.lr = 0.1}}, {.params = {d}, .options = {.lr = 1.0}}});
    StepLR resumed(opt2, {.step_size = 2, .gamma = 0.5});
    resumed.load_state_dict(saved);
    CHECK(resumed.last_epoch() == 5);
    CHECK(opt2.lr(1) == 0.25);
    resumed.step();
    sched.step();
    CHECK(opt2.lr(0) == opt.lr(0));
    CHECK(opt2.lr(1) == opt.lr(1));
  }

  TEST_CASE("scheduler errors name the schedule and the value") {
    Setup s;
    CHECK_THROWS_CONTAINING(StepLR(s.opt, {.step_size = 0}), "StepLR: invalid step_size: 0");
    CHECK_THROWS_CONTAINING(MultiStepLR(s.opt, {.milestones = {5, 2}}),
                            "MultiStepLR: milestones must be increasing, got 5, 2");
    CHECK_THROWS_CONTAINING(CosineAnnealingLR(s.opt, {.T_max = 0}),
                            "CosineAnnealingLR: invalid T_max: 0");
    CHECK_THROWS_CONTAINING(LinearLR(s.opt, {.start_factor = 0}),
                            "LinearLR: invalid start_factor: 0");
    CHECK_THROWS_CONTAINING(PolynomialLR(s.opt, {.total_iters = -1}),
                            "PolynomialLR: invalid total_iters: -1");
    CHECK_THROWS_CONTAINING(PolynomialDecayLR(s.opt, {.beta = -1}),
                            "PolynomialDecayLR: invalid beta: -1");
    CHECK_THROWS_CONTAINING(StepLR(s.opt, {.step_size = 1, .gamma = -0.5}),
                            "StepLR: invalid gamma: -0.5 (expected a finite gamma >= 0)");
    CHECK_THROWS_CONTAINING(MultiStepLR(s.opt, {.milestones = {2}, .gamma = NAN}),
                            "MultiStepLR: invalid gamma: nan");
    CHECK_THROWS_CONTAINING(ExponentialLR(s.opt, {.gamma = INFINITY}),
                            "ExponentialLR: invalid gamma: inf");
    CHECK_THROWS_CONTAINING(CosineAnnealingLR(s.opt, {.T_max = 5, .eta_min = -1e-3}),
                            "CosineAnnealingLR: invalid eta_min: -0.001");
    CHECK_THROWS_CONTAINING(CosineAnnealingLR(s.opt, {.T_max = 5, .eta_min = NAN}),
                            "CosineAnnealingLR: invalid eta_min: nan");
    auto one = std::make_shared<StepLR>(s.opt, StepLROptions{.step_size = 1});
    CHECK_THROWS_CONTAINING(SequentialLR(s.opt, {one}, {3}),
                            "SequentialLR: 1 schedules need 0 milestones, got 1");
    StepLR sched(s.opt, {.step_size = 1});
    StateDict short_state;
    short_state.set("last_epoch", 1);
    CHECK_THROWS_CONTAINING(sched.load_state_dict(short_state),
                            "LRScheduler: load_state_dict: 1 entries");
  }

  // ---- ReduceLROnPlateau ------------------------------------------------------------------

  // make_plateau_fixtures.py's CASES: the groups' initial rates and the options.
  struct PlateauCase {
    const char* name;
    std::vector<double> lrs;
    ReduceLROnPlateauOptions options;
  };
  const PlateauCase kPlateauCases[] = {
      {"min_rel", {0.1}, {.factor = 0.5, .patience = 2, .threshold = 0.1, .min_lr = {0.01}}},
      {"min_abs_cooldown",
       {0.1},
       {.factor = 0.3, .patience = 1, .threshold = 0.05, .threshold_mode = "abs", .cooldown = 2}},
      {"max_rel_groups_min_lr",
       {0.1, 1.0},
       {.mode = "max", .factor = 0.5, .patience = 0, .threshold = 0.05, .min_lr = {0.02, 0.3}}},
      {"max_abs_eps",
       {0.015, 1.0},
       {.mode = "max", .factor = 0.5, .patience = 1, .threshold = 0.5, .threshold_mode = "abs",
        .eps = 0.01}},
      {"defaults", {0.1}, {}},
  };

  // One scalar parameter per group, with the given rates.
  struct Groups {
    std::vector<Tensor> params;
    std::unique_ptr<SGD> opt;
    explicit Groups(const std::vector<double>& lrs) {
      std::vector<ParamGroup<SGDOptions>> groups;
      for (double lr : lrs) {
        params.push_back(zeros({1}, {.requires_grad = true}));
        groups.push_back({.params = {params.back()}, .options = {.lr = lr}});
      }
      opt = std::make_unique<SGD>(groups);
    }
  };

  TEST_CASE("ReduceLROnPlateau follows PyTorch's rates, counters and best") {
    const tg::test::JsonFixture cases =
        tg::test::JsonFixture::load(std::string(TG_TEST_DIR) + "/optim/fixtures/plateau.json")["cases"];
    for (const PlateauCase& c : kPlateauCases) {
      CAPTURE(c.name);
      const tg::test::JsonFixture expected = cases[c.name];
      Groups g(c.lrs);
      ReduceLROnPlateau plateau(*g.opt, c.options);
      std::vector<double> metrics = expected["metrics"].numbers();
      for (size_t t = 0; t < metrics.size(); ++t) {
        CAPTURE(t);
        plateau.step(metrics[t]);
        for (size_t group = 0; group < c.lrs.size(); ++group)
          CHECK(g.opt->lr(group) ==
                doctest::Approx(expected[fmt::format("lrs.{}", group)].numbers()[t]).epsilon(1e-12));
        CHECK(plateau.num_bad_epochs() == int64_t(expected["num_bad_epochs"].numbers()[t]));
        CHECK(plateau.cooldown_counter() == int64_t(expected["cooldown_counter"].numbers()[t]));
        CHECK(plateau.best() == expected["best"].numbers()[t]);
      }
      CHECK(plateau.last_epoch() == int64_t(metrics.size()));
    }
  }

  TEST_CASE("ReduceLROnPlateau by hand: patience, NaN, and resuming from its state dict") {
    Groups g({1.0});
    ReduceLROnPlateau plateau(*g.opt, {.factor = 0.5, .patience = 1});
    CHECK(plateau.best() == std::numeric_limits<double>::infinity());
    CHECK(plateau.get_last_lr() == std::vector<double>{1.0});  // construction changes nothing
    plateau.step(3);    // better than +inf
    plateau.step(NAN);  // never better: 1 bad step, within patience
    CHECK(g.opt->lr() == 1.0);
    plateau.step(3);  // not better than 3: 2 > patience, halve
    CHECK(g.opt->lr() == 0.5);
    CHECK(plateau.num_bad_epochs() == 0);
    plateau.step(4);
    // Resume: a fresh schedule and optimizer continue exactly as the first.
    StateDict saved = plateau.state_dict();
    CHECK(saved.text("kind") == "ReduceLROnPlateau");
    CHECK(saved.number("best") == 3);
    Groups h({1.0});
    h.opt->load_state_dict(g.opt->state_dict());  // the rate lives in the optimizer's state
    ReduceLROnPlateau resumed(*h.opt, {.factor = 0.5, .patience = 1});
    resumed.load_state_dict(saved);
    CHECK(resumed.num_bad_epochs() == 1);
    CHECK(resumed.last_epoch() == 4);
    // 5: 2 bad, halve (0.25); 2: better; 2.5, 2.5: 2 bad, halve (0.125).
    for (double m : {5.0, 2.0, 2.5, 2.5}) plateau.step(m), resumed.step(m);
    CHECK(h.opt->lr() == g.opt->lr());
    CHECK(h.opt->lr() == 0.125);
    // +-inf round-trip through the state dict text.
    ReduceLROnPlateau fresh(*h.opt, {.mode = "max"});
    ReduceLROnPlateau other(*h.opt, {.mode = "max"});
    other.load_state_dict(fresh.state_dict());
    CHECK(other.best() == -std::numeric_limits<double>::infinity());
    // Any Scheduler goes into a checkpoint; the base interface reaches both kinds.
    const Scheduler& base = plateau;
    CHECK(base.state_dict().text("mode") == "min");
  }

  TEST_CASE("ReduceLROnPlateau errors name the schedule and the value") {
    Groups g({0.1, 0.2});
    auto error = [&](ReduceLROnPlateauOptions o) {
      return tg::test::error_of([&] { ReduceLROnPlateau(*g.opt, std::move(o)); });
    };
    CHECK(error({.mode = "minimum"}) ==
          "ReduceLROnPlateau: invalid mode: 'minimum' (expected 'min' or 'max')");
    CHECK(error({.threshold_mode = "relative"}) ==
          "ReduceLROnPlateau: invalid threshold_mode: 'relative' (expected 'rel' or 'abs')");
    CHECK(error({.factor = 1.0}) ==
          "ReduceLROnPlateau: invalid factor: 1 (expected 0 <= factor < 1)");
    CHECK(error({.factor = -0.1}) ==
          "ReduceLROnPlateau: invalid factor: -0.1 (expected 0 <= factor < 1)");
    CHECK(error({.patience = -1}) == "ReduceLROnPlateau: invalid patience: -1 (expected >= 0)");
    CHECK(error({.cooldown = -2}) == "ReduceLROnPlateau: invalid cooldown: -2 (expected >= 0)");
    CHECK(error({.threshold = -1e-4}) ==
          "ReduceLROnPlateau: invalid threshold: -0.0001 (expected a finite threshold >= 0)");
    CHECK(error({.eps = NAN}) ==
          "ReduceLROnPlateau: invalid eps: nan (expected a finite eps >= 0)");
    CHECK(error({.min_lr = {0.1, 0.2, 0.3}}) ==
          "ReduceLROnPlateau: expected 1 or 2 min_lr values (one per group), got 3");
    CHECK(error({.min_lr = {0.1, -1}}) ==
          "ReduceLROnPlateau: invalid min_lr: -1 (expected a finite min_lr >= 0)");
    ReduceLROnPlateau plateau(*g.opt, {.patience = 3});
    StepLR step(*g.opt, {.step_size = 1});
    CHECK(tg::test::error_of([&] { plateau.load_state_dict(step.state_dict()); }) ==
          "ReduceLROnPlateau: load_state_dict: the state is another schedule's (it has no 'kind' "
          "entry), not a ReduceLROnPlateau's");
    ReduceLROnPlateau other(*g.opt, {.patience = 4, .min_lr = {0, 0.01}});
    StateDict bad = other.state_dict();
    bad.set("num_bad_epochs", 1.5);
    bad.set("best", "low");
    CHECK(tg::test::error_of([&] { plateau.load_state_dict(bad); }) ==
          "ReduceLROnPlateau: load_state_dict: the state does not fit this schedule; nothing was "
          "loaded:\n  min_lrs.1: expected 0, found 0.01\n  patience: expected 3, found 4\n  "
          "'num_bad_epochs' is 1.5, expected a whole number >= 0\n  'best' is 'low', not a number");
    CHECK(plateau.best() == std::numeric_limits<double>::infinity());  // nothing was loaded
  }

}  // TEST_SUITE("optim")
