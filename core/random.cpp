// Generator: mt19937_64 plus portable uniform/normal transforms.
#include <tapegrad/core/random.h>

#include <cmath>
#include <sstream>

#include <tapegrad/core/error.h>

namespace tg {

float Generator::uniform() { return float(engine() >> 40) * 0x1.0p-24f; }

float Generator::normal() {
  if (has_spare_normal) {
    has_spare_normal = false;
    return spare_normal;
  }
  // Box-Muller: two uniforms give two independent normals.
  double u1 = (double(engine() >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]: log(u1) is finite
  double u2 = double(engine() >> 11) * 0x1.0p-53;
  double r = std::sqrt(-2.0 * std::log(u1)), theta = 2.0 * M_PI * u2;
  spare_normal = float(r * std::sin(theta));
  has_spare_normal = true;
  return float(r * std::cos(theta));
}

uint64_t Generator::below(uint64_t n) {
  // Rejection sampling: no modulo bias.
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = engine();
  while (x >= limit);
  return x % n;
}

void Generator::seed(uint64_t s) {
  engine.seed(s);
  has_spare_normal = false;
}

std::string Generator::state() const {
  std::ostringstream out;
  out << engine << ' ' << has_spare_normal << ' ' << std::hexfloat << spare_normal;
  return out.str();
}

void Generator::set_state(const std::string& text) {
  std::istringstream in(text);
  Generator g;
  std::string spare;
  in >> g.engine >> g.has_spare_normal >> spare;
  check(!in.fail(), "generator: malformed state string ({} characters)", text.size());
  g.spare_normal = std::strtof(spare.c_str(), nullptr);
  *this = g;
}

Generator& default_generator() {
  static Generator generator;
  return generator;
}

void manual_seed(uint64_t seed) { default_generator().seed(seed); }

}  // namespace tg
