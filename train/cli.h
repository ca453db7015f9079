// Command lines for training programs. Each option is declared once, bound to a variable that
// holds its default, with a help line and its checks; parse() then fills the variables from
// argv. `--name=value` and `--name value` both work; `-h`/`--help` throws HelpRequested with the
// usage text; anything wrong throws UsageError naming the option. guarded_main turns these
// into the exit codes every example shares: 0 for help, 2 for a bad command line, 1 for errors.
//
//   int64_t epochs = 2;  double lr = 0.001;  std::string norm = "none";  bool augment = false;
//   train::ArgParser cli("lenet", "LeNet on CIFAR-10.");
//   cli.add("epochs", epochs, "passes over the training data").min(1);
//   cli.add("lr", lr, "learning rate").above(0);
//   cli.add("norm", norm, "normalisation after each conv").choices({"none", "batchnorm"});
//   cli.add("augment", augment, "random flips and crops");   // a bool is a flag
//   cli.parse(argc, argv);
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <tapegrad/core/error.h>

namespace tg::train {

/// A bad command line (unknown option, bad value): guarded_main prints it and exits with 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

/// Thrown by ArgParser::parse for -h or --help; what() is the usage text.
class HelpRequested : public std::exception {
 public:
  explicit HelpRequested(std::string usage) : usage_(std::move(usage)) {}
  const char* what() const noexcept override { return usage_.c_str(); }

 private:
  std::string usage_;
};

/// One declared option; its methods add checks and return it, so they chain.
class Option {
 public:
  Option& min(double bound);                          ///< value >= bound (numeric options)
  Option& max(double bound);                          ///< value <= bound (numeric options)
  Option& above(double bound);                        ///< value > bound (numeric options)
  Option& below(double bound);                        ///< value < bound (numeric options)
  Option& choices(std::vector<std::string> allowed);  ///< one of these (text options)
  Option& metavar(std::string name);                  ///< the value's name in the usage, e.g. "DIR"
  Option& default_text(std::string text);  ///< the default as the usage tells it ("" hides it)
  Option& recipe();  ///< part of the run's recipe, kept with its checkpoints (see recipe.h)

  const std::string& name() const { return name_; }
  bool is_recipe() const { return recipe_; }
  bool is_flag() const { return std::holds_alternative<bool>(load_()); }

 private:
  friend class ArgParser;
  using Value = std::variant<bool, int64_t, double, std::string>;  // flag, integer, number, text
  struct Bound {
    const char* op;  // ">=", "<=", ">" or "<"
    double value;
  };

  Option(std::string name, std::string help, std::function<Value()> load,
         std::function<void(const Value&)> store);
  Option& bound(const char* op, double value);
  Value parse(const std::string& text) const;  // parses and checks; throws UsageError
  std::string text() const;                    // the current value as text
  std::string usage_left() const;              // "--lr X"
  std::string usage_right() const;             // "learning rate (> 0; default: 0.001)"

  std::string name_, help_, metavar_, default_;
  std::function<Value()> load_;
  std::function<void(const Value&)> store_;
  std::vector<Bound> bounds_;
  std::vector<std::string> choices_;
  bool recipe_ = false, given_ = false;
};

/// A program's options: declare them with add(), then parse(argc, argv).
class ArgParser {
 public:
  /// `program` names the program in the usage; `about` is printed under the usage line.
  ArgParser(std::string program, std::string about = "");

  /// Declares `--name`, bound to `target`; target's value now is the default. A bool is a flag.
  Option& add(const std::string& name, bool& target, const std::string& help);
  Option& add(const std::string& name, int64_t& target, const std::string& help);
  Option& add(const std::string& name, double& target, const std::string& help);
  Option& add(const std::string& name, std::string& target, const std::string& help);

  /// Fills the bound variables from argv[1..argc). Throws HelpRequested for -h/--help and
  /// UsageError for an unknown option, a missing or malformed value, or a failed check.
  void parse(int argc, const char* const* argv);

  /// True when --name was on the command line (not just defaulted).
  bool given(std::string_view name) const;
  /// The option's current value as text ("0.001", "true", "sgd"), what set() reads back.
  std::string text(std::string_view name) const;
  /// Parses, checks and stores `value` as if given on the command line (without marking it given).
  void set(std::string_view name, const std::string& value);
  /// The declared options, in declaration order.
  std::vector<const Option*> options() const;
  /// The help text: usage line, `about`, one line per option.
  std::string usage() const;
  const std::string& program() const { return program_; }

 private:
  Option& declare(std::unique_ptr<Option> option);
  Option& find(std::string_view name) const;  // throws UsageError "unknown option '--name'"

  std::string program_, about_;
  std::vector<std::unique_ptr<Option>> options_;
};

/// The shared main of training programs: returns run(argc, argv), except that HelpRequested
/// prints the usage to stdout and returns 0, UsageError prints "<program>: <reason>" to stderr
/// and returns 2, and any other exception prints "<program>: error: <what>" and returns 1.
/// stdout becomes line-buffered, so a log file follows the run line by line.
int guarded_main(std::string_view program, const std::function<int(int, char**)>& run, int argc,
                 char** argv);

}  // namespace tg::train
