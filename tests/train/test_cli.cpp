// Tests of the command-line helper: typed options with defaults, both `--name=value` and
// `--name value`, flags, -h/--help, every usage error's message, and guarded_main's exit codes.
#include <doctest/doctest.h>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <tapegrad/train/cli.h>
#include "tests/test_util.h"

namespace {

using tg::test::error_of;
using namespace tg::train;

// The options of a small training program, bound to these variables.
struct Program {
  int64_t epochs = 2;
  double lr = 0.001, momentum = 0.9;
  std::string norm = "none", data = "datasets";
  bool augment = false;
  ArgParser cli{"trainer", "Trains a small network."};

  Program() {
    cli.add("epochs", epochs, "passes over the data").min(1);
    cli.add("lr", lr, "learning rate").above(0);
    cli.add("momentum", momentum, "momentum factor").min(0).below(1);
    cli.add("norm", norm, "normalisation").choices({"none", "batchnorm"});
    cli.add("data", data, "data folder").metavar("DIR");
    cli.add("augment", augment, "random flips");
  }
  void parse(std::vector<const char*> args) {
    args.insert(args.begin(), "trainer");
    cli.parse(int(args.size()), args.data());
  }
  std::string usage_error(std::vector<const char*> args) {
    try {
      parse(std::move(args));
    } catch (const UsageError& e) {
      return e.what();
    }
    return "(no usage error)";
  }
};

// Redirects std::cout and std::cerr into strings while alive.
struct Captured {
  std::ostringstream out, err;
  std::streambuf *old_out = std::cout.rdbuf(out.rdbuf()), *old_err = std::cerr.rdbuf(err.rdbuf());
  ~Captured() {
    std::cout.rdbuf(old_out);
    std::cerr.rdbuf(old_err);
  }
};

}  // namespace

TEST_CASE("ArgParser keeps the defaults when nothing is given") {
  Program p;
  p.parse({});
  CHECK(p.epochs == 2);
  CHECK(p.lr == 0.001);
  CHECK(p.norm == "none");
  CHECK_FALSE(p.augment);
  CHECK_FALSE(p.cli.given("lr"));
}

TEST_CASE("ArgParser reads --name=value and --name value alike") {
  Program a, b;
  a.parse({"--epochs=5", "--lr=1e-2", "--norm=batchnorm", "--data=/tmp/x", "--augment"});
  b.parse(
      {"--epochs", "5", "--lr", "1e-2", "--norm", "batchnorm", "--data", "/tmp/x", "--augment"});
  for (Program* p : {&a, &b}) {
    CHECK(p->epochs == 5);
    CHECK(p->lr == 0.01);
    CHECK(p->norm == "batchnorm");
    CHECK(p->data == "/tmp/x");
    CHECK(p->augment);
    CHECK(p->cli.given("epochs"));
    CHECK_FALSE(p->cli.given("momentum"));
  }
  Program c;  // a value may start with a dash, and the last occurrence wins
  int64_t seed = 0;
  c.cli.add("seed", seed, "seed");
  c.parse({"--seed", "-3", "--epochs", "3", "--epochs=4"});
  CHECK(seed == -3);
  CHECK(c.epochs == 4);
}

TEST_CASE("ArgParser: text() and set() read and write values as text") {
  Program p;
  CHECK(p.cli.text("lr") == "0.001");
  CHECK(p.cli.text("epochs") == "2");
  CHECK(p.cli.text("augment") == "false");
  CHECK(p.cli.text("norm") == "none");
  p.cli.set("lr", "0.5");
  p.cli.set("augment", "true");
  CHECK(p.lr == 0.5);
  CHECK(p.augment);
  CHECK_FALSE(p.cli.given("lr"));  // set() is not the command line
  CHECK(error_of([&] { p.cli.set("augment", "1"); }) ==
        "--augment is a flag: expected true or false, got '1'");
  CHECK(error_of([&] { p.cli.set("momentum", "1"); }) == "--momentum must be < 1, got 1");
}

TEST_CASE("ArgParser: -h and --help throw HelpRequested with the usage") {
  for (const char* flag : {"-h", "--help"}) {
    Program p;
    std::string usage;
    try {
      p.parse({"--epochs", "3", flag, "--bogus"});
    } catch (const HelpRequested& h) {
      usage = h.what();
    }
    CHECK(usage == p.cli.usage());
  }
  Program p;
  CHECK(p.cli.usage() ==
        "usage: trainer [options]\n"
        "\n"
        "Trains a small network.\n"
        "\n"
        "options:\n"
        "  --epochs N             passes over the data (>= 1; default: 2)\n"
        "  --lr X                 learning rate (> 0; default: 0.001)\n"
        "  --momentum X           momentum factor (>= 0; < 1; default: 0.9)\n"
        "  --norm none|batchnorm  normalisation (default: none)\n"
        "  --data DIR             data folder (default: datasets)\n"
        "  --augment              random flips\n"
        "  -h, --help             print this help and exit\n");
}

TEST_CASE("ArgParser: the usage may tell the default in words, or hide it") {
  ArgParser cli("airfoil");
  double lr = 0;
  std::string out = "results";
  cli.add("lr", lr, "learning rate").above(0).default_text("the method's");
  cli.add("out", out, "output folder").default_text("");
  CHECK(cli.usage() ==
        "usage: airfoil [options]\n"
        "\n"
        "options:\n"
        "  --lr X      learning rate (> 0; default: the method's)\n"
        "  --out TEXT  output folder\n"
        "  -h, --help  print this help and exit\n");
}

TEST_CASE("ArgParser: every usage error names the option and the value") {
  Program p;
  CHECK(p.usage_error({"--bogus"}) == "unknown option '--bogus'");
  CHECK(p.usage_error({"--bogus=3"}) == "unknown option '--bogus'");
  CHECK(p.usage_error({"-x"}) == "unknown option '-x'");
  CHECK(p.usage_error({"--"}) == "unknown option '--'");
  CHECK(p.usage_error({"extra"}) == "unexpected argument 'extra' (options start with --)");
  CHECK(p.usage_error({"--lr"}) == "--lr needs a value");
  CHECK(p.usage_error({"--epochs", "2.5"}) == "--epochs expects an integer, got '2.5'");
  CHECK(p.usage_error({"--epochs="}) == "--epochs expects an integer, got ''");
  CHECK(p.usage_error({"--epochs", "99999999999999999999"}) ==
        "--epochs expects an integer, got '99999999999999999999'");
  CHECK(p.usage_error({"--lr", "fast"}) == "--lr expects a finite number, got 'fast'");
  CHECK(p.usage_error({"--lr", "0.1x"}) == "--lr expects a finite number, got '0.1x'");
  CHECK(p.usage_error({"--lr", "inf"}) == "--lr expects a finite number, got 'inf'");
  CHECK(p.usage_error({"--lr", "nan"}) == "--lr expects a finite number, got 'nan'");
  CHECK(p.usage_error({"--epochs", "0"}) == "--epochs must be >= 1, got 0");
  CHECK(p.usage_error({"--lr", "0"}) == "--lr must be > 0, got 0");
  CHECK(p.usage_error({"--momentum", "1"}) == "--momentum must be < 1, got 1");
  CHECK(p.usage_error({"--momentum=-0.1"}) == "--momentum must be >= 0, got -0.1");
  CHECK(p.usage_error({"--norm", "layernorm"}) ==
        "--norm must be one of none, batchnorm, got 'layernorm'");
  CHECK(p.usage_error({"--augment=1"}) ==
        "--augment is a flag: it takes no value, got '--augment=1'");
  CHECK(p.usage_error({"--epochs", "3"}) == "(no usage error)");
  Program q;  // max() is inclusive
  int64_t pad = 2;
  q.cli.add("pad", pad, "padding").max(16);
  CHECK(q.usage_error({"--pad", "16"}) == "(no usage error)");
  CHECK(q.usage_error({"--pad", "17"}) == "--pad must be <= 16, got 17");
  // Unknown names asked of the parser are usage errors too.
  CHECK(error_of([&] { (void)q.cli.given("nope"); }) == "unknown option '--nope'");
}

TEST_CASE("ArgParser refuses badly declared options") {
  Program p;
  int64_t n = 0;
  std::string s;
  double x = 0;
  CHECK(error_of([&] { p.cli.add("epochs", n, "again"); }) ==
        "ArgParser: --epochs is declared twice");
  CHECK(error_of([&] { p.cli.add("--n", n, "dashes"); }) ==
        "ArgParser: bad option name '--n' (give it without dashes, e.g. \"lr\" for --lr)");
  CHECK(error_of([&] {
          p.cli.add("a=b", n, "equals");
        }).starts_with("ArgParser: bad option name 'a=b'"));
  CHECK(error_of([&] { p.cli.add("help", n, "mine"); }) == "ArgParser: --help is built in");
  CHECK(error_of([&] { p.cli.add("name", s, "text").min(1); }) ==
        "ArgParser: --name: a bound (>= 1) applies to numeric options only");
  CHECK(error_of([&] { p.cli.add("x", x, "number").choices({"a"}); }) ==
        "ArgParser: --x: choices apply to text options only");
  CHECK(error_of([&] { p.cli.add("t", s, "text").choices({}); }) ==
        "ArgParser: --t: the list of choices is empty");
}

TEST_CASE("guarded_main: exit codes 0 (help), 2 (usage), 1 (failure), else run's own") {
  char name[] = "trainer", help[] = "--help", bad[] = "--epochs=0";
  char* with_help[] = {name, help};
  char* with_bad[] = {name, bad};
  auto run = [](int argc, char** argv) {
    Program p;
    p.cli.parse(argc, argv);
    if (p.epochs == 2)
      tg::fail("cifar10: data_batch_1.bin is 12 bytes, expected a multiple of 3073");
    return 7;
  };
  {
    Captured c;
    CHECK(guarded_main("trainer", run, 2, with_help) == 0);
    CHECK(c.out.str() == Program().cli.usage());
    CHECK(c.err.str().empty());
  }
  {
    Captured c;
    CHECK(guarded_main("trainer", run, 2, with_bad) == 2);
    CHECK(c.err.str() == "trainer: --epochs must be >= 1, got 0 (see --help)\n");
  }
  {
    Captured c;
    CHECK(guarded_main("trainer", run, 1, with_help) == 1);
    CHECK(c.err.str() ==
          "trainer: error: cifar10: data_batch_1.bin is 12 bytes, expected a multiple of 3073\n");
  }
  {
    Captured c;
    CHECK(guarded_main(
              "trainer", [](int, char**) -> int { throw 42; }, 1, with_help) == 1);
    CHECK(c.err.str() == "trainer: error: an exception that is not a std::exception\n");
  }
  {
    Captured c;
    char epochs[] = "--epochs=3";
    char* ok[] = {name, epochs};
    CHECK(guarded_main("trainer", run, 2, ok) == 7);
    CHECK(c.err.str().empty());
  }
}
