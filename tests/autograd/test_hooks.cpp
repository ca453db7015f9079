// Hooks (PyTorch's register_hook, register_post_accumulate_grad_hook, retain_grad): what a
// hook sees, replacing a gradient, leaf and computed tensors, once per backward with the
// summed gradient, order, removal, and the errors.
#include <tapegrad/autograd/grad.h>
#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/hooks.h>
#include "tests/test_util.h"

using namespace tg;
using tg::test::check_values;

TEST_CASE("a hook on a computed tensor sees its gradient and can replace it") {
  Tensor x = tensor({1, 2}, {2}, {.requires_grad = true});
  Tensor h = x * 3;
  std::vector<float> seen;
  h.register_hook([&](const Tensor& g) { seen = g.to_vector(); });
  h.register_hook([](const Tensor& g) { return g * 2; });  // doubles dL/dh from here on
  (h * h).sum().backward();                                 // dL/dh = 2h = [6, 12]
  CHECK(seen == std::vector<float>{6, 12});
  check_values(x.grad(), {36, 72});  // 2 * dL/dh * dh/dx
}

TEST_CASE("a leaf's hook sees the gradient summed over all its uses, once per backward") {
  Tensor w = tensor({1, 2}, {2}, {.requires_grad = true});
  int calls = 0;
  std::vector<float> seen;
  w.register_hook([&](const Tensor& g) {
    ++calls;
    seen = g.to_vector();
  });
  (w * 2 + w * w + w.exp() * 0).sum().backward();  // d/dw = 2 + 2w
  CHECK(calls == 1);
  CHECK(seen == std::vector<float>{4, 6});
  check_values(w.grad(), {4, 6});
}

TEST_CASE("a leaf hook's replacement is what is accumulated, and grad() returns it too") {
  Tensor w = tensor({1, -3}, {2}, {.requires_grad = true});
  w.register_hook([](const Tensor& g) { return g.clamp(-1, 1); });
  (w * 5).sum().backward();
  check_values(w.grad(), {1, 1});
  check_values(grad({(w * -5).sum()}, {w})[0], {-1, -1});
}

TEST_CASE("post-accumulate hooks run after .grad() holds the sum, in registration order") {
  Tensor w = tensor({1, 2}, {2}, {.requires_grad = true});
  std::vector<std::string> log;
  w.register_post_accumulate_grad_hook([&](const Tensor& p) {
    log.push_back(fmt::format("first {}", p.grad().to_vector()[1]));
  });
  w.register_post_accumulate_grad_hook([&](const Tensor& p) {
    log.push_back(fmt::format("second {}", p.grad().to_vector()[1]));
    NoGradGuard g;
    p.grad().mul_(0.5f);  // e.g. averaging across processes
  });
  (w * w).sum().backward();  // grad = 2w = [2, 4]
  (w * w).sum().backward();  // accumulates to [2, 4] * 0.5 + [2, 4] = [3, 6], then halved
  CHECK(log == std::vector<std::string>{"first 4", "second 4", "first 6", "second 6"});
  check_values(w.grad(), {1.5f, 3});
  // grad() accumulates nothing, so it runs no post-accumulate hook.
  grad({(w * w).sum()}, {w});
  CHECK(log.size() == 4);
}

TEST_CASE("a removed hook no longer runs; removing twice or after the tensor is gone is harmless") {
  Tensor w = tensor({1}, {1}, {.requires_grad = true});
  int a = 0, b = 0;
  HookHandle ha = w.register_hook([&](const Tensor&) { ++a; });
  HookHandle hb = w.register_post_accumulate_grad_hook([&](const Tensor&) { ++b; });
  (w * 2).sum().backward();
  ha.remove();
  hb.remove();
  ha.remove();
  (w * 2).sum().backward();
  CHECK(a == 1);
  CHECK(b == 1);
  HookHandle late;
  {
    Tensor t = tensor({1}, {1}, {.requires_grad = true});
    late = t.register_hook([](const Tensor&) {});
  }
  CHECK_NOTHROW(late.remove());
}

TEST_CASE("retain_grad keeps a computed tensor's gradient") {
  Tensor x = tensor({1, 2}, {2}, {.requires_grad = true});
  Tensor h = x * x;
  h.retain_grad();
  h.retain_grad();  // idempotent
  (h * 3).sum().backward();
  check_values(h.grad(), {3, 3});
  check_values(x.grad(), {6, 12});
}

TEST_CASE("hook errors") {
  Tensor plain = tensor({1}, {1});
  CHECK_THROWS_CONTAINING(plain.register_hook([](const Tensor&) {}),
                          "register_hook: cannot register a hook on a tensor of shape [1] that does not require grad");
  Tensor x = tensor({1}, {1}, {.requires_grad = true});
  CHECK_THROWS_CONTAINING(
      (x * 2).register_post_accumulate_grad_hook([](const Tensor&) {}),
      "register_post_accumulate_grad_hook: only leaf tensors accumulate a gradient; this one of shape [1] was computed by 'mul'");
  x.register_hook([](const Tensor&) { return ones({3}); });
  CHECK_THROWS_CONTAINING((x * 2).sum().backward(),
                          "a hook returned a gradient of shape [3] for a gradient of shape [1]");
  CHECK_THROWS_CONTAINING(Tensor().register_hook([](const Tensor&) {}), "undefined");
}

TEST_CASE("queue_callback runs after every leaf is accumulated, once, before backward returns") {
  Tensor a = tensor({1, 2}, {2}, {.requires_grad = true});
  Tensor b = tensor({3}, {1}, {.requires_grad = true});
  std::vector<std::string> events;
  std::vector<float> a_grad_in_callback;
  // The first leaf to finish queues the callback; it must still see every leaf's gradient.
  auto queue_once = [&](const Tensor&) {
    events.push_back("leaf");
    if (events.size() == 1)
      queue_callback([&] {
        events.push_back("callback");
        a_grad_in_callback = a.grad().to_vector();
        CHECK(b.grad().defined());
        queue_callback([&] { events.push_back("queued by a callback"); });
      });
  };
  a.register_post_accumulate_grad_hook(queue_once);
  b.register_post_accumulate_grad_hook(queue_once);
  ((a * b).sum() * 2).backward();  // d/da = 2b = [6, 6]
  CHECK(events == std::vector<std::string>{"leaf", "leaf", "callback", "queued by a callback"});
  CHECK(a_grad_in_callback == std::vector<float>{6, 6});
  events.clear();
  (a.sum()).backward();  // a new pass: the earlier callbacks do not run again
  CHECK(events == std::vector<std::string>{"leaf", "callback", "queued by a callback"});
  CHECK_THROWS_CONTAINING(queue_callback([] {}), "queue_callback: no backward pass is running");
  Tensor c = tensor({1}, {1}, {.requires_grad = true});
  c.register_hook([](const Tensor&) { queue_callback(nullptr); });
  CHECK_THROWS_CONTAINING(c.sum().backward(), "queue_callback: the callback is empty");
}
