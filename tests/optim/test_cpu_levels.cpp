// Every first-order update rule at every instruction-set level against the baseline
// (cpu::dispatch): a few steps on parameters of awkward sizes (a partial vector, several
// vectors plus a tail, more than one thread's share), comparing parameters and buffers.
#include <functional>
#include <memory>
#include <vector>

#include <tapegrad/core/random.h>
#include <tapegrad/optim/adadelta.h>
#include <tapegrad/optim/adagrad.h>
#include <tapegrad/optim/adam.h>
#include <tapegrad/optim/adamax.h>
#include <tapegrad/optim/nadam.h>
#include <tapegrad/optim/rmsprop.h>
#include <tapegrad/optim/sgd.h>
#include <tapegrad/optim/yogi.h>
#include "tests/cpu_levels.h"
#include "tests/test_util.h"

using namespace tg;
using namespace tg::optim;
using tg::test::append;

namespace {

using Factory = std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>)>;

template <typename Opt, typename Options>
Factory make(Options o) {
  return [o](std::vector<Tensor> params) { return std::make_unique<Opt>(params, o); };
}

}  // namespace

TEST_CASE("cpu: every update rule gives the baseline's parameters and state at every level") {
  const std::vector<std::pair<const char*, Factory>> cases = {
      {"sgd", make<SGD>(SGDOptions{.lr = 0.1, .weight_decay = 0.01})},
      {"sgd_momentum", make<SGD>(SGDOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.1})},
      {"sgd_nesterov", make<SGD>(SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true})},
      {"adagrad", make<Adagrad>(AdagradOptions{.lr = 0.1, .lr_decay = 0.01, .weight_decay = 0.1})},
      {"rmsprop", make<RMSprop>(RMSpropOptions{.lr = 0.01, .momentum = 0.5, .centered = true})},
      {"adadelta", make<Adadelta>(AdadeltaOptions{.weight_decay = 0.1})},
      {"adam", make<Adam>(AdamOptions{.lr = 0.01, .weight_decay = 0.1})},
      {"adam_amsgrad", make<Adam>(AdamOptions{.lr = 0.01, .amsgrad = true})},
      {"adamw", make<AdamW>(AdamWOptions{.lr = 0.01})},
      {"adamax", make<Adamax>(AdamaxOptions{.weight_decay = 0.1})},
      {"nadam", make<NAdam>(NAdamOptions{.weight_decay = 0.1})},
      {"yogi", make<Yogi>(YogiOptions{})},
  };
  manual_seed(21);
  // 1, 7: less than a vector; 45: vectors and a tail; 70001: split across threads (2^15 each).
  const std::vector<Shape> shapes = {{1}, {7}, {3, 15}, {70001}};
  std::vector<Tensor> start, grads[3];
  for (const Shape& s : shapes) {
    start.push_back(randn(s));
    for (auto& g : grads) g.push_back(randn(s) * 2);
  }
  for (const auto& [name, factory] : cases) {
    INFO(name);
    tg::test::check_levels_agree(
        [&] {
          std::vector<Tensor> params;
          for (const Tensor& t : start) params.push_back(t.detach().clone().requires_grad_());
          std::unique_ptr<Optimizer> opt = factory(params);
          for (auto& step_grads : grads) {
            opt->zero_grad();
            Tensor loss = zeros({});
            for (size_t i = 0; i < params.size(); ++i)
              loss = loss + (params[i] * step_grads[i]).sum();  // d loss / d param = the grads
            loss.backward();
            opt->step();
          }
          std::vector<float> out;
          for (const Tensor& p : params) append(out, p);
          for (const auto& [key, value] : opt->state_dict()) append(out, value);
          return out;
        },
        1e-6f);
  }
}
