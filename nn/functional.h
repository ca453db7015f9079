// nn::functional: the stateless forms of every layer and loss, as in
// torch.nn.functional. Modules call these; use them directly when the
// parameters live elsewhere:  namespace F = tg::nn::functional;
// Each function is defined next to its module (linear.cpp, activation.cpp, loss.cpp, ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

/// A convolution's padding, as PyTorch's int-or-tuple-or-string: a size (`1`, `{1, 2}`) added
/// on both sides, or "valid" (none) or "same" (output size = input size; stride 1 only; the
/// total d (k - 1) split with the odd one on the right/bottom, as PyTorch does).
struct ConvPadding {
  enum class Kind { Explicit, Same, Valid };
  Kind kind = Kind::Explicit;
  Size2 size = 0;  ///< of Kind::Explicit
  ConvPadding(int64_t v) : size(v) {}  // implicit on purpose, as Size2's
  ConvPadding(int64_t h, int64_t w) : size(h, w) {}
  ConvPadding(Size2 s) : size(s) {}
  ConvPadding(const std::string& name);  ///< "same" or "valid"; anything else is a tg::Error
  // A literal ("same") binds here: a const char* overload would make a literal 0 ambiguous.
  template <size_t N>
  ConvPadding(const char (&name)[N]) : ConvPadding(std::string(name)) {}
  friend bool operator==(const ConvPadding&, const ConvPadding&) = default;
};

/// Cross-correlation of input [N, C, H, W] (or unbatched [C, H, W]) with weight
/// [OC, C / groups, KH, KW], plus bias [OC] if defined. One primitive op (conv.cpp).
/// padding "same" with an even kernel pads the extra row/column with pad() first.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
              Size2 stride = 1, ConvPadding padding = 0, Size2 dilation = 1, int64_t groups = 1);

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

// ---- padding, 1-D and transposed convolution, upsampling (padding.cpp, conv.cpp,
// ---- conv_transpose.cpp, upsample.cpp) ------------------------------------------------------

/// How pad() fills the border: PyTorch's F.pad modes "constant" | "reflect" | "replicate" |
/// "circular"; Zeros is Constant under Conv2d's padding_mode name ("zeros").
enum class PaddingMode { Constant, Zeros = Constant, Reflect, Replicate, Circular };
/// The mode named by PyTorch's string: "constant" or "zeros", "reflect", "replicate", "circular".
PaddingMode padding_mode(const std::string& name);
/// PyTorch's name of a mode: "constant", "reflect", "replicate" or "circular".
std::string to_string(PaddingMode mode);

/// Pads the trailing dims of `input`, as torch.nn.functional.pad: `pads` lists (before, after)
/// pairs from the last dim backwards, e.g. {left, right, top, bottom} for an [N, C, H, W]
/// input. Constant pads may be negative (crop); reflect needs pads < the dim's size, circular
/// <= it. Reflect/replicate/circular work on any rank (PyTorch limits them to 2-3 padded dims).
/// One primitive op; backward scatter-adds back to the source elements.
Tensor pad(const Tensor& input, const std::vector<int64_t>& pads,
           PaddingMode mode = PaddingMode::Constant, float value = 0);
/// The same with the mode by name: `pad(x, {1, 1, 2, 2}, "reflect")`.
Tensor pad(const Tensor& input, const std::vector<int64_t>& pads, const std::string& mode,
           float value = 0);

/// 1-D cross-correlation of input [N, C, L] (or [C, L]) with weight [OC, C / groups, K], plus
/// bias [OC]: PyTorch's F.conv1d, computed as conv2d over a height-1 view (conv.cpp).
/// The course's numpy.convolve(a, v, mode) flips the kernel (PyTorch cross-correlates): with
/// x = a as [1, 1, n] and w = v reversed as [1, 1, k] (k <= n), its modes are
///   'full':  conv1d(x, w, {}, 1, k - 1)   (in general padding = dilation * (k - 1))
///   'same':  conv1d(x, w, {}, 1, "same") for odd k; for even k numpy puts the extra zero on
///            the left, PyTorch on the right: conv1d(pad(x, {k / 2, k / 2 - 1}), w)
///   'valid': conv1d(x, w, {}, 1, "valid")
Tensor conv1d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
              int64_t stride = 1, ConvPadding padding = 0, int64_t dilation = 1,
              int64_t groups = 1);

/// Transposed convolution (the gradient of conv2d with respect to its input) of input
/// [N, IC, H, W] (or [IC, H, W]) with weight [IC, OC / groups, KH, KW] (PyTorch's layout),
/// plus bias [OC]. Output size (H - 1) stride - 2 padding + dilation (KH - 1) +
/// output_padding + 1; output_padding must be smaller than stride or dilation. PyTorch's
/// F.conv_transpose2d, argument order included (groups before dilation).
Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
                        Size2 stride = 1, Size2 padding = 0, Size2 output_padding = 0,
                        int64_t groups = 1, Size2 dilation = 1);

/// interpolate's modes: PyTorch's mode="nearest" | "bilinear".
enum class InterpolateMode { Nearest, Bilinear };
/// A scale factor per spatial dim (one number means both), like Size2.
struct Scale2 {
  double h = 1, w = 1;
  Scale2(double v) : h(v), w(v) {}  // implicit on purpose: a number means (v, v)
  Scale2(double h_, double w_) : h(h_), w(w_) {}
  friend bool operator==(const Scale2&, const Scale2&) = default;
};
/// What to resize to and how: `{.scale_factor = 2, .mode = InterpolateMode::Bilinear}`.
/// Exactly one of size and scale_factor is set; align_corners only with Bilinear (default false).
struct InterpolateOptions {
  std::optional<Size2> size = std::nullopt;           ///< output (H, W)
  std::optional<Scale2> scale_factor = std::nullopt;  ///< output = floor(input size * factor)
  InterpolateMode mode = InterpolateMode::Nearest;    ///< nearest or bilinear
  std::optional<bool> align_corners = std::nullopt;   ///< bilinear only; default false
};
/// Resizes the planes of [N, C, H, W] as torch.nn.functional.interpolate (4-D input only):
/// nearest takes source index floor(dst * in / out) (or dst / scale_factor when given);
/// bilinear with PyTorch's half-pixel rule or align_corners. One primitive op (upsample.cpp).
Tensor interpolate(const Tensor& input, const InterpolateOptions& options);

// ---- end of the padding / conv1d / conv_transpose2d / interpolate section --------------------

// ---- fusions for residual networks (activation.cpp) -----------------------------------------
/// relu(a + b) in one pass and one tape node: a residual block's closing add + ReLU. a and b
/// broadcast as in `+`. Backward: dy * [y > 0] to both (summed over broadcast dims); twice
/// differentiable. PyTorch has it only internally (torch.ops.aten._add_relu).
Tensor add_relu(const Tensor& a, const Tensor& b);

/// relu(conv2d(input, weight, bias, ...)) as one op (conv.cpp): the ReLU is applied to each
/// image's output while it is still in cache, and one tape node masks the gradient by [y > 0]
/// before conv2d's backward. Same arguments, values and gradients as relu(conv2d(...)).
/// nn::Sequential runs a Conv2d followed by a ReLU this way by itself.
Tensor conv2d_relu(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
                   Size2 stride = 1, ConvPadding padding = 0, Size2 dilation = 1,
                   int64_t groups = 1);

}  // namespace functional
}  // namespace tg::nn
