// Version counters: a tensor saved for backward and then modified in place
// must make backward() refuse (PyTorch's rule), never give a silently wrong
// gradient. The five ways of issue 13, and the cases that must stay allowed.
#include <doctest/doctest.h>

#include <tapegrad/tapegrad.h>

#include "tests/test_util.h"

using namespace tg;
using tg::test::check_values;

namespace {
constexpr const char* kModified = "was modified in place";
}

TEST_CASE("version: every in-place write bumps the storage's version, views share it") {
  Tensor t = zeros({2, 3});
  uint64_t v0 = t.version();
  t.add_(1);
  CHECK(t.version() == v0 + 1);
  Tensor row = t.select(0, 1);
  row.fill_(2);
  CHECK(t.version() == v0 + 2);  // a view's write is seen by the base
  CHECK(row.version() == t.version());
  t.mul_(3).clamp_(0, 5).zero_();
  CHECK(t.version() == v0 + 5);
  t.copy_(ones({3}));
  t.uniform_();
  t.normal_();
  CHECK(t.version() == v0 + 8);
  Tensor fresh = t + 1;  // an out-of-place op gets new storage
  CHECK(fresh.version() == 0);
}

TEST_CASE("version: a leaf changed under no_grad after it was saved is refused") {
  Tensor w = randn({4}, {.requires_grad = true});
  Tensor loss = (w * w).sum();
  {
    NoGradGuard g;
    w.mul_(3);
  }
  std::string message = tg::test::error_of([&] { loss.backward(); });
  INFO(message);
  CHECK(message.starts_with("backward: its input 0 of shape [4] saved by 'mul' (#"));
  CHECK(message.ends_with(") for its gradient was modified in place: version 0 when saved, 1 now; "
                          "hint: an in-place op or optimizer step ran between the forward pass "
                          "and backward(); use an out-of-place op, or clone() the tensor before "
                          "changing it"));
}

TEST_CASE("version: an input that does not require grad, changed after it was saved") {
  Tensor x = randn({4});
  Tensor w = randn({4}, {.requires_grad = true});
  Tensor loss = (x * w).sum();
  x.add_(10);
  CHECK_THROWS_CONTAINING(loss.backward(), kModified);
  CHECK_FALSE(w.grad().defined());  // nothing was accumulated
}

TEST_CASE("version: zeroing the saved output of exp is refused") {
  Tensor w = randn({3}, {.requires_grad = true});
  Tensor y = w.exp();
  Tensor loss = y.sum();
  {
    NoGradGuard g;
    y.zero_();
  }
  CHECK_THROWS_CONTAINING(loss.backward(), "its output of shape [3] saved by 'exp'");
}

TEST_CASE("version: a view of a saved weight written in place (Linear)") {
  manual_seed(1);
  nn::Linear lin(3, 2);
  Tensor loss = lin(randn({4, 3})).pow(2).sum();
  {
    NoGradGuard g;
    lin.weight.select(0, 0).fill_(0);
  }
  CHECK_THROWS_CONTAINING(loss.backward(), "'linear'");
}

TEST_CASE("version: an optimizer step between forward and backward is refused") {
  manual_seed(2);
  nn::Linear lin(3, 1);
  optim::SGD opt(lin.parameters(), {.lr = 0.1});
  Tensor x = randn({5, 3});
  lin(x).sum().backward();
  Tensor loss = lin(x).sum();  // a second forward, then a step before its backward
  opt.step();
  CHECK_THROWS_CONTAINING(loss.backward(), kModified);
}

TEST_CASE("version: changes that backward does not read stay allowed") {
  Tensor a = randn({3}, {.requires_grad = true});
  Tensor b = randn({3});
  Tensor loss = (a + b).sum();  // add's gradient does not depend on a or b
  b.add_(1);
  loss.backward();
  check_values(a.grad(), {1, 1, 1});

  // The usual loop: backward, then the update, then the next forward.
  Tensor w = randn({2}, {.requires_grad = true});
  for (int step = 0; step < 3; ++step) {
    Tensor l = (w * w).sum();
    l.backward();
    NoGradGuard g;
    w -= 0.1f * w.grad();
    w.zero_grad();
  }
}

TEST_CASE("version: gradient accumulation into .grad() bumps the gradient's version") {
  Tensor w = randn({2}, {.requires_grad = true});
  (w * 2).sum().backward();
  uint64_t v = w.grad().version();
  (w * 3).sum().backward();
  CHECK(w.grad().version() == v + 1);
  check_values(w.grad(), {5, 5});
}
