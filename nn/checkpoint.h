// Training checkpoints: ONE safetensors file with everything needed to resume training bit for
// bit. Tensors: the module's state dict under "model.<name>" and the optimizer's state tensors
// under "optimizer.<key>". Metadata (strings): the optimizer's scalars ("optimizer.<key>"), an
// LR schedule's state ("scheduler.<key>"), the epoch and step counters and the global random
// generator ("checkpoint.*"), and free-form user strings ("extra.<key>").
//
//   nn::save_checkpoint("run.ckpt", net, opt, {.epoch = epoch, .step = step}, &schedule);
//   nn::CheckpointInfo info = nn::load_checkpoint("run.ckpt", net, opt, &schedule);
//
// Saving is atomic (a crash leaves the previous file, whole). Loading checks the whole file
// against the module, optimizer and schedule before changing anything; on any error all of
// them and the random generator are left as they were. (The one nn/ file that sees optim/:
// a checkpoint is where the two meet.)
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <tapegrad/nn/module.h>
#include <tapegrad/optim/lr_scheduler.h>
#include <tapegrad/optim/optimizer.h>

namespace tg::nn {

/// The training progress stored beside the model and the optimizer.
struct CheckpointInfo {
  int64_t epoch = 0;  ///< e.g. completed epochs; stored as given
  int64_t step = 0;   ///< e.g. optimizer steps so far; stored as given
  std::map<std::string, std::string> extra{};  ///< user strings (a run name, the best loss...)
};

/// Writes the module's state dict, the optimizer's state_dict(), the schedule's state (when
/// given), `info` and default_generator().state() to `path`, atomically.
void save_checkpoint(const std::string& path, const Module& module,
                     const optim::Optimizer& optimizer, const CheckpointInfo& info = {},
                     const optim::LRScheduler* scheduler = nullptr);

/// Restores what save_checkpoint wrote into `module`, `optimizer`, `scheduler` (required exactly
/// when the file holds a schedule) and the global generator, and returns the stored info. Every
/// name, shape and value is checked first; on error a tg::Error names the file and the problem,
/// and nothing is changed.
CheckpointInfo load_checkpoint(const std::string& path, Module& module,
                               optim::Optimizer& optimizer,
                               optim::LRScheduler* scheduler = nullptr);

}  // namespace tg::nn
