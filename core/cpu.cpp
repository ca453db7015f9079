// CPU detection for cpu::dispatch: CPUID through the compiler's __builtin_cpu_supports, which
// also checks that the OS saves the wide registers (XGETBV), read once.
#include <tapegrad/core/cpu.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <tapegrad/core/error.h>

namespace tg::cpu {

namespace detail {
std::atomic<int> active{-1};
}  // namespace detail

namespace {

Capability probe() {
#if defined(__x86_64__)
  __builtin_cpu_init();  // we may run before libgcc's own constructor has
  bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
              __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
              __builtin_cpu_supports("popcnt");
  bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                __builtin_cpu_supports("avx512cd");
  return avx512 ? Capability::avx512 : avx2 ? Capability::avx2 : Capability::baseline;
#else
  return Capability::baseline;
#endif
}

// detected(), lowered by TAPEGRAD_CPU_CAPABILITY. This runs inside the first kernel, maybe on
// an OpenMP thread where an exception would abort: a bad value is a warning, not an error.
Capability from_environment() {
  const char* text = std::getenv("TAPEGRAD_CPU_CAPABILITY");
  if (text == nullptr || *text == '\0') return detected();
  try {
    Capability asked = parse_capability(text);
    if (asked <= detected()) return asked;
    std::fprintf(stderr, "tapegrad: TAPEGRAD_CPU_CAPABILITY=%s: this CPU supports up to %s\n",
                 text, name(detected()));
  } catch (const Error& e) {
    std::fprintf(stderr, "tapegrad: TAPEGRAD_CPU_CAPABILITY: %s: using %s\n", e.what(),
                 name(detected()));
  }
  return detected();
}

}  // namespace

Capability detected() {
  static const Capability best = probe();
  return best;
}

const char* name(Capability level) {
  switch (level) {
    case Capability::baseline: return "baseline";
    case Capability::avx2: return "avx2";
    case Capability::avx512: return "avx512";
  }
  return "unknown";
}

Capability parse_capability(std::string_view text) {
  for (Capability c : {Capability::baseline, Capability::avx2, Capability::avx512})
    if (text == name(c)) return c;
  if (text == "default") return Capability::baseline;
  fail("parse_capability: unknown level '{}' (expected baseline, avx2 or avx512)",
       std::string(text));
}

void set_capability(Capability level) {
  check(level <= detected(), "set_capability: this CPU does not support {} (best: {})",
        name(level), name(detected()));
  detail::active.store(int(level), std::memory_order_relaxed);
}

Capability detail::init_capability() {
  static const Capability initial = from_environment();  // once, thread-safe
  int unset = -1;  // a set_capability() that came first wins
  active.compare_exchange_strong(unset, int(initial), std::memory_order_relaxed);
  return Capability(active.load(std::memory_order_relaxed));
}

}  // namespace tg::cpu
