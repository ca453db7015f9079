// What the side-by-side benchmark programs share: their command line (--threads N,
// --repeats N, --json and the program's own options; a bad option is a one-line error
// and exit status 2) and their output, either a human-readable markdown table or one
// JSON object per line, the format bench/torch_bench.py prints too and
// bench/assemble.py joins into bench/RESULTS.md.
#pragma once

#include <cblas.h>
#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "bench/timing.h"
#include <tapegrad/core/cpu.h>
#include <tapegrad/core/parallel.h>

#ifndef TAPEGRAD_VERSION
#define TAPEGRAD_VERSION "unknown"
#endif

namespace tg::bench {

/// The command line of one benchmark program: register options, then parse().
class Cli {
 public:
  int threads = 0;   ///< 0: leave the default thread count
  int repeats = 5;   ///< timed repeats per figure (after the warm-up)
  bool json = false; ///< JSON lines instead of a table

  Cli(std::string program, std::string extra_usage = "")
      : program_(std::move(program)), usage_(std::move(extra_usage)) {
    integer("--threads", &threads, 1);
    integer("--repeats", &repeats, 1);
    flag("--json", &json);
  }

  /// An option taking an integer >= min: `--images 4096`.
  void integer(std::string name, int* target, int min) {
    options_.push_back({std::move(name), true, [this, target, min](const std::string& v) {
                          int x = 0;
                          auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
                          if (ec != std::errc() || end != v.data() + v.size() || x < min)
                            return fmt::format("expects an integer >= {}, got '{}'", min, v);
                          *target = x;
                          return std::string();
                        }});
  }
  /// An option taking a comma-separated list of positive integers: `--batches 4,32`.
  void integers(std::string name, std::vector<int>* target) {
    options_.push_back({std::move(name), true, [target](const std::string& v) {
                          std::vector<int> out;
                          const char *p = v.data(), *end = v.data() + v.size();
                          while (p < end) {
                            int x = 0;
                            auto [q, ec] = std::from_chars(p, end, x);
                            if (ec != std::errc() || x < 1 || (q != end && *q != ','))
                              return fmt::format("expects positive integers separated by commas, "
                                                 "got '{}'", v);
                            out.push_back(x);
                            p = q == end ? q : q + 1;
                          }
                          if (out.empty()) return fmt::format("expects at least one integer");
                          *target = out;
                          return std::string();
                        }});
  }
  /// An option taking a string: `--data FILE`.
  void text(std::string name, std::string* target) {
    options_.push_back({std::move(name), true, [target](const std::string& v) {
                          if (v.empty()) return std::string("expects a non-empty value");
                          *target = v;
                          return std::string();
                        }});
  }
  /// An option without a value: `--json`.
  void flag(std::string name, bool* target) {
    options_.push_back({std::move(name), false, [target](const std::string&) {
                          *target = true;
                          return std::string();
                        }});
  }

  /// Parses argv; on a bad option prints one line to stderr and exits with status 2.
  /// --help prints the usage and exits with 0. Then applies --threads.
  void parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i], value;
      if (arg == "--help" || arg == "-h") {
        fmt::print("usage: {}\n", usage());
        std::exit(0);
      }
      size_t eq = arg.find('=');
      bool inline_value = arg.rfind("--", 0) == 0 && eq != std::string::npos;
      if (inline_value) value = arg.substr(eq + 1), arg = arg.substr(0, eq);
      const Option* option = nullptr;
      for (const Option& o : options_)
        if (o.name == arg) option = &o;
      if (!option) fail(fmt::format("unknown option '{}'", argv[i]));
      if (option->takes_value && !inline_value) {
        if (i + 1 >= argc) fail(fmt::format("{} needs a value", arg));
        value = argv[++i];
      } else if (!option->takes_value && inline_value) {
        fail(fmt::format("{} takes no value", arg));
      }
      std::string error = option->set(value);
      if (!error.empty()) fail(fmt::format("{} {}", arg, error));
    }
    if (threads > 0) set_num_threads(threads);
  }

  std::string usage() const {
    return fmt::format("{} [--threads N] [--repeats N] [--json]{}{}", program_,
                       usage_.empty() ? "" : " ", usage_);
  }
  const std::string& program() const { return program_; }

 private:
  struct Option {
    std::string name;
    bool takes_value;
    std::function<std::string(const std::string&)> set;  // "" or the error
  };
  [[noreturn]] void fail(const std::string& message) const {
    fmt::print(stderr, "{}: {} (usage: {})\n", program_, message, usage());
    std::exit(2);
  }
  std::string program_, usage_;
  std::vector<Option> options_;
};

/// The CPU model from /proc/cpuinfo ("unknown" elsewhere).
inline std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown";
}

/// GFLOP/s of `flops` of work done in each of `seconds`.
inline std::vector<double> gflops(const std::vector<double>& seconds, double flops) {
  std::vector<double> out;
  for (double s : seconds) out.push_back(flops / s / 1e9);
  return out;
}

/// GFLOP/s of raw cblas_sgemm on square 1024 x 1024 products at this thread setting: the
/// machine's GEMM peak (the FMA peak as reachable from memory), which conv and model rates are
/// read against.
inline double square_gemm_peak(int repeats) {
  const int n = 1024;
  std::vector<float> a(size_t(n) * n, 0.5f), b(size_t(n) * n, 0.25f), c(size_t(n) * n);
  std::vector<double> t = sample_seconds([&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a.data(), n, b.data(), n,
                0, c.data(), n);
  }, repeats);
  return median(gflops(t, 2.0 * n * n * n));
}

/// One figure: a workload at one setting, on this side, at the current thread count.
struct Result {
  std::string workload, setting;
  double value = 0;
  std::string unit;              ///< "images/s", "s/epoch", "ns/op", "GFLOP/s", "MiB", "%"
  bool higher_is_better = true;
  std::vector<double> samples{}; ///< the per-repeat values behind the median, if any
  std::string note{};            ///< e.g. the work per repeat
  double reference = 0;          ///< raw cblas_sgemm on the same GEMMs (0: none), in `unit`
  double baseline = 0;           ///< memory: MiB resident before the workload (0: none)
  double peak = 0;               ///< raw cblas_sgemm on square 1024^3 products (0: none)
  double flops = 0;              ///< useful FLOPs per image (0: none); with `peak`, the % of it
};

/// Prints results as they come: markdown rows, or JSON lines for bench/assemble.py.
class Reporter {
 public:
  explicit Reporter(const Cli& cli) : cli_(cli) {
    if (cli_.json) {
      nlohmann::json meta = {
          {"side", "tapegrad"},
          {"program", cli_.program()},
          {"meta",
           {{"version", TAPEGRAD_VERSION},
            {"compiler", fmt::format("g++ {}", __VERSION__)},
            {"blas", openblas_get_config()},
            {"cpu", cpu_model()},
            {"kernels", cpu::name(cpu::capability())},
            {"threads", get_num_threads()},
            {"repeats", cli_.repeats}}}};
      fmt::print("{}\n", meta.dump());
    } else {
      fmt::print("{} (tapegrad {}): {}, {} kernels, threads {}, median of {} repeats after "
                 "warm-up\n\n",
                 cli_.program(), TAPEGRAD_VERSION, cpu_model(), cpu::name(cpu::capability()),
                 get_num_threads(), cli_.repeats);
      fmt::print("| workload | setting | value | unit | note |\n|---|---|---|---|---|\n");
    }
    std::fflush(stdout);
  }

  void add(const Result& r) {
    if (cli_.json) {
      nlohmann::json line = {{"side", "tapegrad"},
                             {"program", cli_.program()},
                             {"workload", r.workload},
                             {"setting", r.setting},
                             {"threads", get_num_threads()},
                             {"value", r.value},
                             {"unit", r.unit},
                             {"better", r.higher_is_better ? "higher" : "lower"},
                             {"samples", r.samples},
                             {"note", r.note}};
      if (r.reference > 0) line["reference"] = r.reference;
      if (r.baseline > 0) line["baseline"] = r.baseline;
      if (r.peak > 0) line["peak"] = r.peak;
      if (r.flops > 0) line["flops"] = r.flops;
      fmt::print("{}\n", line.dump());
    } else {
      std::string note = r.note;
      if (r.reference > 0)
        note = fmt::format("{}sgemm reference {} {}", note.empty() ? "" : note + "; ",
                           format_value(r.reference), r.unit);
      if (r.peak > 0 && r.flops > 0)
        note = fmt::format("{}; {:.1f} GFLOP/s, {:.0f}% of the square-GEMM peak {} GFLOP/s", note,
                           r.value * r.flops / 1e9, 100 * r.value * r.flops / 1e9 / r.peak,
                           format_value(r.peak));
      else if (r.peak > 0)
        note = fmt::format("{}; square-GEMM peak {} {}", note, format_value(r.peak), r.unit);
      fmt::print("| {} | {} | {} | {} | {} |\n", r.workload, r.setting, format_value(r.value),
                 r.unit, note);
    }
    std::fflush(stdout);
  }

  /// Three significant digits, without an exponent for ordinary sizes.
  static std::string format_value(double v) {
    if (v >= 100) return fmt::format("{:.0f}", v);
    if (v >= 10) return fmt::format("{:.1f}", v);
    if (v >= 1) return fmt::format("{:.2f}", v);
    return fmt::format("{:.3g}", v);
  }

 private:
  const Cli& cli_;
};

}  // namespace tg::bench
