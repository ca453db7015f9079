// The table of every differentiable core op, shared by the gradcheck suite
// (reverse mode vs finite differences) and the forward-mode suite (jvp vs
// vjp). A new op adds one row here; a missing row shows in review.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <tapegrad/autograd/tensor.h>
#include "tests/test_util.h"

namespace tg::test {

struct InputSpec {
  Shape shape;
  float lo = -2, hi = 2;
  bool signed_away = false;  // |x| in [lo, hi] with random sign: away from kinks at 0
};

struct OpCase {
  std::string name;
  std::vector<InputSpec> inputs;
  std::function<Tensor(const std::vector<Tensor>&)> f;
};

inline std::vector<Tensor> make_inputs(const OpCase& c) {
  std::vector<Tensor> xs;
  for (const InputSpec& s : c.inputs) xs.push_back(sample(s.shape, s.lo, s.hi, s.signed_away));
  return xs;
}

using V = const std::vector<Tensor>&;

inline InputSpec in(Shape shape, float lo = -2, float hi = 2, bool signed_away = false) {
  return {shape, lo, hi, signed_away};
}

inline std::vector<OpCase> core_op_table() {
  InputSpec m23 = in({2, 3}), pos23 = in({2, 3}, 0.5f, 2), away23 = in({2, 3}, 0.2f, 2, true);
  return {
      {"add", {m23, m23}, [](V x) { return x[0] + x[1]; }},
      {"add broadcast", {m23, in({3})}, [](V x) { return x[0] + x[1]; }},
      {"add broadcast both", {in({2, 1}), in({1, 3})}, [](V x) { return x[0] + x[1]; }},
      {"sub", {m23, in({2, 1})}, [](V x) { return x[0] - x[1]; }},
      {"mul", {m23, m23}, [](V x) { return x[0] * x[1]; }},
      {"mul broadcast", {in({4, 1, 3}), in({2, 1})}, [](V x) { return x[0] * x[1]; }},
      {"div", {m23, in({3}, 0.5f, 2, true)}, [](V x) { return x[0] / x[1]; }},
      {"neg", {m23}, [](V x) { return -x[0]; }},
      {"scalar affine", {m23}, [](V x) { return (x[0] * 3 + 1) - 2 / (x[0] * x[0] + 1) + (1 - x[0]) / 4; }},
      {"pow scalar", {pos23}, [](V x) { return x[0].pow(2.5f); }},
      {"pow square", {m23}, [](V x) { return x[0].pow(2); }},
      {"pow tensor", {pos23, m23}, [](V x) { return x[0].pow(x[1]); }},
      {"exp", {m23}, [](V x) { return x[0].exp(); }},
      {"log", {pos23}, [](V x) { return x[0].log(); }},
      {"sqrt", {pos23}, [](V x) { return x[0].sqrt(); }},
      {"rsqrt", {pos23}, [](V x) { return x[0].rsqrt(); }},
      {"abs", {away23}, [](V x) { return x[0].abs(); }},
      {"sin", {m23}, [](V x) { return x[0].sin(); }},
      {"cos", {m23}, [](V x) { return x[0].cos(); }},
      {"tanh", {m23}, [](V x) { return x[0].tanh(); }},
      {"sigmoid", {m23}, [](V x) { return x[0].sigmoid(); }},
      {"relu", {away23}, [](V x) { return x[0].relu(); }},
      {"clamp", {away23}, [](V x) { return x[0].clamp(-1.1f, 1.1f); }},
      {"maximum", {m23, in({3})}, [](V x) { return x[0].maximum(x[1]); }},
      {"minimum", {m23, m23}, [](V x) { return x[0].minimum(x[1]); }},
      {"where", {m23, in({3})}, [](V x) { return where(x[0].gt(scalar_tensor(0)), x[0], x[1]); }},
      {"clone", {m23}, [](V x) { return x[0].clone() * x[0]; }},
      {"reshape", {m23}, [](V x) { return x[0].reshape({3, 2}) * x[0].reshape({3, 2}); }},
      {"view", {m23}, [](V x) { return x[0].view({6}) * 2; }},
      {"flatten", {in({2, 2, 3})}, [](V x) { return x[0].flatten(1) * 2; }},
      {"permute", {in({2, 3, 4})}, [](V x) { return x[0].permute({2, 0, 1}) * tensor({1, 2, 3, 4}, {4, 1, 1}); }},
      {"transpose + contiguous", {m23}, [](V x) { return x[0].t().contiguous() * x[0].t(); }},
      {"narrow", {m23}, [](V x) { return x[0].narrow(1, 1, 2); }},
      {"slice step", {in({7, 2})}, [](V x) { return x[0].slice(0, 1, 7, 3); }},
      {"select", {m23}, [](V x) { return x[0].select(1, -1); }},
      {"squeeze/unsqueeze", {in({2, 1, 3})}, [](V x) { return x[0].squeeze().unsqueeze(0) * x[0].squeeze(1); }},
      {"expand", {in({2, 1})}, [](V x) { return x[0].expand({3, 2, 4}); }},
      {"cat", {m23, in({2, 1})}, [](V x) { return cat({x[0], x[1], x[0]}, 1); }},
      {"stack", {m23, m23}, [](V x) { return stack({x[0], x[1]}, 1); }},
      {"sum", {m23}, [](V x) { return x[0].sum(); }},
      {"sum dims keepdim", {in({2, 3, 4})}, [](V x) { return x[0].sum({0, 2}, true); }},
      {"mean", {in({2, 3, 4})}, [](V x) { return x[0].mean({1}); }},
      {"var", {in({3, 4})}, [](V x) { return x[0].var({1}); }},
      {"std", {in({3, 4}, 0.5f, 2)}, [](V x) { return x[0].std(); }},
      {"max", {m23}, [](V x) { return x[0].max(); }},
      {"max dim", {in({3, 4})}, [](V x) { return x[0].max(1).first; }},
      {"min dim keepdim", {in({3, 4})}, [](V x) { return x[0].min(0, true).first; }},
      {"matmul", {in({3, 4}), in({4, 2})}, [](V x) { return x[0].matmul(x[1]); }},
      {"matmul transposed views", {in({4, 3}), in({2, 4})}, [](V x) { return x[0].t().matmul(x[1].t()); }},
      {"matmul batched", {in({2, 3, 4}), in({2, 4, 2})}, [](V x) { return x[0].matmul(x[1]); }},
      {"matmul batch x matrix", {in({2, 3, 4}), in({4, 2})}, [](V x) { return x[0].matmul(x[1]); }},
      {"matmul vector", {in({3, 4}), in({4})}, [](V x) { return x[0].matmul(x[1]); }},
      {"dot", {in({4}), in({4})}, [](V x) { return x[0].matmul(x[1]); }},
      {"sum_to", {in({4, 2, 3})}, [](V x) { return sum_to(x[0], {2, 1}); }},
      {"composite: mse", {in({5, 1}), in({5, 1})}, [](V x) { return (x[0] - x[1]).pow(2).mean(); }},
  };
}

}  // namespace tg::test
