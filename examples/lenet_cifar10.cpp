// The course's CIFAR-10 classifier (the PyTorch tutorial "Training a classifier", d2l's LeNet):
// conv 3->6 k5, relu, maxpool 2, conv 6->16 k5, relu, maxpool 2, fc 400-120-84-10. The defaults
// are the course recipe: inputs scaled to [-1, 1], cross-entropy, SGD with lr 0.001 and momentum
// 0.9, batches of 4, 2 epochs, the running loss every 2000 mini-batches (about 53% test
// accuracy). Options reach better recipes (norm layers, Adam, augmentation, a cosine schedule).
// The tooling is a call each into train/: progress bar, command line, the recipe kept in the
// checkpoint (--resume continues a run, --eval-only tests it), history CSV/SVG, confusion matrix.
//
//   build/examples/lenet_cifar10 --data datasets --norm batchnorm --optimizer adam --lr 0.002
//       --schedule cosine --augment --batch-size 32 --epochs 15      (one line; about 68-69%)
//
// --model resnet20 (or resnet56) trains the CIFAR ResNet of He et al. 2016 (nn/resnet.h) instead;
// its standard recipe (SGD momentum 0.9, weight decay 5e-4, cosine schedule, random crops with
// padding 4 and flips, batch 128):
//   build/examples/lenet_cifar10 --data datasets --model resnet20 --lr 0.1 --weight-decay 5e-4
//       --schedule cosine --augment --crop-padding 4 --batch-size 128 --epochs 30
//
// Built with MPI, the same command runs as N processes under `mpirun -np N` (data parallel,
// --batch-size per process; rank 0 logs, evaluates and saves): see docs/distributed.md.
#include <filesystem>
#include <optional>

#include <tapegrad/core/atomic_file.h>
#include <tapegrad/data/cifar10.h>
#include <tapegrad/data/dataloader.h>
#include <tapegrad/train/checkpoint.h>
#include <tapegrad/tapegrad.h>

#include "data_parallel.h"

using namespace tg;
namespace F = tg::nn::functional;

namespace {

struct Options {
  std::string data = "datasets", out = "results", checkpoint, resume, eval_only;
  int64_t batch_size = 4, epochs = 2, crop_padding = 2, seed = 0, threads = 0, print_every = 0;
  double lr = 0.001, momentum = 0.9, weight_decay = 0;
  std::string model = "lenet", optimizer = "sgd", schedule = "none", norm = "none";
  bool augment = false, detect_anomaly = false;
};

// The options marked recipe() shape the run: its checkpoint keeps them, --resume restores them.
void declare(train::ArgParser& cli, Options& o) {
  cli.add("data", o.data, "holds cifar-10-batches-bin/ or cifar10-jpg/").metavar("DIR");
  cli.add("out", o.out, "folder for the logs, plots and checkpoint").metavar("DIR");
  cli.add("model", o.model, "network").choices({"lenet", "resnet20", "resnet56"}).recipe();
  cli.add("batch-size", o.batch_size, "images per mini-batch").min(1).recipe();
  cli.add("epochs", o.epochs, "epochs to train to").min(1).recipe();
  cli.add("optimizer", o.optimizer, "optimizer").choices({"sgd", "adam", "adamw"}).recipe();
  cli.add("lr", o.lr, "learning rate").above(0).recipe();
  cli.add("momentum", o.momentum, "SGD's momentum").min(0).below(1).recipe();
  cli.add("weight-decay", o.weight_decay, "weight decay").min(0).recipe();
  cli.add("schedule", o.schedule, "per mini-batch").choices({"none", "cosine"}).recipe();
  cli.add("norm", o.norm, "LeNet's, after each conv").choices({"none", "batchnorm", "groupnorm"}).recipe();
  cli.add("augment", o.augment, "random horizontal flips and random crops").recipe();
  cli.add("crop-padding", o.crop_padding, "crop padding; 0: flips only").min(0).max(16).recipe();
  cli.add("seed", o.seed, "random seed").min(0).recipe();
  cli.add("threads", o.threads, "threads; 0: the default").min(0);
  cli.add("print-every", o.print_every, "batches per running loss; 0: 8000 images").min(0);
  cli.add("checkpoint", o.checkpoint, "default OUT/lenet_cifar10.safetensors").metavar("PATH");
  cli.add("resume", o.resume, "continue the run saved in this checkpoint").metavar("PATH");
  cli.add("eval-only", o.eval_only, "only test the model of this checkpoint").metavar("PATH");
  cli.add("detect-anomaly", o.detect_anomaly, "name the op where a NaN or Inf appears first");
}

nn::Sequential make_lenet(const std::string& norm, int64_t classes) {
  nn::Sequential net;
  for (auto [in, out] : {std::pair{3, 6}, std::pair{6, 16}}) {
    net.push_back(nn::Conv2d(in, out, 5));
    if (norm == "batchnorm") net.push_back(nn::BatchNorm2d(out));
    if (norm == "groupnorm") net.push_back(nn::GroupNorm(2, out));  // 3 and 8 channels a group
    net.push_back(nn::ReLU());
    net.push_back(nn::MaxPool2d(2));
  }
  net.push_back(nn::Flatten());
  net.push_back(nn::Linear(16 * 5 * 5, 120));
  net.push_back(nn::ReLU());
  net.push_back(nn::Linear(120, 84));
  net.push_back(nn::ReLU());
  net.push_back(nn::Linear(84, classes));
  return net;
}

std::shared_ptr<nn::Module> make_model(const Options& o, int64_t classes) {
  if (o.model == "resnet20") return std::make_shared<nn::CifarResNet>(nn::resnet20(classes));
  if (o.model == "resnet56") return std::make_shared<nn::CifarResNet>(nn::resnet56(classes));
  return std::make_shared<nn::Sequential>(make_lenet(o.norm, classes));
}

std::unique_ptr<optim::Optimizer> make_optimizer(const Options& o, std::vector<Tensor> params) {
  double lr = o.lr, decay = o.weight_decay;
  if (o.optimizer == "adam")
    return std::make_unique<optim::Adam>(params,
                                         optim::AdamOptions{.lr = lr, .weight_decay = decay});
  if (o.optimizer == "adamw")
    return std::make_unique<optim::AdamW>(params,
                                          optim::AdamWOptions{.lr = lr, .weight_decay = decay});
  return std::make_unique<optim::SGD>(
      params, optim::SGDOptions{.lr = lr, .momentum = o.momentum, .weight_decay = decay});
}

// The mean loss and the confusion matrix on the test set, in eval mode and without the tape.
std::pair<double, train::ConfusionMatrix> evaluate(nn::Module& net, const data::DataLoader& loader,
                                                   const std::vector<std::string>& classes) {
  NoGradGuard no_grad;
  net.eval();
  train::ConfusionMatrix cm(classes);
  double loss = 0;
  for (auto [x, y] : loader) {
    Tensor logits = net(x);
    loss += F::cross_entropy(logits, y, nn::Reduction::Sum).item();
    cm.update(logits, y);
  }
  net.train();
  return {loss / double(std::max<int64_t>(cm.total(), 1)), cm};
}

int run(int argc, char** argv) {
  examples::DataParallel parallel;  // this process's rank among those of mpirun, if any
  Options o;
  train::ArgParser cli("lenet_cifar10",
                       "The course's LeNet (or a ResNet) on CIFAR-10 (defaults: the course's recipe).");
  declare(cli, o);
  cli.parse(argc, argv);
  if (!o.resume.empty() && !o.eval_only.empty())
    throw train::UsageError("--resume and --eval-only exclude each other");
  // A resumed run takes its checkpoint's recipe (only --epochs may grow, when no schedule
  // depends on it); the checkpoint's extra strings also hold the class names and the history.
  std::string from = o.resume.empty() ? o.eval_only : o.resume;
  std::map<std::string, std::string> meta;
  if (!from.empty()) meta = tg::load(from).metadata();
  std::string grows = meta["extra.recipe.schedule"] == "none" ? "epochs" : "";
  if (!from.empty())
    train::restore_recipe(cli, meta, from, {.prefix = "extra.recipe.", .may_change = {grows}});
  if (cli.given("crop-padding") && !o.augment)
    throw train::UsageError("--crop-padding applies with --augment only");
  if (cli.given("norm") && o.model != "lenet")
    throw train::UsageError("--norm applies to --model lenet only (the ResNets have BatchNorm)");
  if (cli.given("momentum") && o.optimizer != "sgd")
    throw train::UsageError("--momentum applies to --optimizer sgd only");
  if (o.threads > 0) set_num_threads(int(o.threads));
  if (o.print_every == 0) o.print_every = std::max<int64_t>(1, 8000 / o.batch_size);
  if (o.checkpoint.empty()) o.checkpoint = o.out + "/lenet_cifar10.safetensors";
  bool training = o.eval_only.empty();
  manual_seed(uint64_t(o.seed));

  // The data: [0, 1] images scaled to [-1, 1], training images flipped and cropped first.
  auto test_set = std::make_shared<data::ImageDataset>(data::load_cifar10(o.data, false));
  auto train_set = training ? std::make_shared<data::ImageDataset>(data::load_cifar10(o.data, true))
                            : test_set;  // eval-only: no training data read
  const std::vector<std::string>& classes = test_set->images().classes;
  check(train_set->images().classes == classes, "{}: the training and test classes differ", o.data);
  data::Transform scale = data::normalize({0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f});
  std::vector<data::Transform> augment = {data::random_horizontal_flip(), scale};
  if (o.crop_padding > 0) augment.insert(augment.begin(), data::random_crop(32, o.crop_padding));
  data::DataLoader loader(
      train_set, parallel.shard({.batch_size = o.batch_size,
                                 .shuffle = true,
                                 .transform = o.augment ? data::compose(augment) : scale},
                                train_set->size(), uint64_t(o.seed)));  // one shard a process
  data::DataLoader test_loader(test_set, {.batch_size = 500, .transform = scale});
  fmt::print("data: {} training and {} test images of {} classes from {}\n",
             training ? train_set->size() : 0, test_set->size(), classes.size(), o.data);

  std::shared_ptr<nn::Module> model = make_model(o, int64_t(classes.size()));
  nn::Module& net = *model;
  auto opt = make_optimizer(o, net.parameters());
  std::unique_ptr<optim::LRScheduler> schedule;
  if (o.schedule == "cosine")
    schedule = std::make_unique<optim::CosineAnnealingLR>(
        *opt, optim::CosineAnnealingLROptions{.T_max = o.epochs * loader.size()});
  train::History history({"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy",
                          "lr", "seconds", "images_per_second"});
  train::History running({"epoch", "loss"});  // the course's running loss, at fractional epochs
  std::string class_list = fmt::format("{}", fmt::join(classes, ","));
  int64_t start_epoch = 0, step = 0;
  if (!from.empty()) {  // the one checkpoint load
    check(meta["extra.classes"] == class_list, "{} was trained on the classes {}, not {} ({})",
          from, meta["extra.classes"], class_list, o.data);
    train::CheckpointInfo info = train::load_checkpoint(from, net, *opt, schedule.get());
    start_epoch = info.epoch, step = info.step;
    history = train::History::from_csv(info.extra["history"], from);
    running = train::History::from_csv(info.extra["running"], from);
    fmt::print("checkpoint: {} (after epoch {}, {} steps)\n", from, start_epoch, step);
  }
  fmt::print("{}\nrecipe: {}; threads {}\n", net, train::recipe_options(cli), get_num_threads());
  parallel.wrap(model);  // same parameters, averaged gradients
  std::filesystem::create_directories(o.out);
  set_detect_anomaly(o.detect_anomaly);

  // The course's loop: zero_grad, forward, loss, backward, step; then test, log and save.
  std::optional<std::pair<double, train::ConfusionMatrix>> test;
  std::string last_good = from.empty() ? "none yet" : from;
  for (int64_t epoch = start_epoch; training && epoch < o.epochs; ++epoch) {
    train::ProgressBar bar({.desc = fmt::format("epoch {}/{}", epoch + 1, o.epochs),
                            .total = loader.size(),
                            .unit = "batch"});
    parallel.set_epoch(epoch);
    double loss_sum = 0, window = 0;
    int64_t batch = 0, images = 0, correct = 0;
    for (auto [x, y] : loader) {
      opt->zero_grad();
      Tensor logits = parallel.forward(net, x);
      Tensor loss = F::cross_entropy(logits, y);
      float value = loss.item();
      if (!std::isfinite(value))  // stop before the step: the last checkpoint stays the good one
        fail(
            "training stopped: the loss is {} at epoch {}, mini-batch {} (lr {:.3g}); last good "
            "checkpoint: {}; try a lower --lr, or --detect-anomaly to find the first bad op",
            value, epoch + 1, batch + 1, opt->lr(), last_good);
      loss.backward();
      opt->step();
      if (schedule) schedule->step();
      ++batch, ++step, images += x.size(0);
      loss_sum += double(value) * double(x.size(0)), window += value;
      correct += logits.argmax(1).eq(y).sum().item<int64_t>();  // int64 labels and predictions
      bar.set_postfix({{"loss", loss_sum / double(images)}});
      bar.update();
      if (batch % o.print_every == 0) {  // the course's running loss
        double mean = window / double(o.print_every);
        bar.write(fmt::format("[{}, {:5}] loss: {:.3f}", epoch + 1, batch, mean));
        running.append({double(epoch) + double(batch) / double(loader.size()), mean});
        window = 0;
      }
    }
    bar.close();
    auto totals = parallel.sum({loss_sum, double(images), double(correct)});  // all processes'
    loss_sum = totals[0], images = int64_t(totals[1]), correct = int64_t(totals[2]);
    if (!parallel.lead()) continue;  // rank 0 alone evaluates, logs and saves
    double seconds = bar.elapsed(), train_loss = loss_sum / double(images),
           accuracy = 100.0 * double(correct) / double(images);
    test = evaluate(net, test_loader, classes);
    auto& [test_loss, cm] = *test;
    history.append({double(epoch + 1), train_loss, accuracy, test_loss, cm.accuracy(), opt->lr(),
                    seconds, double(images) / seconds});
    fmt::print(
        "epoch {}/{}: train loss {:.4f}, accuracy {:.2f}% | test loss {:.4f}, accuracy "
        "{:.2f}% | {:.1f} s, {:.0f} images/s\n",
        epoch + 1, o.epochs, train_loss, accuracy, test_loss, cm.accuracy(), seconds,
        double(images) / seconds);
    std::map<std::string, std::string> extra = train::recipe(cli, "recipe.");  // the one save
    extra.insert(
        {{"classes", class_list}, {"history", history.to_csv()}, {"running", running.to_csv()}});
    train::save_checkpoint(o.checkpoint, net, *opt,
                           {.epoch = epoch + 1, .step = step, .extra = extra}, schedule.get());
    last_good = o.checkpoint;
    history.write_csv(o.out + "/lenet_cifar10.csv");
    plot::write_svg(history.chart({.title = "LeNet on CIFAR-10: cross-entropy loss",
                                   .x = "epoch",
                                   .y = {"train_loss", "test_loss"},
                                   .y_label = "loss",
                                   .extra = {running.series("epoch", "loss", "train (running)")}}),
                    o.out + "/lenet_cifar10_loss.svg");
    plot::write_svg(history.chart({.title = "LeNet on CIFAR-10: accuracy",
                                   .x = "epoch",
                                   .y = {"train_accuracy", "test_accuracy"},
                                   .y_label = "accuracy (%)"}),
                    o.out + "/lenet_cifar10_accuracy.svg");
  }

  if (!parallel.lead()) return 0;
  if (!test) test = evaluate(net, test_loader, classes);
  auto& [test_loss, cm] = *test;
  fmt::print(
      "\naccuracy of the network on the {} test images: {:.2f}% ({} correct), loss "
      "{:.4f}\n\n{}",
      cm.total(), cm.accuracy(), cm.correct(), test_loss, cm.table());
  write_file_atomic(o.out + "/lenet_cifar10_confusion.csv", cm.to_csv());
  fmt::print("\nwrote {}/lenet_cifar10_confusion.csv{}\n", o.out,
             training ? ", lenet_cifar10.csv, its charts and the checkpoint " + o.checkpoint : "");
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return examples::main_with("lenet_cifar10", run, argc, argv); }
