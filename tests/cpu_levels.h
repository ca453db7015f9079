// Runs a computation at every instruction-set level this CPU supports (cpu::dispatch) and
// checks that each level gives the baseline's values: the AVX2 and AVX-512 copies of a loop
// must compute what the plain x86-64 copy computes, tails and strides included.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <tapegrad/core/cpu.h>

namespace tg::test {

/// The levels this CPU runs, lowest (baseline) first.
inline std::vector<cpu::Capability> supported_levels() {
  std::vector<cpu::Capability> levels;
  for (auto c : {cpu::Capability::baseline, cpu::Capability::avx2, cpu::Capability::avx512})
    if (c <= cpu::detected()) levels.push_back(c);
  return levels;
}

/// Restores the level in use when the test ends.
struct CapabilityGuard {
  cpu::Capability saved = cpu::capability();
  ~CapabilityGuard() { cpu::set_capability(saved); }
};

/// compute() at the baseline level, then at every other level, each compared with the first
/// element by element: |got - want| <= tol * max(1, |want|) (tol 0: bit for bit, NaN = NaN).
inline void check_levels_agree(const std::function<std::vector<float>()>& compute,
                               float tol = 0) {
  CapabilityGuard guard;
  cpu::set_capability(cpu::Capability::baseline);
  const std::vector<float> want = compute();
  for (cpu::Capability level : supported_levels()) {
    if (level == cpu::Capability::baseline) continue;
    cpu::set_capability(level);
    const std::vector<float> got = compute();
    const std::string level_name = cpu::name(level);  // INFO keeps a reference
    INFO("level ", level_name);
    REQUIRE(got.size() == want.size());
    size_t bad = 0, first_bad = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      bool same = std::isnan(want[i]) ? std::isnan(got[i])
                                      : std::fabs(got[i] - want[i]) <=
                                            tol * std::max(1.0f, std::fabs(want[i]));
      if (!same && bad++ == 0) first_bad = i;
    }
    INFO("first difference at ", first_bad, ": ", got[first_bad], " vs baseline ",
         want[first_bad]);
    CHECK(bad == 0);
  }
}

/// Appends t's values to out (for collecting several results of one computation).
template <typename T>
void append(std::vector<float>& out, const T& t) {
  std::vector<float> v = t.to_vector();
  out.insert(out.end(), v.begin(), v.end());
}

}  // namespace tg::test
