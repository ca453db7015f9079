// batch_norm and group_norm as fused ops. An input [N, C, *] is viewed as
// [N, C, S]; batch norm takes statistics per channel over (N, S), group norm per
// (sample, group) over a contiguous block of C/G * S values. Forward: one pass for
// the sums (float32: float within chunks of 512 values, double across them), one to write
// y = x * scale + shift. Backward: one pass for its two sums, one to write dx, by the
// closed form over xhat = (x - mean) * inv_std, with m values per statistic:
//   dx = inv_std / m * (m * dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)),  dxhat = dy * gamma
// layer_norm reuses group_norm (one group, the normalised dims as channels).
#include <tapegrad/nn/norm.h>

#include <fmt/format.h>  // fmt::join

#include <algorithm>
#include <cmath>
#include <vector>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/node.h>
#include <tapegrad/autograd/tangent.h>
#include <tapegrad/core/cpu.h>
#include <tapegrad/core/kernels.h>

namespace tg::nn {

namespace functional {

namespace {

// Sizes of x viewed as [n, c, s].
struct Layout {
  int64_t n, c, s;
};

Layout layout_of(const Tensor& x) {
  int64_t n = x.size(0), c = x.size(1);
  return {n, c, n * c == 0 ? 0 : x.numel() / (n * c)};
}

// [1, C, 1, ...] of x's rank: per-channel vectors broadcast against x.
Shape channel_shape(const Tensor& x) {
  Shape s;
  for (int d = 0; d < x.dim(); ++d) s.push_back(d == 1 ? x.size(1) : 1);
  return s;
}

// Every dim except the channel dim 1.
Shape non_channel_dims(const Tensor& x) {
  Shape s;
  for (int d = 0; d < x.dim(); ++d)
    if (d != 1) s.push_back(d);
  return s;
}

void check_channels(const Tensor& t, int64_t channels, const char* what, const Tensor& x,
                    const char* op) {
  check(!t.defined() || (t.dim() == 1 && t.size(0) == channels),
        "{}: {} of shape {} does not match the input's {} channels (input {})", op, what,
        t.defined() ? t.shape() : Shape{}, channels, x.shape());
}

// Adds `term` to the tangent being built (undefined = no term yet).
void accumulate(Tensor& t, const Tensor& term) { t = t.defined() ? t + term : term; }

// Partial sums run in float over chunks of at most this many values, each chunk then added
// in double: float keeps twice the lanes per vector and no conversions (in double these loops
// ran at half the speed of the memory), the chunks bound the float rounding. A float64 tensor
// runs the same loops in double throughout (T is the element type).
constexpr int64_t kChunk = 512;

// A tg::Error naming `op` unless t (when given) has x's dtype: no promotion (core/dtype.h).
void check_dtype(const Tensor& t, const Tensor& x, const char* op) {
  if (t.defined()) check_same_dtype(x.dtype(), t.dtype(), op);
}

// Sums of d = v - shift and d^2 over the strided set {p[i * stride + j] : i < rows, j < run},
// shift = its first value: E[d^2] - E[d]^2 then stays free of cancellation when the mean is
// large against the spread (the shifted-data variance algorithm).
template <typename T>
struct Moments {
  T shift;
  double sum, squares;
};
template <typename T>
Moments<T> moments(const T* p, int64_t rows, int64_t stride, int64_t run) {
  Moments<T> result{rows > 0 && run > 0 ? p[0] : T(0), 0, 0};
  cpu::dispatch([&](auto) {
    // The shift, pointers and counts local and the loop from 0: g++ 12 leaves this loop
    // scalar otherwise. Reductions of the loop's own: see cpu::dispatch.
    const T k = result.shift;
    double sum = 0, squares = 0;
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t j0 = 0; j0 < run; j0 += kChunk) {
        const T* r = p + i * stride + j0;
        const int64_t n = std::min(run - j0, kChunk);
        T s = 0, q = 0;
#pragma omp simd reduction(+ : s, q)
        for (int64_t j = 0; j < n; ++j) {
          const T d = r[j] - k;
          s += d;
          q += d * d;
        }
        sum += s, squares += q;
      }
    }
    result.sum = sum, result.squares = squares;
  });
  return result;
}

}  // namespace

// y = (x - mean) * inv_std * gamma + beta per channel.   Backward in closed form (file comment);
// dgamma = sum(dy * xhat), dbeta = sum(dy). In eval the statistics are constants: dx = dy gamma inv_std.
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, float momentum,
                  float eps) {
  check(input.dim() >= 2, "batch_norm: expected an input [N, C, *] of at least 2 dims, got {}",
        input.shape());
  const Layout L = layout_of(input);
  check_channels(running_mean, L.c, "running_mean", input, "batch_norm");
  check_channels(running_var, L.c, "running_var", input, "batch_norm");
  check_channels(weight, L.c, "weight", input, "batch_norm");
  check_channels(bias, L.c, "bias", input, "batch_norm");
  check(running_mean.defined() == running_var.defined(),
        "batch_norm: running_mean and running_var must be given together");
  check(!running_mean.defined() || (running_mean.is_contiguous() && running_var.is_contiguous()),
        "batch_norm: running_mean and running_var must be contiguous");
  if (training)
    check(L.n * L.s > 1,
          "batch_norm: expected more than 1 value per channel when training, got input of shape {}",
          input.shape());
  else
    check(running_mean.defined(),
          "batch_norm: running_mean and running_var are needed when not training");
  for (const Tensor* t : {&weight, &bias, &running_mean, &running_var})
    check_dtype(*t, input, "batch_norm");

  Tensor x = input.contiguous(), y = kernels::empty_like(x);
  Tensor mean = kernels::empty_like(x, {L.c}), inv_std = kernels::empty_like(x, {L.c});
  const double count = double(L.n * L.s);
  dispatch_floating(x.dtype(), "batch_norm", [&]<typename T>(std::type_identity<T>) {
    const T *xd = x.data_ptr<T>(), *gamma = weight.defined() ? weight.data_ptr<T>() : nullptr,
            *beta = bias.defined() ? bias.data_ptr<T>() : nullptr;
    T *yd = y.data_ptr<T>(), *md = mean.data_ptr<T>(), *isd = inv_std.data_ptr<T>();
    T* rmd = running_mean.defined() ? running_mean.data_ptr<T>() : nullptr;
    T* rvd = running_var.defined() ? running_var.data_ptr<T>() : nullptr;
    kernels::parallel_for(L.c, std::max<int64_t>(1, (1 << 15) / std::max<double>(count, 1)),
                          [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        const T* xc = xd + c * L.s;
        double var;
        if (training) {
          const Moments<T> mo = moments(xc, L.n, L.c * L.s, L.s);
          md[c] = T(mo.shift + mo.sum / count);
          var = std::max(mo.squares / count - (mo.sum / count) * (mo.sum / count), 0.0);
          if (rmd) {  // PyTorch stores the unbiased variance
            rmd[c] = (1 - momentum) * rmd[c] + momentum * md[c];
            rvd[c] = (1 - momentum) * rvd[c] + momentum * T(var * count / (count - 1));
          }
        } else {
          md[c] = rmd[c];
          var = rvd[c];
        }
        isd[c] = T(1 / std::sqrt(var + eps));
        T scale = isd[c] * (gamma ? gamma[c] : T(1));
        T shift = (beta ? beta[c] : T(0)) - md[c] * scale;
        cpu::dispatch([&](auto) {
          for (int64_t n = 0; n < L.n; ++n) {
            const T* in = xc + n * L.c * L.s;
            T* out = yd + (in - xd);
#pragma omp simd
            for (int64_t s = 0; s < L.s; ++s) out[s] = in[s] * scale + shift;
          }
        });
      }
    });
  });

  record("batch_norm", y, {x, weight, bias},
         [x, weight, mean, inv_std, training, L](const Tensor& g, NeedsGrad need) {
    Tensor gy = g.contiguous();
    Tensor gx = need[0] ? kernels::empty_like(x) : Tensor();
    Tensor gw = need[1] ? kernels::empty_like(x, {L.c}) : Tensor();
    Tensor gb = need[2] ? kernels::empty_like(x, {L.c}) : Tensor();
    const double count = double(L.n * L.s);
    dispatch_floating(x.dtype(), "batch_norm", [&]<typename T>(std::type_identity<T>) {
      const T *xd = x.data_ptr<T>(), *gyd = gy.data_ptr<T>(), *md = mean.data_ptr<T>(),
              *isd = inv_std.data_ptr<T>();
      const T* gamma = weight.defined() ? weight.data_ptr<T>() : nullptr;
      T* gxd = need[0] ? gx.data_ptr<T>() : nullptr;
      kernels::parallel_for(L.c, std::max<int64_t>(1, (1 << 15) / std::max<double>(count, 1)),
                            [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c) {
          const T m = md[c], is = isd[c];
          double sum_gy = 0, sum_gy_xhat = 0;
          cpu::dispatch([&](auto) {
            double sg = 0, sgx = 0;  // reductions of the loop's own: see cpu::dispatch
            for (int64_t n = 0; n < L.n; ++n) {
              for (int64_t s0 = 0; s0 < L.s; s0 += kChunk) {  // T chunks, as in moments
                const int64_t o = (n * L.c + c) * L.s + s0, len = std::min(L.s - s0, kChunk);
                const T *xr = xd + o, *gr = gyd + o, mu = m;
                T a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
                for (int64_t s = 0; s < len; ++s) {
                  a += gr[s];
                  b += gr[s] * (xr[s] - mu);
                }
                sg += a, sgx += b;
              }
            }
            sum_gy = sg, sum_gy_xhat = sgx * is;
          });
          if (need[1]) gw.data_ptr<T>()[c] = T(sum_gy_xhat);
          if (need[2]) gb.data_ptr<T>()[c] = T(sum_gy);
          if (!need[0]) continue;
          const T k = (gamma ? gamma[c] : T(1)) * is;
          // Training: dx = k (gy - mean(gy) - xhat mean(gy xhat)); eval: dx = k gy.
          const T a = training ? T(sum_gy / count) : T(0);
          const T b = training ? T(sum_gy_xhat / count) : T(0);
          cpu::dispatch([&](auto) {
            for (int64_t n = 0; n < L.n; ++n) {
              const int64_t o = (n * L.c + c) * L.s;
              const T *xr = xd + o, *gr = gyd + o;
              T* dr = gxd + o;
#pragma omp simd
              for (int64_t s = 0; s < L.s; ++s) dr[s] = k * (gr[s] - a - (xr[s] - m) * is * b);
            }
          });
        }
      });
    });
    return grads(gx, gw, gb);
  }).saves(x, weight).once_differentiable();

  record_tangent(y, {x, weight, bias}, [&](const Tensor& tx, const Tensor& tw, const Tensor& tb) {
    // Statistics are recomputed with differentiable ops so that reverse-over-forward
    // (Hessian-vector products) sees their dependence on x.
    const Shape cs = channel_shape(x), dims = non_channel_dims(x);
    Tensor xhat, is;
    if (training) {
      Tensor centred = x - x.mean(dims, true);
      is = (centred.pow(2).mean(dims, true) + eps).rsqrt();
      xhat = centred * is;
    } else {
      is = inv_std.view(cs);
      xhat = (x - mean.view(cs)) * is;
    }
    Tensor t;
    if (detail::has_tangent(x)) {
      Tensor txhat = training ? (tx - tx.mean(dims, true) - xhat * (tx * xhat).mean(dims, true)) * is
                              : tx * is;
      accumulate(t, weight.defined() ? txhat * weight.view(cs) : txhat);
    }
    if (detail::has_tangent(weight)) accumulate(t, xhat * tw.view(cs));
    if (detail::has_tangent(bias)) accumulate(t, tb.view(cs).expand(x.shape()).contiguous());
    return t;
  });
  return y;
}

// y = (x - mean_g) * inv_std_g * gamma_c + beta_c with statistics per (sample, group).
// Backward: the closed form of the file comment per group; dgamma, dbeta summed over n and s.
Tensor group_norm(const Tensor& input, int64_t num_groups, const Tensor& weight,
                  const Tensor& bias, float eps) {
  check(input.dim() >= 2, "group_norm: expected an input [N, C, *] of at least 2 dims, got {}",
        input.shape());
  const Layout L = layout_of(input);
  check(num_groups >= 1 && L.c % num_groups == 0,
        "group_norm: {} channels are not divisible by num_groups {} (input {})", L.c, num_groups,
        input.shape());
  check_channels(weight, L.c, "weight", input, "group_norm");
  check_channels(bias, L.c, "bias", input, "group_norm");
  check_dtype(weight, input, "group_norm");
  check_dtype(bias, input, "group_norm");
  const int64_t G = num_groups, cg = L.c / G, m = cg * L.s;  // channels and values per group
  Tensor x = input.contiguous(), y = kernels::empty_like(x);
  Tensor mean = kernels::empty_like(x, {L.n * G}), inv_std = kernels::empty_like(x, {L.n * G});
  const int64_t grain = std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(m, 1));
  dispatch_floating(x.dtype(), "group_norm", [&]<typename T>(std::type_identity<T>) {
    const T *xd = x.data_ptr<T>(), *gamma = weight.defined() ? weight.data_ptr<T>() : nullptr,
            *beta = bias.defined() ? bias.data_ptr<T>() : nullptr;
    T *yd = y.data_ptr<T>(), *md = mean.data_ptr<T>(), *isd = inv_std.data_ptr<T>();
    kernels::parallel_for(L.n * G, grain, [&](int64_t begin, int64_t end) {
      for (int64_t ng = begin; ng < end; ++ng) {
        const Moments<T> mo = moments(xd + ng * m, 1, 0, m);
        const double shifted_mean = m ? mo.sum / m : 0;
        double mu = mo.shift + shifted_mean,
               var = m ? std::max(mo.squares / m - shifted_mean * shifted_mean, 0.0) : 0;
        md[ng] = T(mu), isd[ng] = T(1 / std::sqrt(var + eps));
        for (int64_t j = 0; j < cg; ++j) {
          int64_t c = ng % G * cg + j;
          T scale = isd[ng] * (gamma ? gamma[c] : T(1));
          T shift = (beta ? beta[c] : T(0)) - md[ng] * scale;
          const T* in = xd + ng * m + j * L.s;
          T* out = yd + ng * m + j * L.s;
          cpu::dispatch([&](auto) {
#pragma omp simd
            for (int64_t s = 0; s < L.s; ++s) out[s] = in[s] * scale + shift;
          });
        }
      }
    });
  });

  record("group_norm", y, {x, weight, bias},
         [x, weight, mean, inv_std, L, G](const Tensor& g, NeedsGrad need) {
    Tensor gy = g.contiguous();
    const int64_t cg = L.c / G, m = cg * L.s;
    Tensor gx = need[0] ? kernels::empty_like(x) : Tensor();
    Tensor gw = need[1] ? kernels::zeros_like(x, {L.c}) : Tensor();
    Tensor gb = need[2] ? kernels::zeros_like(x, {L.c}) : Tensor();
    const int64_t grain = std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(m, 1));
    dispatch_floating(x.dtype(), "group_norm", [&]<typename T>(std::type_identity<T>) {
      // Per (sample, channel) parts of dgamma and dbeta, summed over samples afterwards.
      std::vector<T> part_w(L.n * L.c), part_b(L.n * L.c);
      const T *xd = x.data_ptr<T>(), *gyd = gy.data_ptr<T>(), *md = mean.data_ptr<T>(),
              *isd = inv_std.data_ptr<T>();
      const T* gamma = weight.defined() ? weight.data_ptr<T>() : nullptr;
      T* gxd = need[0] ? gx.data_ptr<T>() : nullptr;
      kernels::parallel_for(L.n * G, grain, [&](int64_t begin, int64_t end) {
        for (int64_t ng = begin; ng < end; ++ng) {
          const T mu = md[ng], is = isd[ng];
          double sum_d = 0, sum_d_xhat = 0;  // of dxhat = dy * gamma
          for (int64_t j = 0; j < cg; ++j) {
            const int64_t c = ng % G * cg + j, o = ng * m + j * L.s;
            const T *xr = xd + o, *gr = gyd + o, gm = gamma ? gamma[c] : T(1);
            double sg = 0, sgx = 0;
            cpu::dispatch([&](auto) {
              double a = 0, b = 0;  // reductions of the loop's own: see cpu::dispatch
#pragma omp simd reduction(+ : a, b)
              for (int64_t s = 0; s < L.s; ++s) a += gr[s], b += gr[s] * (xr[s] - mu) * is;
              sg = a, sgx = b;
            });
            part_b[ng / G * L.c + c] = T(sg), part_w[ng / G * L.c + c] = T(sgx);
            sum_d += gm * sg, sum_d_xhat += gm * sgx;
          }
          if (!need[0]) continue;
          const T a = m ? T(sum_d / m) : T(0), b = m ? T(sum_d_xhat / m) : T(0);
          for (int64_t j = 0; j < cg; ++j) {
            const int64_t c = ng % G * cg + j, o = ng * m + j * L.s;
            const T *xr = xd + o, *gr = gyd + o, gm = gamma ? gamma[c] : T(1);
            T* dr = gxd + o;
            cpu::dispatch([&](auto) {
#pragma omp simd
              for (int64_t s = 0; s < L.s; ++s)
                dr[s] = is * (gm * gr[s] - a - (xr[s] - mu) * is * b);
            });
          }
        }
      });
      for (int64_t n = 0; n < L.n; ++n)
        for (int64_t c = 0; c < L.c; ++c) {
          if (need[1]) gw.data_ptr<T>()[c] += part_w[n * L.c + c];
          if (need[2]) gb.data_ptr<T>()[c] += part_b[n * L.c + c];
        }
    });
    return grads(gx, gw, gb);
  }).saves(x, weight).once_differentiable();

  record_tangent(y, {x, weight, bias}, [&](const Tensor& tx, const Tensor& tw, const Tensor& tb) {
    // Differentiable statistics, as in batch_norm, for reverse-over-forward.
    const Shape cs = channel_shape(x), grouped{L.n, G, m};
    Tensor xg = x.reshape(grouped), centred = xg - xg.mean({2}, true);
    Tensor is = (centred.pow(2).mean({2}, true) + eps).rsqrt(), xhat = centred * is;
    Tensor t;
    if (detail::has_tangent(x)) {
      Tensor tg = tx.reshape(grouped);
      Tensor txhat = ((tg - tg.mean({2}, true) - xhat * (tg * xhat).mean({2}, true)) * is)
                         .reshape(x.shape());
      accumulate(t, weight.defined() ? txhat * weight.view(cs) : txhat);
    }
    if (detail::has_tangent(weight)) accumulate(t, xhat.reshape(x.shape()) * tw.view(cs));
    if (detail::has_tangent(bias)) accumulate(t, tb.view(cs).expand(x.shape()).contiguous());
    return t;
  });
  return y;
}

Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, float eps) {
  const int d = normalized_shape.size(), r = input.dim();
  bool matches = d >= 1 && r >= d;
  for (int i = 0; matches && i < d; ++i) matches = input.size(r - d + i) == normalized_shape[i];
  check(matches, "layer_norm: normalized_shape {} does not match the trailing dims of input {}",
        normalized_shape, input.shape());
  for (const Tensor* t : {&weight, &bias})
    check(!t->defined() || t->shape() == normalized_shape,
          "layer_norm: {} of shape {} does not match normalized_shape {}",
          t == &weight ? "weight" : "bias", t->defined() ? t->shape() : Shape{}, normalized_shape);
  check_dtype(weight, input, "layer_norm");
  check_dtype(bias, input, "layer_norm");
  // Rows of F features become samples with F channels of one value each, all in one group.
  const int64_t features = normalized_shape.numel(), rows = input.numel() / std::max<int64_t>(features, 1);
  auto flat = [features](const Tensor& t) { return t.defined() ? t.reshape({features}) : t; };
  return group_norm(input.reshape({rows, features, 1}), 1, flat(weight), flat(bias), eps)
      .reshape(input.shape());
}

}  // namespace functional

// ---- modules ------------------------------------------------------------------------------

BatchNorm::BatchNorm(int64_t features, float eps_, float momentum_, bool affine_, bool track,
                     int min_dim, int max_dim)
    : num_features(features), eps(eps_), momentum(momentum_), affine(affine_),
      track_running_stats(track), min_dim_(min_dim), max_dim_(max_dim) {
  check(features > 0, "BatchNorm: num_features must be positive, got {}", features);
  check(eps > 0, "BatchNorm: eps must be positive, got {}", eps);
  check(momentum >= 0 && momentum <= 1, "BatchNorm: momentum must be in [0, 1], got {}", momentum);
  if (affine) {
    weight = register_parameter("weight", ones({features}));
    bias = register_parameter("bias", zeros({features}));
  }
  if (track) {
    running_mean = register_buffer("running_mean", zeros({features}));
    running_var = register_buffer("running_var", ones({features}));
    num_batches_tracked = register_buffer("num_batches_tracked", scalar_tensor(0));
  }
}

Tensor BatchNorm::forward(const Tensor& input) {
  check(input.dim() >= min_dim_ && input.dim() <= max_dim_, "{}: expected {} input, got {}",
        name(), min_dim_ == max_dim_ ? fmt::format("{}-D", min_dim_)
                                     : fmt::format("{}-D or {}-D", min_dim_, max_dim_),
        input.shape());
  check(input.size(1) == num_features, "{}: expected {} channels (num_features), got input {}",
        name(), num_features, input.shape());
  if (is_training() && track_running_stats) {
    NoGradGuard no_grad;
    num_batches_tracked += 1.0f;
  }
  // Without running statistics, eval mode also normalises with the batch's own.
  bool use_batch_stats = is_training() || !track_running_stats;
  return functional::batch_norm(input, running_mean, running_var, weight, bias, use_batch_stats,
                                momentum, eps);
}

std::string BatchNorm::extra_repr() const {
  return fmt::format("{}, eps={}, momentum={}, affine={}, track_running_stats={}", num_features,
                     eps, momentum, affine ? "True" : "False",
                     track_running_stats ? "True" : "False");
}

BatchNorm1d::BatchNorm1d(int64_t features, float eps, float momentum, bool affine, bool track)
    : BatchNorm(features, eps, momentum, affine, track, 2, 3) {}

BatchNorm2d::BatchNorm2d(int64_t features, float eps, float momentum, bool affine, bool track)
    : BatchNorm(features, eps, momentum, affine, track, 4, 4) {}

GroupNorm::GroupNorm(int64_t groups, int64_t channels, float eps_, bool affine_)
    : num_groups(groups), num_channels(channels), eps(eps_), affine(affine_) {
  check(groups >= 1 && channels >= 1 && channels % groups == 0,
        "GroupNorm: num_channels {} is not divisible by num_groups {}", channels, groups);
  if (affine) {
    weight = register_parameter("weight", ones({channels}));
    bias = register_parameter("bias", zeros({channels}));
  }
}

Tensor GroupNorm::forward(const Tensor& input) {
  check(input.dim() >= 2 && input.size(1) == num_channels,
        "GroupNorm: expected an input [N, {}, *], got {}", num_channels, input.shape());
  return functional::group_norm(input, num_groups, weight, bias, eps);
}

std::string GroupNorm::extra_repr() const {
  return fmt::format("{}, {}, eps={}, affine={}", num_groups, num_channels, eps,
                     affine ? "True" : "False");
}

LayerNorm::LayerNorm(const Shape& shape, float eps_, bool affine)
    : normalized_shape(shape), eps(eps_), elementwise_affine(affine) {
  check(shape.size() >= 1 && shape.numel() > 0,
        "LayerNorm: normalized_shape must be non-empty, got {}", shape);
  if (affine) {
    weight = register_parameter("weight", ones(shape));
    bias = register_parameter("bias", zeros(shape));
  }
}

Tensor LayerNorm::forward(const Tensor& input) {
  return functional::layer_norm(input, normalized_shape, weight, bias, eps);
}

std::string LayerNorm::extra_repr() const {
  std::string dims = fmt::format("{}", fmt::join(normalized_shape, ", "));
  if (normalized_shape.size() == 1) dims += ",";  // a Python 1-tuple: (4,)
  return fmt::format("({}), eps={}, elementwise_affine={}", dims, eps,
                     elementwise_affine ? "True" : "False");
}

InstanceNorm2d::InstanceNorm2d(int64_t features, float eps_, bool affine_)
    : num_features(features), eps(eps_), affine(affine_) {
  check(features > 0, "InstanceNorm2d: num_features must be positive, got {}", features);
  if (affine) {
    weight = register_parameter("weight", ones({features}));
    bias = register_parameter("bias", zeros({features}));
  }
}

Tensor InstanceNorm2d::forward(const Tensor& input) {
  check(input.dim() == 3 || input.dim() == 4,
        "InstanceNorm2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got {}",
        input.shape());
  if (input.dim() == 3) return forward(input.unsqueeze(0)).squeeze(0);
  check(input.size(1) == num_features, "InstanceNorm2d: expected {} channels, got input {}",
        num_features, input.shape());
  return functional::group_norm(input, num_features, weight, bias, eps);
}

std::string InstanceNorm2d::extra_repr() const {
  return fmt::format("{}, eps={}, affine={}", num_features, eps, affine ? "True" : "False");
}

}  // namespace tg::nn
