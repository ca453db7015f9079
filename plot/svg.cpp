// The SVG writer: axes with round tick values, line series, legends, and
// contour lines by marching squares. Everything is drawn in pixel space by a
// Scale per axis; the data area is clipped so fixed axis ends crop cleanly.
#include <tapegrad/plot/svg.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <string_view>
#include <system_error>
#include <utility>

#include <tapegrad/core/atomic_file.h>
#include <tapegrad/core/error.h>

namespace tg::plot {
namespace {

// Tableau 10: distinct, colour-blind-aware, readable on white.
constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);
constexpr double kCharWidth = 7.0;  // rough width of a 12px sans-serif character, for layout

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    // clang-format off
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
    // clang-format on
  }
  return out;
}

// NaN and inf cannot be drawn, nor can values <= 0 on a log axis.
bool drawable_on(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

// Maps data values of one axis to pixels, linearly or in log10.
struct Scale {
  double lo = 0, hi = 1;  // data ends (both > 0 on a log axis)
  bool log = false;
  double p0 = 0, p1 = 1;  // pixels of lo and hi
  double t(double v) const { return log ? std::log10(v) : v; }
  double operator()(double v) const { return p0 + (t(v) - t(lo)) / (t(hi) - t(lo)) * (p1 - p0); }
  bool drawable(double v) const { return drawable_on(v, log); }
};

struct Tick {
  double value;
  std::string label;  // SVG markup (log ticks use a superscript); empty: a minor grid line only
};

// "Nice" step of about range / count: 1, 2 or 5 times a power of ten.
double nice_step(double range, int count) {
  double raw = range / count;
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double norm = raw / magnitude;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
}

std::string number_label(double v, double step) {
  if (std::abs(v) < step * 1e-9) v = 0;  // k * step can leave -1e-17 for 0
  if (v != 0 && (std::abs(v) >= 1e6 || std::abs(v) < 1e-4)) return fmt::format("{:g}", v);
  int decimals = std::max(0, -int(std::floor(std::log10(step) + 1e-9)));
  return fmt::format("{:.{}f}", v, decimals);
}

std::vector<Tick> linear_ticks(double lo, double hi, int count = 6) {
  double step = nice_step(hi - lo, count);
  std::vector<Tick> ticks;
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; ++k)
    ticks.push_back({k * step, number_label(k * step, step)});
  return ticks;
}

// Powers of ten as 10^k (every few decades when the range spans many); minor
// lines at 2..9 x 10^k. Within a decade or two: plain 1, 2, 5, 10, 20, 50 ...
std::vector<Tick> log_ticks(double lo, double hi) {
  int first = int(std::ceil(std::log10(lo) - 1e-9)), last = int(std::floor(std::log10(hi) + 1e-9));
  int stride = std::max(1, (last - first + 8) / 8);
  std::vector<Tick> ticks;
  bool few = last - first < 2;
  for (int k = int(std::floor(std::log10(lo))); k <= last; ++k) {
    double decade = std::pow(10.0, k);
    if (k >= first && k % stride == 0) {  // 10^-2, 10^0, 10^2 rather than 10^-1, 10^1
      std::string power = fmt::format("10<tspan dy='-6' font-size='9'>{}</tspan>", k);
      ticks.push_back({decade, few ? fmt::format("{:g}", decade) : power});
    }
    for (int m = 2; m <= 9 && stride == 1; ++m) {
      double v = m * decade;
      if (v < lo || v > hi) continue;
      bool labelled = few && (m == 2 || m == 5);
      ticks.push_back({v, labelled ? fmt::format("{:g}", v) : ""});
    }
  }
  if (std::count_if(ticks.begin(), ticks.end(), [](const Tick& t) { return !t.label.empty(); }) < 2)
    return linear_ticks(lo, hi, 4);  // less than a decade: round linear values on the log scale
  return ticks;
}

std::vector<Tick> ticks_for(const Scale& s) {
  return s.log ? log_ticks(s.lo, s.hi) : linear_ticks(s.lo, s.hi);
}

// The data range of one axis widened by a margin, or the axis's fixed ends.
std::pair<double, double> axis_ends(const Axis& axis, double lo, double hi, double margin,
                                    const std::string& op, const char* name) {
  if (axis.log) lo = std::log10(lo), hi = std::log10(hi);  // the margin is in decades
  if (lo == hi) lo -= 0.5, hi += 0.5;  // one value: a unit-wide window (a decade on log axes)
  double pad = (hi - lo) * margin;
  lo -= pad, hi += pad;
  if (axis.log) lo = std::pow(10.0, lo), hi = std::pow(10.0, hi);
  lo = axis.min.value_or(lo);
  hi = axis.max.value_or(hi);
  check(lo < hi, "{}: {} axis range [{}, {}] is empty", op, name, lo, hi);
  check(!axis.log || lo > 0, "{}: log {} axis starts at {}, must be > 0", op, name, lo);
  return {lo, hi};
}

// The plot area and both scales: margins fit the tick labels, title and axis labels.
struct Frame {
  Scale x, y;
  double left, top, right, bottom;  // plot area in pixels
  int width, height;
  std::vector<Tick> x_ticks, y_ticks;
};

Frame make_frame(const std::string& title, const Axis& x_axis, const Axis& y_axis,
                 std::pair<double, double> x_ends, std::pair<double, double> y_ends, int width,
                 int height) {
  Frame f;
  f.x = {x_ends.first, x_ends.second, x_axis.log};
  f.y = {y_ends.first, y_ends.second, y_axis.log};
  f.x_ticks = ticks_for(f.x);
  f.y_ticks = ticks_for(f.y);
  size_t label_chars = 1;  // visible characters of the widest y tick label (markup excluded)
  for (const Tick& t : f.y_ticks) {
    size_t chars = 0;
    bool in_tag = false;
    for (char c : t.label) {
      in_tag = c == '<' ? true : c == '>' ? false : in_tag;
      chars += !in_tag && c != '>';
    }
    label_chars = std::max(label_chars, chars);
  }
  f.width = width, f.height = height;
  f.left = 14 + (y_axis.label.empty() ? 0 : 22) + label_chars * kCharWidth;
  f.right = width - 20;
  f.top = title.empty() ? 16 : 40;
  f.bottom = height - 30 - (x_axis.label.empty() ? 0 : 22);
  f.x.p0 = f.left, f.x.p1 = f.right;
  f.y.p0 = f.bottom, f.y.p1 = f.top;  // y grows upwards
  return f;
}

// Appends fmt-formatted text to an SVG document. Attributes use single quotes,
// which keeps the format strings readable; escape() makes text safe for both.
template <typename... Args>
void emit(std::string& out, fmt::format_string<Args...> format, Args&&... args) {
  fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
}

void open_svg(std::string& out, const Frame& f) {
  emit(out,
       "<svg xmlns='http://www.w3.org/2000/svg' width='{0}' height='{1}' viewBox='0 0 {0} {1}' "
       "font-family='Helvetica, Arial, sans-serif' font-size='12'>\n"
       "<rect width='100%' height='100%' fill='white'/>\n"
       "<clipPath id='plot-area'><rect x='{2:.1f}' y='{3:.1f}' width='{4:.1f}' height='{5:.1f}'/>"
       "</clipPath>\n",
       f.width, f.height, f.left, f.top, f.right - f.left, f.bottom - f.top);
}

void line(std::string& out, double x1, double y1, double x2, double y2, std::string_view stroke) {
  emit(out, "<line x1='{:.1f}' y1='{:.1f}' x2='{:.1f}' y2='{:.1f}' stroke='{}'/>\n", x1, y1, x2, y2,
       stroke);
}

// Grid lines under the data: drawn first so the data stays on top.
void draw_grid(std::string& out, const Frame& f) {
  out += "<g class='grid'>\n";
  for (const Tick& t : f.x_ticks)
    line(out, f.x(t.value), f.top, f.x(t.value), f.bottom, t.label.empty() ? "#f0f0f0" : "#dddddd");
  for (const Tick& t : f.y_ticks)
    line(out, f.left, f.y(t.value), f.right, f.y(t.value), t.label.empty() ? "#f0f0f0" : "#dddddd");
  out += "</g>\n";
}

// Frame, tick marks, tick labels, axis labels and title, drawn over the data.
void draw_axes(std::string& out, const Frame& f, const std::string& title, const Axis& x_axis,
               const Axis& y_axis) {
  emit(out,
       "<rect x='{:.1f}' y='{:.1f}' width='{:.1f}' height='{:.1f}' fill='none' stroke='#333'/>\n",
       f.left, f.top, f.right - f.left, f.bottom - f.top);
  for (const Tick& t : f.x_ticks) {
    if (t.label.empty()) continue;
    line(out, f.x(t.value), f.bottom, f.x(t.value), f.bottom + 5, "#333");
    emit(out, "<text class='xtick' x='{:.1f}' y='{:.1f}' text-anchor='middle'>{}</text>\n",
         f.x(t.value), f.bottom + 19, t.label);
  }
  for (const Tick& t : f.y_ticks) {
    if (t.label.empty()) continue;
    line(out, f.left - 5, f.y(t.value), f.left, f.y(t.value), "#333");
    emit(out, "<text class='ytick' x='{:.1f}' y='{:.1f}' text-anchor='end'>{}</text>\n", f.left - 8,
         f.y(t.value) + 4, t.label);
  }
  double cx = (f.left + f.right) / 2, cy = (f.top + f.bottom) / 2;
  if (!x_axis.label.empty())
    emit(out,
         "<text class='xlabel' x='{:.1f}' y='{}' text-anchor='middle' font-size='13'>{}</text>\n",
         cx, f.height - 12, escape(x_axis.label));
  if (!y_axis.label.empty())
    emit(out,
         "<text class='ylabel' transform='translate(18 {:.1f}) rotate(-90)' text-anchor='middle' "
         "font-size='13'>{}</text>\n",
         cy, escape(y_axis.label));
  if (!title.empty())
    emit(out,
         "<text class='title' x='{:.1f}' y='26' text-anchor='middle' font-size='15' "
         "font-weight='bold'>{}</text>\n",
         cx, escape(title));
}

// The drawable runs of a series in pixels: a NaN, inf or non-positive (log) point ends a run.
using Run = std::vector<std::pair<double, double>>;
std::vector<Run> pixel_runs(const Series& s, const Frame& f) {
  std::vector<Run> runs(1);
  for (size_t i = 0; i < s.x.size(); ++i) {
    if (f.x.drawable(s.x[i]) && f.y.drawable(s.y[i])) {
      runs.back().push_back({f.x(s.x[i]), f.y(s.y[i])});
    } else if (!runs.back().empty()) {
      runs.emplace_back();
    }
  }
  if (runs.back().empty()) runs.pop_back();
  return runs;
}

void marker(std::string& out, double x, double y, std::string_view colour) {
  emit(out, "<circle cx='{:.1f}' cy='{:.1f}' r='3.5' fill='{}' stroke='white'/>\n", x, y, colour);
}

void draw_series(std::string& out, const Series& s, const std::vector<Run>& runs,
                 std::string_view colour) {
  out += "<g class='series' clip-path='url(#plot-area)'>\n";
  for (const Run& run : runs) {
    emit(out, "<polyline fill='none' stroke='{}' stroke-width='2' stroke-linejoin='round' points='",
         colour);
    for (auto [x, y] : run) emit(out, "{:.1f},{:.1f} ", x, y);
    out += "'/>\n";
  }
  for (const Run& run : runs)
    for (auto [x, y] : run)
      if (s.markers) marker(out, x, y, colour);
  out += "</g>\n";
}

// How much of the drawn lines falls in a box: points along every segment, 8 per segment.
size_t ink_inside(const std::vector<std::vector<Run>>& all_runs, double x0, double y0, double x1,
                  double y1) {
  size_t count = 0;
  for (const std::vector<Run>& runs : all_runs)
    for (const Run& run : runs)
      for (size_t i = 0; i < run.size(); ++i)
        for (int k = 0; k < (i + 1 < run.size() ? 8 : 1); ++k) {
          double x = run[i].first, y = run[i].second;
          if (k > 0) x += (run[i + 1].first - x) * k / 8, y += (run[i + 1].second - y) * k / 8;
          count += x >= x0 && x <= x1 && y >= y0 && y <= y1;
        }
  return count;
}

// A legend in the corner of the plot area that hides the least of the lines.
void draw_legend(std::string& out, const Frame& f, const std::vector<Series>& series,
                 const std::vector<std::vector<Run>>& runs, int first_colour) {
  size_t entries = 0, chars = 0;
  for (const Series& s : series)
    if (!s.label.empty()) ++entries, chars = std::max(chars, s.label.size());
  if (entries == 0) return;
  double w = 44 + chars * kCharWidth, h = 10 + entries * 18.0;
  // Corners in order of preference (ties keep the earlier): top right, top left,
  // bottom right, bottom left.
  double best_x = 0, best_y = 0;
  size_t best = std::numeric_limits<size_t>::max();
  for (double y : {f.top + 8, f.bottom - 8 - h}) {
    for (double x : {f.right - 8 - w, f.left + 8}) {
      size_t ink = ink_inside(runs, x, y, x + w, y + h);
      if (ink < best) best = ink, best_x = x, best_y = y;
    }
  }
  emit(out,
       "<g class='legend'>\n<rect x='{:.1f}' y='{:.1f}' width='{:.1f}' height='{:.1f}' "
       "fill='white' fill-opacity='0.9' stroke='#bbb'/>\n",
       best_x, best_y, w, h);
  double y = best_y + 14;
  for (size_t i = 0; i < series.size(); ++i) {
    if (series[i].label.empty()) continue;
    const char* colour = kPalette[(first_colour + i) % kPaletteSize];
    emit(out,
         "<line x1='{:.1f}' y1='{:.1f}' x2='{:.1f}' y2='{:.1f}' stroke='{}' stroke-width='2'/>\n",
         best_x + 8, y, best_x + 30, y, colour);
    if (series[i].markers) marker(out, best_x + 19, y, colour);
    emit(out, "<text x='{:.1f}' y='{:.1f}'>{}</text>\n", best_x + 36, y + 4,
         escape(series[i].label));
    y += 18;
  }
  out += "</g>\n";
}

void check_series(const Series& s, const std::string& op) {
  check(s.x.size() == s.y.size(), "{}: series \"{}\" has {} x values but {} y values", op, s.label,
        s.x.size(), s.y.size());
  check(!s.x.empty(), "{}: series \"{}\" is empty", op, s.label);
}

void check_size(int width, int height, const std::string& op) {
  check(width >= 200 && height >= 150, "{}: size {}x{} is too small, need at least 200x150", op,
        width, height);
}

void check_grid(const Grid& g, const std::string& op) {
  check(g.nx >= 2 && g.ny >= 2, "{}: grid is {}x{}, need at least 2x2", op, g.nx, g.ny);
  check(g.values.size() == size_t(g.nx) * size_t(g.ny), "{}: grid {}x{} needs {} values, has {}",
        op, g.nx, g.ny, size_t(g.nx) * size_t(g.ny), g.values.size());
  const Box& b = g.box;
  check(b.x_min < b.x_max && b.y_min < b.y_max, "{}: box [{}, {}] x [{}, {}] is empty", op, b.x_min,
        b.x_max, b.y_min, b.y_max);
}

std::string render(const LineChart& chart, const std::string& op) {
  check_size(chart.width, chart.height, op);
  check(!chart.series.empty(), "{}: chart \"{}\" has no series", op, chart.title);
  // The data's range over the drawable points.
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const Series& s : chart.series) {
    check_series(s, op);
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!drawable_on(s.x[i], chart.x.log) || !drawable_on(s.y[i], chart.y.log)) continue;
      x_lo = std::min(x_lo, s.x[i]), x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]), y_hi = std::max(y_hi, s.y[i]);
    }
  }
  check(x_lo <= x_hi,
        "{}: no point of chart \"{}\" can be drawn (all are NaN, inf or <= 0 on a log axis)", op,
        chart.title);
  Frame f = make_frame(chart.title, chart.x, chart.y, axis_ends(chart.x, x_lo, x_hi, 0.04, op, "x"),
                       axis_ends(chart.y, y_lo, y_hi, 0.05, op, "y"), chart.width, chart.height);
  std::string out;
  open_svg(out, f);
  draw_grid(out, f);
  std::vector<std::vector<Run>> runs;
  for (size_t i = 0; i < chart.series.size(); ++i) {
    runs.push_back(pixel_runs(chart.series[i], f));
    draw_series(out, chart.series[i], runs.back(), kPalette[i % kPaletteSize]);
  }
  draw_axes(out, f, chart.title, chart.x, chart.y);
  draw_legend(out, f, chart.series, runs, 0);
  out += "</svg>\n";
  return out;
}

// About 8 round levels strictly between the grid's smallest and largest value.
std::vector<double> auto_levels(const Grid& g) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : g.values)
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  std::vector<double> levels;
  if (!(lo < hi)) return levels;  // constant or all NaN: no contour to draw
  for (const Tick& t : linear_ticks(lo, hi, 9))
    if (t.value > lo && t.value < hi) levels.push_back(t.value);
  return levels;
}

std::string render(const ContourPlot& plot, const std::string& op) {
  check_size(plot.width, plot.height, op);
  check_grid(plot.grid, op);
  check(!plot.x.log && !plot.y.log,
        "{}: contour plot \"{}\" has a log axis; only linear axes are supported", op, plot.title);
  for (const Series& s : plot.paths) check_series(s, op);
  const Box& b = plot.grid.box;
  Frame f = make_frame(plot.title, plot.x, plot.y, axis_ends(plot.x, b.x_min, b.x_max, 0, op, "x"),
                       axis_ends(plot.y, b.y_min, b.y_max, 0, op, "y"), plot.width, plot.height);
  std::string out;
  open_svg(out, f);
  draw_grid(out, f);

  // One path per level, dark blue (low) to light blue (high), so the eye finds the valley.
  std::vector<double> levels = plot.levels.empty() ? auto_levels(plot.grid) : plot.levels;
  std::sort(levels.begin(), levels.end());
  out += "<g class='contours' clip-path='url(#plot-area)' fill='none' stroke-width='1.2'>\n";
  for (size_t k = 0; k < levels.size(); ++k) {
    double t = levels.size() > 1 ? double(k) / double(levels.size() - 1) : 0.0;
    emit(out, "<path class='contour' data-level='{:g}' stroke='rgb({},{},{})' d='", levels[k],
         int(30 + 130 * t), int(70 + 120 * t), int(140 + 90 * t));
    for (const Segment& s : contour_lines(plot.grid, levels[k]))
      emit(out, "M{:.1f} {:.1f}L{:.1f} {:.1f}", f.x(s.x0), f.y(s.y0), f.x(s.x1), f.y(s.y1));
    out += "'/>\n";
  }
  out += "</g>\n";

  // Overlays start at orange: blue is taken by the contours.
  std::vector<std::vector<Run>> runs;
  for (size_t i = 0; i < plot.paths.size(); ++i) {
    runs.push_back(pixel_runs(plot.paths[i], f));
    draw_series(out, plot.paths[i], runs.back(), kPalette[(1 + i) % kPaletteSize]);
  }
  draw_axes(out, f, plot.title, plot.x, plot.y);
  draw_legend(out, f, plot.paths, runs, 1);
  out += "</svg>\n";
  return out;
}

}  // namespace

Grid sample(const std::function<double(double, double)>& f, const Box& box, int nx, int ny) {
  Grid g{box, nx, ny, {}};
  g.values.resize(size_t(std::max(nx, 0)) * size_t(std::max(ny, 0)));
  check_grid(g, "sample");
  for (int j = 0; j < ny; ++j) {
    double y = box.y_min + (box.y_max - box.y_min) * j / (ny - 1);
    for (int i = 0; i < nx; ++i)
      g.values[size_t(j) * nx + i] = f(box.x_min + (box.x_max - box.x_min) * i / (nx - 1), y);
  }
  return g;
}

// Marching squares: each grid cell's corners are above or below the level (a
// 4-bit case); the level crosses the cell edges between an above and a below
// corner, at the linearly interpolated point, and each case joins those
// crossings in one of a few fixed ways.
std::vector<Segment> contour_lines(const Grid& grid, double level) {
  check_grid(grid, "contour_lines");
  // Corners counter-clockwise from the bottom left; edge e joins corner e and corner e + 1.
  // kEdges[c]: the two edges the level crosses in case c (bit k set: corner k is above
  // the level); none in cases 0 and 15, and the saddles 5 and 10 are decided below.
  static constexpr int kEdges[16][2] = {{-1, -1}, {3, 0}, {0, 1}, {3, 1},  {1, 2},   {-1, -1},
                                        {0, 2},   {2, 3}, {2, 3}, {0, 2},  {-1, -1}, {1, 2},
                                        {1, 3},   {0, 1}, {3, 0}, {-1, -1}};
  const Box& b = grid.box;
  double dx = (b.x_max - b.x_min) / (grid.nx - 1), dy = (b.y_max - b.y_min) / (grid.ny - 1);
  std::vector<Segment> segments;
  for (int j = 0; j + 1 < grid.ny; ++j) {
    for (int i = 0; i + 1 < grid.nx; ++i) {
      const double* row = grid.values.data() + size_t(j) * grid.nx;
      const double* next = row + grid.nx;
      double v[4] = {row[i], row[i + 1], next[i + 1], next[i]};
      double cx[4] = {0, 1, 1, 0}, cy[4] = {0, 0, 1, 1};  // corner offsets in cells
      if (!std::isfinite(v[0] + v[1] + v[2] + v[3])) continue;
      int c = (v[0] > level) | (v[1] > level) << 1 | (v[2] > level) << 2 | (v[3] > level) << 3;
      int edges[4] = {kEdges[c][0], kEdges[c][1], -1, -1};
      if (c == 5 || c == 10) {
        // A saddle: the mean of the corners decides which pair of opposite corners the
        // level line cuts off: corners 1 and 3 (edges 0-1, 2-3) or corners 0 and 2.
        bool centre_above = (v[0] + v[1] + v[2] + v[3]) / 4 > level;
        bool cut_1_and_3 = (c == 5) == centre_above;
        int pairs[2][4] = {{3, 0, 1, 2}, {0, 1, 2, 3}};
        std::copy(pairs[cut_1_and_3], pairs[cut_1_and_3] + 4, edges);
      }
      auto crossing = [&](int e, double& x, double& y) {
        int a = e, z = (e + 1) % 4;
        double t = (level - v[a]) / (v[z] - v[a]);  // v[a] and v[z] straddle the level
        x = b.x_min + (i + cx[a] + t * (cx[z] - cx[a])) * dx;
        y = b.y_min + (j + cy[a] + t * (cy[z] - cy[a])) * dy;
      };
      for (int k = 0; k < 4 && edges[k] >= 0; k += 2) {
        Segment s;
        crossing(edges[k], s.x0, s.y0);
        crossing(edges[k + 1], s.x1, s.y1);
        segments.push_back(s);
      }
    }
  }
  return segments;
}

std::string to_svg(const LineChart& chart) { return render(chart, "to_svg"); }
std::string to_svg(const ContourPlot& plot) { return render(plot, "to_svg"); }

void write_svg(const LineChart& chart, const std::filesystem::path& path) {
  write_file_atomic(path.string(), render(chart, "write_svg: " + path.string()));
}

void write_svg(const ContourPlot& plot, const std::filesystem::path& path) {
  write_file_atomic(path.string(), render(plot, "write_svg: " + path.string()));
}

}  // namespace tg::plot
