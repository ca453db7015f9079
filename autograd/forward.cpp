// jvp, vjp, hvp, hessian and jacobian built on tangents and the tape.
#include <tapegrad/autograd/forward.h>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/tangent.h>

namespace tg {

Tensor make_dual(const Tensor& primal, const Tensor& tangent) {
  check(primal.shape() == tangent.shape(), "make_dual: tangent of shape {} for a primal of shape {}",
        tangent.shape(), primal.shape());
  Tensor dual = primal.expand(primal.shape());  // a recorded alias: a new handle, same storage
  detail::set_tangent(dual, tangent.detach(), "make_dual");
  return dual;
}

std::pair<Tensor, Tensor> jvp(const TensorFunction& f, const std::vector<Tensor>& primals,
                              const std::vector<Tensor>& tangents) {
  check(primals.size() == tangents.size(), "jvp: {} primals but {} tangents", primals.size(),
        tangents.size());
  std::vector<Tensor> duals;
  for (size_t i = 0; i < primals.size(); ++i) duals.push_back(make_dual(primals[i], tangents[i]));
  Tensor y = f(duals);
  Tensor t = y.tangent();
  return {y.detach(), t.defined() ? t.detach() : zeros(y.shape())};
}

std::pair<Tensor, std::vector<Tensor>> vjp(const TensorFunction& f,
                                           const std::vector<Tensor>& primals,
                                           const Tensor& cotangent) {
  std::vector<Tensor> leaves;
  for (const Tensor& p : primals) leaves.push_back(p.detach().requires_grad_());
  Tensor y;
  {
    EnableGradGuard grad;
    y = f(leaves);
  }
  check(cotangent.shape() == y.shape(), "vjp: cotangent of shape {} for an output of shape {}",
        cotangent.shape(), y.shape());
  std::vector<Tensor> result;
  if (y.requires_grad()) y.backward(cotangent);
  for (const Tensor& l : leaves) result.push_back(l.grad().defined() ? l.grad() : zeros(l.shape()));
  return {y.detach(), result};
}

Tensor hvp(const std::function<Tensor(const Tensor&)>& f, const Tensor& x, const Tensor& v) {
  check(x.shape() == v.shape(), "hvp: v of shape {} for x of shape {}", v.shape(), x.shape());
  EnableGradGuard grad;
  Tensor leaf = x.detach().requires_grad_();
  Tensor y = f(make_dual(leaf, v));
  check(y.numel() == 1, "hvp: f must return a scalar, got shape {}", y.shape());
  Tensor directional = y.tangent();  // <grad f(x), v>, recorded on the tape as a function of x
  if (!directional.defined() || !directional.requires_grad()) return zeros(x.shape());
  directional.backward();
  return leaf.grad().defined() ? leaf.grad() : zeros(x.shape());
}

Tensor hessian(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  int64_t n = x.numel();
  Tensor h = empty({n, n});
  for (int64_t i = 0; i < n; ++i) {
    Tensor e = zeros({n});
    e.data()[i] = 1;
    Tensor column = hvp(f, x, e.reshape(x.shape())).contiguous();
    for (int64_t j = 0; j < n; ++j) h.data()[j * n + i] = column.data()[j];
  }
  return h;
}

Tensor jacobian(const std::function<Tensor(const Tensor&)>& f, const Tensor& x) {
  int64_t n = x.numel();
  std::vector<Tensor> columns;
  for (int64_t i = 0; i < n; ++i) {
    Tensor e = zeros({n});
    e.data()[i] = 1;
    auto [y, t] = jvp([&](const std::vector<Tensor>& in) { return f(in[0]); }, {x}, {e.reshape(x.shape())});
    columns.push_back(t.reshape({-1}));
  }
  NoGradGuard no_grad;
  return stack(columns, 1);
}

}  // namespace tg
