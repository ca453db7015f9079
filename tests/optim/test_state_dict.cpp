// Resuming training: for every optimizer, 2k steps equal k steps + state_dict + load into a
// fresh optimizer + k steps, bit for bit (also through a file); loading refuses another kind
// of optimizer or other options (each mismatch listed) unless only the lr was deliberately
// changed and allowed; and load errors change nothing.
#include <filesystem>
#include <functional>
#include <memory>

#include <tapegrad/autograd/state_dict.h>
#include <tapegrad/optim/adadelta.h>
#include <tapegrad/optim/adagrad.h>
#include <tapegrad/optim/adam.h>
#include <tapegrad/optim/adamax.h>
#include <tapegrad/optim/lbfgs.h>
#include <tapegrad/optim/least_squares.h>
#include <tapegrad/optim/lr_scheduler.h>
#include <tapegrad/optim/nadam.h>
#include <tapegrad/optim/newton.h>
#include <tapegrad/optim/rmsprop.h>
#include <tapegrad/optim/sgd.h>
#include <tapegrad/optim/yogi.h>
#include "tests/optim/optim_test_util.h"

using namespace tg;
using namespace tg::optim;

namespace {

using Make = std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>)>;

template <typename Opt, typename Options>
Make maker(Options o) {
  return [o](std::vector<Tensor> p) { return std::make_unique<Opt>(std::move(p), o); };
}

// A small regression with two parameter tensors; the data is fixed by the seed.
// In float32 (the default) or float64, from the same float32 draws.
struct Model {
  Tensor X, y, W, b;
  explicit Model(Dtype dtype = kFloat32) {
    manual_seed(11);
    X = randn({16, 3}).to(dtype);
    y = randn({16, 2}).to(dtype);
    W = (0.3f * randn({3, 2})).to(dtype).detach().requires_grad_();
    b = zeros({2}, {.dtype = dtype, .requires_grad = true});
  }
  Tensor loss() const { return (X.matmul(W).add(b).tanh() - y).pow(2).mean(); }
  Closure closure() const {
    return [m = *this]() mutable {
      m.W.zero_grad();
      m.b.zero_grad();
      Tensor l = m.loss();
      l.backward();
      return l;
    };
  }
  Closure residuals() const {
    return [m = *this] { return (m.X.matmul(m.W).add(m.b).tanh() - m.y).reshape({-1}); };
  }
  Closure loss_fn() const {
    return [m = *this] { return m.loss(); };
  }
  std::vector<double> values() const {  // every digit of either dtype
    std::vector<double> v = W.to_vector<double>(), vb = b.to_vector<double>();
    v.insert(v.end(), vb.begin(), vb.end());
    return v;
  }
};

enum class Kind { gradient, closure, loss_fn, residuals };

// A copy of `dict` without the entry `key` (a tensor or a metadata entry).
StateDict without(const StateDict& dict, const std::string& key) {
  StateDict out;
  for (const auto& [name, t] : dict)
    if (name != key) out.insert(name, t);
  for (const auto& [name, text] : dict.metadata())
    if (name != key) out.set(name, text);
  return out;
}

void train(Optimizer& opt, LRScheduler* sched, const Model& m, Kind kind, int steps) {
  for (int t = 0; t < steps; ++t) {
    switch (kind) {
      case Kind::gradient:
        m.closure()();
        opt.step();
        break;
      case Kind::closure:
        opt.step(m.closure());
        break;
      case Kind::loss_fn:
        opt.step(m.loss_fn());
        break;
      case Kind::residuals:
        opt.step(m.residuals());
        break;
    }
    if (sched) sched->step();
  }
}

// 2k steps in one go versus k steps, a state dict (through `through_file` optionally), and
// k more steps in a fresh optimizer: the parameters must agree bit for bit.
void check_round_trip(const char* name, const Make& make, Kind kind, int k,
                      bool through_file = false, Dtype dtype = kFloat32) {
  INFO(std::string(name), " in ", dtype_name(dtype));
  Model straight(dtype);
  auto opt = make({straight.W, straight.b});
  ExponentialLR sched(*opt, {.gamma = 0.999});
  train(*opt, &sched, straight, kind, 2 * k);

  Model first(dtype);
  auto opt1 = make({first.W, first.b});
  ExponentialLR sched1(*opt1, {.gamma = 0.999});
  train(*opt1, &sched1, first, kind, k);
  StateDict saved = opt1->state_dict();
  auto sched_state = sched1.state_dict();
  if (through_file) {
    auto path =
        std::filesystem::temp_directory_path() / fmt::format("tapegrad-optim-{}.safetensors", name);
    tg::save(saved, path.string());
    saved = tg::load(path.string());
    std::filesystem::remove(path);
  }
  Model second(dtype);  // fresh parameters: copy the trained values in, nothing else
  {
    NoGradGuard no_grad;
    second.W.copy_(first.W);
    second.b.copy_(first.b);
  }
  auto opt2 = make({second.W, second.b});
  ExponentialLR sched2(*opt2, {.gamma = 0.999});
  opt2->load_state_dict(saved);
  sched2.load_state_dict(sched_state);
  train(*opt2, &sched2, second, kind, k);
  CHECK(second.values() == straight.values());  // exact equality of every element
  CHECK(opt2->lr() == opt->lr());
}

}  // namespace

TEST_SUITE("optim") {
  TEST_CASE("state_dict round trip: 2k steps equal k + save + load + k, bit for bit") {
    const int k = 1000;
    check_round_trip(
        "SGD",
        maker<SGD>(SGDOptions{.lr = 0.05, .momentum = 0.9, .dampening = 0.1, .weight_decay = 1e-3}),
        Kind::gradient, k);
    check_round_trip("Adagrad", maker<Adagrad>(AdagradOptions{.lr = 0.05, .lr_decay = 1e-3}),
                     Kind::gradient, k);
    check_round_trip("RMSprop",
                     maker<RMSprop>(RMSpropOptions{.lr = 1e-3, .momentum = 0.5, .centered = true}),
                     Kind::gradient, k);
    check_round_trip("Adadelta", maker<Adadelta>(AdadeltaOptions{}), Kind::gradient, k);
    check_round_trip("Adam", maker<Adam>(AdamOptions{.lr = 1e-2, .amsgrad = true}), Kind::gradient,
                     k);
    check_round_trip("AdamW", maker<AdamW>(AdamWOptions{.lr = 1e-2}), Kind::gradient, k);
    check_round_trip("Adamax", maker<Adamax>(AdamaxOptions{}), Kind::gradient, k);
    check_round_trip("NAdam", maker<NAdam>(NAdamOptions{}), Kind::gradient, k);
    check_round_trip("Yogi", maker<Yogi>(YogiOptions{}), Kind::gradient, k);
    check_round_trip(
        "LBFGS",
        maker<LBFGS>(LBFGSOptions{
            .max_iter = 3, .history_size = 5, .line_search_fn = LineSearch::strong_wolfe}),
        Kind::closure, 20);
    check_round_trip("Newton", maker<Newton>(NewtonOptions{.lr = 0.5}), Kind::loss_fn, 5);
    check_round_trip("LevenbergMarquardt", maker<LevenbergMarquardt>(LevenbergMarquardtOptions{}),
                     Kind::residuals, 5);
  }

  TEST_CASE("state_dict round trip through a safetensors file") {
    check_round_trip("Adam-file", maker<Adam>(AdamOptions{.lr = 1e-2}), Kind::gradient, 50, true);
    check_round_trip("NAdam-file", maker<NAdam>(NAdamOptions{}), Kind::gradient, 50, true);
    check_round_trip("LBFGS-file", maker<LBFGS>(LBFGSOptions{.max_iter = 3, .history_size = 4}),
                     Kind::closure, 10, true);
    check_round_trip("SGD-file", maker<SGD>(SGDOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true}),
                     Kind::gradient, 50, true);
    check_round_trip("LM-file", maker<LevenbergMarquardt>(LevenbergMarquardtOptions{}),
                     Kind::residuals, 3, true);
  }

  TEST_CASE("state_dict round trip in float64, in memory and through a file (F64 tensors)") {
    struct Case {
      const char* name;
      Make make;
      Kind kind;
      int k;
    };
    const Case cases[] = {
        {"SGD64", maker<SGD>(SGDOptions{.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3}),
         Kind::gradient, 50},
        {"Adagrad64", maker<Adagrad>(AdagradOptions{.lr = 0.05}), Kind::gradient, 50},
        {"RMSprop64", maker<RMSprop>(RMSpropOptions{.lr = 1e-3, .momentum = 0.5, .centered = true}),
         Kind::gradient, 50},
        {"Adadelta64", maker<Adadelta>(AdadeltaOptions{}), Kind::gradient, 50},
        {"Adam64", maker<Adam>(AdamOptions{.lr = 1e-2, .amsgrad = true}), Kind::gradient, 50},
        {"Adamax64", maker<Adamax>(AdamaxOptions{}), Kind::gradient, 50},
        {"NAdam64", maker<NAdam>(NAdamOptions{}), Kind::gradient, 50},
        {"Yogi64", maker<Yogi>(YogiOptions{}), Kind::gradient, 50},
        {"LBFGS64",
         maker<LBFGS>(LBFGSOptions{
             .max_iter = 3, .history_size = 4, .line_search_fn = LineSearch::strong_wolfe}),
         Kind::closure, 10},
        {"Newton64", maker<Newton>(NewtonOptions{.lr = 0.5}), Kind::loss_fn, 3},
        {"LM64", maker<LevenbergMarquardt>(LevenbergMarquardtOptions{}), Kind::residuals, 3},
    };
    for (const Case& c : cases)
      for (bool file : {false, true}) check_round_trip(c.name, c.make, c.kind, c.k, file, kFloat64);
    // The file holds the state in float64.
    Model m(kFloat64);
    Adam opt({m.W, m.b});
    train(opt, nullptr, m, Kind::gradient, 2);
    auto path = std::filesystem::temp_directory_path() / "tapegrad-optim-adam64.safetensors";
    tg::save(opt.state_dict(), path.string());
    StateDict loaded = tg::load(path.string());
    std::filesystem::remove(path);
    CHECK(loaded.find("state.0.exp_avg")->dtype() == kFloat64);
  }

  TEST_CASE("a float32 state loads into float64 parameters, converted (as PyTorch casts it)") {
    Model m32, m64(kFloat64);
    SGD opt32({m32.W, m32.b}, {.lr = 0.1, .momentum = 0.9});
    train(opt32, nullptr, m32, Kind::gradient, 3);
    {
      NoGradGuard no_grad;
      m64.W.copy_(m32.W);
      m64.b.copy_(m32.b);
    }
    SGD opt64({m64.W, m64.b}, {.lr = 0.1, .momentum = 0.9});
    opt64.load_state_dict(opt32.state_dict());
    const Tensor& buffer = opt64.state(0, 0).buffers.at("momentum_buffer");
    CHECK(buffer.dtype() == kFloat64);
    std::vector<float> v32 = opt32.state(0, 0).buffers.at("momentum_buffer").to_vector();
    CHECK(buffer.to_vector<double>() == std::vector<double>(v32.begin(), v32.end()));
    train(opt64, nullptr, m64, Kind::gradient, 1);  // and steps on in float64
    train(opt32, nullptr, m32, Kind::gradient, 1);
    tg::test::check_close(m64.values(), m32.values(), 1e-6, 1e-5);
  }

  TEST_CASE("state_dict holds copies; load_state_dict checks what it gets") {
    Model m;
    Adam opt({m.W, m.b});
    train(opt, nullptr, m, Kind::gradient, 3);
    StateDict s = opt.state_dict();
    CHECK(s.number("state.0.step") == 3);
    CHECK(s.number("param_groups.0.lr") == 1e-3);
    CHECK(s.at("state.1.exp_avg").shape() == Shape{2});
    std::vector<float> before = s.at("state.0.exp_avg").to_vector();
    train(opt, nullptr, m, Kind::gradient, 1);
    CHECK(s.at("state.0.exp_avg").to_vector() == before);  // a snapshot, not a view

    Model other;
    Adam wrong_count({other.W});
    CHECK_THROWS_CONTAINING(
        wrong_count.load_state_dict(s),
        "Adam: load_state_dict: group 0 has 2 parameters in the state, 1 in the optimizer");
    Tensor w2 = zeros({2, 3}, {.requires_grad = true}), b2 = zeros({2}, {.requires_grad = true});
    Adam wrong_shape({w2, b2});
    CHECK_THROWS_CONTAINING(
        wrong_shape.load_state_dict(s),
        "Adam: load_state_dict: 'state.0.exp_avg' has shape [3, 2], parameter 0 has [2, 3]");
    StateDict extra = s;
    extra.set("bogus", 1);
    Adam fine({other.W, other.b});
    CHECK_THROWS_CONTAINING(fine.load_state_dict(extra),
                            "Adam: load_state_dict: unexpected entry 'bogus'");
    StateDict missing = without(s, "param_groups.0.lr");
    CHECK_THROWS_CONTAINING(fine.load_state_dict(missing),
                            "Adam: load_state_dict: missing entry 'param_groups.0.lr'");
    LBFGS lbfgs({other.W, other.b});
    CHECK_THROWS_CONTAINING(lbfgs.load_state_dict(s), "kind: expected LBFGS, found Adam");
  }

  TEST_CASE("a refused state dict changes nothing") {
    auto same = [](const StateDict& a, const StateDict& b) {
      if (a.metadata() != b.metadata() || a.size() != b.size()) return false;
      for (const auto& [key, t] : a)
        if (!b.contains(key) || b.at(key).to_vector() != t.to_vector()) return false;
      return true;
    };
    Model m;
    Adam adam({m.W, m.b}, {.lr = 0.05});
    train(adam, nullptr, m, Kind::gradient, 3);
    StateDict good = adam.state_dict();
    StateDict bad = without(good, "state.1.exp_avg");
    bad.insert("state.1.exp_avg", zeros({7}));  // the last entry to be checked
    train(adam, nullptr, m, Kind::gradient, 2);
    const StateDict before = adam.state_dict();
    CHECK_THROWS_CONTAINING(adam.load_state_dict(bad), "'state.1.exp_avg' has shape [7]");
    CHECK(same(adam.state_dict(), before));
    bad = without(good, "param_groups.0.lr");
    CHECK_THROWS_CONTAINING(adam.load_state_dict(bad), "missing entry 'param_groups.0.lr'");
    CHECK(same(adam.state_dict(), before));

    Model m2;
    LBFGS lbfgs({m2.W, m2.b}, {.max_iter = 3, .history_size = 4});
    train(lbfgs, nullptr, m2, Kind::closure, 2);
    StateDict lgood = lbfgs.state_dict();
    train(lbfgs, nullptr, m2, Kind::closure, 1);
    const StateDict lbefore = lbfgs.state_dict();
    StateDict lbad = without(lgood, "param_groups.0.lr");  // refused by the base
    CHECK_THROWS_CONTAINING(lbfgs.load_state_dict(lbad), "missing entry 'param_groups.0.lr'");
    CHECK(same(lbfgs.state_dict(), lbefore));
    lbad = without(lgood, "lbfgs.n_iter");  // refused by LBFGS, after the base checked its part
    CHECK_THROWS_CONTAINING(lbfgs.load_state_dict(lbad),
                            "LBFGS: load_state_dict: missing entry 'lbfgs.n_iter'");
    CHECK(same(lbfgs.state_dict(), lbefore));

    Tensor p = zeros({1}, {.requires_grad = true});
    SGD sgd({p}, {.lr = 0.1});
    StepLR sched(sgd, {.step_size = 1, .gamma = 0.5});
    sched.step();
    StateDict no_epoch;
    no_epoch.set("base_lrs.0", 9);
    no_epoch.set("epoch", 4);
    CHECK_THROWS_CONTAINING(sched.load_state_dict(no_epoch), "missing entry 'last_epoch'");
    CHECK(sched.base_lrs() == std::vector<double>{0.1});
    CHECK(sched.last_epoch() == 1);
    CHECK(sgd.lr() == 0.05);
  }

  TEST_CASE("load_state_dict refuses another kind of optimizer") {
    Model m;
    Adam adam({m.W, m.b});
    train(adam, nullptr, m, Kind::gradient, 2);
    SGD sgd({m.W, m.b}, {.lr = 1e-3});
    const StateDict before = sgd.state_dict();
    CHECK(test::error_of([&] { sgd.load_state_dict(adam.state_dict()); }) ==
          "SGD: load_state_dict: the state does not fit this optimizer; nothing was loaded:\n"
          "  kind: expected SGD, found Adam\n"
          "hint: build the optimizer with the options the state was saved with");
    CHECK(sgd.state_dict().metadata() == before.metadata());
    AdamW adamw({m.W, m.b});
    CHECK_THROWS_CONTAINING(adamw.load_state_dict(adam.state_dict()),
                            "kind: expected AdamW, found Adam");
    StateDict no_kind = without(adam.state_dict(), "kind");
    CHECK_THROWS_CONTAINING(Adam({m.W, m.b}).load_state_dict(no_kind),
                            "kind: expected Adam, found nothing");
  }

  TEST_CASE("load_state_dict refuses other options, listing each mismatch") {
    Model m;
    Adam saved({m.W, m.b}, {.lr = 1e-2});
    train(saved, nullptr, m, Kind::gradient, 2);
    StateDict state = saved.state_dict();
    CHECK(state.text("kind") == "Adam");
    CHECK(state.text("param_groups.0.betas") == "(0.9, 0.999)");
    CHECK(state.text("param_groups.0.eps") == "1e-08");
    CHECK(state.text("param_groups.0.amsgrad") == "false");
    CHECK(state.text("param_groups.0.weight_decay") == "0");
    CHECK(state.text("param_groups.0.initial_lr") == "0.01");

    Adam other({m.W, m.b}, {.lr = 1e-2, .betas = {0.8, 0.999}, .eps = 1e-6, .amsgrad = true});
    const StateDict before = other.state_dict();
    CHECK(test::error_of([&] { other.load_state_dict(state); }) ==
          "Adam: load_state_dict: the state does not fit this optimizer; nothing was loaded:\n"
          "  param_groups.0.betas: expected (0.8, 0.999), found (0.9, 0.999)\n"
          "  param_groups.0.eps: expected 1e-06, found 1e-08\n"
          "  param_groups.0.amsgrad: expected true, found false\n"
          "hint: build the optimizer with the options the state was saved with");
    CHECK(other.state_dict().metadata() == before.metadata());
    CHECK(other.options().betas[0] == 0.8);

    // SGD with momentum 0.9 into SGD without: its momentum buffers would be ignored.
    SGD heavy({m.W, m.b}, {.lr = 0.1, .momentum = 0.9});
    train(heavy, nullptr, m, Kind::gradient, 2);
    SGD plain({m.W, m.b}, {.lr = 0.1});
    CHECK_THROWS_CONTAINING(plain.load_state_dict(heavy.state_dict()),
                            "  param_groups.0.momentum: expected 0, found 0.9\n");

    // Groups are compared one by one; an option the optimizer does not have is named.
    Tensor a = zeros({2}, {.requires_grad = true}), b = zeros({3}, {.requires_grad = true});
    SGD two({{.params = {a}, .options = {.lr = 0.1}},
             {.params = {b}, .options = {.lr = 0.1, .weight_decay = 1e-4}}});
    StateDict changed = two.state_dict();
    changed.set("param_groups.1.weight_decay", 1e-3);
    changed.set("param_groups.0.foo", 1);
    CHECK_THROWS_CONTAINING(two.load_state_dict(changed),
                            "  param_groups.0.foo: not an option of SGD\n"
                            "  param_groups.1.weight_decay: expected 0.0001, found 0.001\n");
  }

  TEST_CASE("load_state_dict restores the saved lr; another initial lr needs allow_lr_change") {
    Model m;
    SGD saved({m.W, m.b}, {.lr = 0.1, .momentum = 0.9});
    StepLR schedule(saved, {.step_size = 2, .gamma = 0.5});
    train(saved, &schedule, m, Kind::gradient, 5);
    CHECK(saved.lr() == 0.025);
    StateDict state = saved.state_dict(), schedule_state = schedule.state_dict();

    // The same recipe: the decayed lr comes back, with the momentum buffers.
    Model m2;
    SGD same({m2.W, m2.b}, {.lr = 0.1, .momentum = 0.9});
    StepLR same_schedule(same, {.step_size = 2, .gamma = 0.5});
    same.load_state_dict(state);
    same_schedule.load_state_dict(schedule_state);
    CHECK(same.lr() == 0.025);
    CHECK(same_schedule.last_epoch() == 5);
    for (size_t i = 0; i < 2; ++i) {
      CHECK(same.state(0, i).step == 5);
      CHECK(same.state(0, i).buffers.at("momentum_buffer").to_vector() ==
            saved.state(0, i).buffers.at("momentum_buffer").to_vector());
    }

    // Built with another lr: refused by default, naming the hint.
    Model m3;
    SGD faster({m3.W, m3.b}, {.lr = 0.3, .momentum = 0.9});
    StepLR faster_schedule(faster, {.step_size = 2, .gamma = 0.5});
    CHECK(test::error_of([&] { faster.load_state_dict(state); }) ==
          "SGD: load_state_dict: the state does not fit this optimizer; nothing was loaded:\n"
          "  param_groups.0.initial_lr: expected 0.3, found 0.1\n"
          "hint: to resume with another learning rate, load with {.allow_lr_change = true}");
    CHECK(test::error_of([&] { faster_schedule.load_state_dict(schedule_state); }) ==
          "LRScheduler: load_state_dict: the state does not fit this schedule; nothing was "
          "loaded:\n  base_lrs.0: expected 0.3, found 0.1\n"
          "hint: to resume with another learning rate, load with {.allow_lr_change = true}");
    CHECK(faster.lr() == 0.3);
    CHECK(faster.state(0, 0).step == 0);
    CHECK(faster_schedule.last_epoch() == 0);

    // Allowed: the state and t are restored, the new rates are kept and decay from 0.3.
    faster.load_state_dict(state, {.allow_lr_change = true});
    faster_schedule.load_state_dict(schedule_state, {.allow_lr_change = true});
    CHECK(faster_schedule.last_epoch() == 5);
    CHECK(faster.lr() == 0.3 * 0.25);
    CHECK(faster.state(0, 0).buffers.at("momentum_buffer").to_vector() ==
          saved.state(0, 0).buffers.at("momentum_buffer").to_vector());
    // The next step is the saved run's next step at the new rate: v = 0.9 v + g, x -= lr v.
    std::vector<float> v = saved.state(0, 0).buffers.at("momentum_buffer").to_vector();
    {
      NoGradGuard no_grad;
      m3.W.copy_(m.W);
      m3.b.copy_(m.b);
    }
    std::vector<float> x = m3.W.to_vector();
    m3.closure()();
    std::vector<float> g = m3.W.grad().to_vector();
    faster.step();
    std::vector<float> after = m3.W.to_vector();
    for (size_t i = 0; i < x.size(); ++i) {
      float v_new = 0.9f * v[i] + g[i];
      CHECK(after[i] == doctest::Approx(x[i] - float(0.3 * 0.25) * v_new).epsilon(1e-6));
    }
  }

}  // TEST_SUITE("optim")
