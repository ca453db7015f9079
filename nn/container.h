// Containers that hold submodules without chaining them (PyTorch's ModuleList and ModuleDict):
// the model's own forward decides how to use them. What they hold is registered, so it is in
// parameters(), state_dict() ("layers.0.weight", "heads.cls.bias"), train()/eval() and printing.
//   nn::ModuleList layers;
//   for (int i = 0; i < 3; ++i) layers.push_back(nn::Linear(8, 8));
//   for (const auto& layer : layers) x = (*layer)(x).relu();
// Sequential (sequential.h) is the container that does chain its modules.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <tapegrad/nn/module.h>
#include <tapegrad/nn/sequential.h>  // detail::ModuleValue, detail::ModulePointer

namespace tg::nn {

/// A list of submodules named "0", "1", ... by position, as PyTorch's ModuleList. It has no
/// forward of its own (calling it is a tg::Error, as in PyTorch).
class ModuleList : public Module {
 public:
  ModuleList() = default;  ///< an empty list
  /// A list of the given modules (values or shared_ptrs).
  template <typename... M>
    requires((detail::ModuleValue<M> || detail::ModulePointer<M>) && ...) &&
            (sizeof...(M) != 1 || !(std::same_as<std::decay_t<M>, ModuleList> && ...))
  explicit ModuleList(M&&... modules) {
    (push_back(std::forward<M>(modules)), ...);
  }

  /// Appends a module (a value is copied or moved into a shared_ptr), named by its position.
  template <typename M>
    requires detail::ModuleValue<M>
  void push_back(M&& module) {
    push_back(std::shared_ptr<Module>(std::make_shared<std::decay_t<M>>(std::forward<M>(module))));
  }
  /// Appends a module held elsewhere too (the two share parameters).
  void push_back(std::shared_ptr<Module> module);
  /// PyTorch's name for push_back.
  template <typename M>
    requires detail::ModuleValue<M> || detail::ModulePointer<M>
  void append(M&& module) {
    push_back(std::forward<M>(module));
  }
  /// Appends every module of `other` (shared, not copied), as PyTorch's extend.
  void extend(const ModuleList& other);

  /// The i-th module; negative i counts from the end, as in PyTorch. Out of range: tg::Error.
  std::shared_ptr<Module> operator[](int64_t i) const;
  /// The i-th module as type M; throws tg::Error if it is another type.
  template <typename M>
  std::shared_ptr<M> at(int64_t i) const {
    std::shared_ptr<M> m = std::dynamic_pointer_cast<M>((*this)[i]);
    if (!m) wrong_type(i);
    return m;
  }
  /// The number of modules.
  size_t size() const { return named_children().size(); }
  /// True when the list holds no module.
  bool empty() const { return named_children().empty(); }
  /// Iterates the modules in order (each a std::shared_ptr<Module>).
  auto begin() const { return Iterator{named_children().begin()}; }
  /// End of the modules.
  auto end() const { return Iterator{named_children().end()}; }

 private:
  using Entries = std::vector<std::pair<std::string, std::shared_ptr<Module>>>;
  // Walks the (name, module) registry, yielding the modules.
  struct Iterator {
    Entries::const_iterator it;
    const std::shared_ptr<Module>& operator*() const { return it->second; }
    Iterator& operator++() { return ++it, *this; }
    bool operator==(const Iterator&) const = default;
  };
  [[noreturn]] void wrong_type(int64_t i) const;
};

/// Submodules by name, in insertion order, as PyTorch's ModuleDict. No forward of its own.
class ModuleDict : public Module {
 public:
  ModuleDict() = default;  ///< an empty dict
  /// A dict of (name, module) pairs, in their order.
  explicit ModuleDict(std::vector<std::pair<std::string, std::shared_ptr<Module>>> items);

  /// Adds `module` under `name`, or replaces the module of that name in its place (PyTorch's
  /// `dict[name] = module`). Returns the module with its own type.
  template <typename M>
    requires detail::ModuleValue<M>
  std::shared_ptr<std::decay_t<M>> insert(std::string name, M&& module) {
    auto held = std::make_shared<std::decay_t<M>>(std::forward<M>(module));
    insert(std::move(name), std::shared_ptr<Module>(held));
    return held;
  }
  /// Adds (or replaces) a module held elsewhere too (the two share parameters).
  void insert(std::string name, std::shared_ptr<Module> module);

  /// The module under `name`; throws tg::Error listing the keys when there is none.
  std::shared_ptr<Module> operator[](const std::string& name) const;
  /// The module under `name` as type M; throws tg::Error if it is another type.
  template <typename M>
  std::shared_ptr<M> at(const std::string& name) const {
    std::shared_ptr<M> m = std::dynamic_pointer_cast<M>((*this)[name]);
    if (!m) wrong_type(name);
    return m;
  }
  /// True when a module is stored under `name`.
  bool contains(const std::string& name) const;
  /// The names in insertion order.
  std::vector<std::string> keys() const;
  /// The modules in insertion order.
  std::vector<std::shared_ptr<Module>> values() const { return children(); }
  /// (name, module) pairs in insertion order.
  const auto& items() const { return named_children(); }
  /// The number of modules.
  size_t size() const { return named_children().size(); }
  /// True when the dict holds no module.
  bool empty() const { return named_children().empty(); }
  /// Iterates the (name, module) pairs in insertion order.
  auto begin() const { return named_children().begin(); }
  /// End of the pairs.
  auto end() const { return named_children().end(); }

 private:
  [[noreturn]] void wrong_type(const std::string& name) const;
};

}  // namespace tg::nn
