// Saving and loading a module's state dict as a safetensors file, the format
// PyTorch users share weights in: `nn::save(net, "net.safetensors")` writes
// every parameter and buffer by dotted name; `nn::load(net, path)` reads them back.
#pragma once

#include <string>

#include <tapegrad/nn/module.h>

namespace tg::nn {

/// Writes module.state_dict() to `path` as F32 safetensors, atomically: a crash or an error
/// leaves the old file (or none) in place, never a half-written one.
void save(const Module& module, const std::string& path);

/// Reads `path` and loads it into `module`. Names and shapes are checked against the module
/// first (missing and unexpected names only when `strict`); on any error, including a corrupt
/// file, a tg::Error names the path and the module is unchanged.
void load(Module& module, const std::string& path, bool strict = true);

}  // namespace tg::nn
