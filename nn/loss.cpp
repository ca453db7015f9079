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

// Regression targets must share the input's (floating) dtype: caught here, the message names
// the loss rather than the sub inside it.
void check_target_dtype(const Tensor& input, const Tensor& target, const char* op) {
  check(input.dtype() == target.dtype(),
        "{}: input is {} but target is {}; hint: convert the target with .to(tg::k{})", op,
        input.dtype(), target.dtype(), input.dtype() == kFloat64 ? "Float64" : "Float32");
}

constexpr int64_t kIgnored = -1;  // a class_indices entry whose target equals ignore_index

// The class indices of `target` [N] for `input` [N, C], every value checked; targets equal to
// ignore_index become kIgnored (they need not be valid classes: -100 is the default).
// PyTorch takes int64 targets only; floating ones holding integers are accepted too (older
// tapegrad code has them), but 1.5 is an error, not a silent truncation.
std::vector<int64_t> class_indices(const Tensor& input, const Tensor& target, const char* op,
                                   int64_t ignore_index = -100) {
  check(input.dim() == 2, "{}: input must be [N, C] (or [C]), got {}", op, input.shape());
  int64_t n = input.shape()[0], c = input.shape()[1];
  check(target.dim() == 1 && target.shape()[0] == n,
        "{}: target {} does not match input {} (expected target [{}] of class indices)", op,
        target.shape(), input.shape(), n);
  auto classify = [&](auto v, size_t i) {  // v: int64_t or double
    using V = decltype(v);
    if (v == V(ignore_index)) return kIgnored;
    check(v >= 0 && v < V(c), "{}: target {} at index {} is out of range for {} classes", op, v,
          i, c);
    return int64_t(v);
  };
  std::vector<int64_t> indices(size_t(n), 0);
  if (target.dtype() == kInt64) {
    std::vector<int64_t> values = target.to_vector<int64_t>();
    for (size_t i = 0; i < values.size(); ++i) indices[i] = classify(values[i], i);
    return indices;
  }
  std::vector<double> values = target.to_vector<double>();
  for (size_t i = 0; i < values.size(); ++i) {
    double v = values[i];
    check(std::isfinite(v) && v == std::floor(v),
          "{}: target {} at index {} is not an integer class index ({} target); hint: class "
          "indices are an int64 tensor, tensor(std::vector<int64_t>{{...}})", op, v, i,
          target.dtype());
    indices[i] = classify(v, i);
  }
  return indices;
}

// The class weights (empty when `weight` is undefined), checked to be one per class and of
// the input's dtype (PyTorch's rule too).
std::vector<double> class_weights(const Tensor& weight, const Tensor& input, const char* op) {
  if (!weight.defined()) return {};
  const int64_t c = input.shape()[1];
  check(weight.dim() == 1 && weight.numel() == c,
        "{}: weight {} should hold one value per class, [{}]", op, weight.shape(), c);
  check(weight.dtype() == input.dtype(),
        "{}: weight is {} but the input is {}; hint: convert the weight with .to(tg::k{})", op,
        weight.dtype(), input.dtype(), input.dtype() == kFloat64 ? "Float64" : "Float32");
  return weight.to_vector<double>();
}

// The weight of each row's target, 0 for an ignored one: what a mean divides by, summed.
std::vector<double> target_weights(const std::vector<int64_t>& t, const std::vector<double>& w) {
  std::vector<double> out(t.size());
  for (size_t i = 0; i < t.size(); ++i)
    out[i] = t[i] == kIgnored ? 0.0 : w.empty() ? 1.0 : w[size_t(t[i])];
  return out;
}

// The (smoothed, weighted) target distribution q [N, C] in `dtype`:
// (1 - eps) w_t onehot(t) + eps w / C, a zero row for an ignored target.
Tensor target_distribution(const std::vector<int64_t>& indices, int64_t c, double eps,
                           Dtype dtype, const std::vector<double>& w = {}) {
  std::vector<double> q(indices.size() * size_t(c), 0.0);
  for (size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] == kIgnored) continue;
    double* qi = q.data() + i * size_t(c);
    for (int64_t k = 0; k < c; ++k) qi[k] = eps / double(c) * (w.empty() ? 1.0 : w[size_t(k)]);
    qi[indices[i]] += (1 - eps) * (w.empty() ? 1.0 : w[size_t(indices[i])]);
  }
  return tensor(q, {int64_t(indices.size()), c}, {.dtype = dtype});
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
  check(target.dtype() == input.dtype(),
        "cross_entropy: probability target {} is {} but the input is {}; hint: class indices "
        "are a [N] target, probabilities a floating target of the input's dtype",
        target.shape(), target.dtype(), input.dtype());
  const int64_t c = input.shape()[1];
  class_weights(o.weight, input, "cross_entropy");
  const float eps = o.label_smoothing;
  Tensor q = eps > 0 ? target * (1 - eps) + eps / float(c) : target;
  Tensor terms = functional::log_softmax(input, 1) * q;
  if (o.weight.defined()) terms = terms * o.weight.detach();
  return reduce(-terms.sum({1}), o.reduction);  // mean over the N rows, as PyTorch
}

// What the fused cross-entropy needs of its targets, computed once per call.
struct ClassTargets {
  std::vector<int64_t> t;   // class per row, or kIgnored
  std::vector<double> w;    // class weights, empty for none
  std::vector<double> wt;   // w_{t_i}, 0 when ignored
  double eps = 0;           // label smoothing
  double w_sum = 0, d = 0;  // W = sum_k w_k, and D = sum_i w_{t_i} (what a mean divides by)
};

// Per row: the max m and log s, s = sum exp(x - m) (logsumexp = m + log s, kept apart so
// that x - m is formed first: exact for logits with a large common offset), the row's
// sum_k q_ik ("coef", 1 without weights), then its loss
// (1 - eps) w_t (m - x_t) + (eps / C) sum_k w_k (m - x_k) + coef log s.
// Sums in double: rows can be 50k classes. T is float or double, as the input. Returns the
// sum of the rows' losses (in double: a batch of many similar losses).
template <typename T>
double cross_entropy_forward_kernel(const Tensor& x, const ClassTargets& ct, Tensor& row_max,
                                  Tensor& log_sum, Tensor& coef, Tensor& rows, int64_t grain) {
  const int64_t n = x.shape()[0], c = x.shape()[1];
  const std::vector<int64_t>& t = ct.t;
  const std::vector<double>& w = ct.w;
  const double eps = ct.eps;
  T *mx = row_max.data_ptr<T>(), *ls = log_sum.data_ptr<T>(), *cf = coef.data_ptr<T>(),
    *out = rows.data_ptr<T>();
  kernels::parallel_for(n, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if (t[i] == kIgnored) {
        mx[i] = ls[i] = cf[i] = out[i] = 0;
        continue;
      }
      const T* xi = x.data_ptr<T>() + i * c;
      T m = -std::numeric_limits<T>::infinity();
      double s = 0, total = 0;  // total = sum_k w_k (x_k - m), needed for smoothing only
      for (int64_t k = 0; k < c; ++k) m = std::max(m, xi[k]);
      for (int64_t k = 0; k < c; ++k) s += std::exp(xi[k] - m);
      if (eps > 0)
        for (int64_t k = 0; k < c; ++k) total += (w.empty() ? 1.0 : w[size_t(k)]) * (xi[k] - m);
      const double row_coef = (1 - eps) * ct.wt[i] + eps * ct.w_sum / double(c);
      mx[i] = m;
      ls[i] = T(std::log(s));
      cf[i] = T(row_coef);
      out[i] = T((1 - eps) * ct.wt[i] * double(m - xi[t[i]]) - eps * total / double(c) +
                 row_coef * std::log(s));
    }
  });
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += out[i];
  return sum;
}

// gx_i = scale_i (coef_i softmax(x_i) - q_i), from the forward's saved m, log s and coef.
template <typename T>
Tensor cross_entropy_backward_kernel(const Tensor& x, const ClassTargets& ct,
                                     const Tensor& row_max, const Tensor& log_sum,
                                     const Tensor& coef, const Tensor& gy, Reduction reduction,
                                     int64_t grain) {
  const int64_t n = x.shape()[0], c = x.shape()[1];
  const std::vector<int64_t>& t = ct.t;
  const std::vector<double>& w = ct.w;
  const T eps = T(ct.eps);
  Tensor g = gy.contiguous(), gx = empty({n, c}, {.dtype = x.dtype()});
  const T *gp = g.data_ptr<T>(), *mx = row_max.data_ptr<T>(), *ls = log_sum.data_ptr<T>(),
          *cf = coef.data_ptr<T>();
  kernels::parallel_for(n, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      T* gi = gx.data_ptr<T>() + i * c;
      if (t[i] == kIgnored) {
        std::fill(gi, gi + c, T(0));
        continue;
      }
      T scale = reduction == Reduction::None ? gp[i]
                : reduction == Reduction::Sum ? gp[0]
                                              : T(gp[0] / ct.d);
      const T* xi = x.data_ptr<T>() + i * c;
      const T m = mx[i], log_s = ls[i], a = cf[i];
      if (w.empty())
        for (int64_t k = 0; k < c; ++k)
          gi[k] = scale * (a * std::exp((xi[k] - m) - log_s) - eps / T(c));
      else
        for (int64_t k = 0; k < c; ++k)
          gi[k] = scale * (a * std::exp((xi[k] - m) - log_s) - eps / T(c) * T(w[size_t(k)]));
      gi[t[i]] -= scale * T((1 - ct.eps) * ct.wt[i]);
    }
  });
  return gx;
}

}  // namespace

namespace functional {

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape(input, target, "mse_loss");
  check_target_dtype(input, target, "mse_loss");
  return reduce((input - target).pow(2), reduction);
}

Tensor squared_loss(const Tensor& y_hat, const Tensor& y, Reduction reduction) {
  // The course writes (y_hat - y.reshape(y_hat.shape)) ** 2 / 2: labels [N] meet outputs [N, 1].
  check(y.numel() == y_hat.numel(), "squared_loss: y {} cannot be reshaped to y_hat's shape {}",
        y.shape(), y_hat.shape());
  check_target_dtype(y_hat, y, "squared_loss");
  return reduce((y_hat - y.reshape(y_hat.shape())).pow(2) * 0.5f, reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape(input, target, "l1_loss");
  check_target_dtype(input, target, "l1_loss");
  return reduce((input - target).abs(), reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, Reduction reduction, float delta) {
  check_same_shape(input, target, "huber_loss");
  check_target_dtype(input, target, "huber_loss");
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
  dispatch_floating(input.dtype(), "cross_entropy", [](auto) {});  // int64 logits: an error
  if (input.dim() == 2 && target.shape() == input.shape())
    return probability_cross_entropy(input, target, o);
  ClassTargets ct;
  ct.t = class_indices(input, target, "cross_entropy", o.ignore_index);
  const int64_t n = input.shape()[0], c = input.shape()[1];
  ct.w = class_weights(o.weight, input, "cross_entropy");
  ct.wt = target_weights(ct.t, ct.w);
  ct.eps = o.label_smoothing;
  ct.w_sum = ct.w.empty() ? double(c) : 0.0;
  for (double v : ct.w) ct.w_sum += v;
  for (double v : ct.wt) ct.d += v;
  const Dtype dtype = input.dtype();
  Tensor x = input.detach().contiguous();
  int64_t grain = (1 << 15) / std::max<int64_t>(c, 1) + 1;  // rows per thread, at least
  Tensor row_max = empty({n}, {.dtype = dtype}), log_sum = empty({n}, {.dtype = dtype}),
         coef = empty({n}, {.dtype = dtype}), rows = empty({n}, {.dtype = dtype});
  const double sum =
      dispatch_floating(dtype, "cross_entropy", [&]<typename T>(std::type_identity<T>) {
        return cross_entropy_forward_kernel<T>(x, ct, row_max, log_sum, coef, rows, grain);
      });
  Tensor y = rows;
  if (reduction != Reduction::None)
    y = scalar_tensor(reduction == Reduction::Mean ? sum / ct.d : sum, {.dtype = dtype});
  record("cross_entropy", y, {input},
         [x, input, row_max, log_sum, coef, ct, reduction, grain](const Tensor& gy) {
    int64_t n = x.shape()[0], c = x.shape()[1];
    if (recording_backward()) {  // create_graph: (coef softmax - q) * scale, as differentiable ops
      Tensor scale = reduction == Reduction::None ? gy.reshape({n, 1})
                     : reduction == Reduction::Sum ? gy : gy * (1.0 / ct.d);
      Tensor q = target_distribution(ct.t, c, ct.eps, x.dtype(), ct.w);
      return grads((softmax(input, 1) * coef.unsqueeze(1) - q) * scale);
    }
    auto kernel = [&]<typename T>(std::type_identity<T>) {
      return cross_entropy_backward_kernel<T>(x, ct, row_max, log_sum, coef, gy, reduction, grain);
    };
    return grads(dispatch_floating(x.dtype(), "cross_entropy", kernel));
  }).saves(x);
  // J v = sum_k (coef softmax(x) - q)_k v_k per row, then reduced
  record_tangent(y, {input}, [&](const Tensor& v) {
    Tensor q = target_distribution(ct.t, c, ct.eps, dtype, ct.w);
    Tensor per_row = ((softmax(input, 1) * coef.unsqueeze(1) - q) * v).sum({1});
    return reduction == Reduction::None ? per_row
           : reduction == Reduction::Sum ? per_row.sum()
                                         : per_row.sum() * (1.0 / ct.d);
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
  dispatch_floating(input.dtype(), "nll_loss", [](auto) {});  // int64 input: an error
  std::vector<int64_t> t = class_indices(input, target, "nll_loss", o.ignore_index);
  const int64_t n = input.shape()[0];
  const std::vector<double> w = class_weights(o.weight, input, "nll_loss");
  const std::vector<double> wt = target_weights(t, w);
  // Pick x[i, t_i] with where, not a multiply by the one-hot: 0 * -inf would be nan.
  Tensor onehot = target_distribution(t, input.shape()[1], 0, input.dtype());
  Tensor picked = where(onehot, input, scalar_tensor(0, {.dtype = input.dtype()}));
  Tensor loss = -picked.sum({1});
  const bool plain = w.empty() && std::count(t.begin(), t.end(), kIgnored) == 0;
  if (plain) return reduce(loss, o.reduction);
  loss = loss * tensor(wt, {n}, {.dtype = input.dtype()});
  if (o.reduction != Reduction::Mean) return reduce(loss, o.reduction);
  double d = 0;
  for (double v : wt) d += v;
  return loss.sum() / d;
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
