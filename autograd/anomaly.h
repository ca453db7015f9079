// Anomaly detection (like torch.autograd.detect_anomaly): when on, every
// recorded op's output and every gradient computed by backward is checked for
// NaN and Inf, and the first offender is reported by name, shape and position
// on the tape. Off by default: the checks read every element.
#pragma once

#include <span>

#include <tapegrad/autograd/node.h>

namespace tg {

/// Turns the NaN/Inf checks on or off for the whole process.
void set_detect_anomaly(bool enabled);
bool anomaly_detection_enabled();

/// Turns anomaly detection on for a scope.
class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard() : previous_(anomaly_detection_enabled()) { set_detect_anomaly(true); }
  ~DetectAnomalyGuard() { set_detect_anomaly(previous_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};

/// Index of the first NaN or Inf in t, or -1.
int64_t first_non_finite(const Tensor& t);

/// Throws naming `node` when one of its input gradients holds a NaN or Inf.
void check_gradients(const Node& node, std::span<const Tensor> grads);

}  // namespace tg
