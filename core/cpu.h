// Which instruction set the hot loops run with. The library is compiled for plain x86-64, so
// it runs on any 64-bit x86 CPU; the loops that matter are handed to cpu::dispatch, which
// compiles them again for AVX2 + FMA and for AVX-512 and runs the best one this CPU supports,
// chosen once. TAPEGRAD_CPU_CAPABILITY=baseline|avx2|avx512 (like PyTorch's
// ATEN_CPU_CAPABILITY) or set_capability() runs a lower level: the tests compare every level.
#pragma once

#include <atomic>
#include <string_view>

namespace tg::cpu {

/// The instruction-set levels the hot loops are compiled for, lowest first.
enum class Capability { baseline, avx2, avx512 };

/// The highest level this CPU and its OS support (avx512: F, VL, BW, DQ, CD; avx2: with FMA).
Capability detected();
/// "baseline", "avx2" or "avx512".
const char* name(Capability level);
/// The level named `text` (name(), or PyTorch's "default" for baseline); tg::Error otherwise.
Capability parse_capability(std::string_view text);
/// Runs the loops at `level` from now on; tg::Error when this CPU does not support it.
void set_capability(Capability level);

namespace detail {
extern std::atomic<int> active;  // the level in use, -1 until the first capability()
Capability init_capability();    // detected(), lowered by TAPEGRAD_CPU_CAPABILITY
}  // namespace detail

/// The level the loops run with: detected(), unless lowered by the environment or set_capability().
inline Capability capability() {
  int level = detail::active.load(std::memory_order_relaxed);
  return level >= 0 ? Capability(level) : detail::init_capability();
}

/// A level as a type: what dispatch() passes to its loop, for `if constexpr` on the level.
template <Capability C>
struct Target {
  static constexpr Capability capability = C;
};

#if defined(__x86_64__)
// The instruction sets of each level, for gnu::target attributes: what detected() checks.
// Functions with intrinsics carry one of these themselves.
#define TG_TARGET_AVX2 "avx2,fma,bmi,bmi2,popcnt"
#define TG_TARGET_AVX512 TG_TARGET_AVX2 ",avx512f,avx512vl,avx512bw,avx512dq,avx512cd"

namespace detail {
// flatten inlines every call made by the loop (the elementwise lambdas of the ops, the
// optimizers' update rules), so all of it is compiled for the target, not just the call.
// 256-bit vectors unless a loop uses 512-bit intrinsics itself, as -march for AVX-512 CPUs
// tunes: the runs here are short (10-28 floats in LeNet's col2im), where 512-bit loops spend
// their time in masked tails (col2im took twice as long without this).
template <typename F>
[[gnu::flatten, gnu::target(TG_TARGET_AVX512 ",prefer-vector-width=256")]] void run_avx512(
    F& loop) {
  loop(Target<Capability::avx512>{});
}
template <typename F>
[[gnu::flatten, gnu::target(TG_TARGET_AVX2)]] void run_avx2(F& loop) {
  loop(Target<Capability::avx2>{});
}
template <typename F>
[[gnu::flatten]] void run_baseline(F& loop) {
  loop(Target<Capability::baseline>{});
}
}  // namespace detail

/// Runs loop(Target<level>{}) compiled for the level in use. Keep the loop small and free of
/// errors or allocation: everything it calls is inlined into three copies. Declare the
/// variables of an `omp simd reduction` inside the loop's lambda (captured ones keep g++ 12
/// from vectorising the AVX copies). Intrinsics go in functions marked
/// [[gnu::target(TG_TARGET_AVX512)]], called under `if constexpr`.
template <typename F>
void dispatch(F&& loop) {
  switch (capability()) {
    case Capability::avx512: detail::run_avx512(loop); return;
    case Capability::avx2: detail::run_avx2(loop); return;
    case Capability::baseline: detail::run_baseline(loop); return;
  }
}
#else
/// Other architectures: one build for the compiler's target, always baseline.
template <typename F>
void dispatch(F&& loop) {
  loop(Target<Capability::baseline>{});
}
#endif

}  // namespace tg::cpu
