// Timing helpers for the benchmark programs: warm up, repeat, take the median.
#pragma once

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

namespace tg::bench {

/// Median wall time in seconds of `repeats` calls of f, after `warmup` calls.
template <typename F>
double median_seconds(F&& f, int repeats = 7, int warmup = 2) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    auto t1 = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double>(t1 - t0).count());
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

/// Wall time in seconds of one call of f.
template <typename F>
double seconds(F&& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// The wall times in seconds of `repeats` calls of f, after `warmup` untimed calls.
template <typename F>
std::vector<double> sample_seconds(F&& f, int repeats, int warmup = 1) {
  for (int i = 0; i < warmup; ++i) f();
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) times.push_back(seconds(f));
  return times;
}

/// The median of `values` (the mean of the middle two for an even count; Python's
/// statistics.median, which the PyTorch side uses); 0 for none.
inline double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/// A memory figure of this process in MiB from /proc/self/status: "VmHWM" (peak resident
/// set size) or "VmRSS" (current); -1 where there is no /proc.
inline double proc_status_mib(const std::string& field = "VmHWM") {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024;
  return -1;
}

/// Peak resident set size of this process in MiB (VmHWM).
inline double peak_rss_mib() { return proc_status_mib("VmHWM"); }

}  // namespace tg::bench
