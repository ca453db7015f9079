// The Optimizer base: parameter checks, zero_grad, the closure step, the state
// dict (flattening the per-parameter state to "state.<i>.<name>" keys and back,
// checking the kind and every option on the way in) and the hyperparameter
// checks every method shares.
#include <tapegrad/optim/optimizer.h>

#include <fmt/format.h>  // fmt::join

#include <charconv>
#include <cmath>
#include <set>

#include <tapegrad/autograd/node.h>

namespace tg::optim {

Tensor& ParamState::buffer(const std::string& name, const Tensor& like, float init) {
  auto it = buffers.find(name);
  if (it == buffers.end())
    it = buffers.emplace(name, full(like.shape(), init, {.dtype = like.dtype()})).first;
  return it->second;
}

OptionValue::OptionValue(double v) : text(fmt::format("{}", v)) {}
OptionValue::OptionValue(bool v) : text(v ? "true" : "false") {}
OptionValue::OptionValue(int64_t v) : text(fmt::format("{}", v)) {}
OptionValue::OptionValue(std::array<double, 2> v) : text(fmt::format("({}, {})", v[0], v[1])) {}
OptionValue::OptionValue(std::optional<int64_t> v) : text(v ? fmt::format("{}", *v) : "none") {}

Optimizer::Optimizer(std::string name, std::vector<std::vector<Tensor>> groups,
                     std::vector<double> initial_lrs)
    : name_(std::move(name)), params_(std::move(groups)), initial_lrs_(std::move(initial_lrs)) {
  check(!params_.empty(), "{}: got no parameter groups", name_);
  std::set<const TensorImpl*> seen;
  size_t index = 0;
  for (size_t g = 0; g < params_.size(); ++g) {
    check(!params_[g].empty(), "{}: parameter group {} is empty", name_, g);
    for (const Tensor& p : params_[g]) {
      check(p.defined(), "{}: parameter {} is undefined", name_, index);
      check(p.is_leaf(),
            "{}: parameter {} of shape {} is not a leaf (it was computed by '{}'); "
            "hint: optimize the tensor it was computed from",
            name_, index, p.shape(), p.grad_fn() ? p.grad_fn()->name : "?");
      check(p.is_contiguous(), "{}: parameter {} of shape {} is not contiguous", name_, index,
            p.shape());
      check(is_floating_point(p.dtype()),
            "{}: parameter {} of shape {} is {}; only float32 and float64 tensors can be "
            "optimized", name_, index, p.shape(), p.dtype());
      check(seen.insert(p.impl()).second, "{}: parameter {} of shape {} appears twice", name_,
            index, p.shape());
      ++index;
    }
    state_.emplace_back(params_[g].size());
  }
}

Tensor Optimizer::step(const Closure& closure) {
  Tensor loss;
  {
    EnableGradGuard grad_mode;
    loss = closure();
  }
  step();
  return loss;
}

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (auto& group : params_) {
    for (Tensor& p : group) {
      if (set_to_none || !p.grad().defined())
        p.zero_grad();
      else
        p.grad().zero_();
    }
  }
}

std::vector<Tensor> Optimizer::parameters() const {
  std::vector<Tensor> all;
  for (const auto& group : params_) all.insert(all.end(), group.begin(), group.end());
  return all;
}

void Optimizer::set_lr(double lr) {
  for (size_t g = 0; g < params_.size(); ++g) set_lr(g, lr);
}

StateDict Optimizer::state_dict() const {
  StateDict dict;
  dict.set("kind", name_);
  dict.set("param_groups", double(params_.size()));
  size_t index = 0;
  for (size_t g = 0; g < params_.size(); ++g) {
    std::string group = fmt::format("param_groups.{}.", g);
    for (const auto& [option, value] : hyperparameters(g)) dict.set(group + option, value.text);
    dict.set(group + "initial_lr", initial_lrs_[g]);
    dict.set(group + "params", double(params_[g].size()));
    for (const ParamState& s : state_[g]) {
      std::string prefix = fmt::format("state.{}.", index++);
      if (s.step == 0 && s.buffers.empty() && s.scalars.empty()) continue;
      dict.set(prefix + "step", double(s.step));
      for (const auto& [name, value] : s.scalars) dict.set(prefix + name, value);
      for (const auto& [name, buffer] : s.buffers) dict.insert(prefix + name, kernels::copy(buffer));
    }
  }
  save_extra_state(dict);
  return dict;
}

void Optimizer::load_extra_state(const StateDict& extra) {
  for (const auto& [key, value] : extra.metadata())
    fail("{}: load_state_dict: unexpected entry '{}'", name_, key);
  for (const auto& [key, t] : extra) fail("{}: load_state_dict: unexpected entry '{}'", name_, key);
}

namespace {

// Splits "state.<i>.<name>" into i and name; false for other keys.
bool parse_state_key(const std::string& key, size_t& index, std::string& name) {
  if (!key.starts_with("state.")) return false;
  size_t dot = key.find('.', 6);
  if (dot == std::string::npos || dot + 1 == key.size()) return false;
  auto [end, error] = std::from_chars(key.data() + 6, key.data() + dot, index);
  name = key.substr(dot + 1);
  return error == std::errc() && end == key.data() + dot;
}

// True for the keys the base class writes; the rest belongs to load_extra_state.
bool base_key(const std::string& key) {
  return key == "kind" || key.starts_with("param_groups") || key.starts_with("state.");
}

}  // namespace

void Optimizer::load_state_dict(const StateDict& dict, LoadOptions options) {
  auto number = [&](const std::string& key) {
    check(dict.has(key), "{}: load_state_dict: missing entry '{}'", name_, key);
    return dict.number(key);
  };
  // 1. The kind, the layout and each group's options, the options' mismatches in one message.
  std::vector<std::string> mismatches;
  auto compare = [&](const std::string& key, const std::string& expected) {
    auto found = dict.metadata().find(key);
    if (found == dict.metadata().end())
      mismatches.push_back(fmt::format("{}: expected {}, found nothing", key, expected));
    else if (found->second != expected)
      mismatches.push_back(fmt::format("{}: expected {}, found {}", key, expected, found->second));
  };
  compare("kind", name_);  // another kind's options would all differ: its name says enough
  std::vector<std::pair<size_t, size_t>> where;  // flat index -> (group, index in group)
  if (mismatches.empty()) {
    check(number("param_groups") == double(params_.size()),
          "{}: load_state_dict: the state has {} parameter groups, the optimizer {}", name_,
          number("param_groups"), params_.size());
    for (size_t g = 0; g < params_.size(); ++g) {
      std::string group = fmt::format("param_groups.{}.", g);
      double count = number(group + "params");
      check(count == double(params_[g].size()),
            "{}: load_state_dict: group {} has {} parameters in the state, {} in the optimizer",
            name_, g, count, params_[g].size());
      for (size_t i = 0; i < params_[g].size(); ++i) where.emplace_back(g, i);
      std::set<std::string> known = {group + "initial_lr", group + "params"};
      for (const auto& [option, value] : hyperparameters(g)) {
        known.insert(group + option);
        if (option != "lr") compare(group + option, value.text);  // lr: restored, not compared
      }
      if (!options.allow_lr_change)
        compare(group + "initial_lr", fmt::format("{}", initial_lrs_[g]));
      for (const auto& [key, text] : dict.metadata())
        if (key.starts_with(group) && !known.contains(key))
          mismatches.push_back(fmt::format("{}: not an option of {}", key, name_));
    }
  }
  if (!mismatches.empty()) {
    bool lr_only = mismatches.size() == 1 && mismatches[0].find(".initial_lr:") != std::string::npos;
    fail("{}: load_state_dict: the state does not fit this optimizer; nothing was loaded:\n  {}\n"
         "hint: {}", name_, fmt::join(mismatches, "\n  "),
         lr_only ? "to resume with another learning rate, load with {.allow_lr_change = true}"
                 : "build the optimizer with the options the state was saved with");
  }
  std::vector<double> lrs;  // restored, unless this optimizer's are to be kept
  for (size_t g = 0; g < params_.size(); ++g) {
    lrs.push_back(options.allow_lr_change ? lr(g) : number(fmt::format("param_groups.{}.lr", g)));
    check(std::isfinite(lrs.back()) && lrs.back() >= 0,
          "{}: load_state_dict: group {} has lr {}, expected a finite rate >= 0", name_, g,
          lrs.back());
  }

  // 2. Per-parameter state, into a copy; everything else goes to load_extra_state.
  std::vector<std::vector<ParamState>> state(params_.size());
  for (size_t g = 0; g < params_.size(); ++g) state[g].resize(params_[g].size());
  StateDict extra;
  size_t index;
  std::string name;
  auto locate = [&](const std::string& key) -> std::pair<size_t, size_t> {
    check(parse_state_key(key, index, name), "{}: load_state_dict: unexpected entry '{}'", name_,
          key);
    check(index < where.size(), "{}: load_state_dict: '{}' names parameter {}, but there are {}",
          name_, key, index, where.size());
    return where[index];
  };
  for (const auto& [key, text] : dict.metadata()) {
    if (!base_key(key)) {
      extra.set(key, text);
      continue;
    }
    if (!key.starts_with("state.")) continue;  // "kind" and "param_groups*": checked above
    auto [g, i] = locate(key);
    double value = dict.number(key);
    if (name == "step") {
      check(value >= 0 && value <= 0x1p53 && std::floor(value) == value,
            "{}: load_state_dict: '{}' is {}, expected a whole number >= 0", name_, key, value);
      state[g][i].step = int64_t(value);
    } else {
      state[g][i].scalars[name] = value;
    }
  }
  for (const auto& [key, t] : dict) {
    if (!base_key(key)) {
      extra.insert(key, t);
      continue;
    }
    auto [g, i] = locate(key);
    const Tensor& p = params_[g][i];
    check(t.shape() == p.shape(), "{}: load_state_dict: '{}' has shape {}, parameter {} has {}",
          name_, key, t.shape(), index, p.shape());
    check(is_floating_point(t.dtype()), "{}: load_state_dict: '{}' is {}, expected a floating "
          "tensor", name_, key, t.dtype());
    // In the parameter's dtype, as PyTorch casts it: a float32 run may resume in float64.
    state[g][i].buffers[name] =
        t.dtype() == p.dtype() ? kernels::copy(t) : kernels::convert(t, p.dtype());
  }
  // 3. Everything of the base was checked: the method's own part, then the commit.
  load_extra_state(extra);
  state_ = std::move(state);
  for (size_t g = 0; g < params_.size(); ++g) set_lr(g, lrs[g]);
}

namespace detail {

void check_lr(const std::string& opt, double lr) {
  check(lr >= 0 && std::isfinite(lr), "{}: invalid learning rate: {} (expected a finite lr >= 0)",
        opt, lr);
}

void check_non_negative(const std::string& opt, const char* what, double value) {
  check(value >= 0 && std::isfinite(value), "{}: invalid {}: {} (expected a finite {} >= 0)", opt,
        what, value, what);
}

void check_positive(const std::string& opt, const char* what, double value) {
  check(value > 0 && std::isfinite(value), "{}: invalid {}: {} (expected a finite {} > 0)", opt,
        what, value, what);
}

void check_beta(const std::string& opt, const char* what, double beta) {
  check(beta >= 0 && beta < 1, "{}: invalid {}: {} (expected 0 <= {} < 1)", opt, what, beta, what);
}

}  // namespace detail

}  // namespace tg::optim
