// The course's CIFAR-10 classifier (the PyTorch tutorial "Training a classifier", d2l's
// LeNet): conv 3->6 k5, relu, maxpool 2, conv 6->16 k5, relu, maxpool 2, fc 400-120-84-10,
// cross-entropy. The defaults are the course recipe: inputs scaled to [-1, 1], SGD with lr
// 0.001 and momentum 0.9, batches of 4, 2 epochs, the running loss every 2000 mini-batches
// (about 53% test accuracy). Options reach better recipes: norm layers after each conv, Adam,
// augmentation (flips and random crops), a cosine schedule. At the end it prints the test
// accuracy, overall and per class, and the confusion matrix; it writes a CSV log, SVG plots of
// loss and accuracy per epoch, and a checkpoint after every epoch (safetensors: model,
// optimizer, schedule, epoch, random generator and the recipe) that --resume continues from
// and --eval-only evaluates. A loss that turns NaN or Inf stops the run with exit code 1,
// before the step, so the last checkpoint stays the last good one.
//
//   build/examples/lenet_cifar10 --data datasets              (the course recipe)
//   build/examples/lenet_cifar10 --data datasets --norm batchnorm --optimizer adam --lr 0.002
//       --schedule cosine --augment --batch-size 32 --epochs 15      (one line; about 68-69%)
//   build/examples/lenet_cifar10 --resume results/lenet_cifar10.safetensors --epochs 4
//   build/examples/lenet_cifar10 --eval-only results/lenet_cifar10.safetensors
// --data DIR holds DIR/cifar-10-batches-bin/ (binary batches), DIR/cifar10-jpg/{train,test}/
// (image folders), or is either itself. Outputs go to --out DIR (default results/).
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include <tapegrad/core/atomic_file.h>
#include <tapegrad/data/cifar10.h>
#include <tapegrad/data/dataloader.h>
#include <tapegrad/data/image_folder.h>
#include "examples/common/cli.h"
#include "examples/common/progress.h"
#include <tapegrad/nn/activation.h>
#include <tapegrad/nn/conv.h>
#include <tapegrad/nn/functional.h>
#include <tapegrad/nn/linear.h>
#include <tapegrad/nn/norm.h>
#include <tapegrad/nn/pool.h>
#include <tapegrad/nn/sequential.h>
#include <tapegrad/optim/adam.h>
#include <tapegrad/optim/lr_scheduler.h>
#include <tapegrad/optim/sgd.h>
#include <tapegrad/plot/svg.h>
#include <tapegrad/train/checkpoint.h>
#include <tapegrad/tapegrad.h>

using namespace tg;
namespace fs = std::filesystem;
namespace F = tg::nn::functional;

namespace {

constexpr const char* kUsage =
    "usage: lenet_cifar10 [--data DIR] [--out DIR] [--batch-size N] [--epochs N]\n"
    "         [--optimizer sgd|adam|adamw] [--lr X] [--momentum X] [--weight-decay X]\n"
    "         [--schedule none|cosine] [--norm none|batchnorm|groupnorm]\n"
    "         [--augment [--crop-padding N]]\n"
    "         [--threads N] [--seed N] [--print-every N] [--checkpoint PATH]\n"
    "         [--resume PATH | --eval-only PATH] [--detect-anomaly]\n";

// ---- the recipe: every option that shapes a run, stored in its checkpoint --------------------

struct Recipe {
  int64_t batch_size = 4, epochs = 2;
  std::string optimizer = "sgd";  // sgd | adam | adamw
  double lr = 0.001, momentum = 0.9, weight_decay = 0;
  std::string schedule = "none";  // none | cosine (per mini-batch, to 0 at the last one)
  std::string norm = "none";      // none | batchnorm | groupnorm, after each conv
  bool augment = false;           // random horizontal flip and random crop of the padded image
  int64_t crop_padding = 2;       // the crop's padding in pixels (4 underfits LeNet); 0: flips only
  int64_t seed = 0;

  // Option name (without "--") -> value, the form kept in a checkpoint's metadata.
  std::map<std::string, std::string> to_strings() const {
    return {{"batch-size", fmt::format("{}", batch_size)},
            {"epochs", fmt::format("{}", epochs)},
            {"optimizer", optimizer},
            {"lr", fmt::format("{}", lr)},
            {"momentum", fmt::format("{}", momentum)},
            {"weight-decay", fmt::format("{}", weight_decay)},
            {"schedule", schedule},
            {"norm", norm},
            {"augment", augment ? "1" : "0"},
            {"crop-padding", fmt::format("{}", crop_padding)},
            {"seed", fmt::format("{}", seed)}};
  }
};

const std::vector<std::string> kRecipeOptions = {"batch-size", "epochs",       "optimizer", "lr",
                                                 "momentum",   "weight-decay", "schedule",  "norm",
                                                 "augment",    "crop-padding", "seed"};

void check_choice(const std::string& option, const std::string& value,
                  const std::vector<std::string>& choices) {
  if (std::find(choices.begin(), choices.end(), value) != choices.end()) return;
  throw examples::UsageError(
      fmt::format("--{} must be one of {}, got '{}'", option, fmt::join(choices, ", "), value));
}

// "batch 4, 2 epochs, sgd lr 0.001 momentum 0.9, schedule none, norm none, augment off, seed 0".
std::string describe(const Recipe& r) {
  std::string augment = !r.augment ? "off"
                        : r.crop_padding > 0
                            ? fmt::format("flip + crop (padding {})", r.crop_padding)
                            : "flip";
  return fmt::format("batch {}, {} epochs, {} lr {}{}{}, schedule {}, norm {}, augment {}, seed {}",
                     r.batch_size, r.epochs, r.optimizer, r.lr,
                     r.optimizer == "sgd" ? fmt::format(" momentum {}", r.momentum) : "",
                     r.weight_decay > 0 ? fmt::format(" weight decay {}", r.weight_decay) : "",
                     r.schedule, r.norm, augment, r.seed);
}

// The recipe given on the command line (defaults for what is not given), validated.
Recipe parse_recipe(const examples::Args& args) {
  Recipe r;
  r.batch_size = args.integer("--batch-size", r.batch_size);
  r.epochs = args.integer("--epochs", r.epochs);
  r.optimizer = args.get("--optimizer", r.optimizer);
  r.lr = args.number("--lr", r.lr);
  r.momentum = args.number("--momentum", r.momentum);
  r.weight_decay = args.number("--weight-decay", r.weight_decay);
  r.schedule = args.get("--schedule", r.schedule);
  r.norm = args.get("--norm", r.norm);
  r.augment = args.has("--augment");
  r.crop_padding = args.integer("--crop-padding", r.crop_padding);
  r.seed = args.integer("--seed", r.seed);
  if (r.batch_size < 1) throw examples::UsageError("--batch-size must be at least 1");
  if (r.epochs < 1) throw examples::UsageError("--epochs must be at least 1");
  if (!(r.lr > 0) || !std::isfinite(r.lr)) throw examples::UsageError("--lr must be positive");
  if (!(r.momentum >= 0 && r.momentum < 1))
    throw examples::UsageError("--momentum must be in [0, 1)");
  if (!(r.weight_decay >= 0)) throw examples::UsageError("--weight-decay must be non-negative");
  if (r.seed < 0) throw examples::UsageError("--seed must be non-negative");
  if (r.crop_padding < 0 || r.crop_padding > 16)
    throw examples::UsageError("--crop-padding must be in [0, 16]");
  check_choice("optimizer", r.optimizer, {"sgd", "adam", "adamw"});
  check_choice("schedule", r.schedule, {"none", "cosine"});
  check_choice("norm", r.norm, {"none", "batchnorm", "groupnorm"});
  if (args.has("--crop-padding") && !r.augment)
    throw examples::UsageError("--crop-padding applies with --augment only");
  if (args.has("--momentum") && r.optimizer != "sgd")
    throw examples::UsageError("--momentum applies to --optimizer sgd only");
  return r;
}

// Reads back Recipe::to_strings() from a checkpoint's metadata ("extra.recipe.<option>").
Recipe stored_recipe(const StateDict& meta, const std::string& path) {
  auto text = [&](const std::string& option) {
    if (!meta.has("extra.recipe." + option))
      fail("{} is not a lenet_cifar10 checkpoint (it stores no recipe.{})", path, option);
    return meta.text("extra.recipe." + option);
  };
  auto number = [&](const std::string& option) {
    std::string t = text(option);
    double v = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    check(ec == std::errc() && end == t.data() + t.size(),
          "{}: stored recipe.{} '{}' is not a number", path, option, t);
    return v;
  };
  Recipe r;
  r.batch_size = int64_t(number("batch-size"));
  r.epochs = int64_t(number("epochs"));
  r.optimizer = text("optimizer");
  r.lr = number("lr");
  r.momentum = number("momentum");
  r.weight_decay = number("weight-decay");
  r.schedule = text("schedule");
  r.norm = text("norm");
  r.augment = text("augment") == "1";
  r.crop_padding = int64_t(number("crop-padding"));
  r.seed = int64_t(number("seed"));
  return r;
}

// A resumed or evaluated run keeps its checkpoint's recipe; options given on the command line
// must agree with it, except --epochs (the total to train to) when there is no schedule.
Recipe merge_recipe(const Recipe& stored, const Recipe& given, const examples::Args& args,
                    const std::string& path) {
  auto a = given.to_strings(), b = stored.to_strings();
  for (const std::string& option : kRecipeOptions) {
    if (!args.has("--" + option) || a[option] == b[option]) continue;
    if (option == "epochs" && stored.schedule == "none") continue;
    throw examples::UsageError(fmt::format(
        "--{} {} differs from the checkpoint's {} ({}): a resumed run keeps its recipe{}", option,
        a[option], b[option], path,
        option == "epochs" ? " (the cosine schedule's length depends on --epochs)" : ""));
  }
  Recipe r = stored;
  if (args.has("--epochs")) r.epochs = given.epochs;
  return r;
}

// ---- data ----------------------------------------------------------------------------------

struct DataSource {
  enum Kind { binary, images } kind;
  fs::path dir;  // cifar-10-batches-bin, or the folder holding train/ and test/
  std::string describe() const {
    return fmt::format("{} ({})", dir.string(),
                       kind == binary ? "CIFAR-10 binary batches" : "image folders");
  }
};

bool holds_binary(const fs::path& d) {
  return fs::is_regular_file(d / "data_batch_1.bin") || fs::is_regular_file(d / "test_batch.bin");
}
bool holds_images(const fs::path& d) {
  return fs::is_directory(d / "train") && fs::is_directory(d / "test");
}

// DIR/cifar-10-batches-bin/, DIR/cifar10-jpg/{train,test}/, or DIR itself being either.
DataSource find_data(const std::string& given) {
  fs::path dir = given;
  if (!fs::exists(dir))
    fail(
        "--data {}: no such directory; fetch CIFAR-10 with `scripts/fetch-data.sh cifar10` "
        "(it unpacks to datasets/)",
        dir.string());
  if (holds_binary(dir / "cifar-10-batches-bin"))
    return {DataSource::binary, dir / "cifar-10-batches-bin"};
  if (holds_images(dir / "cifar10-jpg")) return {DataSource::images, dir / "cifar10-jpg"};
  if (holds_binary(dir)) return {DataSource::binary, dir};
  if (holds_images(dir)) return {DataSource::images, dir};
  fail(
      "--data {}: no CIFAR-10 there: expected {}/cifar-10-batches-bin/ (binary batches), "
      "{}/cifar10-jpg/{{train,test}}/ (image folders), or the folder itself being either",
      dir.string(), dir.string(), dir.string());
}

data::ImageSet load_split(const DataSource& source, bool train) {
  if (source.kind == DataSource::binary) return data::read_cifar10(source.dir.string(), train);
  return data::read_image_folder((source.dir / (train ? "train" : "test")).string(),
                                 {.height = 32, .width = 32});
}

// ---- the network -----------------------------------------------------------------------------

// conv 3->6 k5, [norm], relu, maxpool 2, conv 6->16 k5, [norm], relu, maxpool 2, 400-120-84-C.
nn::Sequential make_lenet(const std::string& norm, int64_t classes) {
  nn::Sequential net;
  auto conv_block = [&](int64_t in, int64_t out) {
    net.push_back(nn::Conv2d(in, out, 5));
    if (norm == "batchnorm") net.push_back(nn::BatchNorm2d(out));
    if (norm == "groupnorm") net.push_back(nn::GroupNorm(2, out));  // 3 and 8 channels a group
    net.push_back(nn::ReLU());
    net.push_back(nn::MaxPool2d(2));
  };
  conv_block(3, 6);
  conv_block(6, 16);
  net.push_back(nn::Flatten());
  net.push_back(nn::Linear(16 * 5 * 5, 120));
  net.push_back(nn::ReLU());
  net.push_back(nn::Linear(120, 84));
  net.push_back(nn::ReLU());
  net.push_back(nn::Linear(84, classes));
  return net;
}

std::unique_ptr<optim::Optimizer> make_optimizer(const Recipe& r, std::vector<Tensor> params) {
  if (r.optimizer == "adam")
    return std::make_unique<optim::Adam>(
        params, optim::AdamOptions{.lr = r.lr, .weight_decay = r.weight_decay});
  if (r.optimizer == "adamw")
    return std::make_unique<optim::AdamW>(
        params, optim::AdamWOptions{.lr = r.lr, .weight_decay = r.weight_decay});
  return std::make_unique<optim::SGD>(
      params,
      optim::SGDOptions{.lr = r.lr, .momentum = r.momentum, .weight_decay = r.weight_decay});
}

std::unique_ptr<optim::LRScheduler> make_schedule(const Recipe& r, optim::Optimizer& opt,
                                                  int64_t steps_per_epoch) {
  if (r.schedule != "cosine") return nullptr;
  return std::make_unique<optim::CosineAnnealingLR>(
      opt, optim::CosineAnnealingLROptions{.T_max = r.epochs * steps_per_epoch});
}

// ---- evaluation ------------------------------------------------------------------------------

struct Evaluation {
  double loss = 0;  // mean cross-entropy
  int64_t correct = 0, total = 0;
  std::vector<int64_t> confusion;  // [true class][predicted class]
  double accuracy() const { return total ? 100.0 * double(correct) / double(total) : 0; }
};

int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  NoGradGuard no_grad;
  return int64_t(logits.argmax(1).eq(labels).sum().item());
}

Evaluation evaluate(nn::Module& net, const data::DataLoader& loader, int64_t classes) {
  NoGradGuard no_grad;
  net.eval();
  Evaluation ev{.confusion = std::vector<int64_t>(size_t(classes * classes), 0)};
  for (auto [x, y] : loader) {
    Tensor logits = net(x);
    ev.loss += F::cross_entropy(logits, y, nn::Reduction::Sum).item();
    std::vector<float> predicted = logits.argmax(1).to_vector(), truth = y.to_vector();
    for (size_t i = 0; i < truth.size(); ++i) {
      auto t = int64_t(truth[i]), p = int64_t(predicted[i]);
      ev.confusion[size_t(t * classes + p)]++;
      ev.correct += t == p;
    }
    ev.total += int64_t(truth.size());
  }
  ev.loss /= double(std::max<int64_t>(ev.total, 1));
  net.train();
  return ev;
}

void print_evaluation(const Evaluation& ev, const std::vector<std::string>& classes) {
  fmt::print("\naccuracy of the network on the {} test images: {:.2f}% ({} correct), loss {:.4f}\n",
             ev.total, ev.accuracy(), ev.correct, ev.loss);
  size_t n = classes.size();
  fmt::print("\n{:<12} {:>8}\n", "class", "accuracy");
  for (size_t c = 0; c < n; ++c) {
    int64_t row = 0;
    for (size_t p = 0; p < n; ++p) row += ev.confusion[c * n + p];
    fmt::print("{:<12} {:>7.1f}%\n", classes[c],
               row ? 100.0 * double(ev.confusion[c * n + c]) / double(row) : 0.0);
  }
  fmt::print("\nconfusion matrix (rows: true class, columns: predicted class)\n{:<12}", "");
  for (size_t p = 0; p < n; ++p) fmt::print(" {:>5.5}", classes[p]);
  fmt::print("\n");
  for (size_t c = 0; c < n; ++c) {
    fmt::print("{:<12}", classes[c]);
    for (size_t p = 0; p < n; ++p) fmt::print(" {:>5}", ev.confusion[c * n + p]);
    fmt::print("\n");
  }
}

// ---- the log: per-epoch rows and the running loss, kept in the checkpoint too -----------------

struct EpochRow {
  int64_t epoch = 0;
  double train_loss = 0, train_accuracy = 0, test_loss = 0, test_accuracy = 0, lr = 0, seconds = 0,
         images_per_second = 0;
};

struct History {
  std::vector<EpochRow> epochs;
  std::vector<std::pair<double, double>> running;  // (fractional epoch, running loss)
};

constexpr const char* kCsvHeader =
    "epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds,images_per_second\n";

std::string csv_row(const EpochRow& r) {
  return fmt::format("{},{:.6f},{:.4f},{:.6f},{:.4f},{:.6g},{:.3f},{:.1f}\n", r.epoch, r.train_loss,
                     r.train_accuracy, r.test_loss, r.test_accuracy, r.lr, r.seconds,
                     r.images_per_second);
}

std::string epochs_text(const History& h) {
  std::string s;
  for (const EpochRow& r : h.epochs) s += csv_row(r);
  return s;
}

std::string running_text(const History& h) {
  std::string s;
  for (auto [x, y] : h.running) s += fmt::format("{},{}\n", x, y);
  return s;
}

// Parses what epochs_text and running_text wrote (the checkpoint's "extra.history.*").
History parse_history(const std::string& epochs, const std::string& running,
                      const std::string& path) {
  auto numbers = [&](const std::string& line) {
    std::vector<double> v;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) {
      double x = 0;
      auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), x);
      check(ec == std::errc() && end == cell.data() + cell.size(),
            "{}: bad number '{}' in the stored history", path, cell);
      v.push_back(x);
    }
    return v;
  };
  History h;
  std::stringstream e(epochs), r(running);
  for (std::string line; std::getline(e, line);) {
    std::vector<double> v = numbers(line);
    check(v.size() == 8, "{}: stored history row '{}' has {} fields, expected 8", path, line,
          v.size());
    h.epochs.push_back({int64_t(v[0]), v[1], v[2], v[3], v[4], v[5], v[6], v[7]});
  }
  for (std::string line; std::getline(r, line);) {
    std::vector<double> v = numbers(line);
    check(v.size() == 2, "{}: stored running-loss row '{}' has {} fields, expected 2", path, line,
          v.size());
    h.running.emplace_back(v[0], v[1]);
  }
  return h;
}

// lenet_cifar10.csv, lenet_cifar10_loss.svg and lenet_cifar10_accuracy.svg, each atomically.
void write_log(const History& h, const fs::path& out) {
  write_file_atomic((out / "lenet_cifar10.csv").string(), kCsvHeader + epochs_text(h));
  plot::Series running{.label = "train (running)"}, train_loss{.label = "train", .markers = true},
      test_loss{.label = "test", .markers = true}, train_acc{.label = "train", .markers = true},
      test_acc{.label = "test", .markers = true};
  for (auto [x, y] : h.running) running.x.push_back(x), running.y.push_back(y);
  for (const EpochRow& r : h.epochs) {
    auto e = double(r.epoch);
    train_loss.x.push_back(e), train_loss.y.push_back(r.train_loss);
    test_loss.x.push_back(e), test_loss.y.push_back(r.test_loss);
    train_acc.x.push_back(e), train_acc.y.push_back(r.train_accuracy);
    test_acc.x.push_back(e), test_acc.y.push_back(r.test_accuracy);
  }
  plot::LineChart loss{.title = "LeNet on CIFAR-10: cross-entropy loss",
                       .x = {.label = "epoch"},
                       .y = {.label = "loss"}};
  loss.series.push_back(train_loss);  // train and test first: the same colours in both charts
  loss.series.push_back(test_loss);
  if (!running.x.empty()) loss.series.push_back(running);
  plot::LineChart accuracy{.title = "LeNet on CIFAR-10: accuracy",
                           .x = {.label = "epoch"},
                           .y = {.label = "accuracy (%)"},
                           .series = {train_acc, test_acc}};
  plot::write_svg(loss, out / "lenet_cifar10_loss.svg");
  plot::write_svg(accuracy, out / "lenet_cifar10_accuracy.svg");
}

void write_confusion(const Evaluation& ev, const std::vector<std::string>& classes,
                     const fs::path& path) {
  size_t n = classes.size();
  std::string csv = "true\\predicted," + fmt::format("{}", fmt::join(classes, ",")) + "\n";
  for (size_t c = 0; c < n; ++c) {
    csv += classes[c];
    for (size_t p = 0; p < n; ++p) csv += fmt::format(",{}", ev.confusion[c * n + p]);
    csv += "\n";
  }
  write_file_atomic(path.string(), csv);
}

// ---- the run -----------------------------------------------------------------------------------

std::string join(const std::vector<std::string>& v) { return fmt::format("{}", fmt::join(v, ",")); }

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) v.push_back(item);
  return v;
}

// ---- training ----------------------------------------------------------------------------------

// [0, 1] images scaled to [-1, 1] (`scale`), after a random crop and flip when augmenting.
data::Transform train_transform(const Recipe& r, const data::Transform& scale) {
  if (!r.augment) return scale;
  if (r.crop_padding == 0) return data::compose({data::random_horizontal_flip(), scale});
  return data::compose(
      {data::random_crop(32, r.crop_padding), data::random_horizontal_flip(), scale});
}

// What one training run carries from epoch to epoch.
struct Training {
  nn::Module& net;
  optim::Optimizer& opt;
  optim::LRScheduler* schedule;  // nullptr: a constant learning rate
  const data::DataLoader& loader;
  int64_t epochs, print_every;
  int64_t step;  // optimizer steps so far
  History history;
  std::string checkpoint;  // where this run saves
  std::string last_good;   // the newest checkpoint to fall back on ("": none)
};

// One pass over the training data, the course's loop: zero_grad, forward, loss, backward, step.
// Returns the epoch's row of the log without the test columns.
EpochRow train_epoch(Training& t, int64_t epoch) {
  examples::Progress bar(fmt::format("epoch {}/{}", epoch + 1, t.epochs), t.loader.size());
  double epoch_loss = 0, window_loss = 0;
  int64_t batch = 0, images = 0, correct = 0, window = 0;
  for (auto [x, y] : t.loader) {
    t.opt.zero_grad();
    Tensor logits = t.net(x);
    Tensor loss = F::cross_entropy(logits, y);
    float value = loss.item();
    if (!std::isfinite(value)) {  // stop before the step: the last checkpoint stays the good one
      bar.finish();
      fail(
          "training stopped: the loss is {} at epoch {}, mini-batch {} (lr {:.3g}); {}; "
          "try a lower --lr, or --detect-anomaly to find the first bad op",
          std::isnan(value) ? "NaN"
          : value > 0       ? "+inf"
                            : "-inf",
          epoch + 1, batch + 1, t.opt.lr(),
          t.last_good.empty()
              ? fmt::format("no checkpoint was written ({} is untouched)", t.checkpoint)
              : fmt::format("the last good checkpoint {} (end of epoch {}) is kept", t.last_good,
                            epoch));
    }
    loss.backward();
    t.opt.step();
    if (t.schedule) t.schedule->step();
    ++batch, ++t.step;
    images += x.size(0);
    epoch_loss += double(value) * double(x.size(0));
    window_loss += value, ++window;
    correct += count_correct(logits, y);
    bar.update(batch, images, epoch_loss / double(images));
    if (batch % t.print_every == 0) {  // the course's running loss
      double running = window_loss / double(window);
      bar.print(fmt::format("[{}, {:5}] loss: {:.3f}", epoch + 1, batch, running));
      t.history.running.emplace_back(double(epoch) + double(batch) / double(t.loader.size()),
                                     running);
      window_loss = 0, window = 0;
    }
  }
  bar.finish();
  double seconds = bar.seconds();
  return {.epoch = epoch + 1,
          .train_loss = epoch_loss / double(images),
          .train_accuracy = 100.0 * double(correct) / double(images),
          .lr = t.opt.lr(),
          .seconds = seconds,
          .images_per_second = double(images) / seconds};
}

// ---- the program -------------------------------------------------------------------------------

int run(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // a log file follows the run line by line
  examples::Args args(
      argc, argv,
      {"--data", "--out", "--batch-size", "--epochs", "--optimizer", "--lr", "--momentum",
       "--weight-decay", "--schedule", "--norm", "--threads", "--seed", "--crop-padding",
       "--print-every", "--checkpoint", "--resume", "--eval-only"},
      {"--augment", "--detect-anomaly", "--help"});
  if (args.has("--help")) {
    fmt::print("{}", kUsage);
    return 0;
  }
  if (args.has("--resume") && args.has("--eval-only"))
    throw examples::UsageError("--resume and --eval-only exclude each other");
  Recipe recipe = parse_recipe(args);
  if (args.has("--threads")) {
    int64_t threads = args.integer("--threads", 1);
    if (threads < 1) throw examples::UsageError("--threads must be at least 1");
    set_num_threads(int(threads));
  }
  fs::path out = args.get("--out", "results");
  std::string checkpoint = args.get("--checkpoint", (out / "lenet_cifar10.safetensors").string());
  bool eval_only = args.has("--eval-only");
  std::string from = args.get("--resume", args.get("--eval-only", ""));

  // A resumed (or evaluated) run takes its recipe and class names from the checkpoint.
  StateDict meta;
  if (!from.empty()) {
    meta = tg::load(from);
    recipe = merge_recipe(stored_recipe(meta, from), recipe, args, from);
  }
  int64_t print_every =
      args.integer("--print-every", std::max<int64_t>(1, 8000 / recipe.batch_size));
  if (print_every < 1) throw examples::UsageError("--print-every must be at least 1");
  manual_seed(uint64_t(recipe.seed));

  // The data: [0, 1] images scaled to [-1, 1]; training batches optionally augmented first.
  DataSource source = find_data(args.get("--data", "datasets"));
  auto started = std::chrono::steady_clock::now();
  auto test_set = std::make_shared<data::ImageDataset>(load_split(source, false));
  std::shared_ptr<data::ImageDataset> train_set;
  if (!eval_only) train_set = std::make_shared<data::ImageDataset>(load_split(source, true));
  std::vector<std::string> classes = test_set->images().classes;
  check(!train_set || train_set->images().classes == classes,
        "{}: the training classes ({}) differ from the test classes ({})", source.dir.string(),
        join(train_set ? train_set->images().classes : classes), join(classes));
  fmt::print("data: {} training and {} test images of {} classes from {}, read in {:.1f} s\n",
             train_set ? train_set->size() : 0, test_set->size(), classes.size(), source.describe(),
             std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  data::Transform scale = data::normalize({0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f});
  data::DataLoader test_loader(test_set, {.batch_size = 500, .transform = scale});

  nn::Sequential net = make_lenet(recipe.norm, int64_t(classes.size()));
  auto opt = make_optimizer(recipe, net.parameters());
  int64_t steps_per_epoch =
      train_set ? (train_set->size() + recipe.batch_size - 1) / recipe.batch_size : 1;
  auto schedule = make_schedule(recipe, *opt, steps_per_epoch);

  History history;
  int64_t start_epoch = 0, step = 0;
  if (!from.empty()) {
    std::string stored_classes = meta.has("extra.classes") ? meta.text("extra.classes") : "unknown";
    check(meta.has("extra.classes") && split(stored_classes) == classes,
          "{} was trained on the classes ({}), but {} holds ({})", from, stored_classes,
          source.dir.string(), join(classes));
    train::CheckpointInfo info = train::load_checkpoint(from, net, *opt, schedule.get());
    start_epoch = info.epoch, step = info.step;
    history = parse_history(info.extra["history.epochs"], info.extra["history.running"], from);
    fmt::print("checkpoint: {} (after epoch {}, {} steps)\n", from, start_epoch, step);
  }
  fmt::print("{}\n", net);
  fmt::print("recipe: {}; threads {}\n", describe(recipe), get_num_threads());

  std::optional<Evaluation> final_eval;
  fs::create_directories(out);
  if (eval_only) {
    final_eval = evaluate(net, test_loader, int64_t(classes.size()));
  } else {
    data::DataLoader loader(train_set, {.batch_size = recipe.batch_size,
                                        .shuffle = true,
                                        .transform = train_transform(recipe, scale)});
    std::optional<DetectAnomalyGuard> anomaly;
    if (args.has("--detect-anomaly")) anomaly.emplace();
    if (start_epoch >= recipe.epochs)
      fmt::print("nothing to train: the checkpoint is at epoch {} and --epochs is {}\n",
                 start_epoch, recipe.epochs);

    Training t{.net = net,
               .opt = *opt,
               .schedule = schedule.get(),
               .loader = loader,
               .epochs = recipe.epochs,
               .print_every = print_every,
               .step = step,
               .history = std::move(history),
               .checkpoint = checkpoint,
               .last_good = from};
    for (int64_t epoch = start_epoch; epoch < recipe.epochs; ++epoch) {
      EpochRow row = train_epoch(t, epoch);
      Evaluation ev = evaluate(net, test_loader, int64_t(classes.size()));
      row.test_loss = ev.loss, row.test_accuracy = ev.accuracy();
      t.history.epochs.push_back(row);
      fmt::print(
          "epoch {}/{}: train loss {:.4f}, accuracy {:.2f}% | test loss {:.4f}, accuracy "
          "{:.2f}% | {:.1f} s, {:.0f} images/s\n",
          row.epoch, recipe.epochs, row.train_loss, row.train_accuracy, row.test_loss,
          row.test_accuracy, row.seconds, row.images_per_second);
      std::map<std::string, std::string> extra = {{"classes", join(classes)},
                                                  {"history.epochs", epochs_text(t.history)},
                                                  {"history.running", running_text(t.history)}};
      for (const auto& [k, v] : recipe.to_strings()) extra["recipe." + k] = v;
      train::save_checkpoint(checkpoint, net, *opt,
                          {.epoch = row.epoch, .step = t.step, .extra = extra}, schedule.get());
      t.last_good = checkpoint;
      write_log(t.history, out);
      final_eval = ev;
    }
    if (!final_eval) final_eval = evaluate(net, test_loader, int64_t(classes.size()));
  }

  print_evaluation(*final_eval, classes);
  write_confusion(*final_eval, classes, out / "lenet_cifar10_confusion.csv");
  if (eval_only)
    fmt::print("\nwrote {}\n", (out / "lenet_cifar10_confusion.csv").string());
  else
    fmt::print("\nwrote {}, {}, {}, {} and the checkpoint {}\n",
               (out / "lenet_cifar10.csv").string(), (out / "lenet_cifar10_loss.svg").string(),
               (out / "lenet_cifar10_accuracy.svg").string(),
               (out / "lenet_cifar10_confusion.csv").string(), checkpoint);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return tg::examples::guarded_main("lenet_cifar10", kUsage, run, argc, argv);
}
