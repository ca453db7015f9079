// Optimizer: the base of every update rule. It holds the parameters in groups
// (each group with its own options), one ParamState per parameter (a step count
// and named buffers such as "exp_avg"), and turns all of it into a flat StateDict
// so that training can stop and resume bit for bit. Read this file first, then
// sgd.h: every other method follows SGD's shape.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/core/error.h>
#include <tapegrad/core/kernels.h>
#include <tapegrad/autograd/tensor.h>

namespace tg::optim {

/// Re-evaluates the model for step(closure): zero_grad(), forward, backward(), return the loss.
using Closure = std::function<Tensor()>;

/// Everything an optimizer needs to resume: named tensors and named scalars.
/// Keys: "param_groups.<g>.lr", "state.<i>.step", "state.<i>.<buffer>" (i counts the
/// parameters of all groups in order), plus method-specific ones ("lbfgs.*", ...).
struct StateDict {
  std::map<std::string, Tensor> tensors{};
  std::map<std::string, double> scalars{};
};

/// The state of one parameter: how many updates it had, its buffers and its scalars.
struct ParamState {
  int64_t step = 0;
  std::map<std::string, Tensor> buffers{};
  std::map<std::string, double> scalars{};

  /// The buffer `name`, created on first use shaped like `like` and filled with `init`.
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

  /// A deep copy of the state: step counts, buffers and each group's learning rate.
  virtual StateDict state_dict() const;
  /// Restores a state_dict() of an optimizer of the same kind over parameters of the same shapes.
  virtual void load_state_dict(const StateDict& dict);

 protected:
  /// Checks the groups (non-empty, leaves, contiguous, no parameter twice) and makes their state.
  Optimizer(std::string name, std::vector<std::vector<Tensor>> groups);

  std::string name_;
  std::vector<std::vector<Tensor>> params_;
  std::vector<std::vector<ParamState>> state_;
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

 protected:
  /// Checks the parameters (see Optimizer) and keeps each group's options.
  OptimizerWith(std::string name, std::vector<ParamGroup<Options>> groups)
      : Optimizer(std::move(name), params_of(groups)) {
    for (auto& g : groups) options_.push_back(g.options);
  }

  /// Calls update(options, param, grad, state) under no-grad for each parameter with a grad;
  /// `grad` is contiguous and has the parameter's shape.
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
        update(options_[g], p, grad.contiguous(), state_[g][i]);
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
};

/// Runs body(i) for i in [0, n): the one fused pass of an update over a parameter's memory
/// (split across threads for large tensors; every element is independent, so results are
/// the same for any thread count).
template <typename F>
void for_each_element(int64_t n, F&& body) {
  kernels::parallel_for(n, int64_t(1) << 15, [&](int64_t begin, int64_t end) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) body(i);
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
