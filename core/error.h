// tg::Error: the one exception type for everything a user can get wrong.
// Messages follow "<op>: <what is wrong>: <values>", e.g.
//   matmul: shapes [4, 3] and [4, 1] are not aligned (3 != 4)
// check() and fail() only pack their arguments: the formatting is one function in error.cpp,
// so this header needs fmt's light <fmt/core.h>, not <fmt/format.h> (a check costs a call).
#pragma once

#include <fmt/core.h>

#include <stdexcept>
#include <string>

namespace tg {

/// Thrown for every user-caused error (bad shapes, bad files, bad options).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
/// Formats the message and throws it as tg::Error (out of line: one copy of the formatting).
[[noreturn]] void throw_error(fmt::string_view format, fmt::format_args args);
}  // namespace detail

/// Throws tg::Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  detail::throw_error(format, fmt::make_format_args(args...));
}

/// Throws tg::Error unless `condition` holds.
template <typename... Args>
void check(bool condition, fmt::format_string<Args...> format, Args&&... args) {
  if (!condition) [[unlikely]] detail::throw_error(format, fmt::make_format_args(args...));
}

}  // namespace tg
