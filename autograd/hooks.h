// Hooks: code that runs during backward without touching the engine, as PyTorch's
// Tensor.register_hook and register_post_accumulate_grad_hook (declared on Tensor, in
// tensor.h). A gradient hook sees the gradient with respect to its tensor (the sum of every
// contribution of this backward) and may replace it by returning a tensor; a post-accumulate
// hook runs on a leaf once its .grad() holds this backward's gradient (gradient clipping,
// logging, the all-reduce of distributed data parallel). Hooks on a leaf live in its
// AutogradMeta, hooks on a computed tensor on the node that produced it.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include <tapegrad/autograd/hook_handle.h>
#include <tapegrad/autograd/tensor.h>

namespace tg {

/// The hooks registered on one tensor, in registration order.
struct HookList {
  std::vector<std::pair<uint64_t, GradHook>> grad_hooks;
  std::vector<std::pair<uint64_t, PostAccumulateGradHook>> post_accumulate_hooks;
  uint64_t next_id = 0;

  /// g after every gradient hook, each seeing its predecessor's result.
  Tensor run_grad_hooks(Tensor g) const;
  void run_post_accumulate_hooks(const Tensor& leaf) const;
};

/// Runs `callback` once the backward pass now running has finished: every .grad()
/// accumulated and every hook run, just before backward() (or grad()) returns. PyTorch's
/// Variable._execution_engine.queue_callback; distributed data parallel waits for its last
/// all-reduces here. Callbacks run in the order queued (one may queue another); a backward
/// that throws drops them. Called outside a backward pass (from no hook): tg::Error.
void queue_callback(std::function<void()> callback);

}  // namespace tg
