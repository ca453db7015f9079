// libFuzzer target: arbitrary bytes into the safetensors decoder (core/safetensors.h).
// What it does with an input: feed_safetensors in targets.h. Built and run by scripts/fuzz.sh.
#include "tests/fuzz/fuzz_main.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return tg::fuzz::run_one(data, size, [](std::string_view bytes) {
    tg::fuzz::feed_safetensors(bytes);
  });
}
