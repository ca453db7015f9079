// Tests of the training history: rows by column name, CSV out and back in (what a checkpoint
// carries), atomic CSV files, chart series, several runs in one CSV, and every error message.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include <tapegrad/core/atomic_file.h>
#include <tapegrad/train/history.h>
#include "tests/data/temp_dir.h"
#include "tests/test_util.h"

namespace {

using tg::test::error_of;
using tg::train::History;

History two_epochs() {
  History h({"epoch", "train_loss", "test_accuracy"});
  h.append({{"epoch", 1}, {"train_loss", 1.9234567}, {"test_accuracy", 41.25}});
  h.append({{"test_accuracy", 48.5}, {"epoch", 2}, {"train_loss", 1.5}});  // any order
  return h;
}

}  // namespace

TEST_CASE("History keeps rows by column name") {
  History h = two_epochs();
  CHECK(h.size() == 2);
  CHECK(h.columns() == std::vector<std::string>{"epoch", "train_loss", "test_accuracy"});
  CHECK(h.column("epoch") == std::vector<double>{1, 2});
  CHECK(h.column("test_accuracy") == std::vector<double>{41.25, 48.5});
  CHECK(History({"a"}).size() == 0);
  h.append({3, 1.25, 50});  // in column order
  CHECK(h.column("train_loss").back() == 1.25);
  CHECK(h.column("test_accuracy").back() == 50);
}

TEST_CASE("History::to_csv writes 6 significant digits and from_csv reads them back") {
  History h = two_epochs();
  std::string csv = h.to_csv();
  CHECK(csv == "epoch,train_loss,test_accuracy\n1,1.92346,41.25\n2,1.5,48.5\n");
  History back = History::from_csv(csv, "run.ckpt");
  CHECK(back.columns() == h.columns());
  CHECK(back.column("train_loss") == std::vector<double>{1.92346, 1.5});
  CHECK(back.to_csv() == csv);  // a resumed run writes the same file again
  CHECK(History::from_csv("a,b\n", "x").size() == 0);
  CHECK(History::from_csv("a,b\n1,2", "x").column("b") == std::vector<double>{2});  // no final \n
}

TEST_CASE("History::write_csv writes the file atomically") {
  tg::test::TempDir dir;
  two_epochs().write_csv(dir / "log.csv");
  CHECK(tg::read_file(dir / "log.csv") == two_epochs().to_csv());
  CHECK_FALSE(std::filesystem::exists(dir / "log.csv.tmp"));
  CHECK(error_of([&] {
          two_epochs().write_csv(dir / "missing/log.csv");
        }).find("missing/log.csv") != std::string::npos);
}

TEST_CASE("History::series and chart draw columns against a column") {
  History h = two_epochs();
  tg::plot::Series s = h.series("epoch", "train_loss");
  CHECK(s.label == "train_loss");
  CHECK(s.x == std::vector<double>{1, 2});
  CHECK(s.y == std::vector<double>{1.9234567, 1.5});
  CHECK(h.series("epoch", "train_loss", "train").label == "train");
  tg::plot::LineChart c =
      h.chart({.title = "t", .x = "epoch", .y = {"train_loss", "test_accuracy"}});
  CHECK(c.title == "t");
  CHECK(c.x.label == "epoch");
  CHECK(c.y.label == "train_loss");
  REQUIRE(c.series.size() == 2);
  CHECK(c.series[1].y == std::vector<double>{41.25, 48.5});
  CHECK(c.series[1].markers);
  CHECK(h.chart({.x = "epoch", .y = {"train_loss"}, .y_label = "loss", .log_y = true}).y.log);
  tg::plot::LineChart more = h.chart({.x = "epoch",
                                      .y = {"train_loss"},
                                      .extra = {{.label = "running", .x = {0.5}, .y = {2}}, {}}});
  REQUIRE(more.series.size() == 2);  // the empty extra series is left out
  CHECK(more.series[1].label == "running");
  CHECK(tg::plot::to_svg(c).find("<svg") != std::string::npos);
}

TEST_CASE("train::to_csv puts several runs in one CSV") {
  History a({"step", "loss"}), b({"step", "loss"});
  a.append({{"step", 0}, {"loss", 1}});
  a.append({{"step", 200}, {"loss", 0.5}});
  b.append({{"step", 0}, {"loss", 2}});
  CHECK(tg::train::to_csv("method", {{"sgd", a}, {"adam", b}}) ==
        "method,step,loss\nsgd,0,1\nsgd,200,0.5\nadam,0,2\n");
  CHECK(error_of([&] {
          tg::train::to_csv("m", {{"sgd", a}, {"x", History({"loss"})}});
        }) == "train::to_csv: run 'x' has the columns (loss), expected (step, loss)");
  CHECK(error_of([&] {
          tg::train::to_csv("m", {{"a,b", a}});
        }) == "train::to_csv: run name 'a,b' holds a comma or line break");
  CHECK(error_of([&] { tg::train::to_csv("m", {}); }) == "train::to_csv: no runs");
}

TEST_CASE("History: every error names what is wrong") {
  CHECK(error_of([] { History({}); }) == "History: no columns");
  CHECK(error_of([] {
          History({"a", "b,c"});
        }) == "History: column name 'b,c' is empty or holds a comma or line break");
  CHECK(error_of([] { History({""}); }) ==
        "History: column name '' is empty or holds a comma or line break");
  CHECK(error_of([] { History({"a", "b", "a"}); }) == "History: column 'a' appears twice");
  History h({"epoch", "loss"});
  CHECK(error_of([&] { h.append({{"epoch", 1}}); }) == "History::append: column 'loss' missing");
  CHECK(error_of([&] {
          h.append({{"epoch", 1}, {"loss", 2}, {"acc", 3}});
        }) == "History::append: no column 'acc' (columns: epoch, loss)");
  CHECK(error_of([&] {
          h.append({{"epoch", 1}, {"epoch", 2}, {"loss", 3}});
        }) == "History::append: column 'epoch' given twice");
  CHECK(error_of([&] {
          h.append({1.0, 2.0, 3.0});
        }) == "History::append: 3 values for the 2 columns (epoch, loss)");
  CHECK(h.size() == 0);  // a refused row adds nothing
  CHECK(error_of([&] { (void)h.column("acc"); }) ==
        "History::column: no column 'acc' (columns: epoch, loss)");
  CHECK(error_of([&] { (void)h.series("epoch", "acc"); }) ==
        "History::series: no column 'acc' (columns: epoch, loss)");
  CHECK(error_of([&] { (void)h.chart({.x = "epoch"}); }) == "History::chart: no y columns to draw");
  CHECK(error_of([] { History::from_csv("", "run.ckpt"); }) ==
        "History::from_csv: run.ckpt: no header line");
  CHECK(error_of([] { History::from_csv("a,b\n1,2\n3\n", "run.ckpt"); }) ==
        "History::from_csv: run.ckpt: line 3 has 1 fields, expected 2");
  CHECK(error_of([] { History::from_csv("a,b\n1,x\n", "run.ckpt"); }) ==
        "History::from_csv: run.ckpt: line 2: 'x' is not a number");
  CHECK(error_of([] { History::from_csv("a,b\n1,\n", "run.ckpt"); }) ==
        "History::from_csv: run.ckpt: line 2: '' is not a number");
  CHECK(error_of([] { History::from_csv("a,a\n", "run.ckpt"); }) ==
        "History: column 'a' appears twice");
}
