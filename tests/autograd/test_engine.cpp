// The tape's semantics (as PyTorch's): accumulation, reuse, no-grad, detach,
// freed graphs, deep graphs without recursion, no leaks, tape printing,
// anomaly detection.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <tapegrad/autograd/anomaly.h>
#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tape.h>
#include "tests/test_util.h"

using namespace tg;
using tg::test::check_values;

TEST_CASE("a tensor used twice gets both contributions") {
  Tensor x = tensor({3}, {}, {.requires_grad = true});
  Tensor y = x * x + x;  // dy/dx = 2x + 1 = 7
  y.backward();
  check_values(x.grad(), {7});
}

TEST_CASE("gradients accumulate until zero_grad") {
  Tensor x = tensor({1, 2}, {2}, {.requires_grad = true});
  (x * 3).sum().backward();
  (x * 3).sum().backward();
  check_values(x.grad(), {6, 6});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
  (x * x).sum().backward();
  check_values(x.grad(), {2, 4});
}

TEST_CASE("broadcast gradients are summed back to the leaf's shape") {
  Tensor b = zeros({3}, {.requires_grad = true});
  (ones({4, 3}) + b).sum().backward();
  check_values(b.grad(), {4, 4, 4});
}

TEST_CASE("no-grad and detach stop recording") {
  Tensor x = ones({2}, {.requires_grad = true});
  {
    NoGradGuard g;
    Tensor y = x * 2;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
    {
      EnableGradGuard e;
      CHECK((x * 2).requires_grad());
    }
  }
  Tensor d = x.detach();
  CHECK_FALSE(d.requires_grad());
  CHECK(d.data() == x.data());  // same storage
  Tensor y = (d * x).sum();
  y.backward();
  check_values(x.grad(), {1, 1});  // d counted as a constant
}

TEST_CASE("backward errors") {
  CHECK_THROWS_CONTAINING(ones({2}).sum().backward(), "backward: tensor of shape [] does not require grad");
  Tensor x = ones({2}, {.requires_grad = true});
  CHECK_THROWS_CONTAINING((x * 2).backward(), "backward: grad can be implicitly created only for a scalar output, got shape [2]");
  CHECK_THROWS_CONTAINING((x * 2).backward(ones({3})), "backward: gradient of shape [3] for a tensor of shape [2]");
  Tensor y = (x * x).sum();
  y.backward();
  CHECK_THROWS_CONTAINING(y.backward(), "was already freed by an earlier backward");
  Tensor z = (x * x).sum();
  x.zero_grad();
  z.backward({}, /*retain_graph=*/true);
  z.backward();
  check_values(x.grad(), {4, 4});
  CHECK_THROWS_CONTAINING(x.add_(ones({2})), "add_: a tensor that requires grad ([2]) cannot be modified in place while grad mode is on");
  CHECK_THROWS_CONTAINING((x * 2).requires_grad_(false), "requires_grad_: only leaf tensors");
}

TEST_CASE("non-scalar backward with an explicit gradient") {
  Tensor x = tensor({1, 2, 3}, {3}, {.requires_grad = true});
  (x * x).backward(tensor({1, 0, 2}));
  check_values(x.grad(), {2, 0, 12});
}

TEST_CASE("leaf gradients never alias other buffers") {
  Tensor x = ones({3}, {.requires_grad = true});
  Tensor g = tensor({1, 2, 3});
  x.backward(g);
  x.grad().mul_(10);
  check_values(g, {1, 2, 3});
}

TEST_CASE("a chain of 1,000,000 ops runs backward without recursion") {
  Tensor x = scalar_tensor(1, {.requires_grad = true});
  Tensor y = x;
  for (int i = 0; i < 1000000; ++i) y = y * 1.0f + 0.0f;
  y.backward();
  CHECK(x.grad().item() == 1);
  y = Tensor();  // freeing the million nodes must not recurse either
}

TEST_CASE("a sum of 100,000 scalar terms and shared subexpressions stay linear") {
  Tensor x = scalar_tensor(2, {.requires_grad = true});
  Tensor s = scalar_tensor(0);
  for (int i = 0; i < 100000; ++i) s = s + x * x;
  s.backward();
  CHECK(x.grad().item() == doctest::Approx(4 * 100000.0));
  // y = y + y, 100 times: 2^100 paths, but each node runs once.
  Tensor z = scalar_tensor(1, {.requires_grad = true});
  Tensor y = z;
  for (int i = 0; i < 100; ++i) y = y + y;
  y.backward();
  CHECK(z.grad().item() == doctest::Approx(std::ldexp(1.0, 100)));
}

TEST_CASE("a graph is freed when its loss is dropped (no reference cycles)") {
  Tensor x = ones({4}, {.requires_grad = true});
  std::weak_ptr<Node> exp_node, sum_node;
  {
    Tensor y = x.exp();  // exp's closure saves its output: must not keep y's node alive
    Tensor loss = y.sum();
    exp_node = y.grad_fn();
    sum_node = loss.grad_fn();
    CHECK_FALSE(exp_node.expired());
  }
  CHECK(exp_node.expired());
  CHECK(sum_node.expired());
}

TEST_CASE("the tape can be shown as text and as DOT") {
  Tensor w = ones({3, 1}, {.requires_grad = true});
  Tensor loss = (ones({4, 3}).matmul(w) - 1).pow(2).mean();
  std::string text = tape_string(loss);
  // oldest first, with shapes
  size_t matmul = text.find("matmul [4, 1] <- constant, leaf [3, 1]");
  size_t pow = text.find("pow [4, 1]");
  REQUIRE(matmul != std::string::npos);
  REQUIRE(pow != std::string::npos);
  CHECK(matmul < pow);
  std::string dot = tape_dot(loss);
  CHECK(dot.rfind("digraph tape {", 0) == 0);
  CHECK(dot.find("matmul") != std::string::npos);
  auto path = std::filesystem::temp_directory_path() / "tapegrad_test_tape.dot";
  write_dot(loss, path.string());
  std::ifstream f(path);
  std::string first;
  std::getline(f, first);
  CHECK(first == "digraph tape {");
  std::filesystem::remove(path);
}

TEST_CASE("tape DOT: a leaf used by several ops is one node with an edge to each") {
  Tensor w = ones({2}, {.requires_grad = true});
  Tensor loss = (w * w + w.exp()).sum();  // w feeds mul twice and exp once
  std::string dot = tape_dot(loss);
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = dot.find(needle); at != std::string::npos; at = dot.find(needle, at + 1)) ++n;
    return n;
  };
  CHECK(count("shape=ellipse") == 1);
  CHECK(count("leaf0 -> n") == 3);
  CHECK(count("leaf1") == 0);
}

TEST_CASE("anomaly detection names the op that produced a NaN") {
  Tensor x = tensor({1, -1}, {2}, {.requires_grad = true});
  {
    DetectAnomalyGuard anomaly;
    CHECK_THROWS_CONTAINING(x.log(), "anomaly: op 'log'");
    // a finite forward whose backward is not: d sqrt(x)/dx at 0
    Tensor z = zeros({2}, {.requires_grad = true});
    Tensor y = z.sqrt().sum();
    CHECK_THROWS_CONTAINING(y.backward(), "anomaly: backward of op 'sqrt'");
  }
  CHECK_FALSE(anomaly_detection_enabled());
  CHECK(std::isnan(x.log().to_vector()[1]));  // off again: NaN flows silently
}
