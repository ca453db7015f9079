// Accelerated MRI, as in the lecture "Optimisation Techniques II" ("The Death of Optimization"):
// an image is recovered from k-space (its 2-D Fourier transform) with most columns skipped,
// by three methods:
//   zero-filled     |F^-1 (M y)|: the skipped columns set to 0 (the linear baseline);
//   TV              argmin_x 1/2 ||M F x - y||^2 + lambda TV(x), solved through the tape by Adam
//                   (TV smoothed: sum sqrt(dx^2 + dy^2 + eps), x kept in [0, 1]);
//   U-Net           a small U-Net with GroupNorm (nn::UNet) trained by Adam to map the
//                   zero-filled image to the true one (it predicts the correction), on fresh
//                   random phantoms, tested on held-out phantoms and on Shepp-Logan.
// F is fft2 with norm "ortho" (unitary: its adjoint is ifft2); M, the scanner's sampling
// pattern, keeps a fully sampled band of low frequencies and random other columns, 4x and 8x
// fewer than all; the U-Net trains under the same M (--random-masks: a new one per batch).
// Prints one table (method, acceleration, test set, PSNR, SSIM, seconds per image) and writes
// PNGs of each reconstruction and of its error to --out. lambda = 1e-3 was the best of a sweep
// (5e-4 to 1e-2) on the default run's test phantoms: TV is shown at its best.
//
//   build/examples/mri_reconstruction                  # about a minute on one core
//   build/examples/mri_reconstruction --size 32 --train-steps 100 --test-images 2   # seconds
#include <chrono>
#include <filesystem>

#include <tapegrad/plot/png.h>
#include <tapegrad/tapegrad.h>
#include <tapegrad/train/cli.h>
#include <tapegrad/train/image_quality.h>

#include "mri_phantoms.h"

using namespace tg;
namespace F = tg::nn::functional;

namespace {

struct Options {
  int64_t size = 64, accelerations[2] = {4, 8};
  int64_t test_images = 8, tv_iters = 300, train_steps = 1600, batch_size = 2, channels = 8;
  double tv_lambda = 1e-3, tv_lr = 0.03, lr = 3e-3;
  bool random_masks = false;
  int64_t seed = 0, threads = 1;
  std::string out = "results";
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Fully sampled k-space of real images x [B, H, W]: [B, H, W, 2].
Tensor kspace(const Tensor& x) { return fft2(complex(x, zeros_like(x)), "ortho"); }

// The zero-filled reconstruction: the magnitude of the inverse transform of masked k-space.
Tensor zero_filled(const Tensor& y) { return complex_abs(ifft2(y, "ortho")); }

// Smoothed isotropic total variation of x [B, H, W] as a recorded op (optim::total_variation
// is the plain value): sum sqrt(dx^2 + dy^2 + eps) over the pixels with a right and a lower
// neighbour.
Tensor smoothed_tv(const Tensor& x, float eps = 1e-4f) {
  int64_t h = x.size(-2), w = x.size(-1);
  Tensor corner = x.narrow(-2, 0, h - 1).narrow(-1, 0, w - 1);
  Tensor dx = x.narrow(-2, 0, h - 1).narrow(-1, 1, w - 1) - corner;
  Tensor dy = x.narrow(-2, 1, h - 1).narrow(-1, 0, w - 1) - corner;
  return (dx * dx + dy * dy + eps).sqrt().sum();
}

// Compressed sensing: argmin_x 1/2 ||M F x - y||^2 + lambda TV(x), by Adam on x through the
// tape, from the zero-filled image, x projected onto [0, 1] after each step. All images of the
// batch at once: the objective is a sum of independent ones, and Adam works per pixel.
Tensor solve_tv(const Tensor& y, const Tensor& mask, const Options& o) {
  Tensor x = zero_filled(y).detach().requires_grad_();
  optim::Adam opt({x}, {.lr = o.tv_lr});
  for (int64_t it = 0; it < o.tv_iters; ++it) {
    opt.zero_grad();
    Tensor residual = kspace(x) * mask - y;
    Tensor loss = 0.5f * residual.pow(2).sum() + float(o.tv_lambda) * smoothed_tv(x);
    loss.backward();
    opt.step();
    NoGradGuard no_grad;
    x.clamp_(0, 1);
  }
  return x.detach();
}

// Residual learning: the network predicts what to add to the zero-filled image.
Tensor unet_reconstruct(nn::UNet& net, const Tensor& zf) {
  return (zf.unsqueeze(1) + net(zf.unsqueeze(1))).squeeze(1);
}

// Trains on fresh random phantoms each step, under the scanner's mask (or, with
// --random-masks, each batch under a fresh random mask); Adam with a cosine schedule.
double train_unet(nn::UNet& net, const Tensor& scanner_mask, int64_t acceleration, const Options& o,
                  Generator& g) {
  auto start = std::chrono::steady_clock::now();
  optim::Adam opt(net.parameters(), {.lr = o.lr});
  optim::CosineAnnealingLR schedule(opt, {.T_max = o.train_steps});
  net.train();
  double recent = 0;
  for (int64_t step = 1; step <= o.train_steps; ++step) {
    std::vector<Tensor> images;
    for (int64_t b = 0; b < o.batch_size; ++b) images.push_back(mri::random_phantom(o.size, g));
    Tensor truth = stack(images);
    Tensor mask = o.random_masks ? mri::column_mask(o.size, acceleration, g) : scanner_mask;
    Tensor input = zero_filled(kspace(truth) * mask).detach();
    opt.zero_grad();
    Tensor loss = F::mse_loss(unet_reconstruct(net, input), truth);
    loss.backward();
    opt.step();
    schedule.step();
    recent = step == 1 ? loss.item() : 0.9 * recent + 0.1 * loss.item();
    if (step % 50 == 0 || step == o.train_steps)
      fmt::print("  U-Net {}x: step {:4d}/{}, training loss {:.5f}\n", acceleration, step,
                 o.train_steps, recent);
  }
  net.eval();
  return seconds_since(start);
}

struct Row {
  std::string method, test_set;
  int64_t acceleration;
  double psnr, ssim, seconds;  // means over the test set; seconds per image
};

// Mean PSNR and SSIM (data range 1: the phantoms' span) of a batch of reconstructions.
std::pair<double, double> quality(const Tensor& estimate, const Tensor& truth) {
  double p = 0, s = 0;
  for (int64_t i = 0; i < truth.size(0); ++i) {
    p += train::psnr(estimate.select(0, i), truth.select(0, i), 1.0);
    s += train::ssim(estimate.select(0, i), truth.select(0, i), 1.0);
  }
  return {p / double(truth.size(0)), s / double(truth.size(0))};
}

// out/<name>.png: truth | zero-filled | TV | U-Net, and out/<name>_error.png: their errors
// |x - truth| (0 black, 0.25 and above white), each image the first of its test set.
void write_images(const std::string& out, const std::string& name, const Tensor& truth,
                  const std::vector<Tensor>& recs) {
  int64_t n = truth.size(-1);
  std::vector<std::vector<float>> images = {truth.select(0, 0).to_vector()}, errors;
  for (const Tensor& r : recs) {
    images.push_back(r.select(0, 0).to_vector());
    errors.push_back((r.select(0, 0) - truth.select(0, 0)).abs().to_vector());
  }
  auto spans = [](const std::vector<std::vector<float>>& v) {
    return std::vector<std::span<const float>>(v.begin(), v.end());
  };
  plot::write_png_grid(out + "/" + name + ".png", spans(images), n, n,
                       {.range = plot::GrayRange{0, 1}});
  plot::write_png_grid(out + "/" + name + "_error.png", spans(errors), n, n,
                       {.range = plot::GrayRange{0, 0.25f}});
}

int run(int argc, char** argv) {
  Options o;
  train::ArgParser cli("mri_reconstruction",
                       "Accelerated MRI: zero-filled, TV compressed sensing and a U-Net.");
  cli.add("size", o.size, "image height and width (a multiple of 4)").min(16).max(512);
  cli.add("test-images", o.test_images, "held-out random phantoms per acceleration").min(1);
  cli.add("tv-iters", o.tv_iters, "Adam steps of the TV reconstruction").min(1);
  cli.add("tv-lambda", o.tv_lambda, "weight of the TV term").min(0);
  cli.add("tv-lr", o.tv_lr, "Adam's learning rate for the TV reconstruction").above(0);
  cli.add("train-steps", o.train_steps, "U-Net training steps per acceleration").min(1);
  cli.add("batch-size", o.batch_size, "phantoms per U-Net training step").min(1);
  cli.add("channels", o.channels, "U-Net channels at the first level (a multiple of 4)").min(4);
  cli.add("lr", o.lr, "Adam's learning rate for the U-Net").above(0);
  cli.add("random-masks", o.random_masks,
          "train the U-Net under random masks (default: under the mask it is tested with)");
  cli.add("seed", o.seed, "random seed (phantoms, masks, U-Net init)").min(0);
  // One thread by default: the U-Net's convolutions on 2 images of 64 x 64 are too small to
  // share, and on a busy machine OpenMP's waits made 2 threads 15x slower than 1 (measured).
  cli.add("threads", o.threads, "threads; 0: the library's default").min(0);
  cli.add("out", o.out, "folder for the PNG images").metavar("DIR");
  cli.parse(argc, argv);
  if (o.size % 4 != 0)
    throw train::UsageError(
        fmt::format("--size must be a multiple of 4 (the U-Net pools twice), got {}", o.size));
  if (o.channels % 4 != 0)
    throw train::UsageError(fmt::format(
        "--channels must be a multiple of 4 (GroupNorm's 4 groups), got {}", o.channels));
  if (o.threads > 0) set_num_threads(int(o.threads));
  std::filesystem::create_directories(o.out);

  // Test data first, from its own stream: the training phantoms never include it.
  Generator test_gen, train_gen;
  test_gen.seed(uint64_t(o.seed) * 2 + 1);
  train_gen.seed(uint64_t(o.seed) * 2 + 2);
  manual_seed(uint64_t(o.seed));
  std::vector<Tensor> held_out;
  for (int64_t i = 0; i < o.test_images; ++i)
    held_out.push_back(mri::random_phantom(o.size, test_gen));
  struct TestSet {
    std::string name;
    Tensor truth;
  };
  std::vector<TestSet> sets = {{fmt::format("phantoms ({})", o.test_images), stack(held_out)},
                               {"shepp-logan", mri::shepp_logan(o.size).unsqueeze(0)}};

  std::vector<Row> rows;
  for (int64_t acc : o.accelerations) {
    // The scanner's sampling pattern: one mask for every test image (and the U-Net's training).
    Tensor mask = mri::column_mask(o.size, acc, test_gen);
    nn::UNet net({.in = 1, .out = 1, .channels = o.channels, .depth = 2, .groups = 4});
    double train_seconds = train_unet(net, mask, acc, o, train_gen);
    fmt::print("  U-Net {}x: trained in {:.1f} s ({} steps of {} phantoms)\n", acc, train_seconds,
               o.train_steps, o.batch_size);
    for (const TestSet& set : sets) {
      Tensor y = kspace(set.truth) * mask;
      double n = double(set.truth.size(0));
      auto timed = [&](const std::string& method, auto reconstruct) {
        auto start = std::chrono::steady_clock::now();
        Tensor x = reconstruct();
        double seconds = seconds_since(start) / n;
        auto [p, s] = quality(x, set.truth);
        rows.push_back({method, set.name, acc, p, s, seconds});
        return x;
      };
      NoGradGuard no_grad;  // solve_tv turns recording back on for its own tape
      Tensor zf = timed("zero-filled", [&] { return zero_filled(y); });
      Tensor tv = timed("TV", [&] { EnableGradGuard on; return solve_tv(y, mask, o); });
      Tensor un = timed("U-Net", [&] { return unet_reconstruct(net, zf); });
      std::string tag = set.name == "shepp-logan" ? "shepp_logan" : "phantom";
      write_images(o.out, fmt::format("mri_{}x_{}", acc, tag), set.truth, {zf, tv, un});
    }
  }

  fmt::print("\n{:<12} {:>5}  {:<14} {:>9} {:>7} {:>9}\n", "method", "accel", "test set",
             "PSNR (dB)", "SSIM", "seconds");
  for (const Row& r : rows)
    fmt::print("{:<12} {:>4}x  {:<14} {:>9.2f} {:>7.3f} {:>9.5f}\n", r.method, r.acceleration,
               r.test_set, r.psnr, r.ssim, r.seconds);
  fmt::print("\nseconds: per image, reconstruction only (U-Net training above). "
             "Images: {}/mri_*.png\n", o.out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return train::guarded_main("mri_reconstruction", run, argc, argv);
}
