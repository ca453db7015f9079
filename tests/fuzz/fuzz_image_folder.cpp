// libFuzzer target: arbitrary bytes as images in an image folder (data/image_folder.h).
// What it does with an input: feed_image_folder in targets.h. Built and run by scripts/fuzz.sh.
#include "tests/fuzz/fuzz_main.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return tg::fuzz::run_one(data, size, [](std::string_view bytes) {
    tg::fuzz::feed_image_folder(bytes, tg::fuzz::scratch_dir());
  });
}
