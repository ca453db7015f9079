// Forward mode's bookkeeping: whether a tangent rule is running (rules do not
// propagate tangents themselves) and attaching a tangent to an op's output.
#include <tapegrad/autograd/tangent.h>

namespace tg::detail {

namespace {
thread_local bool in_tangent_rule = false;
}  // namespace

bool tangents_active() { return !in_tangent_rule; }
TangentRuleScope::TangentRuleScope() : previous_(in_tangent_rule) { in_tangent_rule = true; }
TangentRuleScope::~TangentRuleScope() { in_tangent_rule = previous_; }

void set_tangent(Tensor& y, const Tensor& t, const char* op) {
  check(t.shape() == y.shape(), "{}: tangent of shape {} for an output of shape {}", op, t.shape(),
        y.shape());
  y.autograd_meta().tangent = t.impl_ptr();
}

}  // namespace tg::detail
