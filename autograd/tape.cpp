// Tape printing: collect the reachable nodes (iteratively), sort them by
// recording number, print one line (or one DOT node) each.
#include <tapegrad/autograd/tape.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <tapegrad/autograd/node.h>
#include <tapegrad/core/atomic_file.h>

namespace tg {

namespace {

std::vector<const Node*> reachable_nodes(const Tensor& t) {
  std::vector<const Node*> nodes, stack;
  std::unordered_set<const Node*> seen;
  if (t.defined() && t.grad_fn()) stack.push_back(t.grad_fn().get());
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    nodes.push_back(n);
    for (const Edge& e : n->edges)
      if (e.node) stack.push_back(e.node.get());
  }
  std::sort(nodes.begin(), nodes.end(),
            [](const Node* a, const Node* b) { return a->sequence < b->sequence; });
  return nodes;
}

std::string describe(const Edge& e) {
  if (e.node) return fmt::format("#{} {} {}", e.node->sequence, e.node->name, e.node->shape);
  if (e.leaf) return fmt::format("leaf {}", e.leaf->shape);
  return "constant";
}

}  // namespace

std::string tape_string(const Tensor& t) {
  std::string out;
  for (const Node* n : reachable_nodes(t)) {
    out += fmt::format("#{} {} {} <- ", n->sequence, n->name, n->shape);
    for (size_t i = 0; i < n->edges.size(); ++i)
      out += (i ? ", " : "") + describe(n->edges[i]);
    out += '\n';
  }
  return out;
}

std::string tape_dot(const Tensor& t) {
  std::string out = "digraph tape {\n  rankdir=BT;\n  node [shape=box, fontname=monospace];\n";
  std::unordered_map<const TensorImpl*, size_t> leaves;  // one DOT node per leaf, however used
  for (const Node* n : reachable_nodes(t)) {
    out += fmt::format("  n{} [label=\"#{} {}\\n{}\"];\n", n->sequence, n->sequence, n->name, n->shape);
    for (const Edge& e : n->edges) {
      if (e.node) {
        out += fmt::format("  n{} -> n{};\n", e.node->sequence, n->sequence);
      } else if (e.leaf) {
        auto [it, first_use] = leaves.try_emplace(e.leaf.get(), leaves.size());
        if (first_use)
          out += fmt::format("  leaf{} [label=\"leaf\\n{}\", shape=ellipse];\n", it->second,
                             e.leaf->shape);
        out += fmt::format("  leaf{} -> n{};\n", it->second, n->sequence);
      }
    }
  }
  return out + "}\n";
}

void write_dot(const Tensor& t, const std::string& path) { write_file_atomic(path, tape_dot(t)); }

}  // namespace tg
