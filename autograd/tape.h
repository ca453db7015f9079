// Showing the tape: the ops that backward() will replay from a tensor, in
// recording order with their shapes, as text or as a Graphviz DOT graph.
#pragma once

#include <string>

#include <tapegrad/autograd/tensor.h>

namespace tg {

/// One line per recorded op reachable from `t`, oldest first:
/// `#3 mul [4, 1] <- #2 matmul [4, 1], leaf [1]`.
std::string tape_string(const Tensor& t);

/// The same graph in Graphviz DOT (`dot -Tsvg tape.dot > tape.svg`).
std::string tape_dot(const Tensor& t);

/// Writes tape_dot(t) to `path` (atomically).
void write_dot(const Tensor& t, const std::string& path);

}  // namespace tg
