// Tests of the SVG writer: documents are well formed (tags balance, text is
// escaped), every series becomes a polyline with a legend entry, log axes tick
// at powers of ten, marching squares finds the right curves, files are
// written atomically, and every error message names what is wrong.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <tapegrad/core/error.h>
#include <tapegrad/plot/svg.h>
#include "tests/test_util.h"

namespace {

namespace fs = std::filesystem;
using namespace tg::plot;

// A fresh directory under the system temp folder, removed with its contents at scope exit.
struct ScratchDir {
  fs::path path;
  ScratchDir() {
    static std::atomic<int> counter = 0;
    path = fs::temp_directory_path() /
           ("tapegrad-svg-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(path)) names.push_back(entry.path().filename());
    return names;
  }
};

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Empty if the document is one <svg> element whose tags all close in order and
// whose '&'s all start an entity; otherwise what is wrong.
std::string well_formed(const std::string& svg) {
  if (!svg.starts_with("<svg ") || !svg.ends_with("</svg>\n")) return "not one <svg> element";
  std::vector<std::string> open;
  for (size_t i = svg.find('<'); i != std::string::npos; i = svg.find('<', i)) {
    size_t end = svg.find('>', i);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
    std::string tag = svg.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.ends_with("/")) continue;  // self-closing
    if (tag.starts_with("/")) {
      if (open.empty() || open.back() != tag.substr(1)) return "unexpected <" + tag + ">";
      open.pop_back();
    } else {
      open.push_back(tag.substr(0, tag.find_first_of(" \n")));
    }
    if (open.empty() && i != svg.size() - 1) return "content after </svg>";
  }
  if (!open.empty()) return "<" + open.back() + "> is not closed";
  for (size_t i = svg.find('&'); i != std::string::npos; i = svg.find('&', i + 1)) {
    std::string rest = svg.substr(i, 6);
    if (!rest.starts_with("&amp;") && !rest.starts_with("&lt;") && !rest.starts_with("&gt;") &&
        !rest.starts_with("&quot;") && !rest.starts_with("&apos;"))
      return "bare & at " + std::to_string(i);
  }
  return "";
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t i = text.find(what); i != std::string::npos; i = text.find(what, i + 1)) ++n;
  return n;
}

// The values of attribute `name` in every element that starts with `element`.
std::vector<double> attribute(const std::string& svg, const std::string& element,
                              const std::string& name) {
  std::vector<double> values;
  for (size_t i = svg.find(element); i != std::string::npos; i = svg.find(element, i + 1)) {
    size_t a = svg.find(" " + name + "='", i);
    values.push_back(std::stod(svg.substr(a + name.size() + 3)));
  }
  return values;
}

Series line(std::string label, std::vector<double> x, std::vector<double> y) {
  return {.label = std::move(label), .x = std::move(x), .y = std::move(y)};
}

}  // namespace

TEST_CASE("svg: a line chart has a polyline, colour and legend entry per series") {
  ScratchDir dir;
  LineChart chart{.title = "Loss & accuracy", .x = {.label = "epoch"}, .y = {.label = "loss"}};
  chart.series = {line("sgd", {1, 2, 3}, {0.9, 0.5, 0.4}), line("adam", {1, 2, 3}, {0.8, 0.3, 0.2}),
                  line("a < b", {1, 2, 3}, {0.7, 0.6, 0.5})};
  chart.series[1].markers = true;
  fs::path file = dir.path / "loss.svg";
  write_svg(chart, file);

  std::string svg = read(file);
  CHECK(well_formed(svg) == "");
  CHECK(svg == to_svg(chart));
  CHECK(count(svg, "<polyline") == 3);
  CHECK(count(svg, "<circle") == 3 + 1);  // adam's three markers and its legend swatch
  CHECK(svg.find(">sgd</text>") != std::string::npos);
  CHECK(svg.find(">adam</text>") != std::string::npos);
  CHECK(svg.find(">a &lt; b</text>") != std::string::npos);
  CHECK(svg.find(">Loss &amp; accuracy</text>") != std::string::npos);
  CHECK(svg.find(">epoch</text>") != std::string::npos);
  CHECK(svg.find(">loss</text>") != std::string::npos);
  std::set<std::string> colours;
  for (size_t i = svg.find("<polyline"); i != std::string::npos; i = svg.find("<polyline", i + 1))
    colours.insert(svg.substr(svg.find("stroke='", i), 17));
  CHECK(colours.size() == 3);
  // Round tick values on a linear axis: 1.0, 1.5, ... 3.0 and 0.2, 0.3, ...
  CHECK(svg.find(">1.5</text>") != std::string::npos);
  CHECK(svg.find(">0.4</text>") != std::string::npos);
  // Only the file itself is left: the temporary was renamed over it.
  CHECK(dir.files() == std::vector<std::string>{"loss.svg"});

  // Writing again replaces the file in place.
  chart.series.pop_back();
  write_svg(chart, file);
  CHECK(count(read(file), "<polyline") == 2);
  CHECK(dir.files() == std::vector<std::string>{"loss.svg"});
}

TEST_CASE("svg: log axes tick at powers of ten, evenly spaced") {
  LineChart chart{.x = {.label = "step"}, .y = {.label = "loss", .log = true}};
  chart.series = {line("", {0, 1, 2, 3, 4, 5}, {100, 10, 1, 0.1, 0.01, 0.001})};
  std::string svg = to_svg(chart);
  CHECK(well_formed(svg) == "");
  std::vector<double> ys;  // pixel heights of the labels 10^-3 .. 10^2
  for (int k = -3; k <= 2; ++k) {
    std::string label = fmt::format(">10<tspan dy='-6' font-size='9'>{}</tspan></text>", k);
    size_t at = svg.find(label);
    REQUIRE_MESSAGE(at != std::string::npos, "no tick label 10^", k);
    size_t start = svg.rfind("<text", at);
    ys.push_back(attribute(svg.substr(start, at - start), "<text", "y")[0]);
  }
  for (size_t i = 1; i + 1 < ys.size(); ++i)
    CHECK(ys[i] - ys[i + 1] == doctest::Approx(ys[0] - ys[1]).epsilon(0.01));
  CHECK(ys[0] > ys[5]);  // larger values higher up
  // No series has a label, so there is no legend.
  CHECK(svg.find("class='legend'") == std::string::npos);

  // A span of less than two decades labels 1, 2, 5, 10, ... in plain numbers.
  chart.series = {line("", {0, 1}, {1.5, 30})};
  svg = to_svg(chart);
  CHECK(svg.find(">2</text>") != std::string::npos);
  CHECK(svg.find(">10</text>") != std::string::npos);
  CHECK(svg.find(">20</text>") != std::string::npos);
}

TEST_CASE("svg: undrawable points are skipped and break the line") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  // On a log axis 0 and -1 cannot be drawn: two runs remain, {1} and {10, 100}.
  LineChart chart{.y = {.log = true}};
  chart.series = {line("s", {1, 2, 3, 4, 5}, {1, 0, -1, 10, 100})};
  std::string svg = to_svg(chart);
  CHECK(well_formed(svg) == "");
  CHECK(count(svg, "<polyline") == 2);
  // NaN and inf (a diverging run) likewise, on linear axes.
  LineChart linear;
  linear.series = {line("s", {1, 2, 3, 4}, {1, nan, 2, inf})};
  CHECK(count(to_svg(linear), "<polyline") == 2);
  // Nothing drawable at all is an error.
  chart.series = {line("s", {1, 2}, {0, -1})};
  CHECK_THROWS_WITH_AS(to_svg(chart),
                       "to_svg: no point of chart \"\" can be drawn (all are NaN, inf or <= 0 on "
                       "a log axis)",
                       tg::Error);
}

TEST_CASE("svg: fixed axis ends and one-point series") {
  LineChart chart{.x = {.min = 0.0, .max = 10.0}, .y = {.min = -1.0, .max = 1.0}};
  chart.series = {line("s", {5}, {0.5})};
  std::string svg = to_svg(chart);
  CHECK(well_formed(svg) == "");
  CHECK(svg.find(">10</text>") != std::string::npos);
  CHECK(svg.find(">-1.0</text>") != std::string::npos);
  CHECK(svg.find(">0.0</text>") != std::string::npos);
}

TEST_CASE("svg: marching squares follows the level curve") {
  // x^2 + y^2 = 4: every crossing lies on the circle of radius 2, all the way round.
  Grid grid = sample([](double x, double y) { return x * x + y * y; }, {-3, 3, -3, 3}, 61, 61);
  std::vector<Segment> circle = contour_lines(grid, 4.0);
  CHECK(circle.size() > 40);
  double lowest = 0, highest = 0;
  for (const Segment& s : circle) {
    CHECK(std::hypot(s.x0, s.y0) == doctest::Approx(2.0).epsilon(0.01));
    CHECK(std::hypot(s.x1, s.y1) == doctest::Approx(2.0).epsilon(0.01));
    lowest = std::min(lowest, s.y0), highest = std::max(highest, s.y0);
  }
  CHECK(lowest < -1.99);
  CHECK(highest > 1.99);
  CHECK(contour_lines(grid, 100.0).empty());  // above every value

  // A saddle cell: corners 1, -1, 1, -1 (counter-clockwise from the bottom left).
  Grid saddle{.box = {0, 1, 0, 1}, .nx = 2, .ny = 2, .values = {1, -1, -1, 1}};
  // values[j * nx + i]: (0,0) = 1, (1,0) = -1, (0,1) = -1, (1,1) = 1.
  // Level 0.5 is above the centre's mean 0: the two high corners are cut off.
  std::vector<Segment> high = contour_lines(saddle, 0.5);
  REQUIRE(high.size() == 2);
  CHECK(high[0].x0 == doctest::Approx(0.0));  // left edge, near (0, 0)
  CHECK(high[0].y0 == doctest::Approx(0.25));
  CHECK(high[0].x1 == doctest::Approx(0.25));  // bottom edge
  CHECK(high[0].y1 == doctest::Approx(0.0));
  // Level -0.5 is below the centre: the two low corners are cut off instead.
  std::vector<Segment> low = contour_lines(saddle, -0.5);
  REQUIRE(low.size() == 2);
  CHECK(low[0].x0 == doctest::Approx(0.75));  // bottom edge, near (1, 0)
  CHECK(low[0].y0 == doctest::Approx(0.0));
  CHECK(low[0].x1 == doctest::Approx(1.0));  // right edge
  CHECK(low[0].y1 == doctest::Approx(0.25));
}

TEST_CASE("svg: a contour plot has one path per level and the trajectories on top") {
  ScratchDir dir;
  ContourPlot plot{.title = "f = x1^2 + 2 x2^2", .x = {.label = "x1"}, .y = {.label = "x2"}};
  plot.grid = sample([](double a, double b) { return a * a + 2 * b * b; }, {-5.5, 1, -3, 1});
  plot.levels = {1, 4, 16};
  plot.paths = {line("gd", {-5, -4, -3.2}, {-2, -1.2, -0.72}), line("momentum", {-5, -3}, {-2, 0})};
  plot.paths[0].markers = true;
  fs::path file = dir.path / "contour.svg";
  write_svg(plot, file);
  std::string svg = read(file);
  CHECK(well_formed(svg) == "");
  CHECK(count(svg, "<path class='contour'") == 3);
  CHECK(svg.find("data-level='16'") != std::string::npos);
  CHECK(count(svg, "<polyline") == 2);
  CHECK(count(svg, "<circle") == 3 + 1);  // gd's iterates and its legend swatch
  CHECK(svg.find(">gd</text>") != std::string::npos);
  CHECK(svg.find(">momentum</text>") != std::string::npos);
  CHECK(dir.files() == std::vector<std::string>{"contour.svg"});

  // Automatic levels: round values strictly inside the function's range (0, 48.25].
  plot.levels.clear();
  std::vector<double> levels = attribute(to_svg(plot), "<path class='contour'", "data-level");
  CHECK(levels.size() >= 5);
  CHECK(levels.size() <= 12);
  for (double level : levels) {
    CHECK(level > 0);
    CHECK(level < 48.25);
  }
}

TEST_CASE("svg: errors name the problem and, when writing, the file") {
  ScratchDir dir;
  LineChart chart;
  std::string file = (dir.path / "bad.svg").string();

  CHECK_THROWS_WITH_AS(to_svg(chart), "to_svg: chart \"\" has no series", tg::Error);
  chart.title = "loss";
  CHECK_THROWS_WITH_AS(write_svg(chart, file),
                       ("write_svg: " + file + ": chart \"loss\" has no series").c_str(),
                       tg::Error);
  chart.series = {line("sgd", {}, {})};
  CHECK_THROWS_WITH_AS(write_svg(chart, file),
                       ("write_svg: " + file + ": series \"sgd\" is empty").c_str(), tg::Error);
  chart.series = {line("sgd", {1, 2, 3}, {1, 2})};
  CHECK_THROWS_WITH_AS(to_svg(chart), "to_svg: series \"sgd\" has 3 x values but 2 y values",
                       tg::Error);
  // Nothing is left behind by a failed write.
  CHECK(dir.files().empty());

  chart.series = {line("sgd", {1, 2}, {1, 2})};
  chart.y = {.log = true, .min = 0.0};
  CHECK_THROWS_WITH_AS(to_svg(chart), "to_svg: log y axis starts at 0, must be > 0", tg::Error);
  chart.y = {.min = 3.0, .max = 1.0};
  CHECK_THROWS_WITH_AS(to_svg(chart), "to_svg: y axis range [3, 1] is empty", tg::Error);
  chart.y = {};
  chart.width = 100;
  CHECK_THROWS_WITH_AS(to_svg(chart), "to_svg: size 100x420 is too small, need at least 200x150",
                       tg::Error);

  std::string missing = (dir.path / "no-such-dir" / "a.svg").string();
  chart.width = 640;
  // Written through core/atomic_file: its errors name the target and the OS's reason.
  CHECK_THROWS_CONTAINING(write_svg(chart, missing),
                          "cannot create temporary file for '" + missing +
                              "': No such file or directory");
  // A directory in the way of the rename: the temporary is removed again.
  fs::create_directories(dir.path / "taken.svg" / "inside");
  std::string taken = (dir.path / "taken.svg").string();
  CHECK_THROWS_CONTAINING(write_svg(chart, taken), "to '" + taken + "': Is a directory");
  for (const auto& entry : fs::directory_iterator(dir.path))  // no temporary left behind
    CHECK_MESSAGE(!entry.path().filename().string().starts_with("taken.svg.tmp"), entry.path());

  ContourPlot plot{.title = "bowl"};
  CHECK_THROWS_WITH_AS(to_svg(plot), "to_svg: grid is 0x0, need at least 2x2", tg::Error);
  plot.grid = {.box = {0, 1, 0, 1}, .nx = 3, .ny = 2, .values = {1, 2, 3}};
  CHECK_THROWS_WITH_AS(to_svg(plot), "to_svg: grid 3x2 needs 6 values, has 3", tg::Error);
  plot.grid = {.box = {0, 1, 1, 1}, .nx = 2, .ny = 2, .values = {1, 2, 3, 4}};
  CHECK_THROWS_WITH_AS(to_svg(plot), "to_svg: box [0, 1] x [1, 1] is empty", tg::Error);
  plot.grid.box = {0, 1, 0, 1};
  plot.y.log = true;
  CHECK_THROWS_WITH_AS(
      to_svg(plot), "to_svg: contour plot \"bowl\" has a log axis; only linear axes are supported",
      tg::Error);
  plot.y.log = false;
  plot.paths = {line("gd", {1}, {})};
  CHECK_THROWS_WITH_AS(to_svg(plot), "to_svg: series \"gd\" has 1 x values but 0 y values",
                       tg::Error);
  CHECK_THROWS_WITH_AS(sample([](double, double) { return 0.0; }, {0, 1, 0, 1}, 1, 5),
                       "sample: grid is 1x5, need at least 2x2", tg::Error);
  CHECK_THROWS_WITH_AS(contour_lines(Grid{}, 0.0), "contour_lines: grid is 0x0, need at least 2x2",
                       tg::Error);
}
