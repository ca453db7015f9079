// tg::grad: gradients of outputs with respect to chosen inputs, returned instead of
// accumulated (torch.autograd.grad). With create_graph the backward pass is recorded on the
// tape too, so the gradients are functions of the inputs that can be differentiated again:
// Hessians by reverse-over-reverse, gradient penalties, meta-learning.
#pragma once

#include <optional>
#include <vector>

#include <tapegrad/autograd/tensor.h>

namespace tg {

struct GradOptions {
  std::optional<bool> retain_graph{};  ///< keep the graph for another backward (default: create_graph)
  bool create_graph = false;         ///< record the backward pass (for higher derivatives)
  bool allow_unused = false;         ///< an input the outputs do not depend on gives undefined
};

/// d(sum_k <grad_outputs[k], outputs[k]>) / d inputs[i] for each input, without touching any
/// .grad(). grad_outputs may be empty when every output is a scalar (each then seeds 1).
/// Inputs may be leaves or computed tensors; each must require grad.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, GradOptions options = {});

}  // namespace tg
