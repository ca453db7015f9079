// NaN/Inf checks on recorded outputs and on gradients.
#include <tapegrad/autograd/anomaly.h>

#include <atomic>
#include <cmath>
#include <vector>

namespace tg {

namespace {
std::atomic<bool> anomaly_enabled{false};
}

void set_detect_anomaly(bool enabled) { anomaly_enabled = enabled; }
bool anomaly_detection_enabled() { return anomaly_enabled; }

int64_t first_non_finite(const Tensor& t) {
  std::vector<double> v = t.to_vector<double>();
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i])) return int64_t(i);
  return -1;
}

void detail::after_record(const Tensor& y) {
  if (!anomaly_enabled) return;
  int64_t i = first_non_finite(y);
  if (i < 0) return;
  const Node& n = *y.grad_fn();
  std::string inputs;
  for (const Edge& e : n.edges)
    inputs += fmt::format("{}{}", inputs.empty() ? "" : ", ",
                          e.node ? fmt::format("#{} {} {}", e.node->sequence, e.node->name, e.node->shape)
                                 : e.leaf ? fmt::format("leaf {}", e.leaf->shape) : std::string("constant"));
  fail("anomaly: op '{}' (#{} on the tape) produced {} at flat index {} of its output {}; "
       "its recorded inputs: {}", n.name, n.sequence, y.to_vector<double>()[size_t(i)], i, y.shape(), inputs);
}

void check_gradients(const Node& node, std::span<const Tensor> grads) {
  for (size_t k = 0; k < grads.size(); ++k) {
    if (!grads[k].defined()) continue;
    int64_t i = first_non_finite(grads[k]);
    if (i >= 0)
      fail("anomaly: backward of op '{}' (#{} on the tape, output {}) produced {} in the gradient "
           "of input {} (shape {}) at flat index {}", node.name, node.sequence, node.shape,
           grads[k].to_vector<double>()[size_t(i)], k, grads[k].shape(), i);
  }
}

}  // namespace tg
