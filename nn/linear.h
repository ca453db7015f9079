// Linear: the fully connected layer y = x W^T + b, with PyTorch's default
// initialisation, so a model started from the same numbers trains the same.
#pragma once

#include <cstdint>
#include <string>

#include <tapegrad/nn/module.h>

namespace tg::nn {

/// y = x W^T + b for x [*, in_features]; y is [*, out_features].
class Linear : public Module {
 public:
  /// weight and bias ~ U(-1/sqrt(in_features), 1/sqrt(in_features)), as in PyTorch.
  Linear(int64_t in_features, int64_t out_features, bool bias = true);

  /// functional::linear(input, weight, bias).
  Tensor forward(const Tensor& input) override;
  /// Draws weight and bias again (kaiming_uniform_ with a = sqrt(5), then the bias bound).
  void reset_parameters();
  /// "in_features=4, out_features=3, bias=True".
  std::string extra_repr() const override;

  int64_t in_features, out_features;  ///< the sizes given to the constructor
  Tensor weight;  ///< [out_features, in_features]
  Tensor bias;    ///< [out_features]; undefined when constructed with bias = false
};

}  // namespace tg::nn
