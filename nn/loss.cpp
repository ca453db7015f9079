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

// The class indices of `target` [N] for `input` [N, C], every value checked.
std::vector<int64_t> class_indices(const Tensor& input, const Tensor& target, const char* op) {
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
    check(v >= 0 && v < float(c), "{}: target {} at index {} is out of range for {} classes", op,
          v, i, c);
    indices[i] = int64_t(v);
  }
  return indices;
}

// The smoothed target distribution q [N, C]: (1 - eps) onehot + eps / C.
Tensor target_distribution(const std::vector<int64_t>& indices, int64_t c, float eps) {
  Tensor q = full({int64_t(indices.size()), c}, eps / float(c));
  for (size_t i = 0; i < indices.size(); ++i) q.data()[int64_t(i) * c + indices[i]] += 1 - eps;
  return q;
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

// l_i = logsumexp(x_i) - sum_k q_ik x_ik with q = (1 - eps) onehot(t_i) + eps / C.
// dl_i/dx_i = softmax(x_i) - q_i
Tensor cross_entropy(const Tensor& input, const Tensor& target, Reduction reduction,
                     float label_smoothing) {
  if (input.dim() == 1) {  // one unbatched example: logits [C], target 0-d
    check(target.dim() == 0, "cross_entropy: input {} needs a 0-d target, got {}", input.shape(),
          target.shape());
    Tensor loss =
        cross_entropy(input.unsqueeze(0), target.reshape({1}), reduction, label_smoothing);
    return reduction == Reduction::None ? loss.reshape({}) : loss;
  }
  check(label_smoothing >= 0 && label_smoothing <= 1,
        "cross_entropy: label_smoothing must be in [0, 1], got {}", label_smoothing);
  std::vector<int64_t> t = class_indices(input, target, "cross_entropy");
  int64_t n = input.shape()[0], c = input.shape()[1];
  float eps = label_smoothing;
  Tensor x = input.detach().contiguous();
  int64_t grain = (1 << 15) / std::max<int64_t>(c, 1) + 1;  // rows per thread, at least
  // Per row: the max m and log s, s = sum exp(x - m) (logsumexp = m + log s, kept apart so
  // that x - m is formed first: exact for logits with a large common offset), then its loss
  // (1 - eps)(m - x_t) + eps (m - mean x) + log s. Sums in double: rows can be 50k classes.
  Tensor row_max = empty({n}), log_sum = empty({n}), rows = empty({n});
  kernels::parallel_for(n, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float* xi = x.data() + i * c;
      float m = -std::numeric_limits<float>::infinity();
      double s = 0, total = 0;
      for (int64_t k = 0; k < c; ++k) m = std::max(m, xi[k]);
      for (int64_t k = 0; k < c; ++k) s += std::exp(xi[k] - m), total += xi[k] - m;
      row_max.data()[i] = m;
      log_sum.data()[i] = float(std::log(s));
      double loss = (1 - eps) * double(m - xi[t[i]]) - (eps > 0 ? eps * total / c : 0.0) +
                    std::log(s);
      rows.data()[i] = float(loss);
    }
  });
  Tensor y = rows;
  if (reduction != Reduction::None) {
    double sum = 0;  // in double: a batch of many similar losses
    for (int64_t i = 0; i < n; ++i) sum += rows.data()[i];
    y = scalar_tensor(float(reduction == Reduction::Mean ? sum / double(n) : sum));
  }
  record("cross_entropy", y, {input},
         [x, input, row_max, log_sum, t, reduction, eps, grain](const Tensor& gy) {
    int64_t n = x.shape()[0], c = x.shape()[1];
    if (recording_backward()) {  // create_graph: (softmax - q) * scale, as differentiable ops
      Tensor scale = reduction == Reduction::None ? gy.reshape({n, 1})
                     : reduction == Reduction::Sum ? gy : gy * (1.0f / float(n));
      return grads((softmax(input, 1) - target_distribution(t, c, eps)) * scale);
    }
    Tensor g = gy.contiguous(), gx = empty({n, c});
    kernels::parallel_for(n, grain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        float scale = reduction == Reduction::None ? g.data()[i]
                      : reduction == Reduction::Sum ? g.data()[0]
                                                    : g.data()[0] / float(n);
        const float* xi = x.data() + i * c;
        float* gi = gx.data() + i * c;
        const float m = row_max.data()[i], log_s = log_sum.data()[i];
        for (int64_t k = 0; k < c; ++k)
          gi[k] = scale * (std::exp((xi[k] - m) - log_s) - eps / float(c));
        gi[t[i]] -= scale * (1 - eps);
      }
    });
    return grads(gx);
  }).saves(x);
  // J v = sum_k (softmax(x) - q)_k v_k per row, then reduced
  record_tangent(y, {input}, [&](const Tensor& v) {
    Tensor per_row = ((softmax(input, 1) - target_distribution(t, c, eps)) * v).sum({1});
    return reduction == Reduction::None ? per_row
           : reduction == Reduction::Sum ? per_row.sum()
                                         : per_row.sum() * (1.0f / float(n));
  });
  return y;
}

Tensor nll_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  if (input.dim() == 1) {
    check(target.dim() == 0, "nll_loss: input {} needs a 0-d target, got {}", input.shape(),
          target.shape());
    Tensor loss = nll_loss(input.unsqueeze(0), target.reshape({1}), reduction);
    return reduction == Reduction::None ? loss.reshape({}) : loss;
  }
  std::vector<int64_t> t = class_indices(input, target, "nll_loss");
  // Pick x[i, t_i] with where, not a multiply by the one-hot: 0 * -inf would be nan.
  Tensor picked = where(target_distribution(t, input.shape()[1], 0), input, scalar_tensor(0));
  return reduce(-picked.sum({1}), reduction);
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
    : Loss(reduction), label_smoothing(label_smoothing) {
  check(label_smoothing >= 0 && label_smoothing <= 1,
        "CrossEntropyLoss: label_smoothing must be in [0, 1], got {}", label_smoothing);
}
Tensor CrossEntropyLoss::forward(const Tensor& input, const Tensor& target) {
  return functional::cross_entropy(input, target, reduction, label_smoothing);
}

Tensor NLLLoss::forward(const Tensor& input, const Tensor& target) {
  return functional::nll_loss(input, target, reduction);
}

}  // namespace tg::nn
