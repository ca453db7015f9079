// The tape. Every differentiable op that runs with grad mode on and an input
// requiring grad records one Node: edges to where its inputs' gradients go
// (the node that produced the input, or a leaf to accumulate into) and one
// backward closure. Nodes are numbered in recording order; backward()
// (engine.cpp) replays them in reverse.
//
// An op records itself with
//   record("mul", y, {a, b}, [a, b](const Tensor& gy) { return grads(gy * b, gy * a); })
//       .saves(a, b);
// The closure maps dL/dy to {dL/da, dL/db} (an undefined Tensor: "no gradient").
// It may capture its inputs but never its output y (a shared_ptr cycle would
// leak the graph): capture SavedOutput(y) instead. `saves` names the tensors the
// closure reads: if one is modified in place before backward runs (an
// optimizer step, x.add_(1)), backward refuses instead of computing a wrong
// gradient (PyTorch's version-counter rule).
//
// Double backward: with create_graph the engine runs closures with grad mode on,
// so a closure written with Tensor ops records the gradient's own graph. A closure
// computing with raw kernels (a fused op) must say so: `.once_differentiable()`;
// its gradients then carry a node that refuses a second backward by name, instead
// of silently counting as constants.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
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
  const char* wanted = nullptr;  // set by grad(inputs): the edges leading to those inputs
  bool operator[](size_t i) const { return edges[i].active() && (!wanted || wanted[i]); }
};

struct HookList;  // autograd/hooks.h

/// A tensor a closure reads, with the storage version it had when recorded.
struct SavedVersion {
  std::shared_ptr<Storage> storage;
  uint64_t version = 0;
  // What it was to the op, for the error message (formatted only then: recording is hot).
  static constexpr int kOutput = -1, kOther = -2;
  int input = kOther;  // its input number, kOutput or kOther
  Shape shape;
  std::string describe() const;  // "its input 1 of shape [4]", "its output of shape [2, 3]"
};

/// One recorded op.
struct Node : std::enable_shared_from_this<Node> {
  const char* name;
  uint64_t sequence;   // recording order
  Shape shape;         // of the output, for printing the tape
  Dtype dtype = kFloat32;  // of the output: a gradient arriving in another dtype is converted
  std::span<Edge> edges;
  std::vector<SavedVersion> saved;
  bool released = false;  // the closure was freed by a backward without retain_graph
  bool differentiable = true;  // false: the closure uses raw kernels (once_differentiable)
  std::shared_ptr<HookList> hooks;  // register_hook on the output (null: none)
  // Scratch of the engine during one backward().
  Tensor grad;
  int64_t pending = 0;
  uint64_t visit = 0;
  bool needed = true;            // leads to an input of grad() (always, for backward())
  bool queued = false;           // on the ready list
  const char* wanted = nullptr;  // per edge: leads there (null: every active edge)

  virtual ~Node() = default;
  /// Fills grads[i] with dL/d(input i) given dL/d(output).
  virtual void backward(const Tensor& grad_output, std::span<Tensor> grads) = 0;
  /// Frees what the closure captured.
  virtual void release() = 0;
  /// Throws if the node was released or a saved tensor changed since recording.
  void check_saved() const;
};

}  // namespace tg

#include <tapegrad/autograd/detail/function_node.h>

namespace tg {

/// What record() returns: lets the op name the tensors its closure reads.
class Recorded {
 public:
  Recorded(Node* node, std::span<const Tensor> inputs, const Tensor& output)
      : node_(node), inputs_(inputs), output_(output) {}
  /// Remembers the storage versions of `tensors` (inputs, the output, or others).
  template <typename... T>
  Recorded& saves(const T&... tensors) {
    if (node_) (save(tensors), ...);
    return *this;
  }
  /// The closure computes with raw kernels: its result cannot be differentiated again, and a
  /// second backward through it (create_graph) is a tg::Error naming the op.
  Recorded& once_differentiable() {
    if (node_) node_->differentiable = false;
    return *this;
  }

 private:
  void save(const Tensor& t);
  Node* node_;
  std::span<const Tensor> inputs_;
  const Tensor& output_;
};

/// An op's output read by its own backward closure. Capturing y would make a cycle (y ->
/// node -> closure -> y), so this keeps y's data only; while a backward is being recorded
/// (create_graph), get() reconnects it to the node running, so a second derivative sees
/// that y depends on the inputs (exp's gradient gy * y, differentiated again).
class SavedOutput {
 public:
  explicit SavedOutput(const Tensor& y) : data_(y.detach()) {}
  Tensor get() const;

 private:
  Tensor data_;
};

/// True while the engine records a backward pass (create_graph): closures then build the
/// gradient from Tensor ops; otherwise they may take a fused kernel's shortcut.
inline bool recording_backward() { return is_grad_enabled(); }

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
Recorded record(const char* name, Tensor& y, const Tensor (&inputs)[N], F&& backward) {
  if (!should_record(inputs)) return Recorded(nullptr, inputs, y);
  return Recorded(detail::make_node<N>(name, y, inputs, std::forward<F>(backward)), inputs, y);
}

/// Records op `name` producing y from any number of inputs (cat, stack).
template <typename F>
Recorded record(const char* name, Tensor& y, const std::vector<Tensor>& inputs, F&& backward) {
  if (!should_record(inputs)) return Recorded(nullptr, inputs, y);
  return Recorded(detail::make_node<0>(name, y, inputs, std::forward<F>(backward)), inputs, y);
}

/// The gradient list a closure returns: `return grads(da, db);`.
template <typename... T>
std::array<Tensor, sizeof...(T)> grads(T&&... g) {
  return {Tensor(std::forward<T>(g))...};
}

}  // namespace tg
