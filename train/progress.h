// A tqdm-like progress bar for any training loop:
//   epoch 1/2:  37%|███▋      | 4625/12500 [00:03<00:05, 1520.31batch/s, loss=2.204]
// On a terminal it redraws that line in place (at most every min_interval seconds); in a log
// file or a pipe it writes the final line once, when the bar closes; quiet, it draws nothing.
// Lines of the program's own (write) pass through in every mode, above the bar on a terminal.
//
//   train::ProgressBar bar({.desc = "epoch 1/2", .total = int64_t(loader.size()), .unit =
//   "batch"}); for (auto [x, y] : loader) { ...; bar.set_postfix({{"loss", mean_loss}});
//   bar.update(); } bar.close();
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace tg::train {

/// How a bar shows itself.
enum class Display {
  automatic,  ///< terminal when stdout is a terminal, lines otherwise
  terminal,   ///< redraw one line in place with \r
  lines,      ///< one line when the bar closes
  quiet,      ///< nothing (write() still prints)
};

/// Settings of a ProgressBar; every member may be left out.
struct ProgressOptions {
  std::string desc{};                    ///< shown before the bar, e.g. "epoch 1/2"
  int64_t total = 0;                     ///< steps in all; 0 when unknown (no bar, no ETA)
  std::string unit = "it";               ///< the step's name in the rate, e.g. "batch"
  Display display = Display::automatic;  ///< see Display
  int width = 10;                        ///< characters of the bar itself
  double min_interval = 0.1;             ///< seconds between two redraws on a terminal
  std::ostream* out = nullptr;           ///< where to draw; default std::cout
  std::function<double()> clock{};       ///< seconds from any fixed point; default steady_clock
};

/// True when standard output is a terminal.
bool stdout_is_terminal();

/// "mm:ss", or "h:mm:ss" from an hour on (tqdm's format); "?" for a negative or non-finite time.
std::string format_interval(double seconds);

class ProgressBar {
 public:
  /// Starts the clock (and draws the empty bar on a terminal).
  explicit ProgressBar(ProgressOptions options = {});
  /// Closes the bar if close() was not called.
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// Counts `steps` more steps done; redraws on a terminal when min_interval has passed.
  void update(int64_t steps = 1);
  /// Values shown after the rate, e.g. {{"loss", 2.204}} -> ", loss=2.204" (4 significant digits).
  void set_postfix(const std::vector<std::pair<std::string, double>>& values);
  /// Changes the text before the bar.
  void set_description(std::string desc);
  /// Prints a line of the program's own: above the bar on a terminal, as is otherwise.
  void write(const std::string& line);
  /// Draws the final state and ends the bar's line (on a terminal), or writes the line (lines).
  void close();

  int64_t n() const { return n_; }
  /// Seconds since the bar started.
  double elapsed() const;
  /// Steps per second so far (0 before the first step).
  double rate() const;
  /// The status line as it would be drawn now, without \r or colour codes.
  std::string line() const;

 private:
  void draw();

  ProgressOptions options_;
  std::ostream* out_;
  double start_ = 0, last_draw_ = 0;
  int64_t n_ = 0;
  std::string postfix_;
  bool closed_ = false;
};

}  // namespace tg::train
