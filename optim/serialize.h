// Saving and loading an optimizer's (or any) StateDict as a safetensors file: the tensors
// become F32 entries under their keys, the scalars go to the file's "__metadata__" as
// shortest round-trip decimal strings, so a save/load cycle is exact to the bit.
//   optim::save(opt.state_dict(), "adam.safetensors");  opt.load_state_dict(optim::load(path));
#pragma once

#include <string>

#include <tapegrad/optim/optimizer.h>

namespace tg::optim {

/// Writes `dict` to `path` atomically (the old file, or none, survives any error).
void save(const StateDict& dict, const std::string& path);

/// Reads a file written by save(); throws tg::Error naming the path on a bad file.
StateDict load(const std::string& path);

}  // namespace tg::optim
