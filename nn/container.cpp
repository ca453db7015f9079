// ModuleList and ModuleDict. Both keep their modules only in the Module registry (no second
// list), so what they hold is exactly what named_children() shows.
#include <tapegrad/nn/container.h>

#include <fmt/format.h>  // fmt::join

#include <algorithm>

#include <tapegrad/core/error.h>

namespace tg::nn {

// ---- ModuleList --------------------------------------------------------------------------

void ModuleList::push_back(std::shared_ptr<Module> module) {
  register_module(std::to_string(size()), std::move(module));
}

void ModuleList::extend(const ModuleList& other) {
  check(&other != this, "ModuleList::extend: a list cannot extend itself");
  for (const auto& module : other) push_back(module);
}

std::shared_ptr<Module> ModuleList::operator[](int64_t i) const {
  const int64_t n = int64_t(size());
  check(i >= -n && i < n, "ModuleList: index {} is out of range for {} modules", i, n);
  return named_children()[size_t(i < 0 ? i + n : i)].second;
}

void ModuleList::wrong_type(int64_t i) const {
  fail("ModuleList::at: module {} is a {}, not the requested type", i, (*this)[i]->name());
}

// ---- ModuleDict --------------------------------------------------------------------------

ModuleDict::ModuleDict(std::vector<std::pair<std::string, std::shared_ptr<Module>>> items) {
  for (auto& [name, module] : items) insert(std::move(name), std::move(module));
}

void ModuleDict::insert(std::string name, std::shared_ptr<Module> module) {
  check(module != nullptr, "ModuleDict::insert: '{}' is a null module", name);
  if (contains(name))
    replace_module(name, std::move(module));
  else
    register_module(std::move(name), std::move(module));
}

bool ModuleDict::contains(const std::string& name) const {
  const auto& entries = named_children();
  return std::any_of(entries.begin(), entries.end(), [&](const auto& e) { return e.first == name; });
}

std::shared_ptr<Module> ModuleDict::operator[](const std::string& name) const {
  for (const auto& [key, module] : named_children())
    if (key == name) return module;
  fail("ModuleDict: no module named '{}'; keys: [{}]", name, fmt::join(keys(), ", "));
}

std::vector<std::string> ModuleDict::keys() const {
  std::vector<std::string> out;
  for (const auto& [key, module] : named_children()) out.push_back(key);
  return out;
}

void ModuleDict::wrong_type(const std::string& name) const {
  fail("ModuleDict::at: module '{}' is a {}, not the requested type", name, (*this)[name]->name());
}

}  // namespace tg::nn
