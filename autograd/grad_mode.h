// Grad mode: whether ops record on the tape. Thread-local, like PyTorch's.
#pragma once

namespace tg {

/// True when differentiable ops record nodes on the tape (the default).
bool is_grad_enabled();
void set_grad_enabled(bool enabled);

/// Turns recording off for a scope: `{ NoGradGuard g; w -= lr * w.grad(); }`.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

/// Turns recording back on inside a no-grad scope.
class EnableGradGuard {
 public:
  EnableGradGuard() : previous_(is_grad_enabled()) { set_grad_enabled(true); }
  ~EnableGradGuard() { set_grad_enabled(previous_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace tg
