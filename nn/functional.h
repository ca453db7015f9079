// nn::functional: the stateless forms of every layer and loss, as in
// torch.nn.functional. Modules call these; use them directly when the
// parameters live elsewhere:  namespace F = tg::nn::functional;
// Each function is defined next to its module (linear.cpp, activation.cpp, loss.cpp, ...).
#pragma once

#include <cstdint>
#include <optional>

#include <tapegrad/autograd/tensor.h>

namespace tg::nn {

/// How a loss combines its per-element values: PyTorch's reduction='none' | 'mean' | 'sum'.
enum class Reduction { None, Mean, Sum };

namespace functional {

// ---- linear (linear.cpp) -----------------------------------------------------------------
/// y = x W^T + b for x [*, in], weight [out, in], bias [out] (optional): one fused op.
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor());

// ---- activations (activation.cpp) ---------------------------------------------------------
/// max(x, 0).
Tensor relu(const Tensor& input);
/// x for x > 0, negative_slope * x otherwise.
Tensor leaky_relu(const Tensor& input, float negative_slope = 0.01f);
/// exp(x) / sum(exp(x)) along dim.
Tensor softmax(const Tensor& input, int64_t dim);
/// x - log(sum(exp(x))) along dim, computed stably (max subtracted first): one fused op.
Tensor log_softmax(const Tensor& input, int64_t dim);
/// Zeroes elements with probability p and scales the rest by 1 / (1 - p) when training;
/// the identity otherwise. Draws from tg::default_generator() (seeded by manual_seed).
Tensor dropout(const Tensor& input, float p = 0.5f, bool training = true);

// ---- losses (loss.cpp); input first, then target, as in PyTorch ---------------------------
/// (input - target)^2, reduced. Shapes must match exactly.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
/// The course's half squared loss (y_hat - y)^2 / 2; y is reshaped to y_hat's shape, as there.
/// Mean averages over elements; Reduction::None gives the per-example values.
Tensor squared_loss(const Tensor& y_hat, const Tensor& y, Reduction reduction = Reduction::Mean);
/// |input - target|, reduced.
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
/// 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), with d = input - target.
Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                  float delta = 1.0f);
/// Cross-entropy of logits [N, C] (or [C]) against class indices [N] (floats holding integers):
/// log-softmax and negative log-likelihood fused into one stable op. label_smoothing mixes the
/// one-hot target with the uniform distribution, as in PyTorch.
Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     Reduction reduction = Reduction::Mean, float label_smoothing = 0.0f);
/// Negative log-likelihood of log-probabilities [N, C] (or [C]) at class indices [N].
Tensor nll_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);

/// Options of cross_entropy and CrossEntropyLoss, with PyTorch's names and defaults:
///   F::cross_entropy(logits, labels, {.weight = w, .ignore_index = 0, .label_smoothing = 0.1f})
struct CrossEntropyOptions {
  /// [C] per-class weights, or undefined (all 1). A constant: no gradient flows into it
  /// (PyTorch does not differentiate it either). Mean then divides by the summed weights
  /// of the counted targets.
  Tensor weight{};
  /// Class-index targets equal to it add 0 and are left out of the mean; only for class
  /// indices (a probability target refuses a non-negative ignore_index, as PyTorch).
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;  ///< None, Mean (over the counted targets) or Sum
  float label_smoothing = 0.0f;  ///< in [0, 1]: the target mixed with the uniform distribution
};
/// Cross-entropy with options. The target is either class indices ([N], floats holding
/// integers) or, when it has the input's shape, class probabilities (PyTorch >= 1.10): then
/// l_i = -sum_k w_k q_ik log_softmax(x_i)_k with q = (1 - label_smoothing) target +
/// label_smoothing / C, and the mean divides by N. If every target is ignored the mean is
/// 0 / 0 = nan, as PyTorch's.
Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     const CrossEntropyOptions& options);
/// Options of nll_loss and NLLLoss: weight, ignore_index and reduction as in CrossEntropyOptions.
struct NLLLossOptions {
  Tensor weight{};              ///< [C] per-class weights (a constant), or undefined
  int64_t ignore_index = -100;  ///< targets equal to it add 0 and are left out of the mean
  Reduction reduction = Reduction::Mean;  ///< Mean divides by the counted targets' weights
};
/// nll_loss with options: l_i = -w_{t_i} input[i, t_i], 0 for an ignored target.
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options);

// ---- convolution, pooling and normalisation (conv.cpp, pool.cpp, norm.cpp) ----------------
// Declared here by nn-B: conv2d, max_pool2d, avg_pool2d, batch_norm, group_norm, layer_norm.

/// A (height, width) pair for kernel, stride, padding and dilation; one integer means both
/// sides, like PyTorch's int-or-tuple: `conv2d(x, w, b, 2)` or `conv2d(x, w, b, {2, 1})`.
struct Size2 {
  int64_t h = 0, w = 0;
  Size2(int64_t v) : h(v), w(v) {}  // implicit on purpose: an int means (v, v)
  Size2(int64_t h_, int64_t w_) : h(h_), w(w_) {}
  friend bool operator==(const Size2&, const Size2&) = default;
};

/// Cross-correlation of input [N, C, H, W] (or unbatched [C, H, W]) with weight
/// [OC, C / groups, KH, KW], plus bias [OC] if defined. One primitive op (conv.cpp).
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
              Size2 stride = 1, Size2 padding = 0, Size2 dilation = 1, int64_t groups = 1);

/// Max over kernel windows of [N, C, H, W] (or [C, H, W]); padding counts as -inf.
/// stride 0 means stride = kernel_size (PyTorch's None). Backward routes to the argmax.
Tensor max_pool2d(const Tensor& input, Size2 kernel_size, Size2 stride = 0, Size2 padding = 0);
/// Mean over kernel windows; padded zeros count in the divisor (count_include_pad = true).
Tensor avg_pool2d(const Tensor& input, Size2 kernel_size, Size2 stride = 0, Size2 padding = 0);
/// max_pool2d with PyTorch's other options: taps `dilation` apart, and with `ceil_mode` a last
/// partial window wherever it starts inside the input or the left padding. Unlike PyTorch
/// (which outputs -inf there), a window whose dilated taps all fall in the padding is an error.
Tensor max_pool2d(const Tensor& input, Size2 kernel_size, Size2 stride, Size2 padding,
                  Size2 dilation, bool ceil_mode = false);
/// avg_pool2d with PyTorch's other options: ceil_mode as in max_pool2d; count_include_pad false
/// divides by the real pixels only; divisor_override (non-zero) replaces every divisor.
Tensor avg_pool2d(const Tensor& input, Size2 kernel_size, Size2 stride, Size2 padding,
                  bool ceil_mode, bool count_include_pad = true,
                  std::optional<int64_t> divisor_override = std::nullopt);
/// Mean over the windows [floor(i H / OH), ceil((i + 1) H / OH)) giving an output_size map.
Tensor adaptive_avg_pool2d(const Tensor& input, Size2 output_size);

/// Batch normalisation of [N, C] or [N, C, *] over all dims but C; one fused op. Training
/// uses the batch statistics and, when running_mean/var are defined, updates them in place
/// (running = (1 - momentum) running + momentum batch, with the unbiased variance); eval
/// normalises with the running statistics. weight/bias (gamma/beta, [C]) are optional.
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                  bool training = false, float momentum = 0.1f, float eps = 1e-5f);
/// Group normalisation of [N, C, *]: statistics per sample over each group of C / num_groups
/// channels, then a per-channel affine weight/bias ([C], optional). One fused op.
Tensor group_norm(const Tensor& input, int64_t num_groups, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), float eps = 1e-5f);
/// Layer normalisation over the trailing dims `normalized_shape`, with elementwise
/// weight/bias of that shape (optional); group_norm with one group over the flattened dims.
Tensor layer_norm(const Tensor& input, const Shape& normalized_shape,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                  float eps = 1e-5f);

// ---- end of nn-B's section -----------------------------------------------------------------

}  // namespace functional
}  // namespace tg::nn
