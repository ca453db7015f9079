// Registering and running hooks. Where a hook lives decides when it runs: a leaf's in its
// AutogradMeta (the engine runs them on the leaf's summed gradient), a computed tensor's on
// the node that produced it (run on the node's incoming gradient before its closure).
#include <tapegrad/autograd/hooks.h>

#include <algorithm>

#include <tapegrad/autograd/node.h>

namespace tg {

namespace {

template <typename Hooks>
void erase_id(Hooks& hooks, uint64_t id) {
  std::erase_if(hooks, [id](const auto& entry) { return entry.first == id; });
}

// The list a hook on t goes to, created on first use.
std::shared_ptr<HookList>& hook_list(const Tensor& t, const char* op) {
  check(t.defined(), "{}: called on an undefined tensor", op);
  check(t.requires_grad(),
        "{}: cannot register a hook on a tensor of shape {} that does not require grad", op,
        t.shape());
  std::shared_ptr<HookList>& list = t.is_leaf() ? t.autograd_meta().hooks : t.grad_fn()->hooks;
  if (!list) list = std::make_shared<HookList>();
  return list;
}

}  // namespace

void HookHandle::remove() {
  if (std::shared_ptr<HookList> list = list_.lock()) {
    erase_id(list->grad_hooks, id_);
    erase_id(list->post_accumulate_hooks, id_);
  }
  list_.reset();
}

Tensor HookList::run_grad_hooks(Tensor g) const {
  for (const auto& [id, hook] : std::vector(grad_hooks)) {  // a copy: a hook may remove itself
    Tensor replaced = hook(g);
    if (!replaced.defined()) continue;
    check(replaced.shape() == g.shape(),
          "register_hook: a hook returned a gradient of shape {} for a gradient of shape {}",
          replaced.shape(), g.shape());
    check(replaced.dtype() == g.dtype(),
          "register_hook: a hook returned a {} gradient for a {} gradient", replaced.dtype(),
          g.dtype());
    g = std::move(replaced);
  }
  return g;
}

void HookList::run_post_accumulate_hooks(const Tensor& leaf) const {
  for (const auto& [id, hook] : std::vector(post_accumulate_hooks)) hook(leaf);
}

HookHandle Tensor::add_grad_hook(GradHook hook) const {
  check(static_cast<bool>(hook), "register_hook: the hook is empty");
  std::shared_ptr<HookList>& list = hook_list(*this, "register_hook");
  uint64_t id = list->next_id++;
  list->grad_hooks.emplace_back(id, std::move(hook));
  return HookHandle(list, id);
}

HookHandle Tensor::register_post_accumulate_grad_hook(PostAccumulateGradHook hook) const {
  check(static_cast<bool>(hook), "register_post_accumulate_grad_hook: the hook is empty");
  check(!defined() || is_leaf(),
        "register_post_accumulate_grad_hook: only leaf tensors accumulate a gradient; this one "
        "of shape {} was computed by '{}'", shape(), is_leaf() ? "" : grad_fn()->name);
  std::shared_ptr<HookList>& list = hook_list(*this, "register_post_accumulate_grad_hook");
  uint64_t id = list->next_id++;
  list->post_accumulate_hooks.emplace_back(id, std::move(hook));
  return HookHandle(list, id);
}

void Tensor::retain_grad() const {
  check(defined(), "retain_grad: called on an undefined tensor");
  check(requires_grad(), "retain_grad: tensor of shape {} does not require grad", shape());
  if (is_leaf() || autograd_meta().retains_grad) return;  // leaves keep theirs anyway
  autograd_meta().retains_grad = true;
  // A weak reference: the hook lives on this tensor's node, which must not own the tensor.
  std::weak_ptr<TensorImpl> self = impl_;
  register_hook([self](const Tensor& g) {
    if (std::shared_ptr<TensorImpl> impl = self.lock()) {
      AutogradMeta& meta = Tensor(impl).autograd_meta();
      meta.grad = meta.grad ? (Tensor(meta.grad) + g.detach()).impl_ptr() : g.detach().clone().impl_ptr();
    }
  });
}

}  // namespace tg
