// Tests of the fixture reader every suite shares: values come back as written, and a file or
// lookup that does not fit fails with a message naming the file and the place.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/json_fixture.h"
#include "tests/test_util.h"

using tg::test::error_of;
using tg::test::JsonFixture;

namespace {
// Writes `text` to a fresh file in the temporary folder and returns its path.
std::string write_temp(const std::string& name, const std::string& text) {
  std::string path = std::string(P_tmpdir) + "/tapegrad_json_fixture_" + name;
  std::ofstream(path) << text;
  return path;
}
}  // namespace

TEST_CASE("JsonFixture reads nested objects and arrays") {
  std::string path = write_temp(
      "ok.json", R"({"b": {"shape": [2, 3], "data": [0.5, -1.25]}, "a": [[1, 2], [3]]})");
  JsonFixture f = JsonFixture::load(path);
  CHECK(f.keys() == std::vector<std::string>{"a", "b"});
  CHECK(f.contains("b"));
  CHECK_FALSE(f.contains("c"));
  CHECK(f["b"]["shape"].integers() == std::vector<int64_t>{2, 3});
  CHECK(f["b"]["data"].numbers() == std::vector<double>{0.5, -1.25});
  CHECK(f["b"]["data"].floats() == std::vector<float>{0.5f, -1.25f});
  CHECK(f["a"].size() == 2);
  CHECK(f["a"][1].numbers() == std::vector<double>{3});
  std::remove(path.c_str());
}

TEST_CASE("JsonFixture errors name the file and the place") {
  std::string missing = std::string(P_tmpdir) + "/tapegrad_json_fixture_missing.json";
  CHECK(error_of([&] { JsonFixture::load(missing); }) ==
        "fixture: cannot open " + missing +
            "; hint: run the make_*_fixtures.py script beside it");

  std::string bad = write_temp("bad.json", "{\"a\": [1, 2");
  CHECK(error_of([&] { JsonFixture::load(bad); }).find("fixture: " + bad + " is malformed: ") ==
        0);
  std::remove(bad.c_str());

  std::string path = write_temp("lookups.json", R"({"a": {"b": [1, "x"]}})");
  JsonFixture f = JsonFixture::load(path);
  CHECK(error_of([&] { f["a"]["c"]; }) == "fixture: " + path + " has no 'a.c'");
  CHECK(error_of([&] { f["a"]["b"][2]; }) == "fixture: " + path + " has no 'a.b[2]'");
  CHECK(error_of([&] { f["a"]["b"].numbers(); })
            .find("fixture: " + path + ": 'a.b' is not an array of numbers: ") == 0);
  std::remove(path.c_str());
}
