// The tape. Every differentiable op that runs with grad mode on and an input
// requiring grad records one Node: its inputs (edges to their producers, or to
// the leaves to accumulate into) and its backward closure. Nodes are numbered
// in recording order; backward() (engine.cpp) replays them in reverse.
//
// An op records itself with `record(name, y, {a, b}, closure)`, where the
// closure maps dL/dy to {dL/da, dL/db} (an undefined Tensor for "no gradient").
// The closure may capture its inputs but never its output y (a shared_ptr
// cycle would leak the graph): capture y.detach() instead.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/tensor.h>

namespace tg {

/// Where one input's gradient goes: the node that produced it, or a leaf.
struct Edge {
  std::shared_ptr<Node> node;        // set when the input was itself recorded
  std::shared_ptr<TensorImpl> leaf;  // set when the input is a leaf requiring grad
  Edge() = default;
  Edge(Edge&&) = default;
  Edge& operator=(Edge&&) = default;
  ~Edge();  // releases long chains iteratively (see release_node)
  bool active() const { return node || leaf; }
};

/// Which inputs want a gradient; closures may skip the work for the others.
struct NeedsGrad {
  std::span<const Edge> edges;
  bool operator[](size_t i) const { return edges[i].active(); }
};

/// One recorded op.
struct Node {
  const char* name;
  uint64_t sequence;   // recording order
  Shape shape;         // of the output, for printing the tape
  std::span<Edge> edges;
  bool released = false;  // saved tensors freed after a backward without retain_graph
  // Scratch of the engine during one backward().
  Tensor grad;
  int64_t pending = 0;
  uint64_t visit = 0;

  virtual ~Node() = default;
  /// Fills grads[i] with dL/d(input i) given dL/d(output).
  virtual void backward(const Tensor& grad_output, std::span<Tensor> grads) = 0;
  /// Frees what the closure saved.
  virtual void release() = 0;
};

/// Drops one owner of a node without recursion, however long the chain behind it.
void release_node(std::shared_ptr<Node>& node);

/// The next recording number.
uint64_t next_sequence();

/// A node whose backward is the closure F, with N inputs (N = 0: a dynamic count).
template <typename F, size_t N>
struct FunctionNode final : Node {
  using Edges = std::conditional_t<N == 0, std::vector<Edge>, std::array<Edge, N>>;
  Edges storage;
  std::optional<F> fn;

  void backward(const Tensor& grad_output, std::span<Tensor> grads) override {
    check(!released,
          "backward: node '{}' (#{}) was already freed by an earlier backward; "
          "hint: pass retain_graph = true to the first backward() to call it twice",
          name, sequence);
    auto result = [&] {
      if constexpr (std::is_invocable_v<F&, const Tensor&, NeedsGrad>)
        return (*fn)(grad_output, NeedsGrad{edges});
      else
        return (*fn)(grad_output);
    }();
    for (size_t i = 0; i < grads.size(); ++i) grads[i] = std::move(result[i]);
  }
  void release() override {
    fn.reset();
    released = true;
  }
};

namespace detail {

inline bool wants_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

inline Edge edge_to(const Tensor& t) {
  Edge e;
  if (!wants_grad(t)) return e;
  if (t.grad_fn()) e.node = t.grad_fn();
  else e.leaf = t.impl_ptr();
  return e;
}

template <typename Node, typename Inputs>
void attach(const char* name, Tensor& y, const Inputs& inputs, Node* node) {
  node->name = name;
  node->sequence = next_sequence();
  node->shape = y.shape();
  size_t i = 0;
  for (const Tensor& t : inputs) node->storage[i++] = edge_to(t);
  node->edges = std::span<Edge>(node->storage.data(), node->storage.size());
}

void after_record(const Tensor& y);  // anomaly checks, when enabled

}  // namespace detail

/// True when an op on these inputs must be recorded.
template <typename Inputs>
bool should_record(const Inputs& inputs) {
  if (!is_grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (detail::wants_grad(t)) return true;
  return false;
}

/// Records op `name` producing y from a fixed number of inputs.
template <size_t N, typename F>
void record(const char* name, Tensor& y, const Tensor (&inputs)[N], F&& backward) {
  if (!should_record(inputs)) return;
  auto node = std::make_shared<FunctionNode<std::decay_t<F>, N>>();
  node->fn.emplace(std::forward<F>(backward));
  detail::attach(name, y, inputs, node.get());
  AutogradMeta& meta = y.autograd_meta();
  meta.requires_grad = true;
  meta.grad_fn = std::move(node);
  detail::after_record(y);
}

/// Records op `name` producing y from any number of inputs (cat, stack).
template <typename F>
void record(const char* name, Tensor& y, const std::vector<Tensor>& inputs, F&& backward) {
  if (!should_record(inputs)) return;
  auto node = std::make_shared<FunctionNode<std::decay_t<F>, 0>>();
  node->storage.resize(inputs.size());
  node->fn.emplace(std::forward<F>(backward));
  detail::attach(name, y, inputs, node.get());
  AutogradMeta& meta = y.autograd_meta();
  meta.requires_grad = true;
  meta.grad_fn = std::move(node);
  detail::after_record(y);
}

/// The gradient list a closure returns: `return grads(da, db);`.
template <typename... T>
std::array<Tensor, sizeof...(T)> grads(T&&... g) {
  return {Tensor(std::forward<T>(g))...};
}

}  // namespace tg
