// Tests of recipes: the recipe options as text, restored from a stored recipe with given
// options checked against it, may_change honoured, and refused recipes leaving the parser as it
// was.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include <tapegrad/train/recipe.h>
#include "tests/test_util.h"

namespace {

using tg::test::error_of;
using namespace tg::train;

struct Program {
  int64_t epochs = 2, threads = 1;
  double lr = 0.001;
  std::string norm = "none";
  bool augment = false;
  ArgParser cli{"lenet"};
  Program() {
    cli.add("epochs", epochs, "epochs").min(1).recipe();
    cli.add("lr", lr, "learning rate").above(0).recipe();
    cli.add("norm", norm, "norm").choices({"none", "batchnorm"}).recipe();
    cli.add("augment", augment, "augment").recipe();
    cli.add("threads", threads, "threads").min(1);  // not part of the recipe
  }
  void parse(std::vector<const char*> args) {
    args.insert(args.begin(), "lenet");
    cli.parse(int(args.size()), args.data());
  }
};

const std::map<std::string, std::string> kStored = {{"extra.recipe.epochs", "4"},
                                                    {"extra.recipe.lr", "0.01"},
                                                    {"extra.recipe.norm", "batchnorm"},
                                                    {"extra.recipe.augment", "true"},
                                                    {"extra.other", "x"}};

}  // namespace

TEST_CASE("recipe: the recipe options' values as text, optionally prefixed") {
  Program p;
  p.parse({"--lr", "1e-2", "--augment", "--threads", "2"});
  CHECK(recipe(p.cli) ==
        std::map<std::string, std::string>{
            {"epochs", "2"}, {"lr", "0.01"}, {"norm", "none"}, {"augment", "true"}});
  CHECK(recipe(p.cli, "recipe.").count("recipe.lr") == 1);
  CHECK(recipe_options(p.cli) == "--epochs 2 --lr 0.01 --norm none --augment");
  Program q;
  CHECK(recipe_options(q.cli) == "--epochs 2 --lr 0.001 --norm none");  // a false flag is left out
}

TEST_CASE("restore_recipe fills what the command line left out") {
  Program p;
  p.parse({"--threads", "2"});
  restore_recipe(p.cli, kStored, "run.ckpt", {.prefix = "extra.recipe."});
  CHECK(p.epochs == 4);
  CHECK(p.lr == 0.01);
  CHECK(p.norm == "batchnorm");
  CHECK(p.augment);
  CHECK(p.threads == 2);
}

TEST_CASE("restore_recipe: a given option must agree unless it may change") {
  Program same;
  same.parse({"--lr", "1e-2", "--norm=batchnorm"});  // the same values, written differently
  restore_recipe(same.cli, kStored, "run.ckpt", {.prefix = "extra.recipe."});
  CHECK(same.epochs == 4);

  Program longer;
  longer.parse({"--epochs", "6"});
  restore_recipe(longer.cli, kStored, "run.ckpt",
                 {.prefix = "extra.recipe.", .may_change = {"epochs"}});
  CHECK(longer.epochs == 6);  // the command line's value stays
  CHECK(longer.lr == 0.01);

  Program other;
  other.parse({"--epochs", "6", "--lr", "0.5"});
  std::string message;
  try {
    restore_recipe(other.cli, kStored, "run.ckpt", {.prefix = "extra.recipe."});
  } catch (const UsageError& e) {
    message = e.what();
  }
  CHECK(message ==
        "--epochs 6 differs from the checkpoint's 4 (run.ckpt): a resumed run keeps its recipe");
  CHECK(other.norm == "none");  // nothing restored
}

TEST_CASE("restore_recipe refuses a stored recipe that is incomplete or bad, changing nothing") {
  Program p;
  auto missing = kStored;
  missing.erase("extra.recipe.norm");
  CHECK(error_of([&] {
          restore_recipe(p.cli, missing, "run.ckpt", {.prefix = "extra.recipe."});
        }) == "run.ckpt is not a lenet checkpoint (it stores no extra.recipe.norm)");
  auto bad = kStored;
  bad["extra.recipe.norm"] = "layernorm";
  CHECK(error_of([&] { restore_recipe(p.cli, bad, "run.ckpt", {.prefix = "extra.recipe."}); }) ==
        "run.ckpt: stored recipe extra.recipe.norm is refused: --norm must be one of none, "
        "batchnorm, got 'layernorm'");
  CHECK(p.epochs == 2);  // "epochs" came before "norm" and was rolled back
  CHECK(p.lr == 0.001);
  CHECK_FALSE(p.augment);
}
