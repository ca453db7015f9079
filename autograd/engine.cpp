// The engine: backward() replays the tape in reverse. It fits on one screen:
//  1. walk the graph from the loss (iteratively) and count, for every node,
//     how many recorded consumers will send it a gradient;
//  2. start from the loss with dL/dL = 1; a node runs its closure once all
//     its consumers have reported (so reverse topological order), passes each
//     input's gradient to the producing node or accumulates it into the leaf.
// No recursion anywhere, so a chain of a million ops is fine; every node runs
// once, so shared subexpressions cost linear, not exponential, time.
#include <vector>

#include <tapegrad/autograd/anomaly.h>
#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/kernels.h>

namespace tg {

namespace {

uint64_t visit_counter = 0;  // marks the nodes reached by the current backward()

void accumulate_into_leaf(const std::shared_ptr<TensorImpl>& leaf_impl, Tensor g) {
  AutogradMeta& leaf = Tensor(leaf_impl).autograd_meta();
  if (!leaf.grad) {
    // Steal the buffer when nobody else can see it; otherwise copy, so that a
    // later in-place update of .grad() cannot write into another tensor.
    bool exclusive = g.is_contiguous() && g.impl_ptr().use_count() == 1 &&
                     g.impl()->storage.use_count() == 1 && !g.grad_fn();
    leaf.grad = exclusive ? g.impl_ptr() : kernels::copy(g).impl_ptr();
  } else {
    Tensor grad(leaf.grad);
    kernels::zip_inplace(grad, g, [](float a, float b) { return a + b; }, "backward");
    grad.bump_version();
  }
}

}  // namespace

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  check(defined(), "backward: called on an undefined tensor");
  check(requires_grad(), "backward: tensor of shape {} does not require grad and has no grad_fn",
        shape());
  Tensor seed = gradient;
  if (!seed.defined()) {
    check(numel() == 1, "backward: grad can be implicitly created only for a scalar output, got "
          "shape {}; hint: pass a gradient of that shape", shape());
    seed = ones(shape());
  }
  check(seed.shape() == shape(), "backward: gradient of shape {} for a tensor of shape {}",
        seed.shape(), shape());
  NoGradGuard no_grad;
  if (is_leaf()) {
    accumulate_into_leaf(impl_ptr(), seed);
    return;
  }

  // 1. Count the consumers of every node reachable from this one.
  uint64_t visit = ++visit_counter;
  Node* root = grad_fn().get();
  std::vector<Node*> stack{root}, ready;
  root->visit = visit;
  root->pending = 0;
  root->grad = Tensor();
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (Edge& e : n->edges) {
      if (!e.node) continue;
      if (e.node->visit != visit) {
        e.node->visit = visit;
        e.node->pending = 0;
        e.node->grad = Tensor();  // in case an earlier backward stopped half-way
        stack.push_back(e.node.get());
      }
      ++e.node->pending;
    }
  }

  // 2. Run each node once all its consumers have contributed.
  root->grad = seed;
  ready.push_back(root);
  std::vector<Tensor> grads;
  while (!ready.empty()) {
    Node* n = ready.back();
    ready.pop_back();
    Tensor gy = std::move(n->grad);
    grads.assign(n->edges.size(), Tensor());
    if (gy.defined()) {
      n->backward(gy, grads);
      if (anomaly_detection_enabled()) check_gradients(*n, grads);
    }
    if (!retain_graph) n->release();
    for (size_t i = 0; i < n->edges.size(); ++i) {
      Edge& e = n->edges[i];
      Tensor& g = grads[i];
      if (e.node) {
        if (g.defined()) e.node->grad = e.node->grad.defined() ? e.node->grad + g : std::move(g);
        if (--e.node->pending == 0) ready.push_back(e.node.get());
      } else if (e.leaf && g.defined()) {
        accumulate_into_leaf(e.leaf, std::move(g));
      }
    }
  }
}

}  // namespace tg
