// Module registration, traversal, state dicts and the printable summary.
// Traversal recurses over submodules (a model is only a few levels deep);
// load_state_dict checks everything before it copies anything.
#include <tapegrad/nn/module.h>

#include <fmt/format.h>  // fmt::join

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <typeinfo>
#include <unordered_set>

#include <tapegrad/core/error.h>
#include <tapegrad/core/kernels.h>

namespace tg::nn {

// ---- registration --------------------------------------------------------------------------

void Module::check_new_name(const std::string& name, const char* op) const {
  check(!name.empty(), "{}: empty name in {}", op, this->name());
  check(name.find('.') == std::string::npos,
        "{}: name '{}' in {} contains '.', which separates the levels of dotted names", op, name,
        this->name());
  auto taken = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& e) { return e.first == name; });
  };
  check(!taken(parameters_) && !taken(buffers_) && !taken(children_),
        "{}: name '{}' is already used in {}", op, name, this->name());
}

Tensor Module::register_parameter(std::string name, Tensor tensor, bool requires_grad) {
  check_new_name(name, "register_parameter");
  check(tensor.defined(), "register_parameter: '{}' is an undefined tensor", name);
  // A parameter must be a leaf, or its gradient would flow into whatever produced it.
  check(tensor.is_leaf(), "register_parameter: '{}' {} is the output of an op, not a leaf; "
        "hint: create it under NoGradGuard or pass t.detach()", name, tensor.shape());
  tensor.requires_grad_(requires_grad);
  parameters_.emplace_back(std::move(name), tensor);
  return tensor;
}

Tensor Module::register_buffer(std::string name, Tensor tensor) {
  check_new_name(name, "register_buffer");
  check(tensor.defined(), "register_buffer: '{}' is an undefined tensor", name);
  buffers_.emplace_back(std::move(name), tensor);
  return tensor;
}

void Module::add_child(std::string name, std::shared_ptr<Module> module) {
  check_new_name(name, "register_module");
  check(module != nullptr, "register_module: '{}' is a null module", name);
  check(module.get() != this, "register_module: '{}' would make {} its own child", name,
        this->name());
  children_.emplace_back(std::move(name), std::move(module));
}

// ---- dtype ---------------------------------------------------------------------------------

namespace {

// t's data replaced by a contiguous copy in `dtype`, in the impl every handle to t shares.
void convert_in_place(const TensorBase& t, Dtype dtype) {
  if (!t.defined() || !t.is_floating_point() || t.dtype() == dtype) return;
  TensorBase converted = kernels::convert(t, dtype);
  t.bump_version();  // a graph that saved the old data refuses to run backward
  TensorImpl* impl = t.impl();
  impl->storage = converted.impl()->storage;
  impl->strides = converted.strides();
  impl->offset = converted.offset();
  impl->dtype = dtype;
}

}  // namespace

Module& Module::to(Dtype dtype) {
  check(is_floating_point(dtype), "Module::to: parameters must stay floating point, got {}",
        dtype);
  for (Module* m : modules()) {
    for (auto& [name, t] : m->parameters_) {
      convert_in_place(t, dtype);
      if (t.impl()->autograd && t.impl()->autograd->grad)
        convert_in_place(TensorBase(t.impl()->autograd->grad), dtype);
    }
    for (auto& [name, t] : m->buffers_) convert_in_place(t, dtype);
  }
  return *this;
}

Dtype Module::dtype() const {
  for (const Tensor& t : parameters())
    if (t.is_floating_point()) return t.dtype();
  for (const Tensor& t : buffers())
    if (t.is_floating_point()) return t.dtype();
  return kFloat32;
}

// ---- traversal -----------------------------------------------------------------------------

// Calls visit(dotted_prefix, module) on this module and (if recurse) all below it, parents first.
template <typename Visit>
void Module::visit_named(const std::string& prefix, bool recurse, Visit&& visit) const {
  visit(prefix, *this);
  if (!recurse) return;
  for (const auto& [name, child] : children_) child->visit_named(prefix + name + ".", true, visit);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  std::unordered_set<const TensorImpl*> seen;  // a tied weight is one parameter, not two
  visit_named("", recurse, [&](const std::string& prefix, const Module& m) {
    for (const auto& [name, t] : m.parameters_)
      if (seen.insert(t.impl()).second) out.emplace_back(prefix + name, t);
  });
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> out;
  std::unordered_set<const TensorImpl*> seen;
  visit_named("", recurse, [&](const std::string& prefix, const Module& m) {
    for (const auto& [name, t] : m.buffers_)
      if (seen.insert(t.impl()).second) out.emplace_back(prefix + name, t);
  });
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_buffers(recurse)) out.push_back(t);
  return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [name, child] : children_) out.push_back(child);
  return out;
}

namespace {

// PyTorch's named_modules: pre-order, dotted names, each module once (by identity).
template <typename M>
void collect_modules(const std::string& prefix, M* module, std::unordered_set<const Module*>& seen,
                     std::vector<std::pair<std::string, M*>>& out) {
  if (!seen.insert(module).second) return;
  out.emplace_back(prefix, module);
  for (const auto& [name, child] : module->named_children())
    collect_modules(prefix.empty() ? name : prefix + "." + name, static_cast<M*>(child.get()), seen,
                    out);
}

template <typename M>
std::vector<std::pair<std::string, M*>> named_modules_of(M* root) {
  std::vector<std::pair<std::string, M*>> out;
  std::unordered_set<const Module*> seen;
  collect_modules("", root, seen, out);
  return out;
}

}  // namespace

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  return named_modules_of(this);
}

std::vector<std::pair<std::string, const Module*>> Module::named_modules() const {
  return named_modules_of(this);
}

std::vector<Module*> Module::modules() {
  std::vector<Module*> out;
  for (const auto& [name, m] : named_modules()) out.push_back(m);
  return out;
}

std::vector<const Module*> Module::modules() const {
  std::vector<const Module*> out;
  for (const auto& [name, m] : named_modules()) out.push_back(m);
  return out;
}

Module& Module::apply(const std::function<void(Module&)>& fn) {
  check(bool(fn), "apply: the function given to {} is empty", name());
  std::unordered_set<const Module*> seen;  // a child registered twice is visited once, as PyTorch
  for (const auto& [name, child] : children_)
    if (seen.insert(child.get()).second) child->apply(fn);
  fn(*this);
  return *this;
}

std::shared_ptr<Module> Module::replace_module(const std::string& name,
                                               std::shared_ptr<Module> module) {
  auto it = std::find_if(children_.begin(), children_.end(),
                         [&](const auto& entry) { return entry.first == name; });
  check(it != children_.end(), "replace_module: {} has no submodule '{}'", this->name(), name);
  check(module != nullptr, "replace_module: '{}' is a null module", name);
  check(module.get() != this, "replace_module: '{}' would make {} its own child", name,
        this->name());
  it->second = std::move(module);
  return it->second;
}

Tensor Module::forward(const Tensor&) {
  fail("forward: {} does not implement forward(Tensor); hint: override "
       "`Tensor forward(const Tensor& x)` in the subclass", name());
}

void Module::train(bool on) {
  training_ = on;
  for (const auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (Tensor& p : parameters()) p.zero_grad();
}

// ---- state dicts ---------------------------------------------------------------------------

StateDict Module::state_dict() const {
  // Unlike parameters(), every name is kept (a tied weight appears under each name, as in
  // PyTorch), so that a state dict always fits the module it came from.
  StateDict dict;
  visit_named("", true, [&](const std::string& prefix, const Module& m) {
    for (const auto& [name, t] : m.parameters_) dict.insert(prefix + name, t.detach());
    for (const auto& [name, t] : m.buffers_) dict.insert(prefix + name, t.detach());
  });
  dict.set("format", "pt");
  return dict;
}

void Module::load_state_dict(const StateDict& dict, bool strict) {
  StateDict own = state_dict();
  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [name, mine] : own) {
    const Tensor* given = dict.find(name);
    if (!given) missing.push_back(name);
    else if (!given->defined()) mismatched.push_back(fmt::format("{} is undefined", name));
    else if (given->shape() != mine.shape())
      mismatched.push_back(
          fmt::format("{} expected {}, got {}", name, mine.shape(), given->shape()));
  }
  for (const auto& [name, t] : dict)
    if (!own.contains(name)) unexpected.push_back(name);

  std::string problems;
  if (strict && !missing.empty())
    problems += fmt::format("\n  missing keys: {}", fmt::join(missing, ", "));
  if (strict && !unexpected.empty())
    problems += fmt::format("\n  unexpected keys: {}", fmt::join(unexpected, ", "));
  for (const std::string& m : mismatched) problems += fmt::format("\n  shape mismatch: {}", m);
  if (!problems.empty()) {
    bool keys_only = mismatched.empty();
    fail("load_state_dict: the state dict does not fit {}; nothing was loaded:{}{}", name(),
         problems, keys_only ? "\nhint: strict = false skips missing and unexpected keys" : "");
  }

  // own's tensors are detached views of the parameters and buffers: copying into them fills
  // the module without touching any graph.
  for (auto& [name, mine] : own)
    if (const Tensor* given = dict.find(name)) Tensor(mine).copy_(*given);
}

// ---- printing ------------------------------------------------------------------------------

std::string Module::name() const {
  // The demangled class name without its namespaces ("tg::nn::Linear" -> "Linear").
  const char* mangled = typeid(*this).name();
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  std::string full = status == 0 ? demangled.get() : mangled;
  size_t start = 0;
  int depth = 0;  // only "::" outside template arguments separates namespaces
  for (size_t i = 0; i + 1 < full.size(); ++i) {
    if (full[i] == '<') ++depth;
    else if (full[i] == '>') --depth;
    else if (depth == 0 && full[i] == ':' && full[i + 1] == ':') start = i + 2;
  }
  return full.substr(start);
}

int64_t parameter_count(const Module& module, bool trainable_only) {
  int64_t n = 0;
  for (const Tensor& p : module.parameters())
    if (!trainable_only || p.requires_grad()) n += p.numel();
  return n;
}

namespace {

// 61706 -> "61,706", as model summaries usually print counts.
std::string grouped(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

struct Line {
  std::string text;
  int64_t params;  // shown as a trailing comment when positive
};

void describe(const Module& m, const std::string& label, int indent, std::vector<Line>& lines) {
  std::string pad(size_t(indent), ' ');
  std::string head = pad + label + m.name() + "(" + m.extra_repr();
  if (m.named_children().empty()) {
    lines.push_back({head + ")", parameter_count(m)});
    return;
  }
  lines.push_back({head + (m.extra_repr().empty() ? "" : ","), parameter_count(m)});
  for (const auto& [name, child] : m.named_children())
    describe(*child, "(" + name + "): ", indent + 2, lines);
  lines.push_back({pad + ")", 0});
}

}  // namespace

std::string to_string(const Module& module) {
  std::vector<Line> lines;
  describe(module, "", 0, lines);
  size_t width = 0;
  for (const Line& l : lines) width = std::max(width, l.text.size());
  std::string out;
  for (const Line& l : lines) {
    out += l.text;
    if (l.params > 0) out += std::string(width - l.text.size() + 2, ' ') + "# " + grouped(l.params);
    out += '\n';
  }
  int64_t total = parameter_count(module), trainable = parameter_count(module, true);
  out += fmt::format("Total params: {}\nTrainable params: {}\nNon-trainable params: {}",
                     grouped(total), grouped(trainable), grouped(total - trainable));
  return out;
}

}  // namespace tg::nn
