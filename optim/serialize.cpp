// StateDict <-> safetensors (nn/safetensors.h does the bytes). The metadata key
// "tapegrad.format" marks the file as an optimizer state; every other key is a scalar.
#include <tapegrad/optim/serialize.h>

#include <cstdlib>

#include <tapegrad/nn/safetensors.h>

namespace tg::optim {

namespace {
constexpr const char* kFormatKey = "tapegrad.format";
constexpr const char* kFormat = "optimizer_state";
}  // namespace

void save(const StateDict& dict, const std::string& path) {
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, t] : dict.tensors) entries.push_back({name, t.shape(), t.to_vector()});
  SafetensorsMetadata metadata{{kFormatKey, kFormat}};
  for (const auto& [name, value] : dict.scalars) {
    check(name != kFormatKey, "optim::save: the scalar name '{}' is reserved", name);
    metadata[name] = fmt::format("{}", value);  // the shortest string that reads back exactly
  }
  save_safetensors(path, entries, metadata);
}

StateDict load(const std::string& path) {
  SafetensorsMetadata metadata;
  std::vector<SafetensorsEntry> entries = load_safetensors(path, &metadata);
  auto format = metadata.find(kFormatKey);
  check(format != metadata.end() && format->second == kFormat,
        "optim::load: {} is not an optimizer state (its metadata has no \"{}\": \"{}\")", path,
        kFormatKey, kFormat);
  StateDict dict;
  for (const auto& [name, text] : metadata) {
    if (name == kFormatKey) continue;
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    check(!text.empty() && end == text.c_str() + text.size(),
          "optim::load: {}: the metadata entry '{}' is not a number: '{}'", path, name, text);
    dict.scalars[name] = value;
  }
  for (auto& e : entries) dict.tensors[e.name] = tensor(e.data, e.shape);
  return dict;
}

}  // namespace tg::optim
