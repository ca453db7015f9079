// Tests of nn::save_checkpoint / nn::load_checkpoint: resuming from a checkpoint continues
// training bit for bit (model, Adam state, LR schedule, step counters, the random generator
// that draws dropout masks and data); damaged, truncated and mismatched files are refused
// with a message naming the file and leave the model, optimizer and generator unchanged; and
// a writer killed with SIGKILL in the middle of a save leaves the previous checkpoint whole.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/core/atomic_file.h>
#include <tapegrad/core/parallel.h>
#include <tapegrad/core/random.h>
#include <tapegrad/nn/activation.h>
#include <tapegrad/nn/checkpoint.h>
#include <tapegrad/nn/linear.h>
#include <tapegrad/nn/norm.h>
#include <tapegrad/nn/safetensors.h>
#include <tapegrad/nn/sequential.h>
#include <tapegrad/nn/serialize.h>
#include <tapegrad/optim/adam.h>
#include <tapegrad/optim/lr_scheduler.h>
#include <tapegrad/optim/sgd.h>
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
  std::map<std::string, double> scalars;
  std::map<std::string, std::vector<float>> tensors;
  std::string rng;
  Snapshot(const nn::Module& net, const optim::Optimizer& opt) : model(values_of(net)) {
    optim::StateDict s = opt.state_dict();
    scalars = s.scalars;
    for (const auto& [k, t] : s.tensors) tensors[k] = t.to_vector();
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
  nn::save_checkpoint(path, a, opt_a, {.epoch = 2, .step = k, .extra = {{"note", "héllo"}}},
                      &sched_a);
  for (int i = 0; i < k; ++i) train_step(a, opt_a, sched_a);
  const Snapshot end_a(a, opt_a);  // with the generator's state after run A

  // Run B: a different model and generator state, restored from the checkpoint, then k steps.
  manual_seed(99);
  nn::Sequential b = make_net();
  optim::Adam opt_b(b.parameters(), {.lr = 0.5});
  optim::StepLR sched_b(opt_b, {.step_size = 3, .gamma = 0.5});
  randn({17});  // moves the generator on, so only a restored state can match
  nn::CheckpointInfo info = nn::load_checkpoint(path, b, opt_b, &sched_b);
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

TEST_CASE("checkpoint: the file is one safetensors file with model., optimizer. and metadata") {
  test::TempDir dir;
  manual_seed(3);
  nn::Linear net(3, 2);
  optim::SGD opt(net.parameters(), {.lr = 0.1, .momentum = 0.9});
  net(randn({4, 3})).sum().backward();
  opt.step();
  nn::save_checkpoint(dir / "c.ckpt", net, opt, {.epoch = 7, .step = 70});
  SafetensorsMetadata meta;
  std::vector<SafetensorsEntry> entries = load_safetensors(dir / "c.ckpt", &meta);
  std::vector<std::string> names;
  for (const auto& e : entries) names.push_back(e.name);
  CHECK(names == std::vector<std::string>{"model.bias", "model.weight",
                                          "optimizer.state.0.momentum_buffer",
                                          "optimizer.state.1.momentum_buffer"});
  CHECK(meta.at("checkpoint.format") == "tapegrad-checkpoint-1");
  CHECK(meta.at("checkpoint.optimizer") == "SGD");
  CHECK(meta.at("checkpoint.epoch") == "7");
  CHECK(meta.at("checkpoint.step") == "70");
  CHECK(meta.at("checkpoint.rng") == default_generator().state());
  CHECK(meta.at("optimizer.param_groups.0.lr") == "0.1");
  CHECK(meta.at("checkpoint.checksum").size() == 16);
  CHECK(!std::filesystem::exists(dir / "c.ckpt.tmp"));
}

TEST_CASE("checkpoint: damaged, truncated and mismatched files change nothing") {
  test::TempDir dir;
  const std::string path = dir / "good.ckpt";
  manual_seed(5);
  nn::Sequential net = make_net();
  optim::Adam opt(net.parameters(), {.lr = 0.01});
  optim::StepLR sched(opt, {.step_size = 2});
  for (int i = 0; i < 3; ++i) train_step(net, opt, sched);
  nn::save_checkpoint(path, net, opt, {.epoch = 1, .step = 3}, &sched);
  const std::string good = read_file(path);

  // A second, different state to load into: every failed load must leave exactly this.
  for (int i = 0; i < 2; ++i) train_step(net, opt, sched);
  const Snapshot before(net, opt);
  const int64_t t_before = sched.last_epoch();
  auto refused = [&](const std::string& bytes, const std::string& needle) {
    std::string file = dir.write("bad.ckpt", bytes);
    std::string message = error_of([&] { nn::load_checkpoint(file, net, opt, &sched); });
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
  SUBCASE("a flipped bit in the data or in a metadata number") {
    refused(flipped(good, good.size() - 3), "checksum mismatch");
    size_t lr = good.find("\"optimizer.param_groups.0.lr\":\"");
    REQUIRE(lr != std::string::npos);
    size_t digit = good.find_first_of("0123456789", lr + 31);
    refused(flipped(good, digit), "checksum mismatch");  // another valid, wrong number
  }
  SUBCASE("a flipped byte in the header structure") {
    refused(flipped(good, 8), "not valid JSON");
    std::string long_header = good;
    long_header[7] = 1;  // the top byte of the header length
    refused(long_header, "header length");
  }
  SUBCASE("a weights file, not a checkpoint") {
    nn::save(net, dir / "weights.safetensors");
    refused(read_file(dir / "weights.safetensors"), "not a tapegrad checkpoint");
  }
  SUBCASE("another architecture") {
    const Generator rng = default_generator();  // building the other models draws from it
    nn::Sequential wide = make_net(32);
    optim::Adam opt_wide(wide.parameters());
    optim::StepLR sched_wide(opt_wide, {.step_size = 2});
    nn::save_checkpoint(dir / "wide.ckpt", wide, opt_wide, {}, &sched_wide);
    nn::Sequential shorter(nn::Linear(4, 16));
    optim::Adam opt_short(shorter.parameters());
    optim::StepLR sched_short(opt_short, {.step_size = 2});
    nn::save_checkpoint(dir / "short.ckpt", shorter, opt_short, {}, &sched_short);
    default_generator() = rng;

    refused(read_file(dir / "wide.ckpt"), "0.weight expected [16, 4], got [32, 4]");
    refused(read_file(dir / "short.ckpt"), "missing: 1.weight");
  }
  SUBCASE("another optimizer, or a schedule missing on either side") {
    optim::SGD sgd(net.parameters(), {.lr = 0.1});
    nn::save_checkpoint(dir / "sgd.ckpt", net, sgd);
    refused(read_file(dir / "sgd.ckpt"), "the optimizer state is SGD's, the optimizer is Adam");
    nn::save_checkpoint(dir / "nosched.ckpt", net, opt);
    refused(read_file(dir / "nosched.ckpt"), "no LR schedule state");
    std::string message = error_of([&] { nn::load_checkpoint(path, net, opt); });
    CHECK(message.find("no scheduler was given") != std::string::npos);
    CHECK(Snapshot(net, opt) == before);
  }
  SUBCASE("a missing file") {
    std::string message = error_of([&] { nn::load_checkpoint(dir / "none.ckpt", net, opt); });
    CHECK(message.find(dir / "none.ckpt") != std::string::npos);
    CHECK(Snapshot(net, opt) == before);
  }
  SUBCASE("the good file still loads") {
    nn::CheckpointInfo info = nn::load_checkpoint(path, net, opt, &sched);
    CHECK(info.step == 3);
    CHECK(sched.last_epoch() == 3);
    CHECK(!(Snapshot(net, opt) == before));
  }
}

namespace {

// An optimizer whose load_state_dict changes its state and then refuses: what a method with
// extra rules the generic checks do not know may do. load_checkpoint must roll everything back.
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
  }
  optim::StateDict state_dict() const override {
    optim::StateDict d = Optimizer::state_dict();
    if (refuse_next_load) d.scalars["picky.refuse"] = 1;
    return d;
  }
  void load_state_dict(const optim::StateDict& dict) override {
    optim::StateDict base = dict;
    base.scalars.erase("picky.refuse");
    Optimizer::load_state_dict(base);  // changes the state first...
    check(!dict.scalars.contains("picky.refuse"), "Picky: refusing this state");  // ...then fails
  }
  bool refuse_next_load = false;
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
  nn::save_checkpoint(dir / "p.ckpt", net, opt, {}, &sched);
  opt.refuse_next_load = false;

  net(randn({4, 3})).sum().backward();
  opt.step();
  sched.step();
  const Snapshot before(net, opt);
  std::string message = error_of([&] { nn::load_checkpoint(dir / "p.ckpt", net, opt, &sched); });
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
  nn::save_checkpoint(path, old_net, old_opt, {.step = 1});
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
          nn::save_checkpoint(path, new_net, new_opt, {.step = step});
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
    for (const auto& p : left) std::filesystem::remove(p);

    nn::Linear loaded(1024, 2048);
    optim::Adam loaded_opt(loaded.parameters());
    nn::CheckpointInfo info;
    CHECK_NOTHROW(info = nn::load_checkpoint(path, loaded, loaded_opt));
    auto values = values_of(loaded);
    CHECK((values == old_values || values == new_values));
    CHECK((values == old_values) == (info.step == 1));
    if (trial == trials - 1) CHECK(values == new_values);
  }
  MESSAGE(trials << " writers killed, " << killed_mid_write << " of them mid-write, "
                 << completed_writes << " saves completed before a kill");
  CHECK(killed_mid_write >= trials / 2 - 1);  // the even trials, give or take a rename
}
