// The layers point one way (DESIGN.md): core <- autograd <- {nn, optim, data} <- train, with
// plot beside core and distributed beside train. This test reads every #include in the
// library's folders and fails when one runs back up or sideways, or uses the in-tree
// spelling "core/x.h" instead of the installed <tapegrad/core/x.h>.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// Which folders each library folder may include (itself always).
const std::map<std::string, std::set<std::string>> kAllowed = {
    {"core", {}},
    {"plot", {"core"}},
    {"autograd", {"core"}},
    {"nn", {"core", "autograd"}},
    {"optim", {"core", "autograd"}},
    {"data", {"core", "autograd"}},
    {"train", {"core", "plot", "autograd", "nn", "optim", "data"}},
    {"distributed", {"core", "autograd", "nn", "data"}},
};

// The violations in one file's text: "<include> (folder X may not include Y)".
std::vector<std::string> violations(const std::string& folder, const std::string& text) {
  static const std::regex include(R"(#\s*include\s*([<"])([^>"]+)[>"])");
  std::vector<std::string> found;
  for (std::sregex_iterator it(text.begin(), text.end(), include), end; it != end; ++it) {
    std::string path = (*it)[2];
    auto slash = path.find('/');
    if (slash == std::string::npos) continue;
    std::string head = path.substr(0, slash);
    if ((*it)[1] == "\"" && kAllowed.count(head)) {
      found.push_back(path + " (use <tapegrad/" + path + ">)");
      continue;
    }
    if (head != "tapegrad") continue;
    std::string rest = path.substr(slash + 1), target = rest.substr(0, rest.find('/'));
    if (rest == "tapegrad.h") {
      found.push_back(path + " (the umbrella header is for users, not the library)");
    } else if (target != folder && !kAllowed.at(folder).count(target)) {
      found.push_back(path + " (" + folder + "/ may not include " + target + "/)");
    }
  }
  return found;
}

}  // namespace

TEST_CASE("layering: the checker sees back-up, sideways and in-tree includes") {
  CHECK(violations("core", "#include <tapegrad/core/shape.h>\n#include <vector>\n").empty());
  CHECK(violations("nn", "#include <tapegrad/autograd/tensor.h>\n").empty());
  CHECK(violations("core", "#include <tapegrad/autograd/node.h>\n").size() == 1);
  CHECK(violations("nn", "#  include <tapegrad/optim/sgd.h>\n").size() == 1);
  CHECK(violations("optim", "#include \"core/error.h\"\n").size() == 1);
  CHECK(violations("data", "#include <tapegrad/tapegrad.h>\n").size() == 1);
}

TEST_CASE("layering: no library include runs back up or sideways") {
  fs::path root = fs::path(TG_TEST_DIR).parent_path();
  int files = 0;
  for (const auto& [folder, allowed] : kAllowed) {
    if (!fs::exists(root / folder)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root / folder)) {
      auto ext = entry.path().extension();
      if (ext != ".h" && ext != ".cpp") continue;
      std::ifstream in(entry.path());
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      ++files;
      for (const std::string& v : violations(folder, text)) {
        std::string where = fs::relative(entry.path(), root).string() + ": " + v;
        FAIL_CHECK(where);
      }
    }
  }
  CHECK(files > 50);  // the tree was found
}
