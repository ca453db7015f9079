// A run's recipe: the options that shape it (declared with .recipe() on its ArgParser), kept
// as text beside the model in its checkpoints. A resumed run takes its checkpoint's recipe:
// options left off the command line get the stored values, and an option given again must
// agree with its stored value unless it may change (the number of epochs to train to, say).
//
//   extra.merge(train::recipe(cli, "recipe."));                            // when saving
//   train::restore_recipe(cli, metadata, path, {.prefix = "extra.recipe.",  // when resuming
//                                               .may_change = {"epochs"}});
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include <tapegrad/train/cli.h>

namespace tg::train {

/// The recipe options' current values as text ("lr" -> "0.001"), keys prefixed by `prefix`.
std::map<std::string, std::string> recipe(const ArgParser& cli, std::string_view prefix = "");

/// The recipe as command-line options, in declaration order ("--epochs 2 --lr 0.001 --augment";
/// false flags are left out): what a log prints to say how a run was made.
std::string recipe_options(const ArgParser& cli);

/// How restore_recipe reads a stored recipe.
struct RestoreOptions {
  std::string prefix{};                ///< the stored keys are prefix + option name
  std::set<std::string> may_change{};  ///< options the command line may set to a new value
};

/// Sets every recipe option not given on the command line to its value in `stored`. Throws
/// UsageError when a given option differs from its stored value (unless it may change), and
/// tg::Error naming `source` when `stored` lacks an option or holds a value it refuses.
void restore_recipe(ArgParser& cli, const std::map<std::string, std::string>& stored,
                    std::string_view source, const RestoreOptions& options = {});

}  // namespace tg::train
