// The tape's bookkeeping: recording numbers, the saved-tensor version check,
// and freeing long graphs without recursion.
#include <tapegrad/autograd/node.h>

#include <atomic>

namespace tg {

namespace {
std::atomic<uint64_t> sequence_counter{0};
thread_local bool draining = false;
thread_local std::vector<std::shared_ptr<Node>> graveyard;
}  // namespace

uint64_t next_sequence() { return ++sequence_counter; }

void Recorded::save(const Tensor& t) {
  if (!t.defined()) return;  // an absent optional input (a bias, a norm's weight)
  int role = SavedVersion::kOther;
  Shape shape = t.shape();
  if (t.impl()->storage == output_.impl()->storage) {
    role = SavedVersion::kOutput;
  } else {
    for (size_t i = 0; i < inputs_.size(); ++i)
      if (inputs_[i].defined() && inputs_[i].impl()->storage == t.impl()->storage) {
        role = int(i);
        shape = inputs_[i].shape();  // the input as the user passed it, not a view of it
        break;
      }
  }
  node_->saved.push_back({t.impl()->storage, t.version(), role, shape});
}

std::string SavedVersion::describe() const {
  if (input == kOutput) return fmt::format("its output of shape {}", shape);
  if (input >= 0) return fmt::format("its input {} of shape {}", input, shape);
  return fmt::format("a tensor of shape {}", shape);
}

void Node::check_saved() const {
  check(!released,
        "backward: node '{}' (#{}) was already freed by an earlier backward; "
        "hint: pass retain_graph = true to the first backward() to call it twice",
        name, sequence);
  for (const SavedVersion& s : saved)
    if (s.storage->version != s.version)  // not check(): describe() would format every time
      fail("backward: {} saved by '{}' (#{}) for its gradient was modified in place: version {} "
           "when saved, {} now; hint: an in-place op or optimizer step ran between the forward "
           "pass and backward(); use an out-of-place op, or clone() the tensor before changing it",
           s.describe(), name, sequence, s.version, s.storage->version);
}

// Destroying a node destroys its edges and saved tensors, which may hold the
// last reference to the next node: naively, a recursion as deep as the chain.
// Instead the last reference is parked and destroyed by one loop at the top.
void release_node(std::shared_ptr<Node>& node) {
  if (!node) return;
  if (node.use_count() > 1) {
    node.reset();
    return;
  }
  graveyard.push_back(std::move(node));
  if (draining) return;
  draining = true;
  while (!graveyard.empty()) {
    std::shared_ptr<Node> last = std::move(graveyard.back());
    graveyard.pop_back();
    last.reset();  // may park more nodes
  }
  draining = false;
}

Edge::~Edge() { release_node(node); }
AutogradMeta::~AutogradMeta() { release_node(grad_fn); }

}  // namespace tg
