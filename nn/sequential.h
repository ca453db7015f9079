// Sequential: a chain of modules, each fed the previous one's output.
//   nn::Sequential net(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 2));
// Modules given by value are copied (or moved) into shared_ptrs; children are
// named "0", "1", ... unless added with add(name, module).
#pragma once

#include <concepts>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include <tapegrad/nn/module.h>

namespace tg::nn {

namespace detail {
template <typename M>
concept ModuleValue = std::derived_from<std::decay_t<M>, Module>;
template <typename M>
concept ModulePointer = std::convertible_to<M, std::shared_ptr<Module>>;
}  // namespace detail

/// Applies its modules in order.
class Sequential : public Module {
 public:
  Sequential() = default;  ///< an empty chain (the identity); fill it with push_back
  /// Builds the chain from modules (values or shared_ptrs). A single Sequential argument is a
  /// copy, not a nested chain: nest one with push_back.
  template <typename... M>
    requires((detail::ModuleValue<M> || detail::ModulePointer<M>) && ...) &&
            (sizeof...(M) != 1 || !(std::same_as<std::decay_t<M>, Sequential> && ...))
  explicit Sequential(M&&... modules) {
    (push_back(std::forward<M>(modules)), ...);
  }

  /// Appends a module, named by its position ("0", "1", ...).
  template <typename M>
    requires detail::ModuleValue<M> || detail::ModulePointer<M>
  void push_back(M&& module) {
    add(std::to_string(modules_.size()), std::forward<M>(module));
  }
  /// Appends a module under a chosen name.
  template <typename M>
    requires detail::ModuleValue<M>
  void add(std::string name, M&& module) {
    add(std::move(name), std::shared_ptr<Module>(
                             std::make_shared<std::decay_t<M>>(std::forward<M>(module))));
  }
  /// Appends a module held elsewhere too (the two share parameters).
  void add(std::string name, std::shared_ptr<Module> module);

  /// Runs the modules in order.
  Tensor forward(const Tensor& input) override;

  /// The i-th module; throws tg::Error when i is out of range.
  std::shared_ptr<Module> operator[](size_t i) const;
  /// The i-th module as type M; throws tg::Error if it is another type.
  template <typename M>
  std::shared_ptr<M> at(size_t i) const {
    std::shared_ptr<M> m = std::dynamic_pointer_cast<M>((*this)[i]);
    if (!m) wrong_type(i);
    return m;
  }
  /// The number of modules.
  size_t size() const { return modules_.size(); }
  auto begin() const { return modules_.begin(); }  ///< the modules in order
  auto end() const { return modules_.end(); }      ///< end of the modules

 private:
  [[noreturn]] void wrong_type(size_t i) const;
  std::vector<std::shared_ptr<Module>> modules_;  // the children, without names, for forward
};

}  // namespace tg::nn
