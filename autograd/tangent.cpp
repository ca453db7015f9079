// Forward mode's bookkeeping: whether a tangent rule is running (rules do not
// propagate tangents themselves), attaching a tangent to an op's output, and the dual
// levels that drop the attached tangents again.
#include <tapegrad/autograd/tangent.h>

#include <memory>

namespace tg {

namespace {
thread_local bool in_tangent_rule = false;
thread_local int levels = 0;
// Every tensor given a tangent inside the open levels, oldest first; weak, so a tensor that
// dies on its own (no cycle) is not kept alive.
thread_local std::vector<std::weak_ptr<AutogradMeta>> attached;
}  // namespace

DualLevel::DualLevel() : first_(attached.size()) { ++levels; }

DualLevel::~DualLevel() {
  // Moved out first: dropping a tangent frees tensors, and nothing here may run twice.
  std::vector<std::weak_ptr<AutogradMeta>> mine(attached.begin() + std::ptrdiff_t(first_),
                                                attached.end());
  attached.resize(first_);
  --levels;
  for (const std::weak_ptr<AutogradMeta>& weak : mine)
    if (std::shared_ptr<AutogradMeta> meta = weak.lock()) meta->tangent.reset();
}

namespace detail {

bool tangents_active() { return !in_tangent_rule; }
TangentRuleScope::TangentRuleScope() : previous_(in_tangent_rule) { in_tangent_rule = true; }
TangentRuleScope::~TangentRuleScope() { in_tangent_rule = previous_; }

void set_tangent(Tensor& y, const Tensor& t, const char* op) {
  check(t.shape() == y.shape(), "{}: tangent of shape {} for an output of shape {}", op, t.shape(),
        y.shape());
  check(levels > 0, "{}: tangents exist only inside a DualLevel scope (as PyTorch's dual_level)",
        op);
  y.autograd_meta().tangent = t.impl_ptr();
  attached.push_back(y.impl()->autograd);
}

}  // namespace detail
}  // namespace tg
