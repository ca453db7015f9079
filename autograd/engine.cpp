// The engine: backward() and grad() replay the tape in reverse. The core is one loop:
//  1. walk the graph from the outputs (iteratively) and count, for every node and every
//     leaf, how many recorded consumers will send it a gradient;
//  2. seed the outputs; a node runs its closure once all its consumers have reported (so in
//     reverse topological order) and passes each input's gradient on; a leaf, once all its
//     uses have reported, runs its hooks and accumulates the sum into .grad().
// No recursion anywhere, so a chain of a million ops is fine; every node runs once, so shared
// subexpressions cost linear, not exponential, time. grad() differs in two ways: it prunes the
// nodes that lead to none of its inputs, and it returns the inputs' gradients instead of
// accumulating. With create_graph, closures run with grad mode on, so the gradients they
// compute are themselves recorded.
#include <tapegrad/autograd/grad.h>

#include <algorithm>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <tapegrad/autograd/anomaly.h>
#include <tapegrad/autograd/hooks.h>
#include <tapegrad/autograd/node.h>
#include <tapegrad/core/kernels.h>

namespace tg {

namespace {

uint64_t visit_counter = 0;  // marks the nodes and leaves reached by the current pass
// The node whose closure runs while a backward is being recorded (SavedOutput::get).
thread_local Node* running_node = nullptr;
// The callbacks of the innermost running pass (queue_callback); null outside backward.
thread_local std::vector<std::function<void()>>* pass_callbacks = nullptr;

// Stands where a once-differentiable op's gradients came from in a recorded backward: a
// second backward that reaches it fails by name instead of treating them as constants.
struct NoDoubleBackwardNode final : Node {
  std::vector<Edge> storage;
  const char* op;
  void backward(const Tensor&, std::span<Tensor>) override {
    fail("backward: '{}' does not support double backward (its backward is a fused kernel); "
         "hint: differentiate its gradient with forward mode (hvp, hessian) or compose the op "
         "from differentiable ones", op);
  }
  void release() override { released = true; }
};

Tensor without_double_backward(const Tensor& g, const Node& n, const Tensor& gy) {
  auto node = std::make_shared<NoDoubleBackwardNode>();
  node->op = n.name;
  node->name = "no_double_backward";
  node->sequence = next_sequence();
  node->shape = g.shape();
  for (const Edge& e : n.edges) {
    Edge copy;
    copy.node = e.node;
    copy.leaf = e.leaf;
    node->storage.push_back(std::move(copy));
  }
  node->storage.push_back(detail::edge_to(gy));
  node->edges = std::span<Edge>(node->storage.data(), node->storage.size());
  Tensor out = g.detach();
  AutogradMeta& meta = out.autograd_meta();
  meta.requires_grad = true;
  meta.grad_fn = std::move(node);
  return out;
}

void accumulate_into_leaf(AutogradMeta& leaf, Tensor g, bool create_graph) {
  if (!leaf.grad) {
    // Steal the buffer when nobody else can see it; otherwise copy, so that a later in-place
    // update of .grad() cannot write into another tensor.
    bool exclusive = g.is_contiguous() && g.impl_ptr().use_count() == 1 &&
                     g.impl()->storage.use_count() == 1 && (create_graph || !g.grad_fn());
    leaf.grad = exclusive ? g.impl_ptr() : create_graph ? g.clone().impl_ptr()
                                                        : kernels::copy(g).impl_ptr();
  } else if (create_graph || Tensor(leaf.grad).grad_fn()) {
    leaf.grad = (Tensor(leaf.grad) + g).impl_ptr();  // out of place: keeps a recorded history
  } else {
    Tensor grad(leaf.grad);
    kernels::zip_inplace(grad, g, [](auto a, auto b) { return a + b; }, "backward");
    grad.bump_version();
  }
}

void add_into(Tensor& sum, Tensor g) { sum = sum.defined() ? sum + g : std::move(g); }

// One backward pass over the graph behind `roots`. Without targets it accumulates into
// every leaf; with targets (grad()) it returns their gradients and touches no .grad().
class Pass {
 public:
  Pass(bool retain_graph, bool create_graph, const std::vector<Tensor>* targets)
      : retain_(retain_graph), create_(create_graph), targets_(targets) {}

  std::vector<Tensor> run(const std::vector<Tensor>& roots, const std::vector<Tensor>& seeds) {
    // Grad mode decides whether closures record: on only for create_graph.
    struct ModeGuard {
      bool previous = is_grad_enabled();
      explicit ModeGuard(bool on) { set_grad_enabled(on); }
      ~ModeGuard() { set_grad_enabled(previous); }
    } mode(create_);
    struct CallbackScope {  // a backward inside a hook gets its own callbacks
      std::vector<std::function<void()>>* outer = pass_callbacks;
      explicit CallbackScope(std::vector<std::function<void()>>* mine) { pass_callbacks = mine; }
      ~CallbackScope() { pass_callbacks = outer; }
    } scope(&callbacks_);
    visit_ = ++visit_counter;
    discover(roots);
    if (targets_) mark_targets();
    for (size_t k = 0; k < roots.size(); ++k) deliver(roots[k], seeds[k]);
    for (const Tensor& root : roots)
      if (Node* n = root.grad_fn().get(); n && n->pending == 0 && !n->queued) {
        n->queued = true;
        ready_.push_back(n);
      }
    while (!ready_.empty()) {
      Node* n = ready_.back();
      ready_.pop_back();
      execute(*n);
    }
    for (size_t k = 0; k < callbacks_.size(); ++k) {  // by index: a callback may queue more
      std::function<void()> callback = std::move(callbacks_[k]);
      callback();
    }
    return std::move(captured_);
  }

 private:
  // Step 1: count every node's and leaf's consumers.
  void discover(const std::vector<Tensor>& roots) {
    std::vector<Node*> stack;
    for (const Tensor& root : roots) {
      if (root.is_leaf()) {
        enter_leaf(*root.impl()->autograd);
        continue;
      }
      Node* n = root.grad_fn().get();
      if (n->visit != visit_) enter_node(n, stack);
    }
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      for (Edge& e : n->edges) {
        if (e.node) {
          if (e.node->visit != visit_) enter_node(e.node.get(), stack);
          ++e.node->pending;
        } else if (e.leaf) {
          AutogradMeta& leaf = *e.leaf->autograd;
          if (leaf.visit != visit_) enter_leaf(leaf);
          ++leaf.pending;
        }
      }
    }
  }
  void enter_node(Node* n, std::vector<Node*>& stack) {
    n->visit = visit_;
    n->pending = 0;
    n->grad = Tensor();  // in case an earlier backward stopped half-way
    n->needed = true;
    n->wanted = nullptr;
    n->queued = false;
    nodes_.push_back(n);
    stack.push_back(n);
  }
  void enter_leaf(AutogradMeta& leaf) {
    leaf.visit = visit_;
    leaf.pending = 0;
    leaf.incoming.reset();
  }

  // grad(): which inputs are where, and which nodes lead to them (producers are recorded
  // before their consumers, so one pass in recording order settles it).
  void mark_targets() {
    captured_.assign(targets_->size(), Tensor());
    for (size_t i = 0; i < targets_->size(); ++i) {
      const Tensor& t = (*targets_)[i];
      if (t.is_leaf()) leaf_targets_[t.impl()].push_back(i);
      else node_targets_[t.grad_fn().get()].push_back(i);
    }
    std::sort(nodes_.begin(), nodes_.end(),
              [](const Node* a, const Node* b) { return a->sequence < b->sequence; });
    wanted_.resize(nodes_.size());
    for (size_t k = 0; k < nodes_.size(); ++k) {
      Node* n = nodes_[k];
      std::vector<char>& wanted = wanted_[k];
      wanted.assign(n->edges.size(), 0);
      bool any = false;
      for (size_t i = 0; i < n->edges.size(); ++i) {
        const Edge& e = n->edges[i];
        wanted[i] = e.node ? e.node->needed : e.leaf && leaf_targets_.contains(e.leaf.get());
        any = any || wanted[i];
      }
      n->wanted = wanted.data();
      n->needed = any || node_targets_.contains(n);
    }
  }

  // A gradient arriving for a root (the seed).
  void deliver(const Tensor& root, const Tensor& seed) {
    if (root.is_leaf()) {
      AutogradMeta& leaf = *root.impl()->autograd;
      add_into_leaf(leaf, seed);
      if (leaf.pending == 0) finish_leaf(root.impl_ptr(), leaf);
    } else {
      add_into(root.grad_fn()->grad, seed);
    }
  }

  // Step 2 for one node: hooks, capture, closure, and the gradients passed on.
  void execute(Node& n) {
    Tensor gy = std::move(n.grad);
    if (gy.defined() && n.hooks) gy = n.hooks->run_grad_hooks(std::move(gy));
    if (gy.defined() && targets_)
      if (auto it = node_targets_.find(&n); it != node_targets_.end())
        for (size_t i : it->second) captured_[i] = gy;
    grads_.assign(n.edges.size(), Tensor());
    bool runs = gy.defined() && n.needed &&
                (!n.wanted || std::any_of(n.wanted, n.wanted + n.edges.size(), [](char w) { return w; }));
    if (runs) run_closure(n, gy);
    if (!retain_ && n.needed) n.release();
    for (size_t i = 0; i < n.edges.size(); ++i) {
      Edge& e = n.edges[i];
      Tensor& g = grads_[i];
      // A 0-d input promoted into another dtype (kernels::promote_operands) gets its gradient
      // back in its own dtype, as PyTorch's engine converts it.
      if (g.defined()) {
        Dtype wanted = e.node ? e.node->dtype : e.leaf ? e.leaf->dtype : g.dtype();
        if (g.dtype() != wanted) [[unlikely]] g = g.to(wanted);
      }
      if (e.node) {
        if (g.defined()) add_into(e.node->grad, std::move(g));
        if (--e.node->pending == 0) {
          e.node->queued = true;
          ready_.push_back(e.node.get());
        }
      } else if (e.leaf) {
        AutogradMeta& leaf = *e.leaf->autograd;
        if (g.defined()) add_into_leaf(leaf, std::move(g));
        if (--leaf.pending == 0) finish_leaf(e.leaf, leaf);
      }
    }
  }

  void run_closure(Node& n, const Tensor& gy) {
    if (create_ && !n.differentiable) {
      {
        NoGradGuard no_grad;
        n.backward(gy, grads_);
      }
      for (Tensor& g : grads_)
        if (g.defined()) g = without_double_backward(g, n, gy);
    } else {
      Node* outer = running_node;
      running_node = &n;
      struct Restore {
        Node* outer;
        ~Restore() { running_node = outer; }
      } restore{outer};
      n.backward(gy, grads_);
    }
    if (anomaly_detection_enabled()) check_gradients(n, grads_);
  }

  static void add_into_leaf(AutogradMeta& leaf, Tensor g) {
    Tensor sum(leaf.incoming);
    add_into(sum, std::move(g));
    leaf.incoming = sum.impl_ptr();
  }

  // Every use of the leaf has reported: hooks, then capture (grad()) or accumulation.
  void finish_leaf(const std::shared_ptr<TensorImpl>& impl, AutogradMeta& leaf) {
    Tensor g(std::move(leaf.incoming));
    if (!g.defined()) return;
    if (leaf.hooks) g = leaf.hooks->run_grad_hooks(std::move(g));
    if (targets_) {
      if (auto it = leaf_targets_.find(impl.get()); it != leaf_targets_.end())
        for (size_t i : it->second) captured_[i] = g;
      return;
    }
    accumulate_into_leaf(leaf, std::move(g), create_);
    if (leaf.hooks) leaf.hooks->run_post_accumulate_hooks(Tensor(impl));
  }

  bool retain_, create_;
  const std::vector<Tensor>* targets_;
  uint64_t visit_ = 0;
  std::vector<Node*> nodes_, ready_;
  std::vector<std::vector<char>> wanted_;
  std::vector<Tensor> grads_, captured_;
  std::vector<std::function<void()>> callbacks_;
  std::unordered_map<const TensorImpl*, std::vector<size_t>> leaf_targets_;
  std::unordered_map<const Node*, std::vector<size_t>> node_targets_;
};

// The seed for an output: the given gradient, or 1 for a scalar. `what` names the output.
Tensor seed_for(const Tensor& y, const Tensor& gradient, const char* op, const std::string& what) {
  check(y.defined(), "{}: {} is an undefined tensor", op, what);
  check(y.requires_grad(), "{}: {} of shape {} does not require grad and has no grad_fn", op,
        what, y.shape());
  if (!gradient.defined()) {
    check(y.numel() == 1,
          "{}: grad can be implicitly created only for a scalar output, got shape {}; hint: pass "
          "a gradient of that shape", op, y.shape());
    return ones(y.shape(), {.dtype = y.dtype()});
  }
  check(gradient.shape() == y.shape(), "{}: gradient of shape {} for a tensor of shape {}", op,
        gradient.shape(), y.shape());
  check(gradient.dtype() == y.dtype(), "{}: a {} gradient for the {} {}; hint: .to(tg::k{})", op,
        gradient.dtype(), y.dtype(), what, y.dtype() == kFloat64 ? "Float64" : "Float32");
  return gradient;
}

}  // namespace

void queue_callback(std::function<void()> callback) {
  check(pass_callbacks != nullptr,
        "queue_callback: no backward pass is running; hint: call it from a hook during backward");
  check(bool(callback), "queue_callback: the callback is empty");
  pass_callbacks->push_back(std::move(callback));
}

Tensor SavedOutput::get() const {
  if (!is_grad_enabled() || !running_node) return data_;
  Tensor y = data_.detach();  // a new handle on the same data, reconnected to the node
  AutogradMeta& meta = y.autograd_meta();
  meta.requires_grad = true;
  meta.grad_fn = running_node->shared_from_this();
  return y;
}

void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph,
                      bool create_graph) const {
  check(defined(), "backward: called on an undefined tensor");
  Tensor seed = seed_for(*this, gradient, "backward", "tensor");
  Pass(retain_graph.value_or(create_graph), create_graph, nullptr).run({*this}, {seed});
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, GradOptions options) {
  check(!outputs.empty(), "grad: no outputs given");
  check(grad_outputs.empty() || grad_outputs.size() == outputs.size(),
        "grad: {} grad_outputs for {} outputs", grad_outputs.size(), outputs.size());
  std::vector<Tensor> seeds;
  for (size_t k = 0; k < outputs.size(); ++k)
    seeds.push_back(seed_for(outputs[k], grad_outputs.empty() ? Tensor() : grad_outputs[k],
                             "grad", fmt::format("output {}", k)));
  for (size_t i = 0; i < inputs.size(); ++i) {
    check(inputs[i].defined(), "grad: input {} is an undefined tensor", i);
    check(inputs[i].requires_grad(), "grad: input {} of shape {} does not require grad", i,
          inputs[i].shape());
  }
  std::vector<Tensor> result =
      Pass(options.retain_graph.value_or(options.create_graph), options.create_graph, &inputs)
          .run(outputs, seeds);
  for (size_t i = 0; i < inputs.size(); ++i)
    check(result[i].defined() || options.allow_unused,
          "grad: input {} of shape {} was not used to compute the outputs; hint: pass "
          "{{.allow_unused = true}} to get an undefined gradient for it", i, inputs[i].shape());
  return result;
}

}  // namespace tg
