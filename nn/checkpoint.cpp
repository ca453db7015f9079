// checkpoint.h on top of the safetensors reader and writer. Loading runs in three phases:
// parse the file (the safetensors decoder checks its structure), check every part against the
// live module, optimizer and schedule, then apply. The apply phase first copies the old state
// and puts it back if an optimizer or schedule still refuses its part (their load_state_dict
// may know rules the generic checks here do not), so an error never leaves a half-loaded run.
#include <tapegrad/nn/checkpoint.h>

#include <fmt/format.h>  // fmt::join

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <set>
#include <string_view>
#include <vector>

#include <tapegrad/autograd/grad_mode.h>
#include <tapegrad/core/atomic_file.h>
#include <tapegrad/core/error.h>
#include <tapegrad/core/kernels.h>
#include <tapegrad/core/random.h>
#include <tapegrad/nn/safetensors.h>

namespace tg::nn {
namespace {

constexpr const char* kFormatKey = "checkpoint.format";
constexpr const char* kFormat = "tapegrad-checkpoint-1";
constexpr const char* kOptimizerKey = "checkpoint.optimizer";  // the optimizer's name ("Adam")
constexpr const char* kEpochKey = "checkpoint.epoch";
constexpr const char* kStepKey = "checkpoint.step";
constexpr const char* kRngKey = "checkpoint.rng";
constexpr const char* kChecksumKey = "checkpoint.checksum";
constexpr std::string_view kModel = "model.", kOptimizer = "optimizer.",
                           kScheduler = "scheduler.", kExtra = "extra.";

// Every failure of a load names the file first.
template <typename... Args>
[[noreturn]] void bad(const std::string& path, fmt::format_string<Args...> format, Args&&... args) {
  fail("load_checkpoint: {}: {}", path, fmt::format(format, std::forward<Args>(args)...));
}

// The shortest decimal string that reads back to the same double ("0.1", "1e-08", "inf").
std::string number_text(double v) { return fmt::format("{}", v); }

// Parses all of `text` as T (int64_t, size_t or double); from_chars ignores the locale.
template <typename T>
bool parse_all(std::string_view text, T& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

// A double that holds a whole number in [0, 2^53] (a count such as a step).
bool is_count(double v) { return v >= 0 && v <= 0x1p53 && std::floor(v) == v; }

// A 64-bit hash of everything the file stores (tensor names, shapes and values, metadata), so
// damage that still parses (a flipped bit in the data, a hand-edited number) is caught too.
// Not cryptographic. Values are hashed as numbers, so it does not depend on byte order.
class Checksum {
 public:
  void add(uint64_t word) {
    h_ = std::rotl(h_ ^ (word * 0x9E3779B97F4A7C15ull), 27) * 0xC2B2AE3D27D4EB4Full + 0x52DCE729u;
  }
  void add(std::string_view text) {
    add(uint64_t(text.size()));
    for (size_t i = 0; i < text.size(); i += 8) {
      uint64_t word = 0;
      for (size_t j = i; j < std::min(i + 8, text.size()); ++j)
        word |= uint64_t(uint8_t(text[j])) << (8 * (j - i));
      add(word);
    }
  }
  void add(const SafetensorsEntry& e) {
    add(std::string_view(e.name));
    add(uint64_t(e.shape.size()));
    for (int64_t d : e.shape) add(uint64_t(d));
    const std::vector<float>& v = e.data;
    add(uint64_t(v.size()));
    size_t i = 0;
    for (; i + 2 <= v.size(); i += 2)  // two floats per word: checksums run at memory speed
      add(uint64_t(std::bit_cast<uint32_t>(v[i])) | uint64_t(std::bit_cast<uint32_t>(v[i + 1])) << 32);
    if (i < v.size()) add(uint64_t(std::bit_cast<uint32_t>(v[i])));
  }
  std::string hex() const { return fmt::format("{:016x}", h_); }

 private:
  uint64_t h_ = 0x243F6A8885A308D3ull;
};

// The checksum of `entries` (in name order, as the file stores them) and every metadata
// entry but the checksum itself.
std::string checksum_of(const std::vector<SafetensorsEntry>& entries,
                        const SafetensorsMetadata& metadata) {
  std::vector<const SafetensorsEntry*> sorted;
  for (const SafetensorsEntry& e : entries) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  Checksum sum;
  for (const SafetensorsEntry* e : sorted) sum.add(*e);
  for (const auto& [key, value] : metadata) {
    if (key == kChecksumKey) continue;
    sum.add(std::string_view(key));
    sum.add(std::string_view(value));
  }
  return sum.hex();
}

// The file's parts, sorted by owner, before anything is applied.
struct Parts {
  StateDict model;
  optim::StateDict optimizer;
  std::map<std::string, double> scheduler;
  std::string optimizer_name, rng;
  CheckpointInfo info;
};

// The format tag first (a weights file from nn::save is the common mix-up), then the checksum.
void check_file(const std::string& path, const std::vector<SafetensorsEntry>& entries,
                const SafetensorsMetadata& metadata) {
  auto format = metadata.find(kFormatKey);
  if (format == metadata.end())
    bad(path, "not a tapegrad checkpoint: its metadata has no \"{}\"\n"
        "hint: files written by nn::save are read by nn::load", kFormatKey);
  if (format->second != kFormat)
    bad(path, "unsupported checkpoint format '{}' (expected '{}')", format->second, kFormat);
  auto stored = metadata.find(kChecksumKey);
  if (stored == metadata.end()) bad(path, "metadata has no \"{}\"", kChecksumKey);
  std::string actual = checksum_of(entries, metadata);
  if (stored->second != actual)
    bad(path, "checksum mismatch: the file says {}, its contents give {} (the file was damaged "
        "or edited after it was written)", stored->second, actual);
}

Parts split(const std::string& path, std::vector<SafetensorsEntry>& entries,
            const SafetensorsMetadata& metadata) {
  Parts parts;
  for (SafetensorsEntry& e : entries) {
    std::string_view name = e.name;
    if (name.starts_with(kModel)) {
      parts.model.insert(std::string(name.substr(kModel.size())), tensor(e.data, e.shape));
    } else if (name.starts_with(kOptimizer)) {
      parts.optimizer.tensors[std::string(name.substr(kOptimizer.size()))] = tensor(e.data, e.shape);
    } else {
      bad(path, "unexpected tensor '{}' (checkpoint tensors start with \"model.\" or "
          "\"optimizer.\")", e.name);
    }
    e.data = {};  // the tensor holds its own copy; free the decoded one now
  }

  auto required = [&](const char* key) -> const std::string& {
    auto it = metadata.find(key);
    if (it == metadata.end()) bad(path, "metadata has no \"{}\"", key);
    return it->second;
  };
  auto number = [&](const std::string& key, const std::string& text) {
    double v = 0;
    if (!parse_all(text, v)) bad(path, "metadata \"{}\" is '{}', not a number", key, text);
    return v;
  };
  parts.optimizer_name = required(kOptimizerKey);
  parts.rng = required(kRngKey);
  if (!parse_all(required(kEpochKey), parts.info.epoch))
    bad(path, "metadata \"{}\" is '{}', not an integer", kEpochKey, required(kEpochKey));
  if (!parse_all(required(kStepKey), parts.info.step))
    bad(path, "metadata \"{}\" is '{}', not an integer", kStepKey, required(kStepKey));

  const std::set<std::string> known = {kFormatKey, kOptimizerKey, kEpochKey,
                                       kStepKey,   kRngKey,       kChecksumKey};
  for (const auto& [key, text] : metadata) {
    std::string_view k = key;
    if (known.contains(key)) continue;
    if (k.starts_with(kOptimizer))
      parts.optimizer.scalars[std::string(k.substr(kOptimizer.size()))] = number(key, text);
    else if (k.starts_with(kScheduler))
      parts.scheduler[std::string(k.substr(kScheduler.size()))] = number(key, text);
    else if (k.starts_with(kExtra))
      parts.info.extra[std::string(k.substr(kExtra.size()))] = text;
    else
      bad(path, "unexpected metadata key '{}'", key);
  }
  return parts;
}

// Names and shapes against the module, all problems in one message (like load_state_dict).
void check_model(const std::string& path, const StateDict& given, const Module& module) {
  StateDict own = module.state_dict();
  std::vector<std::string> missing, unexpected, mismatched;
  for (const auto& [name, mine] : own) {
    const Tensor* t = given.find(name);
    if (!t) missing.push_back(name);
    else if (t->shape() != mine.shape())
      mismatched.push_back(fmt::format("{} expected {}, got {}", name, mine.shape(), t->shape()));
  }
  for (const auto& [name, t] : given)
    if (!own.contains(name)) unexpected.push_back(name);
  std::string problems;
  if (!missing.empty()) problems += fmt::format("\n  missing: {}", fmt::join(missing, ", "));
  if (!unexpected.empty())
    problems += fmt::format("\n  unexpected: {}", fmt::join(unexpected, ", "));
  if (!mismatched.empty())
    problems += fmt::format("\n  shape mismatch: {}", fmt::join(mismatched, "; "));
  if (!problems.empty())
    bad(path, "the model's tensors do not match the {} module:{}", module.name(), problems);
}

// Splits "state.<i>.<rest>" into i and rest.
bool state_key(const std::string& key, size_t& index, std::string& rest) {
  std::string_view k = key;
  if (!k.starts_with("state.")) return false;
  k.remove_prefix(6);
  size_t dot = k.find('.');
  if (dot == std::string_view::npos || dot + 1 == k.size()) return false;
  rest = std::string(k.substr(dot + 1));
  return parse_all(k.substr(0, dot), index);
}

// The generic optimizer layout (optimizer.h): group structure, per-parameter state shapes,
// counts that are whole numbers. Method-specific keys are checked against the optimizer's own
// current state where it has them, and by its load_state_dict otherwise.
void check_optimizer(const std::string& path, const Parts& parts,
                     const optim::Optimizer& optimizer, const optim::StateDict& current) {
  if (parts.optimizer_name != optimizer.name())
    bad(path, "the optimizer state is {}'s, the optimizer is {}", parts.optimizer_name,
        optimizer.name());
  const optim::StateDict& given = parts.optimizer;
  std::vector<Tensor> params = optimizer.parameters();

  for (const auto& [key, value] : current.scalars) {
    if (!key.starts_with("param_groups")) continue;
    auto it = given.scalars.find(key);
    if (it == given.scalars.end()) bad(path, "optimizer state has no \"{}\"", key);
    if (key.ends_with(".lr")) {
      if (!(std::isfinite(it->second) && it->second >= 0))
        bad(path, "optimizer \"{}\" is {}, expected a finite rate >= 0", key, it->second);
    } else if (it->second != value) {
      bad(path, "optimizer \"{}\" is {}, the optimizer has {} (a different parameter layout)",
          key, it->second, value);
    }
  }
  size_t index = 0;
  std::string rest;
  for (const auto& [key, value] : given.scalars) {
    if (key.starts_with("param_groups")) {
      if (!current.scalars.contains(key)) bad(path, "unexpected optimizer entry \"{}\"", key);
    } else if (key.starts_with("state.")) {
      if (!state_key(key, index, rest)) bad(path, "malformed optimizer entry \"{}\"", key);
      if (index >= params.size())
        bad(path, "optimizer entry \"{}\" names parameter {}, but the optimizer has {}", key,
            index, params.size());
      if (rest == "step" && !is_count(value))
        bad(path, "optimizer \"{}\" is {}, expected a whole number >= 0", key, value);
    } else if (current.tensors.contains(key)) {
      bad(path, "optimizer entry \"{}\" is a number here but a tensor in the optimizer", key);
    }
  }
  for (const auto& [key, t] : given.tensors) {
    if (key.starts_with("state.")) {
      if (!state_key(key, index, rest)) bad(path, "malformed optimizer entry \"{}\"", key);
      if (index >= params.size())
        bad(path, "optimizer tensor \"{}\" names parameter {}, but the optimizer has {}", key,
            index, params.size());
      if (t.shape() != params[index].shape())
        bad(path, "optimizer tensor \"{}\" has shape {}, parameter {} has shape {}", key,
            t.shape(), index, params[index].shape());
    } else if (key.starts_with("param_groups") || current.scalars.contains(key)) {
      bad(path, "optimizer entry \"{}\" is a tensor here but a number in the optimizer", key);
    } else if (auto it = current.tensors.find(key);
               it != current.tensors.end() && it->second.shape() != t.shape()) {
      bad(path, "optimizer tensor \"{}\" has shape {}, the optimizer's has {}", key, t.shape(),
          it->second.shape());
    }
  }
}

void check_scheduler(const std::string& path, const Parts& parts,
                     const optim::LRScheduler* scheduler) {
  if (!scheduler) {
    if (!parts.scheduler.empty())
      bad(path, "the file holds an LR schedule's state (\"scheduler.*\") but no scheduler was "
          "given\nhint: pass the schedule as load_checkpoint's last argument");
    return;
  }
  if (parts.scheduler.empty())
    bad(path, "a scheduler was given but the file holds no LR schedule state");
  std::map<std::string, double> own = scheduler->state_dict();
  for (const auto& [key, value] : own)
    if (!parts.scheduler.contains(key)) bad(path, "scheduler state has no \"{}\"", key);
  for (const auto& [key, value] : parts.scheduler) {
    if (!own.contains(key)) bad(path, "unexpected scheduler entry \"{}\"", key);
    if (key == "last_epoch" && !is_count(value))
      bad(path, "scheduler \"last_epoch\" is {}, expected a whole number >= 0", value);
    if (key != "last_epoch" && !(std::isfinite(value) && value >= 0))
      bad(path, "scheduler \"{}\" is {}, expected a finite rate >= 0", key, value);
  }
}

}  // namespace

void save_checkpoint(const std::string& path, const Module& module,
                     const optim::Optimizer& optimizer, const CheckpointInfo& info,
                     const optim::LRScheduler* scheduler) {
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, t] : module.state_dict())
    entries.push_back({std::string(kModel) + name, t.shape(), t.to_vector()});
  optim::StateDict state = optimizer.state_dict();
  for (const auto& [key, t] : state.tensors)
    entries.push_back({std::string(kOptimizer) + key, t.shape(), t.to_vector()});

  SafetensorsMetadata metadata{{kFormatKey, kFormat},
                               {kOptimizerKey, optimizer.name()},
                               {kEpochKey, fmt::format("{}", info.epoch)},
                               {kStepKey, fmt::format("{}", info.step)},
                               {kRngKey, default_generator().state()}};
  for (const auto& [key, value] : state.scalars)
    metadata[std::string(kOptimizer) + key] = number_text(value);
  if (scheduler)
    for (const auto& [key, value] : scheduler->state_dict())
      metadata[std::string(kScheduler) + key] = number_text(value);
  for (const auto& [key, text] : info.extra) metadata[std::string(kExtra) + key] = text;
  metadata[kChecksumKey] = checksum_of(entries, metadata);
  try {
    save_safetensors(path, entries, metadata);
  } catch (const Error& e) {
    fail("save_checkpoint: {}: {}", path, e.what());
  }
}

CheckpointInfo load_checkpoint(const std::string& path, Module& module,
                               optim::Optimizer& optimizer, optim::LRScheduler* scheduler) {
  // 1. Structure: the decoder's messages already name the file.
  SafetensorsMetadata metadata;
  std::vector<SafetensorsEntry> entries;
  try {
    entries = decode_safetensors(read_file(path), path, &metadata);
  } catch (const Error& e) {
    fail("load_checkpoint: {}", e.what());
  }

  check_file(path, entries, metadata);

  // 2. Every part against what it will be loaded into.
  Parts parts = split(path, entries, metadata);
  check_model(path, parts.model, module);
  optim::StateDict old_optimizer = optimizer.state_dict();  // also kept for a rollback
  check_optimizer(path, parts, optimizer, old_optimizer);
  check_scheduler(path, parts, scheduler);
  Generator rng;
  try {
    rng.set_state(parts.rng);
  } catch (const Error& e) {
    bad(path, "metadata \"{}\": {}", kRngKey, e.what());
  }

  // 3. Apply, with the old state at hand in case a part is still refused.
  StateDict old_model;
  {
    NoGradGuard no_grad;
    for (const auto& [name, t] : module.state_dict()) old_model.insert(name, kernels::copy(t));
  }
  std::map<std::string, double> old_scheduler;
  if (scheduler) old_scheduler = scheduler->state_dict();
  try {
    module.load_state_dict(parts.model);
    optimizer.load_state_dict(parts.optimizer);
    if (scheduler) scheduler->load_state_dict(parts.scheduler);
  } catch (const Error& e) {
    module.load_state_dict(old_model);
    if (scheduler) scheduler->load_state_dict(old_scheduler);  // before the optimizer: the
    optimizer.load_state_dict(old_optimizer);                  // optimizer's lr has the last word
    bad(path, "{}", e.what());
  }
  default_generator() = rng;
  return parts.info;
}

}  // namespace tg::nn
