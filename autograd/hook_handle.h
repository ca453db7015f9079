// What Tensor::register_hook returns: remove() unregisters the hook (PyTorch's
// RemovableHandle). The hooks themselves are in autograd/hooks.h.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>

namespace tg {

struct HookList;

/// Unregisters one hook; a no-op once the tensor, or the hook, is gone.
class HookHandle {
 public:
  HookHandle() = default;
  HookHandle(std::weak_ptr<HookList> list, uint64_t id) : list_(std::move(list)), id_(id) {}
  void remove();

 private:
  std::weak_ptr<HookList> list_;
  uint64_t id_ = 0;
};

}  // namespace tg
