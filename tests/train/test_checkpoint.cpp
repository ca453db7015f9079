// Tests of train::save_checkpoint / train::load_checkpoint: resuming from a checkpoint
// continues training bit for bit (model, Adam state, LR schedule, step counters, the random
// generator that draws dropout masks and data); damaged, truncated and mismatched files are
// refused with a message naming the file and leave the model, optimizer, schedule and
// generator unchanged, also when a part is refused after others were loaded; a metric-driven
// ReduceLROnPlateau resumes like a closed-form schedule; and a writer
// killed with SIGKILL in the middle of a save leaves the previous checkpoint whole and its
// temporary file, which the next save removes.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/autograd/state_dict.h>
#include <tapegrad/core/atomic_file.h>
#include <tapegrad/core/parallel.h>
#include <tapegrad/core/random.h>
#include <tapegrad/nn/activation.h>
#include <tapegrad/nn/linear.h>
#include <tapegrad/nn/norm.h>
#include <tapegrad/nn/sequential.h>
#include <tapegrad/optim/adam.h>
#include <tapegrad/optim/lr_scheduler.h>
#include <tapegrad/optim/sgd.h>
#include <tapegrad/train/checkpoint.h>
#include "tests/data/temp_dir.h"
#include "tests/test_util.h"

using namespace tg;
using test::error_of;

namespace {

// Linear, BatchNorm (buffers), ReLU, Dropout (draws from the global generator), Linear.
nn::Sequential make_net(int64_t hidden = 16) {
  return nn::Sequential(nn::Linear(4, hidden), nn::BatchNorm1d(hidden), nn::ReLU(),
                        nn::Dropout(0.25f), nn::Linear(hidden, 1));
}

// One training step on a fresh random batch: the data, too, comes from the global generator.
void train_step(nn::Module& net, optim::Optimizer& opt, optim::LRScheduler& schedule) {
  Tensor x = randn({8, 4}), y = randn({8, 1});
  opt.zero_grad();
  Tensor loss = (net(x) - y).pow(2).mean();
  loss.backward();
  opt.step();
  schedule.step();
}

std::vector<std::vector<float>> values_of(const nn::Module& net) {
  std::vector<std::vector<float>> out;
  for (const auto& [name, t] : net.state_dict()) out.push_back(t.to_vector());
  return out;
}

// Everything a failed load must leave alone.
struct Snapshot {
  std::vector<std::vector<float>> model;
  std::map<std::string, std::string> scalars;
  std::map<std::string, std::vector<float>> tensors;
  std::string rng;
  Snapshot(const nn::Module& net, const optim::Optimizer& opt) : model(values_of(net)) {
    StateDict s = opt.state_dict();
    scalars = s.metadata();
    for (const auto& [k, t] : s) tensors[k] = t.to_vector();
    rng = default_generator().state();
  }
  bool operator==(const Snapshot&) const = default;
};

// Reads one byte from `fd`, waiting at most `seconds`; false on timeout, EOF or error.
bool read_byte(int fd, int seconds) {
  pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
  char byte;
  return ::poll(&p, 1, seconds * 1000) == 1 && ::read(fd, &byte, 1) == 1;
}

// Kills and reaps a child process when the test leaves early (a failed REQUIRE).
struct ChildGuard {
  pid_t pid;
  ~ChildGuard() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

// A file's bytes with the lowest bit of one byte flipped ('0' <-> '1', '{' -> 'z').
std::string flipped(std::string bytes, size_t at) {
  bytes[at] = char(bytes[at] ^ 0x01);
  return bytes;
}

}  // namespace

TEST_CASE("checkpoint: resuming continues training bit for bit") {
  test::TempDir dir;
  const std::string path = dir / "run.ckpt";
  const int k = 5;

  // Run A: 2k steps without stopping, saving a checkpoint after k.
  manual_seed(1);
  nn::Sequential a = make_net();
  optim::Adam opt_a(a.parameters(), {.lr = 0.01});
  optim::StepLR sched_a(opt_a, {.step_size = 3, .gamma = 0.5});
  for (int i = 0; i < k; ++i) train_step(a, opt_a, sched_a);
  train::save_checkpoint(path, a, opt_a, {.epoch = 2, .step = k, .extra = {{"note", "héllo"}}},
                      &sched_a);
  for (int i = 0; i < k; ++i) train_step(a, opt_a, sched_a);
  const Snapshot end_a(a, opt_a);  // with the generator's state after run A

  // Run B: a different model and generator state, restored from the checkpoint, then k steps.
  manual_seed(99);
  nn::Sequential b = make_net();
  optim::Adam opt_b(b.parameters(), {.lr = 0.01});  // the same recipe, a fresh state
  optim::StepLR sched_b(opt_b, {.step_size = 3, .gamma = 0.5});
  randn({17});  // moves the generator on, so only a restored state can match
  train::CheckpointInfo info = train::load_checkpoint(path, b, opt_b, &sched_b);
  CHECK(info.epoch == 2);
  CHECK(info.step == k);
  CHECK(info.extra == std::map<std::string, std::string>{{"note", "héllo"}});
  CHECK(sched_b.last_epoch() == k);
  for (int i = 0; i < k; ++i) train_step(b, opt_b, sched_b);

  const Snapshot end_b(b, opt_b);
  CHECK(end_a.model == end_b.model);  // parameters and BatchNorm buffers, bit for bit
  CHECK(end_a.tensors == end_b.tensors);  // Adam's moments
  CHECK(end_a.scalars == end_b.scalars);  // step counts and lr
  CHECK(end_a.rng == end_b.rng);
  CHECK(sched_a.last_epoch() == sched_b.last_epoch());
  CHECK(opt_a.lr() == opt_b.lr());
}

TEST_CASE("checkpoint: a float64 model and its float64 optimizer state resume bit for bit") {
  // A least-squares fit y = X w in float64; the file stores F64 tensors.
  struct Fit : nn::Module {
    Tensor w;
    Fit() { w = register_parameter("w", zeros({3, 1}, {.dtype = kFloat64})); }
    Tensor forward(const Tensor& x) override { return x.matmul(w); }
  };
  manual_seed(5);
  Tensor X = randn({16, 3}, {.dtype = kFloat64}), y = randn({16, 1}, {.dtype = kFloat64});
  auto step = [&](Fit& net, optim::Optimizer& opt) {
    opt.zero_grad();
    (net(X) - y).pow(2).mean().backward();
    opt.step();
  };
  test::TempDir dir;
  const std::string path = dir / "f64.ckpt";
  Fit a, b;
  optim::Adam opt_a(a.parameters(), {.lr = 0.05}), opt_b(b.parameters(), {.lr = 0.05});
  for (int i = 0; i < 3; ++i) step(a, opt_a);
  train::save_checkpoint(path, a, opt_a);
  for (int i = 0; i < 3; ++i) step(a, opt_a);
  train::load_checkpoint(path, b, opt_b);
  CHECK(b.w.dtype() == kFloat64);
  CHECK(opt_b.state(0, 0).buffers.at("exp_avg").dtype() == kFloat64);
  for (int i = 0; i < 3; ++i) step(b, opt_b);
  CHECK(a.w.to_vector<double>() == b.w.to_vector<double>());
}

TEST_CASE("checkpoint: a ReduceLROnPlateau schedule is saved and resumed like the others") {
  test::TempDir dir;
  const std::string path = dir / "plateau.ckpt";
  auto run = [](nn::Module& net, optim::SGD& opt, optim::ReduceLROnPlateau& plateau, int steps) {
    for (int i = 0; i < steps; ++i) {
      Tensor x = randn({8, 4}), y = randn({8, 1});
      opt.zero_grad();
      Tensor loss = (net(x) - y).pow(2).mean();
      loss.backward();
      opt.step();
      plateau.step(1.0);  // a metric that never improves: the rate falls every 3 steps
    }
  };
  manual_seed(2);
  nn::Sequential a = make_net();
  optim::SGD opt_a(a.parameters(), {.lr = 0.1});
  optim::ReduceLROnPlateau plateau_a(opt_a, {.factor = 0.5, .patience = 1});
  run(a, opt_a, plateau_a, 4);  // one reduction, and one bad step counted towards the next
  train::save_checkpoint(path, a, opt_a, {}, &plateau_a);
  run(a, opt_a, plateau_a, 5);

  manual_seed(98);
  nn::Sequential b = make_net();
  optim::SGD opt_b(b.parameters(), {.lr = 0.1});
  optim::ReduceLROnPlateau plateau_b(opt_b, {.factor = 0.5, .patience = 1});
  train::load_checkpoint(path, b, opt_b, &plateau_b);
  CHECK(opt_b.lr() == 0.05);
  CHECK(plateau_b.num_bad_epochs() == 1);
  run(b, opt_b, plateau_b, 5);
  CHECK(values_of(a) == values_of(b));
  CHECK(opt_a.lr() == opt_b.lr());
  CHECK(plateau_a.state_dict().metadata() == plateau_b.state_dict().metadata());
}

TEST_CASE("checkpoint: the file is the prefixed state dicts plus epoch, step and generator") {
  test::TempDir dir;
  manual_seed(3);
  nn::Linear net(3, 2);
  optim::SGD opt(net.parameters(), {.lr = 0.1, .momentum = 0.9});
  optim::ExponentialLR sched(opt, {.gamma = 0.5});
  net(randn({4, 3})).sum().backward();
  opt.step();
  sched.step();
  train::save_checkpoint(dir / "c.ckpt", net, opt, {.epoch = 7, .step = 70, .extra = {{"a", "b"}}},
                         &sched);
  StateDict file = load(dir / "c.ckpt");
  std::vector<std::string> names;
  for (const auto& [name, t] : file) names.push_back(name);
  CHECK(names == std::vector<std::string>{"model.bias", "model.weight",
                                          "optimizer.state.0.momentum_buffer",
                                          "optimizer.state.1.momentum_buffer"});
  StateDict optimizer_part;
  optimizer_part.update(opt.state_dict(), "optimizer.");
  StateDict schedule_part;
  schedule_part.update(sched.state_dict(), "scheduler.");
  std::map<std::string, std::string> expected = {{"checkpoint.format", "tapegrad-checkpoint-2"},
                                                 {"epoch", "7"},
                                                 {"step", "70"},
                                                 {"rng", default_generator().state()},
                                                 {"extra.a", "b"},
                                                 {"model.format", "pt"}};
  expected.insert(optimizer_part.metadata().begin(), optimizer_part.metadata().end());
  expected.insert(schedule_part.metadata().begin(), schedule_part.metadata().end());
  CHECK(file.metadata() == expected);
  CHECK(file.text("optimizer.kind") == "SGD");
  CHECK(file.text("optimizer.param_groups.0.lr") == "0.05");
  CHECK(file.text("optimizer.param_groups.0.momentum") == "0.9");
  CHECK(file.text("scheduler.last_epoch") == "1");
  CHECK(file.at("optimizer.state.1.momentum_buffer").to_vector() ==
        opt.state(0, 1).buffers.at("momentum_buffer").to_vector());
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    left.push_back(e.path().filename());
  CHECK(left == std::vector<std::string>{"c.ckpt"});
}

TEST_CASE("checkpoint: damaged, truncated and mismatched files change nothing") {
  test::TempDir dir;
  const std::string path = dir / "good.ckpt";
  manual_seed(5);
  nn::Sequential net = make_net();
  optim::Adam opt(net.parameters(), {.lr = 0.01});
  optim::StepLR sched(opt, {.step_size = 2});
  for (int i = 0; i < 3; ++i) train_step(net, opt, sched);
  train::save_checkpoint(path, net, opt, {.epoch = 1, .step = 3}, &sched);
  const std::string good = read_file(path);

  // A second, different state to load into: every failed load must leave exactly this.
  for (int i = 0; i < 2; ++i) train_step(net, opt, sched);
  const Snapshot before(net, opt);
  const int64_t t_before = sched.last_epoch();
  auto refused = [&](const std::string& bytes, const std::string& needle) {
    std::string file = dir.write("bad.ckpt", bytes);
    std::string message = error_of([&] { train::load_checkpoint(file, net, opt, &sched); });
    INFO("message: ", message);
    CHECK(message.find("load_checkpoint") != std::string::npos);
    CHECK(message.find(file) != std::string::npos);
    CHECK(message.find(needle) != std::string::npos);
    CHECK(Snapshot(net, opt) == before);
    CHECK(sched.last_epoch() == t_before);
  };

  SUBCASE("truncated anywhere") {
    for (size_t n : {size_t(0), size_t(7), size_t(8), size_t(100), good.size() / 2,
                     good.size() - 1})
      refused(good.substr(0, n), "safetensors");
  }
  SUBCASE("a flipped bit in an option, a counter or the generator state") {
    // (A flipped bit in the tensor data still parses: safetensors has no checksum.)
    size_t eps = good.find("\"optimizer.param_groups.0.eps\":\"1e-08\"");
    REQUIRE(eps != std::string::npos);
    refused(flipped(good, eps + 36), "param_groups.0.eps: expected 1e-08, found 1e-09");
    size_t kind = good.find("\"optimizer.kind\":\"Adam\"");
    REQUIRE(kind != std::string::npos);
    refused(flipped(good, kind + 18), "kind: expected Adam, found @dam");
  }
  SUBCASE("a flipped byte in the header structure") {
    refused(flipped(good, 8), "not valid JSON");
    std::string long_header = good;
    long_header[7] = 1;  // the top byte of the header length
    refused(long_header, "header length");
  }
  SUBCASE("a weights file, not a checkpoint") {
    save(net.state_dict(), dir / "weights.safetensors");
    refused(read_file(dir / "weights.safetensors"), "not a tapegrad checkpoint");
  }
  SUBCASE("another architecture") {
    const Generator rng = default_generator();  // building the other models draws from it
    nn::Sequential wide = make_net(32);
    optim::Adam opt_wide(wide.parameters());
    optim::StepLR sched_wide(opt_wide, {.step_size = 2});
    train::save_checkpoint(dir / "wide.ckpt", wide, opt_wide, {}, &sched_wide);
    nn::Sequential shorter(nn::Linear(4, 16));
    optim::Adam opt_short(shorter.parameters());
    optim::StepLR sched_short(opt_short, {.step_size = 2});
    train::save_checkpoint(dir / "short.ckpt", shorter, opt_short, {}, &sched_short);
    default_generator() = rng;

    refused(read_file(dir / "wide.ckpt"), "0.weight expected [16, 4], got [32, 4]");
    refused(read_file(dir / "short.ckpt"), "missing keys: 1.weight");
  }
  SUBCASE("another optimizer, or a schedule missing on either side") {
    optim::SGD sgd(net.parameters(), {.lr = 0.1});
    train::save_checkpoint(dir / "sgd.ckpt", net, sgd, {}, &sched);
    refused(read_file(dir / "sgd.ckpt"), "kind: expected Adam, found SGD");
    optim::Adam amsgrad(net.parameters(), {.lr = 0.01, .amsgrad = true});
    train::save_checkpoint(dir / "amsgrad.ckpt", net, amsgrad, {}, &sched);
    refused(read_file(dir / "amsgrad.ckpt"), "param_groups.0.amsgrad: expected false, found true");
    train::save_checkpoint(dir / "nosched.ckpt", net, opt);
    refused(read_file(dir / "nosched.ckpt"), "no LR schedule state");
    std::string message = error_of([&] { train::load_checkpoint(path, net, opt); });
    CHECK(message.find("no scheduler was given") != std::string::npos);
    CHECK(Snapshot(net, opt) == before);
  }
  SUBCASE("a missing file") {
    std::string message = error_of([&] { train::load_checkpoint(dir / "none.ckpt", net, opt); });
    CHECK(message.find(dir / "none.ckpt") != std::string::npos);
    CHECK(Snapshot(net, opt) == before);
  }
  SUBCASE("a schedule refused after the model and optimizer were loaded") {
    StateDict edited = load(path);
    edited.set("scheduler.last_epoch", 2.5);
    save(edited, dir / "late.ckpt");
    refused(read_file(dir / "late.ckpt"), "'last_epoch' is 2.5, expected a whole number >= 0");
  }
  SUBCASE("the good file still loads") {
    train::CheckpointInfo info = train::load_checkpoint(path, net, opt, &sched);
    CHECK(info.step == 3);
    CHECK(sched.last_epoch() == 3);
    CHECK(!(Snapshot(net, opt) == before));
  }
}

TEST_CASE("checkpoint: a deliberately changed learning rate needs allow_lr_change") {
  test::TempDir dir;
  const std::string path = dir / "run.ckpt";
  manual_seed(4);
  nn::Sequential net = make_net();
  optim::Adam opt(net.parameters(), {.lr = 0.01});
  optim::StepLR sched(opt, {.step_size = 2, .gamma = 0.5});
  for (int i = 0; i < 3; ++i) train_step(net, opt, sched);
  train::save_checkpoint(path, net, opt, {.step = 3}, &sched);
  const Snapshot saved(net, opt);

  manual_seed(5);
  nn::Sequential b = make_net();
  optim::Adam slower(b.parameters(), {.lr = 0.001});
  optim::StepLR slower_sched(slower, {.step_size = 2, .gamma = 0.5});
  const Snapshot before(b, slower);
  std::string message = error_of([&] { train::load_checkpoint(path, b, slower, &slower_sched); });
  CHECK(message.find("param_groups.0.initial_lr: expected 0.001, found 0.01") != std::string::npos);
  CHECK(message.find("{.allow_lr_change = true}") != std::string::npos);
  CHECK(Snapshot(b, slower) == before);

  train::load_checkpoint(path, b, slower, &slower_sched, {.allow_lr_change = true});
  CHECK(values_of(b) == saved.model);
  CHECK(slower.state(0, 0).step == 3);
  CHECK(slower_sched.last_epoch() == 3);
  CHECK(slower.lr() == 0.001 * 0.5);  // the new rate, on the saved schedule's clock
}

namespace {

// An optimizer whose own part of the state (a step count "picky.level") is changed and then
// refused: what a method with rules of its own may do wrongly. load_checkpoint must put back
// the model and the optimizer, which were loaded before.
class Picky : public optim::OptimizerWith<optim::SGDOptions> {
 public:
  explicit Picky(std::vector<Tensor> params)
      : OptimizerWith("Picky", {{.params = std::move(params), .options = {.lr = 0.1}}}) {}
  void step() override {
    for_each_grad([](auto& o, Tensor& p, const Tensor& g, optim::ParamState& s) {
      float* w = p.data();
      const float* d = g.data();
      for (int64_t i = 0; i < p.numel(); ++i) w[i] -= float(o.lr) * d[i];
      ++s.step;
    });
    ++level;
  }
  bool refuse_next_load = false;

 protected:
  void save_extra_state(StateDict& dict) const override {
    dict.set("picky.level", level);
    if (refuse_next_load) dict.set("picky.refuse", 1);
  }
  void load_extra_state(const StateDict& extra) override {
    level = extra.number("picky.level");                                     // changes first...
    check(!extra.has("picky.refuse"), "Picky: refusing this state");  // ...then fails
  }

 private:
  double level = 0;
};

}  // namespace

TEST_CASE("checkpoint: a part refused late is rolled back with everything else") {
  test::TempDir dir;
  manual_seed(8);
  nn::Linear net(3, 2);
  Picky opt(net.parameters());
  optim::ExponentialLR sched(opt, {.gamma = 0.5});
  net(randn({4, 3})).sum().backward();
  opt.step();
  sched.step();
  opt.refuse_next_load = true;
  train::save_checkpoint(dir / "p.ckpt", net, opt, {}, &sched);
  opt.refuse_next_load = false;

  net(randn({4, 3})).sum().backward();
  opt.step();
  sched.step();
  const Snapshot before(net, opt);
  std::string message = error_of([&] { train::load_checkpoint(dir / "p.ckpt", net, opt, &sched); });
  CHECK(message.find("Picky: refusing this state") != std::string::npos);
  CHECK(message.find(dir / "p.ckpt") != std::string::npos);
  CHECK(Snapshot(net, opt) == before);
  CHECK(sched.last_epoch() == 2);
  CHECK(opt.lr() == 0.1 * 0.25);
}

TEST_CASE("checkpoint: a writer killed mid-write leaves the previous checkpoint loadable") {
  test::TempDir dir;
  const std::string path = dir / "big.ckpt";
  // 2M parameters + Adam's two buffers: a 24 MB file, tens of milliseconds to write and sync.
  manual_seed(11);
  nn::Linear old_net(1024, 2048);
  optim::Adam old_opt(old_net.parameters());
  old_net(randn({2, 1024})).sum().backward();
  old_opt.step();
  train::save_checkpoint(path, old_net, old_opt, {.step = 1});
  nn::Linear new_net(1024, 2048);  // other values: the killed writer's version
  optim::Adam new_opt(new_net.parameters());
  new_net(randn({2, 1024})).sum().backward();
  new_opt.step();
  const auto old_values = values_of(old_net), new_values = values_of(new_net);
  REQUIRE(old_values != new_values);

  // Even trials kill as soon as the writer's temporary file exists (inside the write or the
  // fsync); odd ones after a few milliseconds, wherever the writer is by then; the last one
  // once a save has completed, so the file then holds the writer's version, whole.
  const int trials = 8;
  int killed_mid_write = 0, completed_writes = 0;
  for (int trial = 0; trial < trials; ++trial) {
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {  // the writer: saves the new version over and over until killed
      ::close(pipe_fds[0]);
      try {
        set_num_threads(1);  // no OpenMP pool after fork: its threads do not exist here
        for (int64_t step = 2;; ++step) {
          char byte = 's';
          if (::write(pipe_fds[1], &byte, 1) != 1) ::_exit(2);
          train::save_checkpoint(path, new_net, new_opt, {.step = step});
        }
      } catch (...) {
        ::_exit(1);
      }
    }
    ChildGuard guard{child};
    ::close(pipe_fds[1]);
    REQUIRE(read_byte(pipe_fds[0], 60));  // the first save has begun
    auto temp_files = [&] {
      std::vector<std::filesystem::path> found;
      for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
        if (entry.path().filename().string().starts_with("big.ckpt.tmp.")) found.push_back(entry);
      return found;
    };
    if (trial == trials - 1) {
      REQUIRE(read_byte(pipe_fds[0], 60));  // the second save began: the first is done
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    } else if (trial % 2 == 0) {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (temp_files().empty() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      std::this_thread::sleep_for(std::chrono::microseconds(300 * trial));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1 + 4 * trial));
    }
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    guard.pid = -1;
    CHECK(WIFSIGNALED(status));  // not an early exit from an error in the writer
    int starts = 0;
    while (read_byte(pipe_fds[0], 1)) ++starts;  // the writer is gone: EOF after the rest
    ::close(pipe_fds[0]);
    completed_writes += starts + (trial == trials - 1);  // a later start: the save before it
                                                          // finished

    // The temporary file of an interrupted save stays behind: its presence shows the kill
    // landed mid-write. The checkpoint itself is one whole version or the other.
    auto left = temp_files();
    killed_mid_write += !left.empty();

    nn::Linear loaded(1024, 2048);
    optim::Adam loaded_opt(loaded.parameters());
    train::CheckpointInfo info;
    CHECK_NOTHROW(info = train::load_checkpoint(path, loaded, loaded_opt));
    auto values = values_of(loaded);
    CHECK((values == old_values || values == new_values));
    CHECK((values == old_values) == (info.step == 1));
    if (trial == trials - 1) CHECK(values == new_values);
    // The next save of the same file removes what the killed writer left behind.
    if (!left.empty()) {
      train::save_checkpoint(path, loaded, loaded_opt, {.step = info.step});
      CHECK(temp_files().empty());
    }
  }
  MESSAGE(trials << " writers killed, " << killed_mid_write << " of them mid-write, "
                 << completed_writes << " saves completed before a kill");
  CHECK(killed_mid_write >= trials / 2 - 1);  // the even trials, give or take a rename
}
