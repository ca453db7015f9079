// The schedules' closed forms and the bookkeeping they share, then ReduceLROnPlateau.
#include <tapegrad/optim/lr_scheduler.h>

#include <fmt/format.h>  // fmt::join

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace tg::optim {

std::vector<double> Scheduler::get_last_lr() const {
  std::vector<double> lrs;
  for (size_t g = 0; g < optimizer_.num_param_groups(); ++g) lrs.push_back(optimizer_.lr(g));
  return lrs;
}

LRScheduler::LRScheduler(Optimizer& optimizer) : Scheduler(optimizer) {
  for (size_t g = 0; g < optimizer.num_param_groups(); ++g) base_lrs_.push_back(optimizer.lr(g));
}

void LRScheduler::start() {
  t_ = 0;
  apply();
}

void LRScheduler::step() {
  ++t_;
  apply();
}

void LRScheduler::apply() {
  for (size_t g = 0; g < base_lrs_.size(); ++g) optimizer_.set_lr(g, lr_at(t_, base_lrs_[g]));
}

StateDict LRScheduler::state_dict() const {
  StateDict dict;
  dict.set("last_epoch", double(t_));
  for (size_t g = 0; g < base_lrs_.size(); ++g) dict.set(fmt::format("base_lrs.{}", g), base_lrs_[g]);
  return dict;
}

void LRScheduler::load_state_dict(const StateDict& dict, LoadOptions options) {
  const auto& entries = dict.metadata();
  check(entries.size() == base_lrs_.size() + 1 && dict.size() == 0,
        "LRScheduler: load_state_dict: {} entries for an optimizer with {} groups (expected {})",
        entries.size() + dict.size(), base_lrs_.size(), base_lrs_.size() + 1);
  std::vector<std::string> mismatches;
  for (size_t g = 0; g < base_lrs_.size(); ++g) {
    std::string key = fmt::format("base_lrs.{}", g), expected = fmt::format("{}", base_lrs_[g]);
    check(dict.has(key), "LRScheduler: load_state_dict: missing entry '{}'", key);
    if (!options.allow_lr_change && dict.text(key) != expected)
      mismatches.push_back(fmt::format("{}: expected {}, found {}", key, expected, dict.text(key)));
  }
  check(dict.has("last_epoch"), "LRScheduler: load_state_dict: missing entry 'last_epoch'");
  double t = dict.number("last_epoch");
  check(t >= 0 && t <= 0x1p53 && std::floor(t) == t,
        "LRScheduler: load_state_dict: 'last_epoch' is {}, expected a whole number >= 0", t);
  check(mismatches.empty(),
        "LRScheduler: load_state_dict: the state does not fit this schedule; nothing was "
        "loaded:\n  {}\nhint: to resume with another learning rate, load with "
        "{{.allow_lr_change = true}}",
        fmt::join(mismatches, "\n  "));
  t_ = int64_t(t);
  apply();
}

StepLR::StepLR(Optimizer& optimizer, StepLROptions o) : LRScheduler(optimizer), options(o) {
  check(o.step_size > 0, "StepLR: invalid step_size: {} (expected > 0)", o.step_size);
  detail::check_non_negative("StepLR", "gamma", o.gamma);
  start();
}
double StepLR::lr_at(int64_t t, double base_lr) const {
  return base_lr * std::pow(options.gamma, double(t / options.step_size));
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, MultiStepLROptions o)
    : LRScheduler(optimizer), options(std::move(o)) {
  check(std::is_sorted(options.milestones.begin(), options.milestones.end()),
        "MultiStepLR: milestones must be increasing, got {}", fmt::join(options.milestones, ", "));
  detail::check_non_negative("MultiStepLR", "gamma", o.gamma);
  start();
}
double MultiStepLR::lr_at(int64_t t, double base_lr) const {
  auto passed = std::upper_bound(options.milestones.begin(), options.milestones.end(), t) -
                options.milestones.begin();
  return base_lr * std::pow(options.gamma, double(passed));
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, ExponentialLROptions o)
    : LRScheduler(optimizer), options(o) {
  detail::check_non_negative("ExponentialLR", "gamma", o.gamma);
  start();
}
double ExponentialLR::lr_at(int64_t t, double base_lr) const {
  return base_lr * std::pow(options.gamma, double(t));
}

PolynomialDecayLR::PolynomialDecayLR(Optimizer& optimizer, PolynomialDecayLROptions o)
    : LRScheduler(optimizer), options(o) {
  detail::check_non_negative("PolynomialDecayLR", "beta", o.beta);
  detail::check_non_negative("PolynomialDecayLR", "alpha", o.alpha);
  start();
}
double PolynomialDecayLR::lr_at(int64_t t, double base_lr) const {
  return base_lr * std::pow(options.beta * double(t) + 1, -options.alpha);
}

PolynomialLR::PolynomialLR(Optimizer& optimizer, PolynomialLROptions o)
    : LRScheduler(optimizer), options(o) {
  check(o.total_iters > 0, "PolynomialLR: invalid total_iters: {} (expected > 0)", o.total_iters);
  detail::check_non_negative("PolynomialLR", "power", o.power);
  start();
}
double PolynomialLR::lr_at(int64_t t, double base_lr) const {
  double progress = double(std::min(t, options.total_iters)) / double(options.total_iters);
  return base_lr * std::pow(1 - progress, options.power);
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, CosineAnnealingLROptions o)
    : LRScheduler(optimizer), options(o) {
  check(o.T_max > 0, "CosineAnnealingLR: invalid T_max: {} (expected > 0)", o.T_max);
  detail::check_non_negative("CosineAnnealingLR", "eta_min", o.eta_min);
  start();
}
double CosineAnnealingLR::lr_at(int64_t t, double base_lr) const {
  double phase = std::numbers::pi * double(t) / double(options.T_max);
  return options.eta_min + (base_lr - options.eta_min) * (1 + std::cos(phase)) / 2;
}

LinearLR::LinearLR(Optimizer& optimizer, LinearLROptions o) : LRScheduler(optimizer), options(o) {
  check(o.start_factor > 0 && o.start_factor <= 1,
        "LinearLR: invalid start_factor: {} (expected 0 < start_factor <= 1)", o.start_factor);
  check(o.end_factor >= 0 && o.end_factor <= 1,
        "LinearLR: invalid end_factor: {} (expected 0 <= end_factor <= 1)", o.end_factor);
  check(o.total_iters > 0, "LinearLR: invalid total_iters: {} (expected > 0)", o.total_iters);
  start();
}
double LinearLR::lr_at(int64_t t, double base_lr) const {
  double progress = double(std::min(t, options.total_iters)) / double(options.total_iters);
  return base_lr * (options.start_factor + (options.end_factor - options.start_factor) * progress);
}

LambdaLR::LambdaLR(Optimizer& optimizer, std::function<double(int64_t)> factor)
    : LRScheduler(optimizer), factor_(std::move(factor)) {
  check(bool(factor_), "LambdaLR: the factor function is empty");
  start();
}
double LambdaLR::lr_at(int64_t t, double base_lr) const { return base_lr * factor_(t); }

SequentialLR::SequentialLR(Optimizer& optimizer,
                           std::vector<std::shared_ptr<LRScheduler>> schedules,
                           std::vector<int64_t> milestones)
    : LRScheduler(optimizer), schedules_(std::move(schedules)), milestones_(std::move(milestones)) {
  check(!schedules_.empty() && milestones_.size() + 1 == schedules_.size(),
        "SequentialLR: {} schedules need {} milestones, got {}", schedules_.size(),
        schedules_.empty() ? 0 : schedules_.size() - 1, milestones_.size());
  check(std::is_sorted(milestones_.begin(), milestones_.end()),
        "SequentialLR: milestones must be increasing, got {}", fmt::join(milestones_, ", "));
  for (const auto& s : schedules_)
    check(s != nullptr && &s->optimizer() == &optimizer,
          "SequentialLR: every schedule must drive the same optimizer");
  base_lrs_ = schedules_.front()->base_lrs();
  start();
}
double SequentialLR::lr_at(int64_t t, double base_lr) const {
  size_t k = std::upper_bound(milestones_.begin(), milestones_.end(), t) - milestones_.begin();
  int64_t begin = k == 0 ? 0 : milestones_[k - 1];
  return schedules_[k]->lr_at(t - begin, base_lr);
}

// ---- ReduceLROnPlateau ---------------------------------------------------------------------

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions o)
    : Scheduler(optimizer), options_(std::move(o)) {
  const char* me = "ReduceLROnPlateau";
  check(options_.mode == "min" || options_.mode == "max",
        "ReduceLROnPlateau: invalid mode: '{}' (expected 'min' or 'max')", options_.mode);
  check(options_.threshold_mode == "rel" || options_.threshold_mode == "abs",
        "ReduceLROnPlateau: invalid threshold_mode: '{}' (expected 'rel' or 'abs')",
        options_.threshold_mode);
  check(options_.factor >= 0 && options_.factor < 1,
        "ReduceLROnPlateau: invalid factor: {} (expected 0 <= factor < 1)", options_.factor);
  check(options_.patience >= 0, "ReduceLROnPlateau: invalid patience: {} (expected >= 0)",
        options_.patience);
  check(options_.cooldown >= 0, "ReduceLROnPlateau: invalid cooldown: {} (expected >= 0)",
        options_.cooldown);
  detail::check_non_negative(me, "threshold", options_.threshold);
  detail::check_non_negative(me, "eps", options_.eps);
  const size_t groups = optimizer.num_param_groups();
  check(options_.min_lr.size() == 1 || options_.min_lr.size() == groups,
        "ReduceLROnPlateau: expected 1 or {} min_lr values (one per group), got {}", groups,
        options_.min_lr.size());
  if (options_.min_lr.size() == 1) options_.min_lr.assign(groups, options_.min_lr[0]);
  for (double m : options_.min_lr) detail::check_non_negative(me, "min_lr", m);
  best_ = options_.mode == "min" ? std::numeric_limits<double>::infinity()
                                 : -std::numeric_limits<double>::infinity();
}

bool ReduceLROnPlateau::is_better(double metric) const {
  const double t = options_.threshold;
  const bool rel = options_.threshold_mode == "rel";
  if (options_.mode == "min") return metric < (rel ? best_ * (1 - t) : best_ - t);
  return metric > (rel ? best_ * (1 + t) : best_ + t);
}

void ReduceLROnPlateau::step(double metric) {
  ++last_epoch_;
  if (is_better(metric)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (in_cooldown()) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad steps in cooldown do not count
  }
  if (num_bad_epochs_ > options_.patience) {
    for (size_t g = 0; g < optimizer_.num_param_groups(); ++g) {
      const double old_lr = optimizer_.lr(g);
      const double new_lr = std::max(old_lr * options_.factor, options_.min_lr[g]);
      if (old_lr - new_lr > options_.eps) optimizer_.set_lr(g, new_lr);
    }
    cooldown_counter_ = options_.cooldown;
    num_bad_epochs_ = 0;
  }
}

namespace {

// The options of a plateau schedule as state-dict text, by PyTorch's names.
std::map<std::string, std::string> plateau_options(const ReduceLROnPlateauOptions& o) {
  StateDict d;
  d.set("mode", o.mode);
  d.set("factor", o.factor);
  d.set("patience", double(o.patience));
  d.set("threshold", o.threshold);
  d.set("threshold_mode", o.threshold_mode);
  d.set("cooldown", double(o.cooldown));
  d.set("eps", o.eps);
  for (size_t g = 0; g < o.min_lr.size(); ++g) d.set(fmt::format("min_lrs.{}", g), o.min_lr[g]);
  return d.metadata();
}

}  // namespace

StateDict ReduceLROnPlateau::state_dict() const {
  StateDict dict;
  dict.set("kind", "ReduceLROnPlateau");
  for (const auto& [key, text] : plateau_options(options_)) dict.set(key, text);
  dict.set("last_epoch", double(last_epoch_));
  dict.set("best", best_);
  dict.set("num_bad_epochs", double(num_bad_epochs_));
  dict.set("cooldown_counter", double(cooldown_counter_));
  return dict;
}

void ReduceLROnPlateau::load_state_dict(const StateDict& dict, LoadOptions) {
  const char* counters[] = {"last_epoch", "num_bad_epochs", "cooldown_counter"};
  check(dict.has("kind") && dict.text("kind") == "ReduceLROnPlateau",
        "ReduceLROnPlateau: load_state_dict: the state is {}, not a ReduceLROnPlateau's",
        dict.has("kind") ? fmt::format("a {}'s", dict.text("kind"))
                         : std::string("another schedule's (it has no 'kind' entry)"));
  std::vector<std::string> problems;
  const auto options = plateau_options(options_);
  for (const auto& [key, expected] : options) {
    if (!dict.has(key)) problems.push_back(fmt::format("missing entry '{}'", key));
    else if (dict.text(key) != expected)
      problems.push_back(fmt::format("{}: expected {}, found {}", key, expected, dict.text(key)));
  }
  auto number = [&](const char* key, double& out) {  // records a problem instead of throwing
    if (!dict.has(key)) return problems.push_back(fmt::format("missing entry '{}'", key));
    try {
      out = dict.number(key);
    } catch (const Error&) {
      problems.push_back(fmt::format("'{}' is '{}', not a number", key, dict.text(key)));
    }
  };
  std::vector<double> whole(3, 0.0);
  for (size_t i = 0; i < 3; ++i) {
    number(counters[i], whole[i]);
    if (!(whole[i] >= 0 && whole[i] <= 0x1p53 && std::floor(whole[i]) == whole[i]))
      problems.push_back(
          fmt::format("'{}' is {}, expected a whole number >= 0", counters[i], whole[i]));
  }
  double best = 0;
  number("best", best);  // +-inf before the first step
  if (std::isnan(best)) problems.push_back("'best' is nan");
  const size_t known = options.size() + 5;  // kind, best and the three counters
  if (dict.metadata().size() != known || dict.size() != 0)
    problems.push_back(fmt::format("{} entries, expected {}", dict.metadata().size() + dict.size(),
                                   known));
  check(problems.empty(),
        "ReduceLROnPlateau: load_state_dict: the state does not fit this schedule; nothing was "
        "loaded:\n  {}", fmt::join(problems, "\n  "));
  last_epoch_ = int64_t(whole[0]), num_bad_epochs_ = int64_t(whole[1]);
  cooldown_counter_ = int64_t(whole[2]), best_ = best;
}

}  // namespace tg::optim
