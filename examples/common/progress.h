// A progress report for training loops: a bar, the mean loss so far, images per second and
// the time left. On a terminal it redraws one line in place with \r (at most ten times a
// second); in a log file or a pipe it draws nothing, and the caller's own lines (print) carry
// the same numbers instead, so a log gets one line every N batches, not thousands of frames.
//
//   examples::Progress bar("epoch 1/2", loader.size());
//   for (...) { ...; bar.update(step, images, mean_loss);
//               if (step % 2000 == 0) bar.print(fmt::format("[1, {:5}] loss: {:.3f}", step, l)); }
//   bar.finish();
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace tg::examples {

/// True when standard output is a terminal (then progress bars redraw in place).
inline bool stdout_is_terminal() { return isatty(fileno(stdout)) != 0; }

/// A duration as "m:ss" or "h:mm:ss".
inline std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto s = int64_t(std::llround(seconds));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

class Progress {
 public:
  /// A bar for `total` steps, labelled e.g. "epoch 1/2"; starts the clock.
  Progress(std::string label, int64_t total, bool terminal = stdout_is_terminal())
      : label_(std::move(label)),
        total_(std::max<int64_t>(total, 1)),
        terminal_(terminal),
        start_(Clock::now()),
        last_draw_(start_) {}

  /// Records `done` steps finished, `images` seen and the mean loss so far; redraws on a terminal.
  void update(int64_t done, int64_t images, double loss) {
    done_ = done, images_ = images, loss_ = loss;
    if (!terminal_) return;
    auto now = Clock::now();
    if (done_ >= total_ || now - last_draw_ >= std::chrono::milliseconds(100)) {
      last_draw_ = now;
      draw();
    }
  }

  /// Prints a line of its own: above the bar on a terminal, followed by the status elsewhere.
  void print(const std::string& line) {
    if (terminal_) {
      fmt::print("\r\033[K{}\n", line);
      draw();
    } else {
      fmt::print("{}  | {}\n", line, status());
      std::fflush(stdout);
    }
  }

  /// Draws the final state and ends the bar's line (on a terminal; nothing otherwise).
  void finish() {
    if (!terminal_) return;
    draw();
    fmt::print("\n");
    std::fflush(stdout);
  }

  /// Seconds since the bar was made.
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  using Clock = std::chrono::steady_clock;

  // "37% 4625/12500 loss 2.204 1520 img/s ETA 0:35" (or "in 1:23" once done).
  std::string status() const {
    double t = seconds(), rate = t > 0 ? double(images_) / t : 0;
    std::string when = done_ >= total_ ? "in " + format_duration(t)
                       : done_ > 0
                           ? "ETA " + format_duration(t * double(total_ - done_) / double(done_))
                           : "ETA ?";
    return fmt::format("{:3}% {}/{} loss {:.3f} {:.0f} img/s {}", 100 * done_ / total_, done_,
                       total_, loss_, rate, when);
  }

  void draw() {
    constexpr int64_t width = 20;
    int64_t filled = width * std::min(done_, total_) / total_;
    std::string bar(size_t(filled), '=');
    if (filled < width) bar += '>' + std::string(size_t(width - filled - 1), ' ');
    fmt::print("\r{} [{}] {}\033[K", label_, bar, status());
    std::fflush(stdout);
  }

  std::string label_;
  int64_t total_, done_ = 0, images_ = 0;
  double loss_ = 0;
  bool terminal_;
  Clock::time_point start_, last_draw_;
};

}  // namespace tg::examples
