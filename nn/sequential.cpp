// Sequential's forward and indexing. The modules are also kept in a plain
// vector so forward does not walk the (name, module) list of the base class.
#include <tapegrad/nn/sequential.h>

#include <tapegrad/core/error.h>

namespace tg::nn {

void Sequential::add(std::string name, std::shared_ptr<Module> module) {
  modules_.push_back(register_module(std::move(name), std::move(module)));
}

Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (const auto& m : modules_) x = m->forward(x);
  return x;
}

std::shared_ptr<Module> Sequential::operator[](size_t i) const {
  check(i < modules_.size(), "Sequential: index {} is out of range for {} modules", i,
        modules_.size());
  return modules_[i];
}

void Sequential::wrong_type(size_t i) const {
  fail("Sequential::at: module {} is a {}, not the requested type", i, modules_[i]->name());
}

}  // namespace tg::nn
