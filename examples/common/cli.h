// Tiny command-line parsing shared by the examples: `--name value` pairs and
// flags, with a one-line error (exit code 2) for anything unknown or malformed.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

namespace tg::examples {

/// Thrown for bad command lines; mains print it and exit with code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  /// `options` take a value, `flags` do not.
  Args(int argc, char** argv, std::set<std::string> options, std::set<std::string> flags = {}) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (flags.count(a)) {
        values_[a] = "1";
      } else if (options.count(a)) {
        if (i + 1 >= argc) throw UsageError(fmt::format("option {} needs a value", a));
        values_[a] = argv[++i];
      } else {
        throw UsageError(fmt::format("unknown option '{}'", a));
      }
    }
  }

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string get(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }
  double number(const std::string& name, double fallback) const {
    if (!has(name)) return fallback;
    const std::string& text = values_.at(name);
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0') throw UsageError(fmt::format("{} expects a number, got '{}'", name, text));
    return v;
  }
  int64_t integer(const std::string& name, int64_t fallback) const {
    double v = number(name, double(fallback));
    if (v != double(int64_t(v))) throw UsageError(fmt::format("{} expects an integer, got '{}'", name, get(name, "")));
    return int64_t(v);
  }

 private:
  std::map<std::string, std::string> values_;
};

/// An example's main around run(argc, argv): a UsageError prints "program: what" and the
/// usage text and returns 2; any other exception prints "program: error: what" and returns 1.
template <typename Run>
int guarded_main(const char* program, const char* usage, Run&& run, int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    fmt::print(stderr, "{}: {}\n{}", program, e.what(), usage);
    return 2;
  } catch (const std::exception& e) {
    std::fflush(stdout);  // what the run printed comes before the error
    fmt::print(stderr, "{}: error: {}\n", program, e.what());
    return 1;
  }
}

}  // namespace tg::examples
