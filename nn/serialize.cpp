// nn::save / nn::load on top of the byte-level safetensors reader and writer.
// All checking happens before anything is copied: the file is parsed whole,
// then load_state_dict validates every name and shape, then copies.
#include <tapegrad/nn/serialize.h>

#include <vector>

#include <tapegrad/core/error.h>
#include <tapegrad/nn/safetensors.h>

namespace tg::nn {

void save(const Module& module, const std::string& path) {
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, tensor] : module.state_dict())
    entries.push_back({name, tensor.shape(), tensor.to_vector()});
  // "format": "pt" tells Hugging Face loaders that the names and layouts are PyTorch's,
  // which they are: the same dotted names and row-major float32 tensors.
  save_safetensors(path, entries, {{"format", "pt"}});
}

void load(Module& module, const std::string& path, bool strict) {
  StateDict dict;  // the reader's errors already name the path
  for (SafetensorsEntry& e : load_safetensors(path)) dict.insert(e.name, tensor(e.data, e.shape));
  try {
    module.load_state_dict(dict, strict);
  } catch (const Error& e) {
    fail("load: {}: {}", path, e.what());
  }
}

}  // namespace tg::nn
