// The global random generator behind rand, randn, randperm, init and dropout.
// Our own uniform and Box-Muller normal transforms (not <random>'s
// distributions, whose output differs between standard libraries), so a seed
// gives the same numbers everywhere.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace tg {

struct Generator {
  std::mt19937_64 engine{5489u};
  bool has_spare_normal = false;  // Box-Muller makes normals in pairs
  float spare_normal = 0;

  float uniform();  ///< in [0, 1), 24 random bits
  float normal();   ///< standard normal
  uint64_t below(uint64_t n);  ///< uniform integer in [0, n)
  void seed(uint64_t s);
  std::string state() const;  ///< the full state as text, for checkpoints
  void set_state(const std::string& text);
};

/// Seeds the global generator used by rand, randn, randperm, init and dropout.
void manual_seed(uint64_t seed);
/// The global generator, for components that draw their own numbers.
Generator& default_generator();

}  // namespace tg
