// Training checkpoints: one safetensors file holding everything needed to resume training bit
// for bit. It is the state dicts of the model, the optimizer and the LR schedule under the
// prefixes "model.", "optimizer." and "scheduler." (any optim::Scheduler: a closed-form
// LRScheduler or ReduceLROnPlateau), plus "epoch", "step", the global random
// generator ("rng") and user strings ("extra.<key>"):
//
//   train::save_checkpoint("run.ckpt", net, opt, {.epoch = epoch, .step = step}, &schedule);
//   train::CheckpointInfo info = train::load_checkpoint("run.ckpt", net, opt, &schedule);
//
// Saving is atomic (a crash leaves the previous file, whole). Loading validates every part
// (each load_state_dict checks before it changes anything, the generator state is parsed into
// a copy) and keeps copies of the old states: if any part is refused, the others are put back,
// so an error never leaves a half-loaded run.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <tapegrad/nn/module.h>
#include <tapegrad/optim/lr_scheduler.h>
#include <tapegrad/optim/optimizer.h>

namespace tg::train {

/// The training progress stored beside the model and the optimizer.
struct CheckpointInfo {
  int64_t epoch = 0;  ///< e.g. completed epochs; stored as given
  int64_t step = 0;   ///< e.g. optimizer steps so far; stored as given
  std::map<std::string, std::string> extra{};  ///< user strings (a run name, the best loss...)
};

/// Writes the model's, the optimizer's and (when given) the schedule's state dicts, `info` and
/// default_generator().state() to `path`, atomically.
void save_checkpoint(const std::string& path, const nn::Module& model,
                     const optim::Optimizer& optimizer, const CheckpointInfo& info = {},
                     const optim::Scheduler* scheduler = nullptr);

/// Restores what save_checkpoint wrote into `model`, `optimizer`, `scheduler` (required exactly
/// when the file holds a schedule) and the global generator, and returns the stored info.
/// `options` go to the optimizer's and the schedule's load_state_dict. On error a tg::Error
/// names the file and the problem, and nothing is changed.
CheckpointInfo load_checkpoint(const std::string& path, nn::Module& model,
                               optim::Optimizer& optimizer, optim::Scheduler* scheduler = nullptr,
                               optim::LoadOptions options = {});

}  // namespace tg::train
