// Recipes: the ArgParser's recipe options saved as text and restored, with conflicts refused.
#include <tapegrad/train/recipe.h>

#include <fmt/format.h>

namespace tg::train {

std::map<std::string, std::string> recipe(const ArgParser& cli, std::string_view prefix) {
  std::map<std::string, std::string> values;
  for (const Option* o : cli.options())
    if (o->is_recipe()) values[std::string(prefix) + o->name()] = cli.text(o->name());
  return values;
}

std::string recipe_options(const ArgParser& cli) {
  std::string text;
  for (const Option* o : cli.options()) {
    if (!o->is_recipe()) continue;
    std::string value = cli.text(o->name());
    if (o->is_flag() && value == "false") continue;
    text += (text.empty() ? "--" : " --") + o->name();
    if (!o->is_flag()) text += " " + value;
  }
  return text;
}

void restore_recipe(ArgParser& cli, const std::map<std::string, std::string>& stored,
                    std::string_view source, const RestoreOptions& options) {
  // Check everything before changing anything: a refused recipe leaves the parser as it was.
  std::map<std::string, std::string> take;
  for (const Option* o : cli.options()) {
    if (!o->is_recipe()) continue;
    const std::string& name = o->name();
    auto it = stored.find(options.prefix + name);
    check(it != stored.end(), "{} is not a {} checkpoint (it stores no {}{})", source,
          cli.program(), options.prefix, name);
    std::string now = cli.text(name);
    if (!cli.given(name)) {
      take[name] = it->second;
    } else if (now != it->second && !options.may_change.count(name)) {
      throw UsageError(fmt::format(
          "--{} {} differs from the checkpoint's {} ({}): a resumed run keeps its recipe", name,
          now, it->second, source));
    }
  }
  std::map<std::string, std::string> old;
  for (const auto& [name, value] : take) old[name] = cli.text(name);
  for (const auto& [name, value] : take) {
    try {
      cli.set(name, value);
    } catch (const Error& e) {
      for (const auto& [n, v] : old) cli.set(n, v);
      fail("{}: stored recipe {}{} is refused: {}", source, options.prefix, name, e.what());
    }
  }
}

}  // namespace tg::train
