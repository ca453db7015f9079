// checkpoint.h: prefix the dicts and save atomically; load, validate every part, commit. The
// parts check themselves (Module, Optimizer and Scheduler::load_state_dict refuse what does
// not fit before changing anything); this file only checks its own entries and makes the
// whole load all-or-nothing by putting back copies of the old states if a later part fails.
#include <tapegrad/train/checkpoint.h>

#include <charconv>
#include <set>
#include <string_view>

#include <tapegrad/autograd/state_dict.h>
#include <tapegrad/core/error.h>
#include <tapegrad/core/kernels.h>
#include <tapegrad/core/random.h>

namespace tg::train {
namespace {

constexpr const char* kFormatKey = "checkpoint.format";
constexpr const char* kFormat = "tapegrad-checkpoint-2";  // 1: the layout with a checksum
constexpr std::string_view kParts[] = {"model.", "optimizer.", "scheduler."};

// Every failure of a load names the file first.
template <typename... Args>
[[noreturn]] void bad(const std::string& path, fmt::format_string<Args...> format, Args&&... args) {
  fail("load_checkpoint: {}: {}", path, fmt::format(format, std::forward<Args>(args)...));
}

// The file's own entries (not a part's): the format, the counters, the generator, extras.
CheckpointInfo read_info(const std::string& path, const StateDict& file, Generator& rng) {
  if (!file.has(kFormatKey))
    bad(path, "not a tapegrad checkpoint: its metadata has no \"{}\"\nhint: a file written by "
        "tg::save(net.state_dict(), path) is read by net.load_state_dict(tg::load(path))",
        kFormatKey);
  if (file.text(kFormatKey) != kFormat)
    bad(path, "unsupported checkpoint format '{}' (expected '{}')", file.text(kFormatKey), kFormat);
  auto integer = [&](const char* key) {
    if (!file.has(key)) bad(path, "metadata has no \"{}\"", key);
    const std::string& text = file.text(key);
    int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size())
      bad(path, "metadata \"{}\" is '{}', not an integer", key, text);
    return value;
  };
  CheckpointInfo info{.epoch = integer("epoch"), .step = integer("step")};
  if (!file.has("rng")) bad(path, "metadata has no \"rng\"");
  try {
    rng.set_state(file.text("rng"));  // into a copy: the global generator changes last
  } catch (const Error& e) {
    bad(path, "metadata \"rng\": {}", e.what());
  }
  auto in_a_part = [](std::string_view name) {
    for (std::string_view part : kParts)
      if (name.starts_with(part)) return true;
    return false;
  };
  const std::set<std::string> own = {kFormatKey, "epoch", "step", "rng"};
  for (const auto& [key, text] : file.metadata()) {
    if (key.starts_with("extra."))
      info.extra[key.substr(6)] = text;
    else if (!own.contains(key) && !in_a_part(key))
      bad(path, "unexpected metadata key '{}'", key);
  }
  for (const auto& [name, t] : file)
    if (!in_a_part(name))
      bad(path, "unexpected tensor '{}' (checkpoint tensors start with \"model.\", "
          "\"optimizer.\" or \"scheduler.\")", name);
  return info;
}

}  // namespace

void save_checkpoint(const std::string& path, const nn::Module& model,
                     const optim::Optimizer& optimizer, const CheckpointInfo& info,
                     const optim::Scheduler* scheduler) {
  StateDict file;
  file.set(kFormatKey, kFormat);
  file.update(model.state_dict(), "model.");
  file.update(optimizer.state_dict(), "optimizer.");
  if (scheduler) file.update(scheduler->state_dict(), "scheduler.");
  file.set("epoch", fmt::format("{}", info.epoch));  // as text: exact for every int64
  file.set("step", fmt::format("{}", info.step));
  file.set("rng", default_generator().state());
  for (const auto& [key, text] : info.extra) file.set("extra." + key, text);
  save(file, path);  // atomic; its errors name the path
}

CheckpointInfo load_checkpoint(const std::string& path, nn::Module& model,
                               optim::Optimizer& optimizer, optim::Scheduler* scheduler,
                               optim::LoadOptions options) {
  // 1. The file: its structure (the safetensors reader) and its own entries.
  StateDict file;
  try {
    file = load(path);
  } catch (const Error& e) {
    fail("load_checkpoint: {}", e.what());  // the reader's message already names the path
  }
  Generator rng;
  CheckpointInfo info = read_info(path, file, rng);
  StateDict schedule = file.sub("scheduler.");
  if (!scheduler && !schedule.empty())
    bad(path, "the file holds an LR schedule's state (\"scheduler.*\") but no scheduler was "
        "given\nhint: pass the schedule as load_checkpoint's fourth argument");
  if (scheduler && schedule.empty())
    bad(path, "a scheduler was given but the file holds no LR schedule state");

  // 2. Each part checks itself; copies of the old states undo the parts already loaded if a
  // later one is refused.
  StateDict old_model;
  for (const auto& [name, t] : model.state_dict()) old_model.insert(name, kernels::copy(t));
  StateDict old_optimizer = optimizer.state_dict();  // already a deep copy
  StateDict old_schedule = scheduler ? scheduler->state_dict() : StateDict();
  try {
    model.load_state_dict(file.sub("model."));
    optimizer.load_state_dict(file.sub("optimizer."), options);
    if (scheduler) scheduler->load_state_dict(schedule, options);
  } catch (const Error& e) {
    model.load_state_dict(old_model);
    if (scheduler) scheduler->load_state_dict(old_schedule);  // before the optimizer: the
    optimizer.load_state_dict(old_optimizer);                 // optimizer's lr has the last word
    bad(path, "{}", e.what());
  }
  default_generator() = rng;  // 3. commit the last part
  return info;
}

}  // namespace tg::train
