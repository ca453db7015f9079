// Resuming training: for every optimizer, 2k steps equal k steps + state_dict + load into a
// fresh optimizer + k steps, bit for bit (also through a file), and load errors.
#include <filesystem>
#include <functional>
#include <memory>

#include <tapegrad/nn/safetensors.h>
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
#include <tapegrad/optim/serialize.h>
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
struct Model {
  Tensor X, y, W, b;
  explicit Model() {
    manual_seed(11);
    X = randn({16, 3});
    y = randn({16, 2});
    W = (0.3f * randn({3, 2})).detach().requires_grad_();
    b = zeros({2}, {.requires_grad = true});
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
  std::vector<float> values() const {
    std::vector<float> v = W.to_vector(), vb = b.to_vector();
    v.insert(v.end(), vb.begin(), vb.end());
    return v;
  }
};

enum class Kind { gradient, closure, loss_fn, residuals };

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
                      bool through_file = false) {
  INFO(std::string(name));
  Model straight;
  auto opt = make({straight.W, straight.b});
  ExponentialLR sched(*opt, {.gamma = 0.999});
  train(*opt, &sched, straight, kind, 2 * k);

  Model first;
  auto opt1 = make({first.W, first.b});
  ExponentialLR sched1(*opt1, {.gamma = 0.999});
  train(*opt1, &sched1, first, kind, k);
  StateDict saved = opt1->state_dict();
  auto sched_state = sched1.state_dict();
  if (through_file) {
    auto path =
        std::filesystem::temp_directory_path() / fmt::format("tapegrad-optim-{}.safetensors", name);
    save(saved, path.string());
    saved = load(path.string());
    std::filesystem::remove(path);
  }
  Model second;  // fresh parameters: copy the trained values in, nothing else
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
  CHECK(second.values() == straight.values());  // exact equality of every float
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
  }

  TEST_CASE("state_dict holds copies; load_state_dict checks what it gets") {
    Model m;
    Adam opt({m.W, m.b});
    train(opt, nullptr, m, Kind::gradient, 3);
    StateDict s = opt.state_dict();
    CHECK(s.scalars.at("state.0.step") == 3);
    CHECK(s.scalars.at("param_groups.0.lr") == 1e-3);
    CHECK(s.tensors.at("state.1.exp_avg").shape() == Shape{2});
    std::vector<float> before = s.tensors.at("state.0.exp_avg").to_vector();
    train(opt, nullptr, m, Kind::gradient, 1);
    CHECK(s.tensors.at("state.0.exp_avg").to_vector() == before);  // a snapshot, not a view

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
    extra.scalars["bogus"] = 1;
    Adam fine({other.W, other.b});
    CHECK_THROWS_CONTAINING(fine.load_state_dict(extra),
                            "Adam: load_state_dict: unexpected entry 'bogus'");
    StateDict missing = s;
    missing.scalars.erase("param_groups.0.lr");
    CHECK_THROWS_CONTAINING(fine.load_state_dict(missing),
                            "Adam: load_state_dict: missing entry 'param_groups.0.lr'");
    LBFGS lbfgs({other.W, other.b});
    CHECK_THROWS_CONTAINING(lbfgs.load_state_dict(s),
                            "LBFGS: load_state_dict: missing entry 'lbfgs.n_iter'");
  }

  TEST_CASE("a refused state dict changes nothing") {
    auto same = [](const StateDict& a, const StateDict& b) {
      if (a.scalars != b.scalars || a.tensors.size() != b.tensors.size()) return false;
      for (const auto& [key, t] : a.tensors)
        if (!b.tensors.count(key) || b.tensors.at(key).to_vector() != t.to_vector()) return false;
      return true;
    };
    Model m;
    Adam adam({m.W, m.b}, {.lr = 0.05});
    train(adam, nullptr, m, Kind::gradient, 3);
    StateDict good = adam.state_dict(), bad = good;
    bad.tensors.at("state.1.exp_avg") = zeros({7});  // the last entry to be checked
    train(adam, nullptr, m, Kind::gradient, 2);
    const StateDict before = adam.state_dict();
    CHECK_THROWS_CONTAINING(adam.load_state_dict(bad), "'state.1.exp_avg' has shape [7]");
    CHECK(same(adam.state_dict(), before));
    bad = good;
    bad.scalars.erase("param_groups.0.lr");
    CHECK_THROWS_CONTAINING(adam.load_state_dict(bad), "missing entry 'param_groups.0.lr'");
    CHECK(same(adam.state_dict(), before));

    Model m2;
    LBFGS lbfgs({m2.W, m2.b}, {.max_iter = 3, .history_size = 4});
    train(lbfgs, nullptr, m2, Kind::closure, 2);
    StateDict lbad = lbfgs.state_dict();
    train(lbfgs, nullptr, m2, Kind::closure, 1);
    const StateDict lbefore = lbfgs.state_dict();
    lbad.scalars.erase("param_groups.0.lr");  // refused by the base, after LBFGS parsed its part
    CHECK_THROWS_CONTAINING(lbfgs.load_state_dict(lbad), "missing entry 'param_groups.0.lr'");
    CHECK(same(lbfgs.state_dict(), lbefore));

    Tensor p = zeros({1}, {.requires_grad = true});
    SGD sgd({p}, {.lr = 0.1});
    StepLR sched(sgd, {.step_size = 1, .gamma = 0.5});
    sched.step();
    CHECK_THROWS_CONTAINING(sched.load_state_dict({{"base_lrs.0", 9}, {"epoch", 4}}),
                            "missing entry 'last_epoch'");
    CHECK(sched.base_lrs() == std::vector<double>{0.1});
    CHECK(sched.last_epoch() == 1);
    CHECK(sgd.lr() == 0.05);
  }

  TEST_CASE("optim::load refuses files that are not optimizer states") {
    auto path = (std::filesystem::temp_directory_path() / "tapegrad-optim-not-a-state.safetensors")
                    .string();
    save_safetensors(path, {{"w", {2}, {1.f, 2.f}}});
    CHECK_THROWS_CONTAINING(load(path), "is not an optimizer state");
    save_safetensors(path, {}, {{"tapegrad.format", "optimizer_state"}, {"param_groups", "two"}});
    CHECK_THROWS_CONTAINING(load(path), "the metadata entry 'param_groups' is not a number: 'two'");
    std::filesystem::remove(path);
  }

}  // TEST_SUITE("optim")
