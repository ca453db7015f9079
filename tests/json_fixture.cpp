// The one translation unit of the suites that parses JSON (see json_fixture.h).
#include "tests/json_fixture.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include <tapegrad/core/error.h>

namespace tg::test {

struct JsonFixture::File {
  std::string path;
  nlohmann::json root;
};

JsonFixture::JsonFixture(std::shared_ptr<const File> file, const nlohmann::json* node,
                         std::string where)
    : file_(std::move(file)), node_(node), where_(std::move(where)) {}

JsonFixture JsonFixture::load(const std::string& path) {
  std::ifstream in(path);
  check(bool(in), "fixture: cannot open {}; hint: run the make_*_fixtures.py script beside it",
        path);
  auto file = std::make_shared<File>();
  file->path = path;
  try {
    file->root = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("fixture: {} is malformed: {}", path, e.what());
  }
  return JsonFixture(file, &file->root, "");
}

bool JsonFixture::contains(const std::string& key) const {
  return node_->is_object() && node_->contains(key);
}

JsonFixture JsonFixture::operator[](const std::string& key) const {
  std::string where = where_.empty() ? key : where_ + "." + key;
  check(contains(key), "fixture: {} has no '{}'", file_->path, where);
  return JsonFixture(file_, &node_->at(key), where);
}

JsonFixture JsonFixture::operator[](size_t index) const {
  check(node_->is_array() && index < node_->size(), "fixture: {} has no '{}[{}]'", file_->path,
        where_, index);
  return JsonFixture(file_, &node_->at(index), fmt::format("{}[{}]", where_, index));
}

size_t JsonFixture::size() const { return node_->size(); }

std::vector<std::string> JsonFixture::keys() const {
  std::vector<std::string> names;
  if (node_->is_object())
    for (const auto& item : node_->items()) names.push_back(item.key());
  return names;
}

namespace {
// The array at `node` as T values, or tg::Error naming the file and the place.
template <typename T>
std::vector<T> array_of(const nlohmann::json& node, const std::string& path,
                        const std::string& where) {
  try {
    return node.get<std::vector<T>>();
  } catch (const nlohmann::json::exception& e) {
    fail("fixture: {}: '{}' is not an array of numbers: {}", path, where, e.what());
  }
}
}  // namespace

std::vector<double> JsonFixture::numbers() const {
  return array_of<double>(*node_, file_->path, where_);
}
std::vector<float> JsonFixture::floats() const {
  return array_of<float>(*node_, file_->path, where_);
}
std::vector<int64_t> JsonFixture::integers() const {
  return array_of<int64_t>(*node_, file_->path, where_);
}

}  // namespace tg::test
