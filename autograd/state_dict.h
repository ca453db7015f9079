// StateDict: the one format of saved state. Modules, optimizers and LR schedulers all return
// one from state_dict() and take one in load_state_dict(), as in PyTorch; it lives here, below
// nn/ and optim/, so both speak it without seeing each other. It holds named tensors in a
// fixed order and named numbers and strings (metadata). tg::save / tg::load put it in a
// safetensors file:
//   tg::save(net.state_dict(), "net.safetensors");  net.load_state_dict(tg::load(path));
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tapegrad/autograd/tensor.h>

namespace tg {

/// Name -> tensor in insertion order, plus name -> number or string (the metadata).
class StateDict {
 public:
  using Item = std::pair<std::string, Tensor>;  ///< one (dotted name, tensor) entry
  StateDict() = default;                          ///< an empty dict
  StateDict(std::initializer_list<Item> items);  ///< `{{"weight", w}, {"bias", b}}`

  // ---- tensors ---------------------------------------------------------------------------
  /// Appends a tensor; a name may appear only once and the tensor must be defined.
  void insert(std::string name, Tensor tensor);
  /// The tensor stored under `name`, or nullptr.
  const Tensor* find(const std::string& name) const;
  /// The tensor stored under `name`; throws tg::Error listing the names if absent.
  const Tensor& at(const std::string& name) const;
  /// True when `name` is a tensor's name.
  bool contains(const std::string& name) const { return find(name) != nullptr; }
  size_t size() const { return items_.size(); }  ///< the number of tensors
  bool empty() const { return items_.empty() && metadata_.empty(); }  ///< no tensor, no metadata
  auto begin() const { return items_.begin(); }  ///< tensors in insertion order
  auto end() const { return items_.end(); }      ///< end of the tensors

  // ---- metadata: numbers and strings -----------------------------------------------------
  /// Sets a number (stored as the shortest text that reads back to the same double).
  void set(const std::string& key, double value);
  /// Sets a string.
  void set(const std::string& key, std::string text);
  /// True when `key` is set.
  bool has(const std::string& key) const { return metadata_.contains(key); }
  /// The number under `key`; throws tg::Error if it is absent or not a number.
  double number(const std::string& key) const;
  /// The string under `key`; throws tg::Error if it is absent.
  const std::string& text(const std::string& key) const;
  /// Every metadata entry as text, sorted by key.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // ---- nesting (what a checkpoint does with its parts) ------------------------------------
  /// Adds every tensor and metadata entry of `other` with `prefix` before its name.
  void update(const StateDict& other, std::string_view prefix = "");
  /// The entries whose names start with `prefix`, with the prefix removed.
  StateDict sub(std::string_view prefix) const;

 private:
  std::vector<Item> items_;
  std::map<std::string, size_t> index_;  // name -> position in items_
  std::map<std::string, std::string> metadata_;
};

/// Writes `dict` to `path` as safetensors (tensors as F32, metadata as strings), atomically:
/// a crash or an error leaves the old file (or none), never a half-written one.
void save(const StateDict& dict, const std::string& path);

/// Reads a safetensors file (written by save(), PyTorch or Hugging Face) into a StateDict whose
/// tensors come sorted by name; a damaged file is a tg::Error naming the path and the problem.
StateDict load(const std::string& path);

}  // namespace tg
