// The initialisers. Fan-based ones derive a bound or a std from the weight's
// shape, then defer to uniform_ / normal_; all run under NoGradGuard because
// parameters require grad and in-place changes to them are otherwise refused.
#include <tapegrad/nn/init.h>

#include <cmath>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/core/error.h>

namespace tg::nn::init {

float calculate_gain(Nonlinearity nonlinearity, float param) {
  switch (nonlinearity) {
    case Nonlinearity::Linear:
    case Nonlinearity::Sigmoid: return 1.0f;
    case Nonlinearity::Tanh: return 5.0f / 3.0f;
    case Nonlinearity::ReLU: return std::sqrt(2.0f);
    case Nonlinearity::LeakyReLU: return std::sqrt(2.0f / (1.0f + param * param));
  }
  fail("calculate_gain: unknown nonlinearity {}", int(nonlinearity));
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor) {
  check(tensor.defined(), "calculate_fan_in_and_fan_out: the tensor is undefined");
  check(tensor.dim() >= 2,
        "calculate_fan_in_and_fan_out: fan in and fan out need at least 2 dims, got {}",
        tensor.shape());
  // A conv weight [out, in, kh, kw]: every output sees in * kh * kw inputs.
  int64_t receptive = 1;
  for (int d = 2; d < tensor.dim(); ++d) receptive *= tensor.shape()[d];
  return {tensor.shape()[1] * receptive, tensor.shape()[0] * receptive};
}

namespace {

int64_t fan(const Tensor& tensor, Mode mode) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  return mode == Mode::FanIn ? fan_in : fan_out;
}

}  // namespace

Tensor uniform_(Tensor tensor, float a, float b) {
  NoGradGuard no_grad;
  tensor.uniform_(a, b);
  return tensor;
}

Tensor normal_(Tensor tensor, float mean, float std) {
  NoGradGuard no_grad;
  tensor.normal_(mean, std);
  return tensor;
}

Tensor constant_(Tensor tensor, float value) {
  NoGradGuard no_grad;
  tensor.fill_(value);
  return tensor;
}

Tensor zeros_(Tensor tensor) { return constant_(std::move(tensor), 0.0f); }
Tensor ones_(Tensor tensor) { return constant_(std::move(tensor), 1.0f); }

Tensor xavier_uniform_(Tensor tensor, float gain) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  if (tensor.numel() == 0) return tensor;  // no fan to scale by, nothing to fill
  // U(-a, a) has variance a^2 / 3; Xavier wants gain^2 * 2 / (fan_in + fan_out).
  float a = gain * std::sqrt(6.0f / float(fan_in + fan_out));
  return uniform_(std::move(tensor), -a, a);
}

Tensor xavier_normal_(Tensor tensor, float gain) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
  if (tensor.numel() == 0) return tensor;
  return normal_(std::move(tensor), 0.0f, gain * std::sqrt(2.0f / float(fan_in + fan_out)));
}

Tensor kaiming_uniform_(Tensor tensor, float a, Mode mode, Nonlinearity nonlinearity) {
  int64_t n = fan(tensor, mode);
  if (tensor.numel() == 0) return tensor;
  float bound = calculate_gain(nonlinearity, a) * std::sqrt(3.0f / float(n));
  return uniform_(std::move(tensor), -bound, bound);
}

Tensor kaiming_normal_(Tensor tensor, float a, Mode mode, Nonlinearity nonlinearity) {
  int64_t n = fan(tensor, mode);
  if (tensor.numel() == 0) return tensor;
  return normal_(std::move(tensor), 0.0f, calculate_gain(nonlinearity, a) / std::sqrt(float(n)));
}

}  // namespace tg::nn::init
