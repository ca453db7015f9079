// The Optimizer base: parameter checks, zero_grad, the closure step, the state
// dict (flattening the per-parameter state to "state.<i>.<name>" keys and back)
// and the hyperparameter checks every method shares.
#include <tapegrad/optim/optimizer.h>

#include <set>

#include <tapegrad/autograd/node.h>

namespace tg::optim {

Tensor& ParamState::buffer(const std::string& name, const Tensor& like, float init) {
  auto it = buffers.find(name);
  if (it == buffers.end()) it = buffers.emplace(name, full(like.shape(), init)).first;
  return it->second;
}

Optimizer::Optimizer(std::string name, std::vector<std::vector<Tensor>> groups)
    : name_(std::move(name)), params_(std::move(groups)) {
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
  dict.scalars["param_groups"] = double(params_.size());
  size_t index = 0;
  for (size_t g = 0; g < params_.size(); ++g) {
    dict.scalars[fmt::format("param_groups.{}.lr", g)] = lr(g);
    dict.scalars[fmt::format("param_groups.{}.params", g)] = double(params_[g].size());
    for (const ParamState& s : state_[g]) {
      std::string prefix = fmt::format("state.{}.", index++);
      if (s.step == 0 && s.buffers.empty() && s.scalars.empty()) continue;
      dict.scalars[prefix + "step"] = double(s.step);
      for (const auto& [name, value] : s.scalars) dict.scalars[prefix + name] = value;
      for (const auto& [name, buffer] : s.buffers)
        dict.tensors[prefix + name] = kernels::copy(buffer);
    }
  }
  return dict;
}

namespace {

// Splits "state.<i>.<name>" into i and name; false for other keys.
bool parse_state_key(const std::string& key, size_t& index, std::string& name) {
  if (key.rfind("state.", 0) != 0) return false;
  size_t dot = key.find('.', 6);
  if (dot == std::string::npos || dot == 6) return false;
  std::string digits = key.substr(6, dot - 6);
  if (digits.find_first_not_of("0123456789") != std::string::npos) return false;
  index = std::stoul(digits);
  name = key.substr(dot + 1);
  return !name.empty();
}

}  // namespace

void Optimizer::load_state_dict(const StateDict& dict) {
  auto scalar = [&](const std::string& key) {
    auto it = dict.scalars.find(key);
    check(it != dict.scalars.end(), "{}: load_state_dict: missing entry '{}'", name_, key);
    return it->second;
  };
  check(scalar("param_groups") == double(params_.size()),
        "{}: load_state_dict: the state has {} parameter groups, the optimizer {}", name_,
        scalar("param_groups"), params_.size());
  std::vector<std::pair<size_t, size_t>> where;  // flat index -> (group, index in group)
  for (size_t g = 0; g < params_.size(); ++g) {
    double count = scalar(fmt::format("param_groups.{}.params", g));
    check(count == double(params_[g].size()),
          "{}: load_state_dict: group {} has {} parameters in the state, {} in the optimizer",
          name_, g, count, params_[g].size());
    for (size_t i = 0; i < params_[g].size(); ++i) where.emplace_back(g, i);
  }
  std::vector<std::vector<ParamState>> state(params_.size());
  for (size_t g = 0; g < params_.size(); ++g) state[g].resize(params_[g].size());
  size_t index;
  std::string name;
  for (const auto& [key, value] : dict.scalars) {
    if (key.rfind("param_groups", 0) == 0) continue;
    check(parse_state_key(key, index, name), "{}: load_state_dict: unexpected entry '{}'", name_,
          key);
    check(index < where.size(), "{}: load_state_dict: '{}' names parameter {}, but there are {}",
          name_, key, index, where.size());
    ParamState& s = state[where[index].first][where[index].second];
    if (name == "step")
      s.step = int64_t(value);
    else
      s.scalars[name] = value;
  }
  for (const auto& [key, value] : dict.tensors) {
    check(parse_state_key(key, index, name), "{}: load_state_dict: unexpected entry '{}'", name_,
          key);
    check(index < where.size(), "{}: load_state_dict: '{}' names parameter {}, but there are {}",
          name_, key, index, where.size());
    const Tensor& p = params_[where[index].first][where[index].second];
    check(value.shape() == p.shape(), "{}: load_state_dict: '{}' has shape {}, parameter {} has {}",
          name_, key, value.shape(), index, p.shape());
    state[where[index].first][where[index].second].buffers[name] = kernels::copy(value);
  }
  std::vector<double> lrs;
  for (size_t g = 0; g < params_.size(); ++g)
    lrs.push_back(scalar(fmt::format("param_groups.{}.lr", g)));
  // Everything was checked: only now change the optimizer (a refused dict changes nothing).
  state_ = std::move(state);
  for (size_t g = 0; g < params_.size(); ++g) set_lr(g, lrs[g]);
}

namespace detail {

void check_lr(const std::string& opt, double lr) {
  check(lr >= 0, "{}: invalid learning rate: {} (expected lr >= 0)", opt, lr);
}

void check_non_negative(const std::string& opt, const char* what, double value) {
  check(value >= 0, "{}: invalid {}: {} (expected {} >= 0)", opt, what, value, what);
}

void check_positive(const std::string& opt, const char* what, double value) {
  check(value > 0, "{}: invalid {}: {} (expected {} > 0)", opt, what, value, what);
}

void check_beta(const std::string& opt, const char* what, double beta) {
  check(beta >= 0 && beta < 1, "{}: invalid {}: {} (expected 0 <= {} < 1)", opt, what, beta, what);
}

}  // namespace detail

}  // namespace tg::optim
