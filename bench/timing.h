// Timing helpers for the benchmark programs: warm up, repeat, take the median.
#pragma once

#include <algorithm>
#include <chrono>
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

}  // namespace tg::bench
