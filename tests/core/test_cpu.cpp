// cpu::dispatch: the level names, forcing a level, and the im2col / col2im kernels compiled at
// each level against the baseline on random geometries, and the elementwise kernels through
// the ops that use them. (Pooling, norms and optimizers are compared the same way in their
// own folders' suites.)
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <tapegrad/core/cpu.h>
#include <tapegrad/core/im2col.h>
#include <tapegrad/core/random.h>
#include "tests/cpu_levels.h"
#include "tests/test_util.h"

using namespace tg;
using tg::test::append;
using tg::test::check_levels_agree;

TEST_CASE("cpu: levels have PyTorch-like names and parse back; bad names are errors") {
  using cpu::Capability;
  for (Capability c : {Capability::baseline, Capability::avx2, Capability::avx512})
    CHECK(cpu::parse_capability(cpu::name(c)) == c);
  CHECK(std::string(cpu::name(Capability::avx512)) == "avx512");
  CHECK(cpu::parse_capability("default") == Capability::baseline);  // ATEN_CPU_CAPABILITY's word
  CHECK_THROWS_CONTAINING(
      cpu::parse_capability("avx3"),
      "parse_capability: unknown level 'avx3' (expected baseline, avx2 or avx512)");
  CHECK(cpu::capability() <= cpu::detected());
}

TEST_CASE("cpu: the level in use is the detected one unless lowered (TG_TEST_EXPECT_CAPABILITY)") {
  // scripts/test.sh runs this suite under emulated CPUs and with TAPEGRAD_CPU_CAPABILITY set,
  // and says here which level must have been chosen.
  if (const char* expected = std::getenv("TG_TEST_EXPECT_CAPABILITY"))
    CHECK(std::string(cpu::name(cpu::capability())) == std::string(expected));
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx2")) CHECK(cpu::detected() == cpu::Capability::baseline);
  if (!__builtin_cpu_supports("avx512f")) CHECK(cpu::detected() <= cpu::Capability::avx2);
#endif
}

TEST_CASE("cpu: set_capability runs the loops at the level asked for, and only if supported") {
  tg::test::CapabilityGuard guard;
  for (cpu::Capability level : tg::test::supported_levels()) {
    cpu::set_capability(level);
    CHECK(cpu::capability() == level);
    cpu::Capability ran = cpu::Capability(-1);
    cpu::dispatch([&](auto target) { ran = decltype(target)::capability; });
    CHECK(ran == level);
  }
  if (cpu::detected() < cpu::Capability::avx512)  // e.g. under qemu-x86_64 -cpu Haswell
    CHECK_THROWS_CONTAINING(
        cpu::set_capability(cpu::Capability::avx512),
        fmt::format("set_capability: this CPU does not support avx512 (best: {})",
                    cpu::name(cpu::detected())));
}

TEST_CASE("cpu: im2col and col2im give the baseline's values at every level") {
  std::mt19937 rng(12);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 60; ++trial) {
    kernels::ConvGeometry g;
    g.channels = pick(1, 4), g.kernel_h = pick(1, 5), g.kernel_w = pick(1, 5);
    g.stride_h = pick(1, 3), g.stride_w = pick(1, 3);
    g.pad_h = pick(0, 2), g.pad_w = pick(0, 2);
    g.dilation_h = pick(1, 2), g.dilation_w = pick(1, 2);
    // Widths up to 40 cover runs shorter than, equal to and longer than 16 floats.
    g.height = pick(g.dilation_h * (g.kernel_h - 1) + 1, 24);
    g.width = pick(g.dilation_w * (g.kernel_w - 1) + 1, 40);
    g = g.with_output_size();
    INFO("trial ", trial, ": ", g.channels, "x", g.height, "x", g.width, " kernel ", g.kernel_h,
         "x", g.kernel_w, " stride ", g.stride_h, ",", g.stride_w, " pad ", g.pad_h, ",", g.pad_w);
    std::vector<float> image(g.channels * g.height * g.width);
    std::vector<float> cols(g.col_rows() * g.col_cols());
    std::normal_distribution<float> normal;
    for (float& v : image) v = normal(rng);
    for (float& v : cols) v = normal(rng);
    check_levels_agree([&] {
      std::vector<float> out(cols.size(), -7.0f);  // im2col must overwrite every entry
      kernels::im2col(image.data(), g, out.data());
      return out;
    });
    check_levels_agree([&] {
      std::vector<float> dx(image.size(), 0.5f);  // col2im accumulates into dx
      kernels::col2im(cols.data(), g, dx.data());
      return dx;
    });
  }
}

TEST_CASE("cpu: elementwise ops and sums give the baseline's values at every level") {
  // kernels::map, zip (same shape, broadcast, strided), the in-place forms and sum_keepdim,
  // reached through the Tensor ops that use them. Sizes straddle vector widths and the
  // 2^16-element threshold above which the loops are split across threads.
  manual_seed(4);
  std::mt19937 rng(4);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::vector<Shape> shapes = {{1}, {15}, {17, 33}, {3, 5, 41}, {2, 70000}};
  for (int trial = 0; trial < 6; ++trial) shapes.push_back({pick(1, 9), pick(1, 9), pick(1, 40)});
  for (const Shape& shape : shapes) {
    const std::string shown = fmt::format("{}", shape);  // INFO keeps a reference
    INFO("shape ", shown);
    Tensor a = randn(shape), b = randn(shape).abs() + 0.5f;
    Tensor row = randn({shape[shape.size() - 1]});  // broadcasts along the last dim
    check_levels_agree([&] {
      std::vector<float> out;
      append(out, a.relu());
      append(out, a.exp());
      append(out, b.sqrt());
      append(out, b.log());
      append(out, a.sigmoid());
      append(out, a.tanh());
      append(out, a.clamp(-0.5f, 0.7f));
      append(out, a.pow(3.0f));
      append(out, a * b + 2.0f);
      append(out, a / b);
      append(out, a.maximum(b));
      append(out, a - row);  // broadcast operand
      append(out, row * a);  // broadcast on the left
      append(out, a.gt(b));
      if (shape.size() >= 2) {
        Tensor at = a.transpose(0, shape.size() - 1), bt = b.transpose(0, shape.size() - 1);
        append(out, at * bt);  // strided operands
        append(out, at.exp());
        append(out, a.sum({0}));  // sum_keepdim along the outer dim
        append(out, a.sum({int64_t(shape.size()) - 1}));
      }
      Tensor c = a.clone();
      c.mul_(b).add_(row).clamp_(-1.0f, 1.0f);  // in place: zip_inplace and map_inplace
      c *= 3.0f;
      append(out, c);
      return out;
    });
  }
}
