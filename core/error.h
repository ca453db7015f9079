// tg::Error: the one exception type for everything a user can get wrong.
// Messages follow "<op>: <what is wrong>: <values>", e.g.
//   matmul: shapes [4, 3] and [4, 1] are not aligned (3 != 4)
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace tg {

/// Thrown for every user-caused error (bad shapes, bad files, bad options).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// Throws tg::Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

/// Throws tg::Error unless `condition` holds.
template <typename... Args>
void check(bool condition, fmt::format_string<Args...> format, Args&&... args) {
  if (!condition) [[unlikely]] fail(format, std::forward<Args>(args)...);
}

}  // namespace tg
