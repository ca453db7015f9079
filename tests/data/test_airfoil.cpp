// Tests of the airfoil table reader and column standardization, on small tables written here:
// separators, line ends, row limits and one case per error message.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>

#include <tapegrad/core/error.h>
#include <tapegrad/data/airfoil.h>
#include "tests/data/temp_dir.h"

using tg::data::read_airfoil;
using tg::data::standardize_columns;
using tg::data::Table;

TEST_CASE("airfoil: reads a CRLF, tab-separated table with trailing blank lines") {
  tg::test::TempDir dir;
  std::string path = dir.write("a.dat",
                               "800\t0\t0.3048\t71.3\t0.00266337\t126.201\r\n"
                               "1000\t1.5\t0.2286\t39.6\t0.0052\t125.201\r\n"
                               "\r\n\r\n");
  Table t = read_airfoil(path);
  CHECK(t.rows == 2);
  CHECK(t.cols == 6);
  CHECK(t.shape() == tg::Shape{2, 6});
  REQUIRE(t.values.size() == 12);
  CHECK(t.values[0] == 800.0f);
  CHECK(t.values[4] == 0.00266337f);
  CHECK(t.values[5] == 126.201f);
  CHECK(t.values[6] == 1000.0f);  // row-major: row 1 starts at index cols
  CHECK(t.values[7] == 1.5f);
}

TEST_CASE("airfoil: accepts LF, runs of spaces and tabs, signs and exponents; max_rows") {
  tg::test::TempDir dir;
  std::string path = dir.write("a.dat",
                               "  1 2  3\t\t4 5 6\n"
                               "+1.5 -2 1e3 2.5E-1 .5 -0\n"
                               "7 8 9 10 11 12");  // no line end at the end
  Table t = read_airfoil(path);
  CHECK(t.rows == 3);
  CHECK(t.values[6] == 1.5f);
  CHECK(t.values[7] == -2.0f);
  CHECK(t.values[8] == 1000.0f);
  CHECK(t.values[9] == 0.25f);
  CHECK(t.values[10] == 0.5f);
  CHECK(t.values[17] == 12.0f);

  Table two = read_airfoil(path, 2);
  CHECK(two.rows == 2);
  CHECK(two.values.size() == 12);
  CHECK(read_airfoil(path, 10).rows == 3);  // fewer rows than asked for is fine
}

TEST_CASE("airfoil: numbers below float's range flush to zero, as strtof and numpy read them") {
  tg::test::TempDir dir;
  Table t = read_airfoil(dir.write("tiny.dat", "1e-50 -1e-50 1e-99999 1e-40 2 3\n"));
  CHECK(t.values[0] == 0.0f);
  CHECK(t.values[1] == 0.0f);
  CHECK(std::signbit(t.values[1]));
  CHECK(t.values[2] == 0.0f);
  CHECK(t.values[3] == std::strtof("1e-40", nullptr));  // a subnormal float, not zero
  CHECK(t.values[3] > 0.0f);
}

TEST_CASE("airfoil: malformed files name the file, the line and the column") {
  tg::test::TempDir dir;
  std::string row = "1 2 3 4 5 6\n";
  auto read = [&](const std::string& text) { return read_airfoil(dir.write("bad.dat", text)); };
  std::string name = dir / "bad.dat";
  CHECK_THROWS_WITH_AS(
      read(row + "1 2 abc 4 5 6\n"),
      ("airfoil: " + name + " line 2, column 3: 'abc' is not a finite number").c_str(), tg::Error);
  CHECK_THROWS_WITH_AS(read(row + row + "1 2 3 4 5 6.5x\r\n"),
                       doctest::Contains("line 3, column 6: '6.5x' is not a finite number"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(read("1 2 3 4 nan 6\n"),
                       doctest::Contains("line 1, column 5: 'nan' is not a finite number"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(read("1 2 3 4 5 1e99\n"),
                       doctest::Contains("line 1, column 6: '1e99' is out of float range"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(read("1 2 3 4 5 1e99999\n"),  // too large even for double
                       doctest::Contains("column 6: '1e99999' is out of float range"), tg::Error);
  CHECK_THROWS_WITH_AS(read(std::string("1 2 3 4 5 6\0x\n", 14)),
                       doctest::Contains("column 6: '6\\x00x' is not a finite number"), tg::Error);
  CHECK_THROWS_WITH_AS(read(row + "1 2 3 4 5\n"), doctest::Contains("line 2: 5 fields, expected 6"),
                       tg::Error);
  CHECK_THROWS_WITH_AS(read(row + row + "1 2 3 4 5 6 7\n"),
                       doctest::Contains("line 3: 7 fields, expected 6"), tg::Error);
  CHECK_THROWS_WITH_AS(read(row + "\n" + row), doctest::Contains("line 2: 0 fields, expected 6"),
                       tg::Error);  // only trailing blank lines are skipped
  CHECK_THROWS_WITH_AS(read(""), ("airfoil: " + name + " is empty").c_str(), tg::Error);
  CHECK_THROWS_WITH_AS(read(" \r\n\n\t\n"), doctest::Contains("is empty"), tg::Error);
}

TEST_CASE("airfoil: a missing file names it and says how to fetch it") {
  tg::test::TempDir dir;
  CHECK_THROWS_WITH_AS(
      read_airfoil(dir / "none.dat"),
      doctest::Contains(
          ("cannot open " + (dir / "none.dat") + ": No such file or directory").c_str()),
      tg::Error);
  CHECK_THROWS_WITH_AS(read_airfoil(dir / "none.dat"),
                       doctest::Contains("hint: scripts/fetch-data.sh airfoil"), tg::Error);
}

TEST_CASE("standardize_columns: zero mean, unit population std per column") {
  Table t{.values = {1, 10, 2, 20, 3, 30, 4, 70}, .rows = 4, .cols = 2};
  standardize_columns(t);
  // Column 0 = 1..4: mean 2.5, population std sqrt(1.25) (the sample std would be sqrt(5/3)).
  double s = std::sqrt(1.25);
  CHECK(t.values[0] == doctest::Approx(-1.5 / s));
  CHECK(t.values[2] == doctest::Approx(-0.5 / s));
  CHECK(t.values[4] == doctest::Approx(0.5 / s));
  CHECK(t.values[6] == doctest::Approx(1.5 / s));
  // Column 1 = 10, 20, 30, 70: mean 32.5, variance (22.5^2 + 12.5^2 + 2.5^2 + 37.5^2) / 4 = 518.75.
  CHECK(t.values[1] == doctest::Approx(-22.5 / std::sqrt(518.75)));
  CHECK(t.values[7] == doctest::Approx(37.5 / std::sqrt(518.75)));
  for (int c = 0; c < 2; ++c) {
    double sum = 0, squares = 0;
    for (int r = 0; r < 4; ++r) {
      double v = t.values[r * 2 + c];
      sum += v, squares += v * v;
    }
    CHECK(sum / 4 == doctest::Approx(0.0).epsilon(1e-6));
    CHECK(squares / 4 == doctest::Approx(1.0));
  }
}

TEST_CASE("standardize_columns: a constant column or an empty table is an error") {
  Table t{.values = {1, 0.3f, 2, 0.3f, 3, 0.3f}, .rows = 3, .cols = 2};
  CHECK_THROWS_WITH_AS(
      standardize_columns(t),
      "standardize_columns: column 2 is constant (0.3 in all 3 rows), its std is 0", tg::Error);
  Table empty{.cols = 6};
  CHECK_THROWS_WITH_AS(standardize_columns(empty), "standardize_columns: the table has no rows",
                       tg::Error);
}
