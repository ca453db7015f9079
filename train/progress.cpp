// ProgressBar: tqdm's status line (percentage, bar, count, elapsed<remaining, rate, postfix),
// drawn in place on a terminal or once per bar elsewhere.
#include <tapegrad/train/progress.h>

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace tg::train {

namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// tqdm's bar: full blocks, one partial block in eighths, then spaces.
std::string bar_text(double fraction, int width) {
  static const char* eighths[] = {" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  auto cells = int64_t(fraction * width * 8);
  int64_t full = cells / 8, partial = cells % 8;
  std::string bar;
  for (int64_t i = 0; i < full; ++i) bar += "█";
  if (full < width) bar += eighths[partial] + std::string(size_t(width - full - 1), ' ');
  return bar;
}

}  // namespace

bool stdout_is_terminal() { return isatty(fileno(stdout)) != 0; }

std::string format_interval(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto s = int64_t(seconds);  // tqdm truncates
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{:02}:{:02}", s / 60, s % 60);
}

ProgressBar::ProgressBar(ProgressOptions options) : options_(std::move(options)) {
  if (!options_.clock) options_.clock = steady_seconds;
  out_ = options_.out ? options_.out : &std::cout;
  if (options_.display == Display::automatic)
    options_.display = !options_.out && stdout_is_terminal() ? Display::terminal : Display::lines;
  options_.width = std::max(options_.width, 1);
  start_ = last_draw_ = options_.clock();
  if (options_.display == Display::terminal) draw();
}

ProgressBar::~ProgressBar() {
  try {
    close();
  } catch (...) {  // a destructor must not throw; the stream is the only thing that could
  }
}

double ProgressBar::elapsed() const { return std::max(0.0, options_.clock() - start_); }

double ProgressBar::rate() const {
  double t = elapsed();
  return t > 0 ? double(n_) / t : 0;
}

void ProgressBar::update(int64_t steps) {
  n_ += steps;
  if (options_.display != Display::terminal || closed_) return;
  double now = options_.clock();
  if (now - last_draw_ >= options_.min_interval || (options_.total > 0 && n_ >= options_.total)) {
    last_draw_ = now;
    draw();
  }
}

void ProgressBar::set_postfix(const std::vector<std::pair<std::string, double>>& values) {
  postfix_.clear();
  for (const auto& [name, value] : values) postfix_ += fmt::format(", {}={:.4g}", name, value);
}

void ProgressBar::set_description(std::string desc) { options_.desc = std::move(desc); }

std::string ProgressBar::line() const {
  double t = elapsed(), r = rate();
  const std::string& unit = options_.unit;
  std::string rate_text = r <= 0   ? fmt::format("?{}/s", unit)
                          : r >= 1 ? fmt::format("{:.2f}{}/s", r, unit)
                                   : fmt::format("{:.2f}s/{}", 1 / r, unit);
  std::string desc = options_.desc.empty() ? "" : options_.desc + ": ";
  if (options_.total <= 0)
    return fmt::format("{}{}{} [{}, {}{}]", desc, n_, unit, format_interval(t), rate_text,
                       postfix_);
  double fraction = std::clamp(double(n_) / double(options_.total), 0.0, 1.0);
  std::string remaining =
      r > 0 ? format_interval(double(std::max<int64_t>(options_.total - n_, 0)) / r) : "?";
  return fmt::format("{}{:3.0f}%|{}| {}/{} [{}<{}, {}{}]", desc, 100 * fraction,
                     bar_text(fraction, options_.width), n_, options_.total, format_interval(t),
                     remaining, rate_text, postfix_);
}

void ProgressBar::draw() { *out_ << '\r' << line() << "\033[K" << std::flush; }

void ProgressBar::write(const std::string& text) {
  if (options_.display == Display::terminal && !closed_) {
    *out_ << "\r\033[K" << text << '\n';
    draw();
  } else {
    *out_ << text << '\n' << std::flush;
  }
}

void ProgressBar::close() {
  if (closed_) return;
  closed_ = true;
  if (options_.display == Display::terminal) {
    draw();
    *out_ << '\n' << std::flush;
  } else if (options_.display == Display::lines) {
    *out_ << line() << '\n' << std::flush;
  }
}

}  // namespace tg::train
