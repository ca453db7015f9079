// Learning-rate schedules (d2l 11.11; torch.optim.lr_scheduler). A scheduler remembers
// each group's initial rate eta_0, counts its step() calls t, and sets
// lr = lr_at(t, eta_0), a closed form. Call step() once per epoch or once per minibatch:
// t counts whichever you choose. Construction sets lr = lr_at(0, eta_0), as PyTorch does.
//
//   StepLR         eta_0 gamma^floor(t / step_size)
//   MultiStepLR    eta_0 gamma^(number of milestones <= t)      (piecewise constant)
//   ExponentialLR  eta_0 gamma^t  (the course's eta_0 e^(-lambda t): gamma = e^(-lambda))
//   PolynomialDecayLR  eta_0 (beta t + 1)^(-alpha)               (the course's polynomial decay)
//   PolynomialLR   eta_0 (1 - min(t, T) / T)^power               (PyTorch's)
//   CosineAnnealingLR  eta_min + (eta_0 - eta_min) (1 + cos(pi t / T_max)) / 2
//                  (SGDR, Loshchilov & Hutter 2017, without restarts)
//   LinearLR       eta_0 (s + (e - s) min(t, T) / T)             (linear warm-up)
//   LambdaLR       eta_0 f(t)
//   SequentialLR   one schedule after another (warm-up, then cosine), each restarted at 0
//
// ReduceLROnPlateau is no closed form: it divides the rate when a metric passed to
// step(metric) stops improving. Both kinds are a Scheduler, what a checkpoint saves.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <tapegrad/optim/optimizer.h>

namespace tg::optim {

/// Any learning-rate schedule, closed-form (LRScheduler) or driven by a metric
/// (ReduceLROnPlateau): the optimizer it drives, the rates it set, and its state, which
/// train::save_checkpoint / load_checkpoint take.
class Scheduler {
 public:
  virtual ~Scheduler() = default;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// The optimizer whose learning rates this schedule sets.
  Optimizer& optimizer() const { return optimizer_; }
  /// The learning rates set by the last step (one per group).
  std::vector<double> get_last_lr() const;
  /// Everything needed to resume the schedule.
  virtual StateDict state_dict() const = 0;
  /// Restores a state_dict() of the same kind of schedule; on error nothing is changed.
  virtual void load_state_dict(const StateDict& dict, LoadOptions options = {}) = 0;

 protected:
  explicit Scheduler(Optimizer& optimizer) : optimizer_(optimizer) {}  ///< drives `optimizer`
  Optimizer& optimizer_;
};

/// The base of the closed-form schedules: owns t and the initial learning rates.
class LRScheduler : public Scheduler {
 public:
  /// Advances t by one and sets each group's learning rate to lr_at(t, eta_0).
  void step();
  /// The learning rate of a group whose initial rate is `base_lr`, after t steps.
  virtual double lr_at(int64_t t, double base_lr) const = 0;
  /// How many times step() was called (PyTorch's last_epoch).
  int64_t last_epoch() const { return t_; }
  /// The initial learning rates eta_0 (one per group).
  const std::vector<double>& base_lrs() const { return base_lrs_; }
  /// t ("last_epoch") and the initial learning rates ("base_lrs.<g>"), to resume training.
  StateDict state_dict() const override;
  /// Restores t from a state_dict() and sets the learning rates for it. The saved initial
  /// rates must equal this schedule's (every mismatch listed) unless options.allow_lr_change;
  /// this schedule's own initial rates are kept either way. On error nothing is changed.
  void load_state_dict(const StateDict& dict, LoadOptions options = {}) override;

 protected:
  /// Records the optimizer's current rates as eta_0 (derived constructors then call start()).
  explicit LRScheduler(Optimizer& optimizer);
  /// Sets t = 0 and the learning rates for it; called at the end of each derived constructor.
  void start();

  std::vector<double> base_lrs_;
  int64_t t_ = 0;

 private:
  void apply();
};

/// Options of StepLR.
struct StepLROptions {
  int64_t step_size = 1;
  double gamma = 0.1;
};
/// Multiplies the rate by gamma every step_size steps.
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, StepLROptions options);     ///< sets lr = lr_at(0)
  double lr_at(int64_t t, double base_lr) const override;  ///< eta_0 gamma^floor(t / step_size)
  StepLROptions options;                                   ///< may be changed between steps
};

/// Options of MultiStepLR.
struct MultiStepLROptions {
  std::vector<int64_t> milestones{};
  double gamma = 0.1;
};
/// Piecewise constant: multiplies the rate by gamma at each milestone.
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, MultiStepLROptions options);  ///< sets lr = lr_at(0)
  double lr_at(int64_t t, double base_lr) const override;         ///< eta_0 gamma^(milestones <= t)
  MultiStepLROptions options;                                     ///< may be changed between steps
};

/// Options of ExponentialLR.
struct ExponentialLROptions {
  double gamma = 0.9;
};
/// Exponential decay: eta_0 gamma^t.
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, ExponentialLROptions options);  ///< sets lr = lr_at(0)
  double lr_at(int64_t t, double base_lr) const override;             ///< eta_0 gamma^t
  ExponentialLROptions options;  ///< may be changed between steps
};

/// Options of PolynomialDecayLR (defaults: the course's square-root schedule).
struct PolynomialDecayLROptions {
  double alpha = 0.5;
  double beta = 1.0;
};
/// The course's polynomial decay: eta_0 (beta t + 1)^(-alpha).
class PolynomialDecayLR : public LRScheduler {
 public:
  PolynomialDecayLR(Optimizer& optimizer, PolynomialDecayLROptions options);  ///< lr = lr_at(0)
  double lr_at(int64_t t, double base_lr) const override;  ///< eta_0 (beta t + 1)^(-alpha)
  PolynomialDecayLROptions options;                        ///< may be changed between steps
};

/// Options of PolynomialLR, with PyTorch's names and defaults.
struct PolynomialLROptions {
  int64_t total_iters = 5;
  double power = 1.0;
};
/// PyTorch's polynomial decay to zero at total_iters: eta_0 (1 - min(t, T) / T)^power.
class PolynomialLR : public LRScheduler {
 public:
  PolynomialLR(Optimizer& optimizer, PolynomialLROptions options);  ///< sets lr = lr_at(0)
  double lr_at(int64_t t, double base_lr) const override;  ///< eta_0 (1 - min(t, T) / T)^power
  PolynomialLROptions options;                             ///< may be changed between steps
};

/// Options of CosineAnnealingLR, with PyTorch's names.
struct CosineAnnealingLROptions {
  int64_t T_max = 1;
  double eta_min = 0;
};
/// Cosine annealing from eta_0 to eta_min over T_max steps (periodic beyond, as PyTorch).
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, CosineAnnealingLROptions options);  ///< lr = lr_at(0)
  /// eta_min + (eta_0 - eta_min) (1 + cos(pi t / T_max)) / 2
  double lr_at(int64_t t, double base_lr) const override;
  CosineAnnealingLROptions options;  ///< may be changed between steps
};

/// Options of LinearLR, with PyTorch's names and defaults.
struct LinearLROptions {
  double start_factor = 1.0 / 3;
  double end_factor = 1.0;
  int64_t total_iters = 5;
};
/// Linear warm-up (or decay): the factor goes from start_factor to end_factor in total_iters.
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, LinearLROptions options);  ///< sets lr = lr_at(0)
  double lr_at(int64_t t, double base_lr) const override;   ///< eta_0 (s + (e - s) min(t, T) / T)
  LinearLROptions options;                                  ///< may be changed between steps
};

/// eta_0 times a user function of t.
class LambdaLR : public LRScheduler {
 public:
  LambdaLR(Optimizer& optimizer, std::function<double(int64_t)> factor);  ///< lr = lr_at(0)
  double lr_at(int64_t t, double base_lr) const override;                 ///< eta_0 factor(t)

 private:
  std::function<double(int64_t)> factor_;
};

/// Runs schedules[k] from t = milestones[k-1] on, restarted at 0 (PyTorch's SequentialLR);
/// eta_0 comes from the first schedule.
class SequentialLR : public LRScheduler {
 public:
  /// Needs one milestone fewer than schedules; all must drive `optimizer`.
  SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedules,
               std::vector<int64_t> milestones);
  /// schedules[k].lr_at(t - milestones[k-1], base_lr), k the schedule running at t.
  double lr_at(int64_t t, double base_lr) const override;

 private:
  std::vector<std::shared_ptr<LRScheduler>> schedules_;
  std::vector<int64_t> milestones_;
};

/// Options of ReduceLROnPlateau, with PyTorch's names and defaults.
struct ReduceLROnPlateauOptions {
  std::string mode = "min";            ///< "min": the metric should fall; "max": rise
  double factor = 0.1;                 ///< new lr = lr * factor, in [0, 1)
  int64_t patience = 10;               ///< bad steps tolerated; the next one reduces the rate
  double threshold = 1e-4;             ///< how much better counts as better (see threshold_mode)
  std::string threshold_mode = "rel";  ///< "rel": best (1 -+ threshold); "abs": best -+ threshold
  int64_t cooldown = 0;                ///< steps after a reduction during which bad steps do not count
  std::vector<double> min_lr = {0};    ///< lower bound of the rate: one for all groups, or one each
  double eps = 1e-8;                   ///< a reduction smaller than eps is skipped
};

/// Divides the learning rate by 1 / factor when a metric has not improved for more than
/// `patience` steps (PyTorch's ReduceLROnPlateau, same rules and order):
///   better = metric < best (1 - threshold)   (min, rel; max: > best (1 + threshold);
///            abs: best -+ threshold);  better: best = metric, bad = 0; else ++bad;
///   in cooldown: --cooldown_counter, bad = 0;
///   bad > patience: lr = max(lr factor, min_lr) where that lowers lr by more than eps;
///                   cooldown_counter = cooldown, bad = 0.
/// Call step(metric) once per epoch, after validation:  plateau.step(val_loss.item());
class ReduceLROnPlateau : public Scheduler {
 public:
  /// Checks the options (tg::Error naming the bad one); leaves the rates as they are.
  explicit ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options = {});
  /// Takes one value of the metric (a NaN is never better) and reduces the rates if due.
  void step(double metric);
  /// The options, with min_lr expanded to one per group.
  const ReduceLROnPlateauOptions& options() const { return options_; }
  int64_t last_epoch() const { return last_epoch_; }              ///< step() calls so far
  double best() const { return best_; }                           ///< best metric (+-inf at first)
  int64_t num_bad_epochs() const { return num_bad_epochs_; }      ///< bad steps in a row
  int64_t cooldown_counter() const { return cooldown_counter_; }  ///< steps of cooldown left
  bool in_cooldown() const { return cooldown_counter_ > 0; }      ///< bad steps are not counted

  /// "kind", every option (PyTorch's names, "min_lrs.<g>") and the counters: "last_epoch",
  /// "best", "num_bad_epochs", "cooldown_counter". The rates are in the optimizer's state.
  StateDict state_dict() const override;
  /// Restores the counters of a ReduceLROnPlateau built with the same options (every
  /// mismatch listed); the rates are the optimizer's (its own load_state_dict restores them),
  /// so `options` change nothing here. On error nothing is changed.
  void load_state_dict(const StateDict& dict, LoadOptions options = {}) override;

 private:
  bool is_better(double metric) const;

  ReduceLROnPlateauOptions options_;
  int64_t last_epoch_ = 0, num_bad_epochs_ = 0, cooldown_counter_ = 0;
  double best_;
};

}  // namespace tg::optim
