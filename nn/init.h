// nn::init: PyTorch's parameter initialisers (torch.nn.init). Each fills a
// tensor in place under NoGradGuard, so it works on parameters, draws from
// tg::default_generator() (seeded by manual_seed) and returns the tensor.
// Kaiming (He et al. 2015) and Xavier (Glorot & Bengio 2010) scale by fan-in/out.
#pragma once

#include <cstdint>
#include <utility>

#include <tapegrad/autograd/tensor.h>

namespace tg::nn::init {

/// Which fan Kaiming init preserves: the forward pass's variance (FanIn) or backward's (FanOut).
enum class Mode { FanIn, FanOut };

/// The nonlinearity that follows the layer; it sets the gain of Kaiming init.
enum class Nonlinearity { Linear, Sigmoid, Tanh, ReLU, LeakyReLU };

/// PyTorch's recommended gain: 1 (Linear, Sigmoid), 5/3 (Tanh), sqrt(2) (ReLU),
/// sqrt(2 / (1 + param^2)) (LeakyReLU, param = negative slope).
float calculate_gain(Nonlinearity nonlinearity, float param = 0.01f);

/// (fan_in, fan_out) of a weight [out, in, *kernel]: in * kernel size and out * kernel size.
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor);

/// Fills with U(a, b).
Tensor uniform_(Tensor tensor, float a = 0.0f, float b = 1.0f);
/// Fills with N(mean, std^2).
Tensor normal_(Tensor tensor, float mean = 0.0f, float std = 1.0f);
/// Fills with `value`.
Tensor constant_(Tensor tensor, float value);
/// Fills with 0.
Tensor zeros_(Tensor tensor);
/// Fills with 1.
Tensor ones_(Tensor tensor);
/// U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).
Tensor xavier_uniform_(Tensor tensor, float gain = 1.0f);
/// N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).
Tensor xavier_normal_(Tensor tensor, float gain = 1.0f);
/// U(-bound, bound) with bound = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).
Tensor kaiming_uniform_(Tensor tensor, float a = 0.0f, Mode mode = Mode::FanIn,
                        Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);
/// N(0, std^2) with std = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a).
Tensor kaiming_normal_(Tensor tensor, float a = 0.0f, Mode mode = Mode::FanIn,
                       Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);

}  // namespace tg::nn::init
