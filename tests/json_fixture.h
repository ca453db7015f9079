// JsonFixture: read access to the JSON fixtures written by the PyTorch scripts under
// tests/*/fixtures/. Only json_fixture.cpp parses JSON: nlohmann/json costs about two
// seconds of compile time in every file that includes it, and the suites read a handful
// of shapes, names and number arrays.
//   JsonFixture f = JsonFixture::load(path);  std::vector<double> v = f["cases"]["sgd"][0].numbers();
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tg::test {

/// One value of a parsed fixture file (object, array or number); copies share the file.
/// Every lookup that does not fit the file throws tg::Error naming the file and the path.
class JsonFixture {
 public:
  /// Parses the file at `path`; throws tg::Error if it is missing or malformed.
  static JsonFixture load(const std::string& path);

  /// True when this is an object with a member `key`.
  bool contains(const std::string& key) const;
  /// The member `key` of this object.
  JsonFixture operator[](const std::string& key) const;
  /// The element `index` of this array.
  JsonFixture operator[](size_t index) const;
  /// Elements of an array, members of an object.
  size_t size() const;
  /// The member names of an object, sorted.
  std::vector<std::string> keys() const;
  /// This array of numbers, as doubles (the fixtures hold float32 values exactly).
  std::vector<double> numbers() const;
  /// This array of numbers, as floats.
  std::vector<float> floats() const;
  /// This array of integers.
  std::vector<int64_t> integers() const;

 private:
  struct File;
  JsonFixture(std::shared_ptr<const File> file, const nlohmann::json* node, std::string where);
  std::shared_ptr<const File> file_;
  const nlohmann::json* node_;
  std::string where_;  // the path inside the file, e.g. cases.sgd[3], for error messages
};

}  // namespace tg::test
