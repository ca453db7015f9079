// A small SVG writer for the examples' figures: line charts on linear or log10
// axes (loss curves, a function with its iterates), and contour plots of 2-D
// functions with optimizer trajectories drawn on top. The output is a single
// self-contained .svg file that opens in any browser.
//
//   tg::plot::LineChart chart{.title = "loss", .x = {.label = "epoch"},
//                             .y = {.label = "loss", .log = true}};
//   chart.series.push_back({.label = "sgd", .x = epochs, .y = losses});
//   tg::plot::write_svg(chart, "loss.svg");
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tg::plot {

// Every member has an initialiser (`{}` at least), so designated initialisers may
// leave any of them out without g++'s -Wmissing-field-initializers warning.

/// One line of a chart: the points (x[i], y[i]) joined in order.
struct Series {
  std::string label{};           ///< legend text; an empty label keeps the series out of the legend
  std::vector<double> x{}, y{};  ///< same length, at least one point
  bool markers = false;          ///< a dot at every point, e.g. the iterates of an optimizer
};

/// An axis: its label, its scale and, optionally, fixed ends.
/// Points that cannot be drawn (NaN, inf, or <= 0 on a log axis) are skipped
/// and break their line there, so a diverging run or a loss that reaches 0
/// still plots; only a chart with no drawable point at all is an error.
struct Axis {
  std::string label{};
  bool log = false;                    ///< log10 scale, ticks at powers of ten
  std::optional<double> min{}, max{};  ///< fixed ends; default: the data's range plus a margin
};

/// A line chart: several series on shared axes, with a legend.
struct LineChart {
  std::string title{};
  Axis x{}, y{};
  std::vector<Series> series{};
  int width = 640, height = 420;  ///< pixels
};

/// The rectangle [x_min, x_max] x [y_min, y_max] of the plane.
struct Box {
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
};

/// A function's values on a regular grid over a box: values[j * nx + i] is
/// f(x_i, y_j) with x_i = x_min + i (x_max - x_min) / (nx - 1), likewise y_j.
struct Grid {
  Box box{};
  int nx = 0, ny = 0;  ///< at least 2 each
  std::vector<double> values{};
};

/// Samples f on an nx-by-ny grid over box.
Grid sample(const std::function<double(double, double)>& f, const Box& box, int nx = 121,
            int ny = 121);

/// A straight piece of a contour line, in data coordinates.
struct Segment {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

/// The curve where the grid's (bilinearly interpolated) function equals level,
/// as segments found by marching squares. Cells with a NaN or inf corner are skipped.
std::vector<Segment> contour_lines(const Grid& grid, double level);

/// Contour lines of a 2-D function with polylines on top (optimizer trajectories).
struct ContourPlot {
  std::string title{};
  Axis x{}, y{};  ///< labels and optional fixed ends (default: the grid's box); no log
  Grid grid{};    ///< the function's values, e.g. from sample()
  std::vector<double> levels{};   ///< empty: about 8 evenly spaced round values
  std::vector<Series> paths{};    ///< drawn over the contours, each in its own colour
  int width = 640, height = 480;  ///< pixels
};

/// The chart as an SVG document. Throws tg::Error ("to_svg: ...") on bad input.
std::string to_svg(const LineChart& chart);
/// The contour plot as an SVG document. Throws tg::Error ("to_svg: ...") on bad input.
std::string to_svg(const ContourPlot& plot);

/// Writes the chart to path atomically: path + ".tmp" first, then a rename, so
/// a reader never sees half a file. Errors name the file ("write_svg: ...").
void write_svg(const LineChart& chart, const std::filesystem::path& path);
/// Writes the contour plot to path atomically, like the LineChart overload.
void write_svg(const ContourPlot& plot, const std::filesystem::path& path);

}  // namespace tg::plot
