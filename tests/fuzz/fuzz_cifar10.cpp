// libFuzzer target: arbitrary bytes as a CIFAR-10 batch file (data/cifar10.h).
// What it does with an input: feed_cifar10 in targets.h. Built and run by scripts/fuzz.sh.
#include "tests/fuzz/fuzz_main.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return tg::fuzz::run_one(data, size, [](std::string_view bytes) {
    tg::fuzz::feed_cifar10(bytes, tg::fuzz::scratch_dir());
  });
}
