// ArgParser: typed options with defaults and checks, parsed from argv; guarded_main maps help,
// usage errors and failures to the exit codes 0, 2 and 1.
#include <tapegrad/train/cli.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>

namespace tg::train {

namespace {

// "1e-3" -> 0.001; the whole text must be a finite number.
std::optional<double> to_number(const std::string& text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

std::optional<int64_t> to_integer(const std::string& text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

bool holds(double v, const char* op, double bound) {
  std::string_view o = op;
  return o == ">=" ? v >= bound : o == "<=" ? v <= bound : o == ">" ? v > bound : v < bound;
}

}  // namespace

// ---- Option ------------------------------------------------------------------------------------

Option::Option(std::string name, std::string help, std::function<Value()> load,
               std::function<void(const Value&)> store)
    : name_(std::move(name)),
      help_(std::move(help)),
      load_(std::move(load)),
      store_(std::move(store)) {
  default_ = text();
  Value v = load_();
  metavar_ = std::holds_alternative<int64_t>(v)  ? "N"
             : std::holds_alternative<double>(v) ? "X"
                                                 : "TEXT";
}

Option& Option::bound(const char* op, double value) {
  Value v = load_();
  check(std::holds_alternative<int64_t>(v) || std::holds_alternative<double>(v),
        "ArgParser: --{}: a bound ({} {}) applies to numeric options only", name_, op, value);
  bounds_.push_back({op, value});
  return *this;
}
Option& Option::min(double bound_value) { return bound(">=", bound_value); }
Option& Option::max(double bound_value) { return bound("<=", bound_value); }
Option& Option::above(double bound_value) { return bound(">", bound_value); }
Option& Option::below(double bound_value) { return bound("<", bound_value); }

Option& Option::choices(std::vector<std::string> allowed) {
  check(std::holds_alternative<std::string>(load_()),
        "ArgParser: --{}: choices apply to text options only", name_);
  check(!allowed.empty(), "ArgParser: --{}: the list of choices is empty", name_);
  choices_ = std::move(allowed);
  metavar_ = fmt::format("{}", fmt::join(choices_, "|"));
  return *this;
}

Option& Option::metavar(std::string name) {
  metavar_ = std::move(name);
  return *this;
}

Option& Option::default_text(std::string text) {
  default_ = std::move(text);
  return *this;
}

Option& Option::recipe() {
  recipe_ = true;
  return *this;
}

Option::Value Option::parse(const std::string& text) const {
  Value current = load_();
  if (std::holds_alternative<bool>(current)) {
    if (text == "true" || text == "false") return text == "true";
    throw UsageError(fmt::format("--{} is a flag: expected true or false, got '{}'", name_, text));
  }
  if (std::holds_alternative<std::string>(current)) {
    if (!choices_.empty() && std::find(choices_.begin(), choices_.end(), text) == choices_.end())
      throw UsageError(
          fmt::format("--{} must be one of {}, got '{}'", name_, fmt::join(choices_, ", "), text));
    return text;
  }
  Value v;
  double number = 0;
  if (std::holds_alternative<int64_t>(current)) {
    std::optional<int64_t> i = to_integer(text);
    if (!i) throw UsageError(fmt::format("--{} expects an integer, got '{}'", name_, text));
    v = *i, number = double(*i);
  } else {
    std::optional<double> x = to_number(text);
    if (!x) throw UsageError(fmt::format("--{} expects a finite number, got '{}'", name_, text));
    v = *x, number = *x;
  }
  for (const Bound& b : bounds_)
    if (!holds(number, b.op, b.value))
      throw UsageError(fmt::format("--{} must be {} {}, got {}", name_, b.op, b.value, text));
  return v;
}

std::string Option::text() const {
  return std::visit(
      [](const auto& v) -> std::string {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, bool>)
          return v ? "true" : "false";
        else
          return fmt::format("{}", v);
      },
      load_());
}

std::string Option::usage_left() const {
  return is_flag() ? "--" + name_ : fmt::format("--{} {}", name_, metavar_);
}

std::string Option::usage_right() const {
  std::vector<std::string> notes;
  for (const Bound& b : bounds_) notes.push_back(fmt::format("{} {}", b.op, b.value));
  if (!is_flag() && !default_.empty()) notes.push_back("default: " + default_);
  if (notes.empty()) return help_;
  return fmt::format("{} ({})", help_, fmt::join(notes, "; "));
}

// ---- ArgParser ---------------------------------------------------------------------------------

ArgParser::ArgParser(std::string program, std::string about)
    : program_(std::move(program)), about_(std::move(about)) {}

Option& ArgParser::declare(std::unique_ptr<Option> option) {
  const std::string& name = option->name();
  check(!name.empty() && name[0] != '-' && name.find('=') == std::string::npos,
        "ArgParser: bad option name '{}' (give it without dashes, e.g. \"lr\" for --lr)", name);
  check(name != "help", "ArgParser: --help is built in");
  for (const auto& o : options_)
    check(o->name() != name, "ArgParser: --{} is declared twice", name);
  options_.push_back(std::move(option));
  return *options_.back();
}

Option& ArgParser::add(const std::string& name, bool& target, const std::string& help) {
  return declare(std::unique_ptr<Option>(new Option(
      name, help, [&target] { return target; },
      [&target](const Option::Value& v) { target = std::get<bool>(v); })));
}
Option& ArgParser::add(const std::string& name, int64_t& target, const std::string& help) {
  return declare(std::unique_ptr<Option>(new Option(
      name, help, [&target] { return target; },
      [&target](const Option::Value& v) { target = std::get<int64_t>(v); })));
}
Option& ArgParser::add(const std::string& name, double& target, const std::string& help) {
  return declare(std::unique_ptr<Option>(new Option(
      name, help, [&target] { return target; },
      [&target](const Option::Value& v) { target = std::get<double>(v); })));
}
Option& ArgParser::add(const std::string& name, std::string& target, const std::string& help) {
  return declare(std::unique_ptr<Option>(new Option(
      name, help, [&target] { return target; },
      [&target](const Option::Value& v) { target = std::get<std::string>(v); })));
}

Option& ArgParser::find(std::string_view name) const {
  for (const auto& o : options_)
    if (o->name() == name) return *o;
  throw UsageError(fmt::format("unknown option '--{}'", name));
}

void ArgParser::parse(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") throw HelpRequested(usage());
    if (!arg.starts_with("--") || arg == "--") {
      if (arg.starts_with("-")) throw UsageError(fmt::format("unknown option '{}'", arg));
      throw UsageError(fmt::format("unexpected argument '{}' (options start with --)", arg));
    }
    size_t eq = arg.find('=');
    std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    Option& option = find(name);
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      if (option.is_flag())
        throw UsageError(fmt::format("--{} is a flag: it takes no value, got '{}'", name, arg));
    } else if (option.is_flag()) {
      value = "true";
    } else {
      if (i + 1 >= argc) throw UsageError(fmt::format("--{} needs a value", name));
      value = argv[++i];
    }
    option.store_(option.parse(value));
    option.given_ = true;
  }
}

bool ArgParser::given(std::string_view name) const { return find(name).given_; }

std::string ArgParser::text(std::string_view name) const { return find(name).text(); }

void ArgParser::set(std::string_view name, const std::string& value) {
  Option& option = find(name);
  option.store_(option.parse(value));
}

std::vector<const Option*> ArgParser::options() const {
  std::vector<const Option*> v;
  for (const auto& o : options_) v.push_back(o.get());
  return v;
}

std::string ArgParser::usage() const {
  std::string s = fmt::format("usage: {} [options]\n", program_);
  if (!about_.empty()) s += "\n" + about_ + (about_.ends_with('\n') ? "" : "\n");
  s += "\noptions:\n";
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& o : options_) rows.emplace_back(o->usage_left(), o->usage_right());
  rows.emplace_back("-h, --help", "print this help and exit");
  size_t width = 0;
  for (const auto& [left, right] : rows) width = std::max(width, left.size());
  width = std::min<size_t>(width, 24);
  for (const auto& [left, right] : rows) {
    if (left.size() > width)  // a long left column gets its own line
      s += fmt::format("  {}\n  {:{}}  {}\n", left, "", width, right);
    else
      s += fmt::format("  {:{}}  {}\n", left, width, right);
  }
  return s;
}

// ---- guarded_main ------------------------------------------------------------------------------

int guarded_main(std::string_view program, const std::function<int(int, char**)>& run, int argc,
                 char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  try {
    return run(argc, argv);
  } catch (const HelpRequested& help) {
    std::cout << help.what() << std::flush;
    return 0;
  } catch (const UsageError& e) {
    std::cout << std::flush;
    std::cerr << program << ": " << e.what() << " (see --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cout << std::flush;  // what the run printed comes before the error
    std::fflush(stdout);
    std::cerr << program << ": error: " << e.what() << "\n";
    return 1;
  } catch (...) {
    std::cout << std::flush;
    std::fflush(stdout);
    std::cerr << program << ": error: an exception that is not a std::exception\n";
    return 1;
  }
}

}  // namespace tg::train
