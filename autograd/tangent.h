// Forward mode on tensors: a tensor may carry a tangent (then it is a "dual
// tensor"), and every op that has a backward rule also has a tangent rule,
// written right below it: given the inputs' tangents, the output's tangent
// J v. Missing tangents count as zero. Inside a rule, ops do not propagate
// tangents themselves (one level of forward mode), but they do record on the
// tape when grad mode is on: that is what makes reverse-over-forward
// Hessian-vector products work (see forward.h).
#pragma once

#include <array>
#include <tuple>
#include <vector>

#include <tapegrad/autograd/tensor.h>

namespace tg {

/// The scope in which tensors carry tangents, as PyTorch's forward_ad.dual_level: make_dual
/// needs one, and when it ends every tangent attached inside it is dropped. The drop is what
/// frees the tensors: a tangent rule recorded on the tape saves its output's primal (tanh's
/// tangent (1 - y^2) dy reads y), so y -> its tangent -> the tape -> y would keep both alive.
/// jvp, hvp, hessian and jacobian open their own; levels nest.
class DualLevel {
 public:
  DualLevel();
  ~DualLevel();
  DualLevel(const DualLevel&) = delete;
  DualLevel& operator=(const DualLevel&) = delete;

 private:
  size_t first_;  // tangents attached from here on belong to this level
};

namespace detail {

bool tangents_active();  // false while a tangent rule runs

/// Marks the scope of one tangent rule.
class TangentRuleScope {
 public:
  TangentRuleScope();
  ~TangentRuleScope();
  TangentRuleScope(const TangentRuleScope&) = delete;
  TangentRuleScope& operator=(const TangentRuleScope&) = delete;

 private:
  bool previous_;
};

inline bool has_tangent(const Tensor& t) {
  return t.defined() && t.impl()->autograd && t.impl()->autograd->tangent;
}
inline Tensor tangent_or_zeros(const Tensor& t) {
  if (!t.defined()) return Tensor();
  return has_tangent(t) ? t.tangent() : zeros_like(t);
}
void set_tangent(Tensor& y, const Tensor& tangent, const char* op);

}  // namespace detail

/// Sets y's tangent to rule(t_1, ..., t_N) when any input carries a tangent.
template <size_t N, typename F>
void record_tangent(Tensor& y, const Tensor (&inputs)[N], F&& rule) {
  bool any = false;
  for (const Tensor& t : inputs) any = any || detail::has_tangent(t);
  if (!any || !detail::tangents_active()) return;
  detail::TangentRuleScope scope;
  std::array<Tensor, N> ts;
  for (size_t i = 0; i < N; ++i) ts[i] = detail::tangent_or_zeros(inputs[i]);
  detail::set_tangent(y, std::apply(rule, ts), "tangent");
}

/// The same for a dynamic number of inputs: rule(std::vector<Tensor> tangents).
template <typename F>
void record_tangent(Tensor& y, const std::vector<Tensor>& inputs, F&& rule) {
  bool any = false;
  for (const Tensor& t : inputs) any = any || detail::has_tangent(t);
  if (!any || !detail::tangents_active()) return;
  detail::TangentRuleScope scope;
  std::vector<Tensor> ts;
  for (const Tensor& t : inputs) ts.push_back(detail::tangent_or_zeros(t));
  detail::set_tangent(y, rule(ts), "tangent");
}

}  // namespace tg
