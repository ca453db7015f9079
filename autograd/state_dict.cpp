// StateDict's bookkeeping, and save/load through the safetensors codec of core/. Numbers are
// kept as their shortest round-trip text ("0.1", "1e-08", "inf"), which is also how they sit
// in a file's metadata, so a save/load cycle is exact to the bit.
#include <tapegrad/autograd/state_dict.h>

#include <fmt/format.h>  // fmt::join

#include <charconv>

#include <tapegrad/core/error.h>
#include <tapegrad/core/safetensors.h>

namespace tg {

StateDict::StateDict(std::initializer_list<Item> items) {
  for (const auto& [name, tensor] : items) insert(name, tensor);
}

void StateDict::insert(std::string name, Tensor tensor) {
  check(!index_.contains(name), "state_dict: key '{}' inserted twice", name);
  check(tensor.defined(), "state_dict: key '{}' holds an undefined tensor", name);
  index_.emplace(name, items_.size());
  items_.emplace_back(std::move(name), std::move(tensor));
}

const Tensor* StateDict::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &items_[it->second].second;
}

const Tensor& StateDict::at(const std::string& name) const {
  const Tensor* t = find(name);
  if (!t) {
    std::vector<std::string> names;
    for (const auto& item : items_) names.push_back(item.first);
    fail("state_dict: no key '{}'; keys are: {}", name, fmt::join(names, ", "));
  }
  return *t;
}

void StateDict::set(const std::string& key, double value) {
  metadata_[key] = fmt::format("{}", value);
}

void StateDict::set(const std::string& key, std::string text) { metadata_[key] = std::move(text); }

const std::string& StateDict::text(const std::string& key) const {
  auto it = metadata_.find(key);
  check(it != metadata_.end(), "state_dict: no entry '{}'", key);
  return it->second;
}

double StateDict::number(const std::string& key) const {
  const std::string& s = text(key);
  double value = 0;
  auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);  // no locale
  check(!s.empty() && error == std::errc() && end == s.data() + s.size(),
        "state_dict: entry '{}' is '{}', not a number", key, s);
  return value;
}

void StateDict::update(const StateDict& other, std::string_view prefix) {
  for (const auto& [name, t] : other) insert(std::string(prefix) + name, t);
  for (const auto& [key, text] : other.metadata_) metadata_[std::string(prefix) + key] = text;
}

StateDict StateDict::sub(std::string_view prefix) const {
  StateDict part;
  for (const auto& [name, t] : items_)
    if (name.starts_with(prefix)) part.insert(name.substr(prefix.size()), t);
  for (const auto& [key, text] : metadata_)
    if (key.starts_with(prefix)) part.metadata_[key.substr(prefix.size())] = text;
  return part;
}

void save(const StateDict& dict, const std::string& path) {
  save_safetensors(path, {{dict.begin(), dict.end()}, dict.metadata()});  // errors name the path
}

StateDict load(const std::string& path) {
  Safetensors file = load_safetensors(path);  // its errors name the path
  StateDict dict;
  for (auto& [name, t] : file.tensors) dict.insert(std::move(name), Tensor(std::move(t)));
  for (auto& [key, text] : file.metadata) dict.set(key, std::move(text));
  return dict;
}

}  // namespace tg
