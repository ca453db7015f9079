// libFuzzer target: arbitrary bytes as IDX files, raw or gzip, for read_idx and read_mnist
// (data/mnist.h). What it does with an input: feed_mnist in targets.h. Built and run by
// scripts/fuzz.sh.
#include "tests/fuzz/fuzz_main.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return tg::fuzz::run_one(data, size, [](std::string_view bytes) {
    tg::fuzz::feed_mnist(bytes, tg::fuzz::scratch_dir());
  });
}
