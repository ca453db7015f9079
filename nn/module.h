// Module: the base of every layer. A module owns named parameters (trained
// tensors), buffers (saved state that is not trained, like running means) and
// submodules, all registered explicitly and kept in registration order, so
// `named_parameters()` yields PyTorch's dotted names ("features.0.weight").
// Modules are held by std::shared_ptr; copying one is shallow, like a Tensor.
#pragma once

#include <fmt/core.h>

#include <concepts>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <tapegrad/autograd/state_dict.h>
#include <tapegrad/autograd/tensor.h>

namespace tg::nn {

/// The base class of layers and models. Subclass it, register what you own in the
/// constructor, and override forward():
///
///   struct Net : nn::Module {
///     std::shared_ptr<nn::Linear> fc1, fc2;
///     Net() : fc1(register_module("fc1", nn::Linear(4, 8))),
///             fc2(register_module("fc2", nn::Linear(8, 2))) {}
///     Tensor forward(const Tensor& x) override { return (*fc2)((*fc1)(x).relu()); }
///   };
class Module {
 public:
  Module() = default;           ///< an empty module in training mode
  virtual ~Module() = default;  ///< modules are used through base pointers
  /// Copies are shallow: the copy shares parameters and submodules (like a Tensor handle),
  /// which is how Sequential(lin, ...) can take modules by value.
  Module(const Module&) = default;
  Module(Module&&) = default;                        ///< moves the registries
  Module& operator=(const Module&) = default;       ///< shallow, as the copy constructor
  Module& operator=(Module&&) = default;            ///< moves the registries

  /// The layer's computation. Modules with several inputs (losses) add their own overload.
  virtual Tensor forward(const Tensor& input);
  /// Calls forward: `net(x)`.
  Tensor operator()(const Tensor& input) { return forward(input); }

  // ---- registration (normally in the constructor) ----------------------------------------
  /// Adds a trained tensor; it becomes a leaf that requires grad. Returns the same handle.
  Tensor register_parameter(std::string name, Tensor tensor, bool requires_grad = true);
  /// Adds saved, untrained state (e.g. running statistics). Returns the same handle.
  Tensor register_buffer(std::string name, Tensor tensor);
  /// Adds a submodule and returns it with its own type.
  template <typename M>
    requires std::derived_from<M, Module>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    add_child(std::move(name), module);
    return module;
  }
  /// Adds a submodule given by value (copied or moved into a shared_ptr).
  template <typename M>
    requires std::derived_from<std::decay_t<M>, Module>
  std::shared_ptr<std::decay_t<M>> register_module(std::string name, M&& module) {
    return register_module(std::move(name),
                           std::make_shared<std::decay_t<M>>(std::forward<M>(module)));
  }

  // ---- what the module holds -------------------------------------------------------------
  /// All parameters, this module's first, then each submodule's; shared ones listed once.
  std::vector<Tensor> parameters(bool recurse = true) const;
  /// Parameters with dotted names ("0.weight"); shared ones listed once, under the first name.
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  /// All buffers, in the same order as parameters().
  std::vector<Tensor> buffers(bool recurse = true) const;
  /// Buffers with dotted names.
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  /// The direct submodules.
  std::vector<std::shared_ptr<Module>> children() const;
  /// The direct submodules with their names.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  /// Every module of the tree, this one first, then each submodule's tree in registration
  /// order (pre-order); a module reached twice is listed once. Pointers into the tree.
  std::vector<Module*> modules();
  std::vector<const Module*> modules() const;  ///< the same, read-only
  /// modules() with dotted names: "" for this module, then "features", "features.0", ...
  std::vector<std::pair<std::string, Module*>> named_modules();
  /// named_modules() read-only.
  std::vector<std::pair<std::string, const Module*>> named_modules() const;
  /// Calls fn on every submodule (each child's tree, children before their parent) and then
  /// on this module, as PyTorch's apply: `net.apply([](nn::Module& m) { ... })`. Returns *this.
  Module& apply(const std::function<void(Module&)>& fn);

  // ---- modes and training helpers ----------------------------------------------------------
  /// Sets training mode on this module and every submodule (Dropout, BatchNorm care).
  virtual void train(bool on = true);
  /// Same as train(false).
  void eval() { train(false); }
  /// True in training mode (the default).
  bool is_training() const { return training_; }
  /// Drops the accumulated gradient of every parameter.
  void zero_grad();

  // ---- dtype -----------------------------------------------------------------------------
  /// Converts every floating parameter and buffer of the tree (and any accumulated .grad())
  /// to `dtype` in place, as PyTorch's `module.to(torch.float64)`: each tensor keeps its
  /// identity, so the layer's `weight` member, parameters() and an optimizer built earlier all
  /// see the converted data; requires_grad and hooks stay. int64 buffers are left alone.
  /// A graph recorded before the call cannot be backpropagated afterwards (its saved tensors
  /// changed: backward names the op). Returns *this: `net.to(tg::kFloat64)(x)`.
  Module& to(Dtype dtype);
  /// The dtype of the first floating parameter or buffer (float32 when there is none).
  Dtype dtype() const;

  // ---- state -----------------------------------------------------------------------------
  /// Every parameter and buffer by dotted name, sharing storage with the module (detached),
  /// and the metadata "format": "pt" (the names and layouts are PyTorch's, which Hugging Face
  /// loaders check for when they read a saved file).
  StateDict state_dict() const;
  /// Copies the tensors of `dict` into the parameters and buffers (its metadata is not used).
  /// Everything is checked first (missing and unexpected keys when `strict`, shape mismatches
  /// always) and reported in one tg::Error; on error nothing is changed.
  void load_state_dict(const StateDict& dict, bool strict = true);

  // ---- printing ----------------------------------------------------------------------------
  /// The type name shown when printing ("Linear"); defaults to the C++ class name.
  virtual std::string name() const;
  /// The arguments shown inside the parentheses ("in_features=4, out_features=3, bias=True").
  virtual std::string extra_repr() const { return ""; }

 protected:
  /// Puts `module` in the place of the submodule `name`, keeping its position (libtorch's
  /// replace_module; for containers: a subclass that keeps its own list must update it too).
  /// Throws tg::Error when there is no such submodule. Returns the new module.
  std::shared_ptr<Module> replace_module(const std::string& name, std::shared_ptr<Module> module);

 private:
  void check_new_name(const std::string& name, const char* op) const;
  void add_child(std::string name, std::shared_ptr<Module> module);
  template <typename Visit>
  void visit_named(const std::string& prefix, bool recurse, Visit&& visit) const;

  std::vector<std::pair<std::string, Tensor>> parameters_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

/// The number of elements over all (distinct) parameters of `module`.
int64_t parameter_count(const Module& module, bool trainable_only = false);

/// PyTorch's repr tree, with each layer's parameter count and the totals at the end.
std::string to_string(const Module& module);

}  // namespace tg::nn

/// Modules print as their summary: `fmt::print("{}\n", net)`.
template <typename M>
struct fmt::formatter<M, char, std::enable_if_t<std::is_base_of_v<tg::nn::Module, M>>>
    : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(const M& module, Context& ctx) const {
    return fmt::format_to(ctx.out(), "{}", tg::nn::to_string(module));
  }
};
