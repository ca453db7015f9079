// Central differences in float32 (the library's only dtype): the projected
// loss is summed in double, and tolerances are set for float rounding.
#include <tapegrad/autograd/gradcheck.h>

#include <cmath>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/core/random.h>

namespace tg {

namespace {

double projected(const Tensor& y, const std::vector<float>& u) {
  std::vector<float> v = y.to_vector();
  double s = 0;
  for (size_t i = 0; i < v.size(); ++i) s += double(u[i]) * v[i];
  return s;
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, GradcheckOptions options) {
  std::vector<Tensor> leaves;
  for (const Tensor& x : inputs) leaves.push_back(x.detach().contiguous().clone().requires_grad_());
  Tensor y = f(leaves);
  check(y.defined(), "gradcheck: the function returned an undefined tensor");
  Generator gen;
  gen.seed(options.seed);
  std::vector<float> u(size_t(y.numel()));
  for (float& v : u) v = gen.uniform() * 2 - 1;
  if (y.requires_grad()) y.backward(tensor(u, y.shape()));

  GradcheckResult result;
  double worst = -INFINITY;
  for (size_t k = 0; k < leaves.size(); ++k) {
    Tensor grad = leaves[k].grad();
    for (int64_t i = 0; i < leaves[k].numel(); ++i) {
      float* p = leaves[k].data() + i;
      float saved = *p;
      double plus, minus;
      {
        NoGradGuard no_grad;
        *p = saved + options.eps;
        plus = projected(f(leaves), u);
        *p = saved - options.eps;
        minus = projected(f(leaves), u);
        *p = saved;
      }
      // The step actually taken in float, not the nominal eps.
      double step = double(saved + options.eps) - double(saved - options.eps);
      double numeric = (plus - minus) / step;
      double analytic = grad.defined() ? grad.data()[i] : 0.0;
      double excess = std::abs(analytic - numeric) - (options.atol + options.rtol * std::abs(numeric));
      if (excess > worst) {
        worst = excess;
        result.input = int(k);
        result.index = i;
        result.analytic = analytic;
        result.numeric = numeric;
        result.error = excess;
      }
    }
  }
  result.ok = worst <= 0;
  result.message = fmt::format(
      "gradcheck {}: worst element is input {} index {}: tape {:.6g} vs finite differences {:.6g}",
      result.ok ? "passed" : "FAILED", result.input, result.index, result.analytic, result.numeric);
  return result;
}

}  // namespace tg
