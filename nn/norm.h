// Normalisation layers over functional::batch_norm / group_norm / layer_norm
// (declared in nn/functional.h, fused ops in norm.cpp). BatchNorm1d/2d keep
// running statistics as buffers; GroupNorm, LayerNorm and InstanceNorm2d share the
// group-norm kernel: LayerNorm is one group over the normalised trailing dims, and
// InstanceNorm2d is one group per channel (PyTorch's track_running_stats = false).
#pragma once

#include <string>

#include <tapegrad/autograd/tensor.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/module.h>

namespace tg::nn {

/// Shared state and forward of BatchNorm1d and BatchNorm2d (PyTorch's _BatchNorm).
class BatchNorm : public Module {
 public:
  /// y = (x - mean) / sqrt(var + eps) * weight + bias per channel, with batch statistics in
  /// training mode and the running ones in eval mode (or batch ones without running stats).
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  ///< "3, eps=1e-05, momentum=0.1, affine=True, ..."

  int64_t num_features;               ///< channels C
  float eps, momentum;                ///< momentum weighs the new batch in the running stats
  bool affine, track_running_stats;   ///< whether weight/bias and running stats exist
  Tensor weight, bias;                   ///< [C], when affine: initialised to 1 and 0
  Tensor running_mean, running_var;      ///< [C] buffers, when track_running_stats: 0 and 1
  Tensor num_batches_tracked;            ///< 0-d buffer counting training batches

 protected:
  BatchNorm(int64_t num_features, float eps, float momentum, bool affine,
            bool track_running_stats, int min_dim, int max_dim);

 private:
  int min_dim_, max_dim_;  // accepted input ranks
};

/// Batch normalisation of [N, C] or [N, C, L] inputs.
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, float eps = 1e-5f, float momentum = 0.1f,
                       bool affine = true, bool track_running_stats = true);
};

/// Batch normalisation of [N, C, H, W] inputs.
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, float eps = 1e-5f, float momentum = 0.1f,
                       bool affine = true, bool track_running_stats = true);
};

/// Group normalisation: statistics per sample over groups of num_channels / num_groups.
class GroupNorm : public Module {
 public:
  GroupNorm(int64_t num_groups, int64_t num_channels, float eps = 1e-5f, bool affine = true);
  /// group_norm(input, num_groups, weight, bias, eps).
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  ///< "2, 6, eps=1e-05, affine=True"

  int64_t num_groups, num_channels;  ///< the sizes given to the constructor
  float eps;                         ///< added to the variance
  bool affine;                       ///< whether weight and bias exist
  Tensor weight, bias;  ///< [C], when affine: 1 and 0
};

/// Layer normalisation over the trailing dims `normalized_shape` (per-element affine).
class LayerNorm : public Module {
 public:
  explicit LayerNorm(const Shape& normalized_shape, float eps = 1e-5f,
                     bool elementwise_affine = true);
  /// layer_norm(input, normalized_shape, weight, bias, eps).
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  ///< "(5,), eps=1e-05, elementwise_affine=True"

  Shape normalized_shape;   ///< the trailing dims normalised together
  float eps;                ///< added to the variance
  bool elementwise_affine;  ///< whether weight and bias exist
  Tensor weight, bias;  ///< of normalized_shape, when elementwise_affine: 1 and 0
};

/// Instance normalisation of [N, C, H, W]: each (sample, channel) plane normalised on its own;
/// group_norm with num_groups = C. No running statistics (PyTorch's default
/// track_running_stats = false), hence no momentum argument.
class InstanceNorm2d : public Module {
 public:
  explicit InstanceNorm2d(int64_t num_features, float eps = 1e-5f, bool affine = false);
  /// group_norm(input, C, weight, bias, eps) for 4-D (or unbatched 3-D) input.
  Tensor forward(const Tensor& input) override;
  std::string extra_repr() const override;  ///< "3, eps=1e-05, affine=False"

  int64_t num_features;  ///< channels C
  float eps;             ///< added to the variance
  bool affine;           ///< whether weight and bias exist
  Tensor weight, bias;  ///< [C], when affine: 1 and 0
};

}  // namespace tg::nn
