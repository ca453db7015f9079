// The libFuzzer side of a target: a private scratch folder (on /dev/shm when it exists, so no
// disk I/O per input) and the rule that tg::Error is an expected outcome. Any other exception
// escapes LLVMFuzzerTestOneInput, which libFuzzer reports as a crash (abort on terminate).
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "tests/fuzz/targets.h"

namespace tg::fuzz {

/// A folder that lives as long as the fuzzing process (removed at a normal exit).
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::string pattern =
        std::string(std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp") +
        "/tapegrad-fuzz-XXXXXX";
    if (!::mkdtemp(pattern.data())) std::abort();
    return std::filesystem::path(pattern);
  }();
  // Registered once dir is built, so it runs before dir is destroyed: exit() runs atexit
  // functions and static destructors in the reverse order of their registration. (Registered
  // inside dir's initializer, it ran after: ASan heap-use-after-free at exit.)
  [[maybe_unused]] static const bool removed_at_exit = std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }) == 0;
  return dir;
}

/// Runs feed(bytes); a tg::Error is fine.
template <typename Feed>
int run_one(const uint8_t* data, size_t size, Feed&& feed) {
  try {
    feed(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const tg::Error&) {
  }
  return 0;
}

}  // namespace tg::fuzz
