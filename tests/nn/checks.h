// Derivative checks shared by the nn suites (nn-B's layers use them too):
//  - gradcheck_module: a module's gradients for its input and every parameter against
//    central finite differences (gradcheck() itself only sees explicit inputs);
//  - jvp_vjp: <u, J v> by forward mode against <J^T u, v> by reverse mode, for the
//    tangent rule of each hand-written primitive.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <utility>
#include <vector>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/gradcheck.h>
#include <tapegrad/core/random.h>
#include <tapegrad/autograd/tensor.h>
#include <tapegrad/nn/module.h>

namespace tg::test {

/// A tensor of `shape` with values from `gen` (uniform in [-1, 1)), independent of the global seed.
inline Tensor random_like(const Shape& shape, Generator& gen) {
  std::vector<float> v(size_t(shape.numel()));
  for (float& x : v) x = gen.uniform() * 2 - 1;
  return tensor(v, shape);
}

/// Checks d(sum(u * module(input)))/d(input and parameters) against central differences.
/// The module must be deterministic (Dropout in eval mode); its gradients are cleared after.
inline GradcheckResult gradcheck_module(nn::Module& module, const Tensor& input,
                                        GradcheckOptions options = {}) {
  Tensor x = input.detach().contiguous().clone().requires_grad_();
  module.zero_grad();
  Tensor y = module(x);
  Generator gen;
  gen.seed(options.seed);
  Tensor u = random_like(y.shape(), gen);
  y.backward(u);
  auto projected = [&] {
    NoGradGuard no_grad;
    Tensor out = module(x).contiguous();
    double s = 0;
    for (int64_t i = 0; i < out.numel(); ++i) s += double(u.data()[i]) * out.data()[i];
    return s;
  };
  std::vector<Tensor> targets = {x};
  for (const Tensor& p : module.parameters()) targets.push_back(p);
  GradcheckResult result;
  double worst = -INFINITY;
  for (size_t k = 0; k < targets.size(); ++k) {
    REQUIRE(targets[k].is_contiguous());
    Tensor grad = targets[k].grad();
    for (int64_t i = 0; i < targets[k].numel(); ++i) {
      float* p = targets[k].data() + i;
      float saved = *p;
      *p = saved + options.eps;
      double plus = projected();
      *p = saved - options.eps;
      double minus = projected();
      *p = saved;
      double numeric = (plus - minus) / (double(saved + options.eps) - double(saved - options.eps));
      double analytic = grad.defined() ? grad.data()[i] : 0.0;
      double excess =
          std::abs(analytic - numeric) - (options.atol + options.rtol * std::abs(numeric));
      if (excess > worst) {
        worst = excess;
        result = {excess <= 0, int(k), i, analytic, numeric, excess, ""};
      }
    }
  }
  module.zero_grad();
  result.ok = worst <= 0;
  result.message = fmt::format(
      "gradcheck_module {} on {}: worst element is {} {} index {}: tape {:.6g} vs finite "
      "differences {:.6g}", result.ok ? "passed" : "FAILED", module.name(),
      result.input == 0 ? "the input" : "parameter", result.input == 0 ? 0 : result.input - 1,
      result.index, result.analytic, result.numeric);
  return result;
}

/// <u, J v> (forward mode: the inputs carry tangents v) and <J^T u, v> (reverse mode:
/// backward with gradient u), for random u and v. The two must agree up to rounding.
inline std::pair<double, double> jvp_vjp(
    const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs,
    uint64_t seed = 7) {
  Generator gen;
  gen.seed(seed);
  std::vector<Tensor> duals, tangents;
  for (const Tensor& x : inputs) {
    tangents.push_back(random_like(x.shape(), gen));
    Tensor dual = x.detach().contiguous().clone();
    dual.autograd_meta().tangent = tangents.back().impl_ptr();
    duals.push_back(dual);
  }
  Tensor y = f(duals);
  REQUIRE_MESSAGE(y.tangent().defined(), "the output carries no tangent: no tangent rule ran");
  Tensor u = random_like(y.shape(), gen);
  double forward = (u * y.tangent()).sum().item();

  std::vector<Tensor> leaves;
  for (const Tensor& x : inputs) leaves.push_back(x.detach().contiguous().clone().requires_grad_());
  f(leaves).backward(u);
  double reverse = 0;
  for (size_t k = 0; k < leaves.size(); ++k)
    if (leaves[k].grad().defined()) reverse += (leaves[k].grad() * tangents[k]).sum().item();
  return {forward, reverse};
}

}  // namespace tg::test
