// Losses. The regression losses are composed from tensor ops (the tape
// differentiates them); cross_entropy is one fused primitive: log-softmax and
// the pick of the target's log-probability in a single pass, with backward
// (softmax - onehot) / N and a tangent rule, so no [N, C] intermediate is kept.
#include <tapegrad/nn/loss.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/kernels.h>

namespace tg::nn {

namespace {

Tensor reduce(const Tensor& loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::None: return loss;
    case Reduction::Sum: return loss.sum();
    case Reduction::Mean: return loss.mean();
  }
  fail("loss: unknown reduction {}", int(reduction));
}

void check_same_shape(const Tensor& input, const Tensor& target, const char* op) {
  // PyTorch only warns here, but broadcasting [N, 1] against [N] silently builds an [N, N]
  // loss: a classic bug, so it is an error.
  check(input.shape() == target.shape(),
        "{}: input {} and target {} have different shapes; hint: reshape the target to the "
        "input's shape", op, input.shape(), target.shape());
}

constexpr int64_t kIgnored = -1;  // a class_indices entry whose target equals ignore_index

// The class indices of `target` [N] for `input` [N, C], every value checked; targets equal to
// ignore_index become kIgnored (they need not be valid classes: -100 is the default).
std::vector<int64_t> class_indices(const Tensor& input, const Tensor& target, const char* op,
                                   int64_t ignore_index = -100) {
  check(input.dim() == 2, "{}: input must be [N, C] (or [C]), got {}", op, input.shape());
  int64_t n = input.shape()[0], c = input.shape()[1];
  check(target.dim() == 1 && target.shape()[0] == n,
        "{}: target {} does not match input {} (expected target [{}] of class indices)", op,
        target.shape(), input.shape(), n);
  std::vector<float> values = target.to_vector();
  std::vector<int64_t> indices(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    float v = values[i];
    check(std::isfinite(v) && v == std::floor(v),
          "{}: target {} at index {} is not an integer class index", op, v, i);
    if (double(v) == double(ignore_index)) {
      indices[i] = kIgnored;
      continue;
    }
    check(v >= 0 && v < float(c), "{}: target {} at index {} is out of range for {} classes", op,
          v, i, c);
    indices[i] = int64_t(v);
  }
  return indices;
}

// The class weights (empty when `weight` is undefined), checked to be one per class.
std::vector<float> class_weights(const Tensor& weight, int64_t c, const char* op) {
  if (!weight.defined()) return {};
  check(weight.dim() == 1 && weight.numel() == c,
        "{}: weight {} should hold one value per class, [{}]", op, weight.shape(), c);
  return weight.to_vector();
}

// The weight of each row's target, 0 for an ignored one: what a mean divides by, summed.
std::vector<double> target_weights(const std::vector<int64_t>& t, const std::vector<float>& w) {
  std::vector<double> out(t.size());
  for (size_t i = 0; i < t.size(); ++i)
    out[i] = t[i] == kIgnored ? 0.0 : w.empty() ? 1.0 : double(w[size_t(t[i])]);
  return out;
}

// The (smoothed, weighted) target distribution q [N, C]: (1 - eps) w_t onehot(t) + eps w / C,
// a zero row for an ignored target.
Tensor target_distribution(const std::vector<int64_t>& indices, int64_t c, float eps,
                           const std::vector<float>& w = {}) {
  Tensor q = zeros({int64_t(indices.size()), c});
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] == kIgnored) continue;
    float* qi = q.data() + int64_t(i) * c;
    for (int64_t k = 0; k < c; ++k) qi[k] = eps / float(c) * (w.empty() ? 1.0f : w[size_t(k)]);
    qi[indices[i]] += (1 - eps) * (w.empty() ? 1.0f : w[size_t(indices[i])]);
  }
  return q;
}

// Cross-entropy against class probabilities (the target has the input's shape), composed
// from log_softmax: l_i = -sum_k w_k q_ik log p_ik with q = (1 - eps) target + eps / C.
// PyTorch composes it too, so the target gets a gradient as well.
Tensor probability_cross_entropy(const Tensor& input, const Tensor& target,
                                 const functional::CrossEntropyOptions& o) {
  check(o.ignore_index < 0,
        "cross_entropy: ignore_index {} is not supported with probability targets (target {} "
        "has the input's shape); hint: ignore_index applies to class-index targets [N]",
        o.ignore_index, target.shape());
  const int64_t c = input.shape()[1];
  class_weights(o.weight, c, "cross_entropy");
  const float eps = o.label_smoothing;
  Tensor q = eps > 0 ? target * (1 - eps) + eps / float(c) : target;
  Tensor terms = functional::log_softmax(input, 1) * q;
  if (o.weight.defined()) terms = terms * o.weight.detach();
  return reduce(-terms.sum({1}), o.reduction);  // mean over the N rows, as PyTorch
}

}  // namespace

namespace functional {

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape(input, target, "mse_loss");
  return reduce((input - target).pow(2), reduction);
}

Tensor squared_loss(const Tensor& y_hat, const Tensor& y, Reduction reduction) {
  // The course writes (y_hat - y.reshape(y_hat.shape)) ** 2 / 2: labels [N] meet outputs [N, 1].
  check(y.numel() == y_hat.numel(), "squared_loss: y {} cannot be reshaped to y_hat's shape {}",
        y.shape(), y_hat.shape());
  return reduce((y_hat - y.reshape(y_hat.shape())).pow(2) * 0.5f, reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape(input, target, "l1_loss");
  return reduce((input - target).abs(), reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, float delta) {
  check_same_shape(input, target, "huber_loss");
  check(delta > 0, "huber_loss: delta must be positive, got {}", delta);
  // With q = min(|d|, delta), 0.5 q^2 + delta (|d| - q) is 0.5 d^2 inside and
  // delta (|d| - delta / 2) outside: PyTorch's two branches as one formula.
  Tensor a = (input - target).abs();
  Tensor q = a.clamp_max(delta);
  return reduce(q.pow(2) * 0.5f + (a - q) * delta, reduction);
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, Reduction reduction,
                     float label_smoothing) {
  return cross_entropy(input, target,
                       CrossEntropyOptions{.reduction = reduction, .label_smoothing = label_smoothing});
}

// With q_i = (1 - eps) w_t onehot(t_i) + eps w / C (w = 1 without weights; 0 when ignored):
// l_i = -sum_k q_ik log softmax(x_i)_k = sum_k q_ik (logsumexp(x_i) - x_ik).
// dl_i/dx_i = (sum_k q_ik) softmax(x_i) - q_i.   Mean divides by D = sum_i w_{t_i} (kept i).
Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& o) {
  const Reduction reduction = o.reduction;
  if (input.dim() == 1) {  // one unbatched example: logits [C], target 0-d (or [C] probabilities)
    check(target.dim() == 0 || target.shape() == input.shape(),
          "cross_entropy: input {} needs a 0-d target, got {}", input.shape(), target.shape());
    Tensor loss = cross_entropy(input.unsqueeze(0), target.unsqueeze(0), o);
    return reduction == Reduction::None ? loss.reshape({}) : loss;
  }
  check(o.label_smoothing >= 0 && o.label_smoothing <= 1,
        "cross_entropy: label_smoothing must be in [0, 1], got {}", o.label_smoothing);
  if (input.dim() == 2 && target.shape() == input.shape())
    return probability_cross_entropy(input, target, o);
  std::vector<int64_t> t = class_indices(input, target, "cross_entropy", o.ignore_index);
  const int64_t n = input.shape()[0], c = input.shape()[1];
  const std::vector<float> w = class_weights(o.weight, c, "cross_entropy");
  const std::vector<double> wt = target_weights(t, w);
  const float eps = o.label_smoothing;
  double w_sum = w.empty() ? double(c) : 0.0, d = 0;  // W = sum_k w_k, and D
  for (float v : w) w_sum += v;
  for (double v : wt) d += v;
  Tensor x = input.detach().contiguous();
  int64_t grain = (1 << 15) / std::max<int64_t>(c, 1) + 1;  // rows per thread, at least
  // Per row: the max m and log s, s = sum exp(x - m) (logsumexp = m + log s, kept apart so
  // that x - m is formed first: exact for logits with a large common offset), the row's
  // sum_k q_ik ("coef", 1 without weights), then its loss
  // (1 - eps) w_t (m - x_t) + (eps / C) sum_k w_k (m - x_k) + coef log s.
  // Sums in double: rows can be 50k classes.
  Tensor row_max = empty({n}), log_sum = empty({n}), coef = empty({n}), rows = empty({n});
  kernels::parallel_for(n, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if (t[i] == kIgnored) {
        row_max.data()[i] = log_sum.data()[i] = coef.data()[i] = rows.data()[i] = 0;
        continue;
      }
      const float* xi = x.data() + i * c;
      float m = -std::numeric_limits<float>::infinity();
      double s = 0, total = 0;  // total = sum_k w_k (x_k - m), needed for smoothing only
      for (int64_t k = 0; k < c; ++k) m = std::max(m, xi[k]);
      for (int64_t k = 0; k < c; ++k) s += std::exp(xi[k] - m);
      if (eps > 0)
        for (int64_t k = 0; k < c; ++k) total += (w.empty() ? 1.0 : w[size_t(k)]) * (xi[k] - m);
      const double row_coef = (1 - eps) * wt[i] + eps * w_sum / double(c);
      row_max.data()[i] = m;
      log_sum.data()[i] = float(std::log(s));
      coef.data()[i] = float(row_coef);
      double loss =
          (1 - eps) * wt[i] * double(m - xi[t[i]]) - eps * total / double(c) + row_coef * std::log(s);
      rows.data()[i] = float(loss);
    }
  });
  Tensor y = rows;
  if (reduction != Reduction::None) {
    double sum = 0;  // in double: a batch of many similar losses
    for (int64_t i = 0; i < n; ++i) sum += rows.data()[i];
    y = scalar_tensor(float(reduction == Reduction::Mean ? sum / d : sum));
  }
  record("cross_entropy", y, {input},
         [x, input, row_max, log_sum, coef, t, w, wt, d, reduction, eps, grain](const Tensor& gy) {
    int64_t n = x.shape()[0], c = x.shape()[1];
    if (recording_backward()) {  // create_graph: (coef softmax - q) * scale, as differentiable ops
      Tensor scale = reduction == Reduction::None ? gy.reshape({n, 1})
                     : reduction == Reduction::Sum ? gy : gy * float(1.0 / d);
      Tensor q = target_distribution(t, c, eps, w);
      return grads((softmax(input, 1) * coef.unsqueeze(1) - q) * scale);
    }
    Tensor g = gy.contiguous(), gx = empty({n, c});
    kernels::parallel_for(n, grain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        float* gi = gx.data() + i * c;
        if (t[i] == kIgnored) {
          std::fill(gi, gi + c, 0.0f);
          continue;
        }
        float scale = reduction == Reduction::None ? g.data()[i]
                      : reduction == Reduction::Sum ? g.data()[0]
                                                    : float(g.data()[0] / d);
        const float* xi = x.data() + i * c;
        const float m = row_max.data()[i], log_s = log_sum.data()[i], a = coef.data()[i];
        if (w.empty())
          for (int64_t k = 0; k < c; ++k)
            gi[k] = scale * (a * std::exp((xi[k] - m) - log_s) - eps / float(c));
        else
          for (int64_t k = 0; k < c; ++k)
            gi[k] = scale * (a * std::exp((xi[k] - m) - log_s) - eps / float(c) * w[size_t(k)]);
        gi[t[i]] -= scale * float((1 - eps) * wt[i]);
      }
    });
    return grads(gx);
  }).saves(x);
  // J v = sum_k (coef softmax(x) - q)_k v_k per row, then reduced
  record_tangent(y, {input}, [&](const Tensor& v) {
    Tensor q = target_distribution(t, c, eps, w);
    Tensor per_row = ((softmax(input, 1) * coef.unsqueeze(1) - q) * v).sum({1});
    return reduction == Reduction::None ? per_row
           : reduction == Reduction::Sum ? per_row.sum()
                                         : per_row.sum() * float(1.0 / d);
  });
  return y;
}

Tensor nll_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  return nll_loss(input, target, NLLLossOptions{.reduction = reduction});
}

// l_i = -w_{t_i} input[i, t_i] (0 for an ignored target); mean divides by sum_i w_{t_i}.
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& o) {
  if (input.dim() == 1) {
    check(target.dim() == 0, "nll_loss: input {} needs a 0-d target, got {}", input.shape(),
          target.shape());
    Tensor loss = nll_loss(input.unsqueeze(0), target.reshape({1}), o);
    return o.reduction == Reduction::None ? loss.reshape({}) : loss;
  }
  std::vector<int64_t> t = class_indices(input, target, "nll_loss", o.ignore_index);
  const int64_t n = input.shape()[0];
  const std::vector<float> w = class_weights(o.weight, input.shape()[1], "nll_loss");
  const std::vector<double> wt = target_weights(t, w);
  // Pick x[i, t_i] with where, not a multiply by the one-hot: 0 * -inf would be nan.
  Tensor picked = where(target_distribution(t, input.shape()[1], 0), input, scalar_tensor(0));
  Tensor loss = -picked.sum({1});
  const bool plain = w.empty() && std::count(t.begin(), t.end(), kIgnored) == 0;
  if (plain) return reduce(loss, o.reduction);
  loss = loss * tensor(std::vector<float>(wt.begin(), wt.end()), {n});
  if (o.reduction != Reduction::Mean) return reduce(loss, o.reduction);
  double d = 0;
  for (double v : wt) d += v;
  return loss.sum() / float(d);
}

}  // namespace functional

Tensor MSELoss::forward(const Tensor& input, const Tensor& target) {
  return functional::mse_loss(input, target, reduction);
}

Tensor SquaredLoss::forward(const Tensor& input, const Tensor& target) {
  return functional::squared_loss(input, target, reduction);
}

Tensor L1Loss::forward(const Tensor& input, const Tensor& target) {
  return functional::l1_loss(input, target, reduction);
}

HuberLoss::HuberLoss(Reduction reduction, float delta) : Loss(reduction), delta(delta) {
  check(delta > 0, "HuberLoss: delta must be positive, got {}", delta);
}
Tensor HuberLoss::forward(const Tensor& input, const Tensor& target) {
  return functional::huber_loss(input, target, reduction, delta);
}

CrossEntropyLoss::CrossEntropyLoss(Reduction reduction, float label_smoothing)
    : CrossEntropyLoss(functional::CrossEntropyOptions{.reduction = reduction,
                                                       .label_smoothing = label_smoothing}) {}

CrossEntropyLoss::CrossEntropyLoss(const functional::CrossEntropyOptions& o)
    : Loss(o.reduction), label_smoothing(o.label_smoothing), ignore_index(o.ignore_index) {
  check(label_smoothing >= 0 && label_smoothing <= 1,
        "CrossEntropyLoss: label_smoothing must be in [0, 1], got {}", label_smoothing);
  if (!o.weight.defined()) return;
  check(o.weight.dim() == 1, "CrossEntropyLoss: weight must be [C], one value per class, got {}",
        o.weight.shape());
  weight = register_buffer("weight", o.weight);
}
Tensor CrossEntropyLoss::forward(const Tensor& input, const Tensor& target) {
  return functional::cross_entropy(input, target,
                                   {.weight = weight, .ignore_index = ignore_index,
                                    .reduction = reduction, .label_smoothing = label_smoothing});
}

NLLLoss::NLLLoss(const functional::NLLLossOptions& o)
    : Loss(o.reduction), ignore_index(o.ignore_index) {
  if (!o.weight.defined()) return;
  check(o.weight.dim() == 1, "NLLLoss: weight must be [C], one value per class, got {}",
        o.weight.shape());
  weight = register_buffer("weight", o.weight);
}
Tensor NLLLoss::forward(const Tensor& input, const Tensor& target) {
  return functional::nll_loss(input, target,
                              {.weight = weight, .ignore_index = ignore_index, .reduction = reduction});
}

}  // namespace tg::nn
