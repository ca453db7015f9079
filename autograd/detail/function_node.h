// How record() builds a node: the closure's type is kept (no std::function),
// and a fixed number of edges lives inside the node (one allocation per op).
// Readers of the tape can skip this file: node.h shows the concept (and includes
// this file after defining Node, so it is not meant to be included alone).
#pragma once

#include <array>
#include <optional>
#include <type_traits>
#include <vector>

namespace tg {

/// Drops one owner of a node without recursion, however long the chain behind it.
void release_node(std::shared_ptr<Node>& node);

/// The next recording number.
uint64_t next_sequence();

namespace detail {

/// A node whose backward is the closure F, with N inputs (N = 0: a dynamic count).
template <typename F, size_t N>
struct FunctionNode final : Node {
  using Edges = std::conditional_t<N == 0, std::vector<Edge>, std::array<Edge, N>>;
  Edges storage;
  std::optional<F> fn;

  void backward(const Tensor& grad_output, std::span<Tensor> grads) override {
    check_saved();
    auto result = [&] {
      if constexpr (std::is_invocable_v<F&, const Tensor&, NeedsGrad>)
        return (*fn)(grad_output, NeedsGrad{edges, wanted});
      else
        return (*fn)(grad_output);
    }();
    for (size_t i = 0; i < grads.size(); ++i) grads[i] = std::move(result[i]);
  }
  void release() override {
    fn.reset();
    saved.clear();
    released = true;
  }
};

inline bool wants_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

inline Edge edge_to(const Tensor& t) {
  Edge e;
  if (!wants_grad(t)) return e;
  if (t.grad_fn()) e.node = t.grad_fn();
  else e.leaf = t.impl_ptr();
  return e;
}

void after_record(const Tensor& y);  // anomaly checks, when enabled

/// Builds the node for `backward`, links it to the inputs and makes it y's grad_fn.
template <size_t N, typename F, typename Inputs>
Node* make_node(const char* name, Tensor& y, const Inputs& inputs, F&& backward) {
  auto node = std::make_shared<FunctionNode<std::decay_t<F>, N>>();
  if constexpr (N == 0) node->storage.resize(inputs.size());
  node->fn.emplace(std::forward<F>(backward));
  node->name = name;
  node->sequence = next_sequence();
  node->shape = y.shape();
  node->dtype = y.dtype();
  size_t i = 0;
  for (const Tensor& t : inputs) node->storage[i++] = edge_to(t);
  node->edges = std::span<Edge>(node->storage.data(), node->storage.size());
  Node* raw = node.get();
  AutogradMeta& meta = y.autograd_meta();
  meta.requires_grad = true;
  meta.grad_fn = std::move(node);
  after_record(y);
  return raw;
}

}  // namespace detail

}  // namespace tg
