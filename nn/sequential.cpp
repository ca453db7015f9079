// Sequential's forward and indexing. The modules are also kept in a plain
// vector so forward does not walk the (name, module) list of the base class.
#include <tapegrad/nn/sequential.h>

#include <typeinfo>

#include <tapegrad/core/error.h>
#include <tapegrad/nn/activation.h>
#include <tapegrad/nn/conv.h>

namespace tg::nn {

void Sequential::add(std::string name, std::shared_ptr<Module> module) {
  modules_.push_back(register_module(std::move(name), std::move(module)));
}

// A Conv2d directly followed by a ReLU (both exactly those classes, not subclasses that may
// override forward) runs as one op, Conv2d::forward_relu: same values and gradients, one pass
// over the activations fewer.
Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (size_t i = 0; i < modules_.size(); ++i) {
    Module& m = *modules_[i];
    if (i + 1 < modules_.size() && typeid(m) == typeid(Conv2d) &&
        typeid(*modules_[i + 1]) == typeid(ReLU)) {
      x = static_cast<Conv2d&>(m).forward_relu(x);
      ++i;
      continue;
    }
    x = m.forward(x);
  }
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
