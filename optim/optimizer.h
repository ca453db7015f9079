// Optimizer: the base of every update rule. It holds the parameters in groups
// (each group with its own options), one ParamState per parameter (a step count
// and named buffers such as "exp_avg"), and turns all of it into a flat StateDict
// so that training can stop and resume bit for bit. Read this file first, then
// sgd.h: every other method follows SGD's shape.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/state_dict.h>
#include <tapegrad/core/cpu.h>
#include <tapegrad/core/error.h>
#include <tapegrad/core/kernels.h>
#include <tapegrad/autograd/tensor.h>

namespace tg::optim {

/// Re-evaluates the model for step(closure): zero_grad(), forward, backward(), return the loss.
using Closure = std::function<Tensor()>;

/// One option's value as a state dict stores it: numbers in their shortest exact form,
/// booleans as true/false, betas as (0.9, 0.999), enums by name.
struct OptionValue {
  OptionValue(double v);                       ///< "0.001"
  OptionValue(bool v);                         ///< "true" / "false"
  OptionValue(int64_t v);                      ///< "20"
  OptionValue(std::array<double, 2> v);        ///< "(0.9, 0.999)"
  OptionValue(std::optional<int64_t> v);       ///< "25" or "none"
  OptionValue(const char* name) : text(name) {}  ///< an enum's name: "strong_wolfe"
  std::string text;
};

/// Every option of one parameter group by name, as its Options struct lists them.
using Hyperparameters = std::vector<std::pair<std::string, OptionValue>>;

/// How load_state_dict treats the learning rate.
struct LoadOptions {
  /// Resume with the learning rates this optimizer (or schedule) was built with, deliberately
  /// changed, instead of the saved ones. Off: the saved rate is restored, and an optimizer
  /// built with another initial lr than the saved run's is refused like any other option.
  bool allow_lr_change = false;
};

/// The state of one parameter: how many updates it had, its buffers and its scalars.
struct ParamState {
  int64_t step = 0;
  std::map<std::string, Tensor> buffers{};
  std::map<std::string, double> scalars{};

  /// The buffer `name`, created on first use with the shape and dtype of `like` (the
  /// parameter) and filled with `init`.
  Tensor& buffer(const std::string& name, const Tensor& like, float init = 0);
};

/// A group of parameters that shares one set of options: `{.params = {w}, .options = {...}}`.
template <typename Options>
struct ParamGroup {
  std::vector<Tensor> params{};
  Options options{};
};

/// The interface every optimizer and scheduler sees.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// One update of every parameter from its .grad(); parameters without a grad are skipped.
  virtual void step() = 0;
  /// Evaluates `closure` with grad mode on, then step(); returns the closure's loss.
  virtual Tensor step(const Closure& closure);
  /// Drops every parameter's gradient (set_to_none, the default) or fills it with zeros.
  void zero_grad(bool set_to_none = true);

  /// The optimizer's name as used in error messages ("Adam").
  const std::string& name() const { return name_; }
  /// The number of parameter groups.
  size_t num_param_groups() const { return params_.size(); }
  /// The parameters of one group.
  const std::vector<Tensor>& params(size_t group = 0) const { return params_.at(group); }
  /// All parameters, group after group: the order of the "state.<i>" keys.
  std::vector<Tensor> parameters() const;
  /// The learning rate of one group (what schedulers read).
  virtual double lr(size_t group = 0) const = 0;
  /// Sets the learning rate of one group (what schedulers write).
  virtual void set_lr(size_t group, double lr) = 0;
  /// Sets the learning rate of every group.
  void set_lr(double lr);
  /// The state of parameter `index` of `group`.
  const ParamState& state(size_t group, size_t index) const { return state_.at(group).at(index); }

  /// Every option of one group by name (lr included).
  virtual Hyperparameters hyperparameters(size_t group) const = 0;

  /// A deep copy of the state. Metadata: "kind" (the name), "param_groups" (the count), per
  /// group g "param_groups.<g>.<option>" for every option, ".initial_lr" (the lr it was built
  /// with) and ".params" (the count); per parameter i (all groups in order) "state.<i>.step"
  /// and scalars. Tensors: "state.<i>.<buffer>". Plus method-specific entries ("lbfgs.*").
  StateDict state_dict() const;
  /// Restores a state_dict() of an optimizer of the same kind, built with the same options,
  /// over parameters of the same shapes. A different kind or different options are refused
  /// with every mismatch listed (expected: this optimizer's, found: the state's); the saved lr
  /// is restored (see LoadOptions to keep this optimizer's). On error nothing is changed.
  void load_state_dict(const StateDict& dict, LoadOptions options = {});

 protected:
  /// Checks the groups (non-empty, leaves, contiguous, no parameter twice) and makes their
  /// state; `initial_lrs` are the groups' learning rates as built (one per group).
  Optimizer(std::string name, std::vector<std::vector<Tensor>> groups,
            std::vector<double> initial_lrs);

  /// Adds method-specific state (entries outside "kind", "param_groups*" and "state.*").
  virtual void save_extra_state(StateDict& dict) const { (void)dict; }
  /// Checks and then restores what save_extra_state wrote; `extra` holds every entry of the
  /// loaded dict that the base does not own. Called after the base checked its part and
  /// before it commits it; it must change nothing if it throws.
  virtual void load_extra_state(const StateDict& extra);

  std::string name_;
  std::vector<std::vector<Tensor>> params_;
  std::vector<std::vector<ParamState>> state_;
  std::vector<double> initial_lrs_;
};

/// The common middle layer: groups whose options are an `Options` struct with an `lr` field.
template <typename Options>
class OptimizerWith : public Optimizer {
 public:
  using Optimizer::set_lr;
  double lr(size_t group = 0) const override { return options_.at(group).lr; }   ///< options.lr
  void set_lr(size_t group, double lr) override { options_.at(group).lr = lr; }  ///< options.lr
  /// The options of one group; they may be changed between steps.
  Options& options(size_t group = 0) { return options_.at(group); }
  const Options& options(size_t group = 0) const { return options_.at(group); }
  /// Every field of the group's Options (its hyperparameters()).
  Hyperparameters hyperparameters(size_t group) const override {
    return options_.at(group).hyperparameters();
  }

 protected:
  /// Checks the parameters (see Optimizer) and keeps each group's options.
  OptimizerWith(std::string name, std::vector<ParamGroup<Options>> groups)
      : Optimizer(std::move(name), params_of(groups), lrs_of(groups)) {
    for (auto& g : groups) options_.push_back(g.options);
  }

  /// Calls update(std::type_identity<T>{}, options, param, grad, state) under no-grad for each
  /// parameter with a grad, T its element type (float or double: the update's loops are
  /// templates, so float32 keeps its float loop); `grad` is contiguous and has the parameter's
  /// shape and dtype. An update without the first argument is called without it (optimizers
  /// written before dtypes).
  template <typename F>
  void for_each_grad(F&& update) {
    NoGradGuard no_grad;
    for (size_t g = 0; g < params_.size(); ++g) {
      for (size_t i = 0; i < params_[g].size(); ++i) {
        Tensor& p = params_[g][i];
        Tensor grad = p.grad();
        if (!grad.defined()) continue;
        check(grad.shape() == p.shape(), "{}: gradient of shape {} for a parameter of shape {}",
              name_, grad.shape(), p.shape());
        check(grad.dtype() == p.dtype(), "{}: {} gradient for a {} parameter of shape {}", name_,
              grad.dtype(), p.dtype(), p.shape());
        if constexpr (std::is_invocable_v<F&, Options&, Tensor&, Tensor, ParamState&>)
          update(options_[g], p, grad.contiguous(), state_[g][i]);
        else
          dispatch_floating(p.dtype(), name_.c_str(), [&](auto type) {
            update(type, options_[g], p, grad.contiguous(), state_[g][i]);
          });
        p.bump_version();  // an in-place write: graphs that saved p refuse to backward
      }
    }
  }

  std::vector<Options> options_;

 private:
  static std::vector<std::vector<Tensor>> params_of(const std::vector<ParamGroup<Options>>& gs) {
    std::vector<std::vector<Tensor>> out;
    for (const auto& g : gs) out.push_back(g.params);
    return out;
  }
  static std::vector<double> lrs_of(const std::vector<ParamGroup<Options>>& gs) {
    std::vector<double> out;
    for (const auto& g : gs) out.push_back(g.options.lr);
    return out;
  }
};

/// Runs body(i) for i in [0, n): the one fused pass of an update over a parameter's memory
/// (split across threads for large tensors, and compiled for the CPU's widest vectors; every
/// element is independent, so results are the same for any thread count).
template <typename F>
void for_each_element(int64_t n, F&& body) {
  kernels::parallel_for(n, int64_t(1) << 15, [&](int64_t begin, int64_t end) {
    cpu::dispatch([&](auto) {
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) body(i);
    });
  });
}

/// Calls f(std::true_type{}) or f(std::false_type{}): a boolean option becomes a compile-time
/// constant, so the loop inside f tests it with `if constexpr` and stays branch-free.
template <typename F>
void with_flag(bool flag, F&& f) {
  if (flag)
    f(std::true_type{});
  else
    f(std::false_type{});
}

namespace detail {
// Hyperparameter checks shared by the optimizers; messages name the optimizer and the value.
void check_lr(const std::string& opt, double lr);
void check_non_negative(const std::string& opt, const char* what, double value);
void check_positive(const std::string& opt, const char* what, double value);
void check_beta(const std::string& opt, const char* what, double beta);  // 0 <= beta < 1
}  // namespace detail

}  // namespace tg::optim
