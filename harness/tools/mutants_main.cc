// crashgate-mutants: prints the mutants of C++ source files as JSON
// (crashgate.mutants/1). `crashgate mutate` runs it; it is its own program so
// that crashgate itself does not load libclang at every start.
//   crashgate-mutants [--root DIR] [--rules R,...] [-- COMPILER ARGS...] FILE...
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "crashgate/mutant.h"
#include "mutant_finder.h"

namespace {

constexpr const char* kUsage =
    "usage: crashgate-mutants [--root DIR] [--rules R,...] FILE... [-- COMPILER ARGS...]\n"
    "Prints every mutant of each C++ FILE as JSON (schema crashgate.mutants/1) on stdout.\n"
    "  --root DIR     paths in the output are relative to DIR (default: the current directory)\n"
    "  --rules R,...  only these rules (default: all)\n"
    "  -- ARGS        compiler arguments for parsing: -std=c++20, -I DIR, -D NAME...\n"
    "Exit status: 0 mutants printed, 2 usage or a file that does not parse.\n";

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<std::string> files, compiler;
  std::string root = fs::current_path().string();
  std::set<crashgate::MutationRule> only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      compiler.assign(argv + i + 1, argv + argc);
      break;
    }
    if (a == "-h" || a == "--help") {
      std::cout << kUsage << "Rules:\n";
      for (const auto& r : crashgate::mutation_rules()) std::cout << fmt::format("  {:<20} {}\n", r.name, r.what);
      return 0;
    }
    if (a == "--root" || a == "--rules") {
      if (i + 1 >= argc) {
        std::cerr << "crashgate-mutants: " << a << " needs a value\n" << kUsage;
        return 2;
      }
      std::string v = argv[++i];
      if (a == "--root") {
        root = v;
        continue;
      }
      for (std::size_t at = 0; at <= v.size();) {
        std::size_t comma = std::min(v.find(',', at), v.size());
        std::string name = v.substr(at, comma - at);
        const auto* rule = crashgate::find_mutation_rule(name);
        if (!rule) {
          std::cerr << fmt::format("crashgate-mutants: --rules: '{}' is no rule (--help lists them)\n", name);
          return 2;
        }
        only.insert(rule->rule);
        at = comma + 1;
      }
      continue;
    }
    if (a.rfind("-", 0) == 0) {
      std::cerr << fmt::format("crashgate-mutants: unknown option '{}'\n", a) << kUsage;
      return 2;
    }
    files.push_back(a);
  }
  if (files.empty()) {
    std::cerr << "crashgate-mutants: no FILE given\n" << kUsage;
    return 2;
  }
  std::vector<crashgate::Mutant> all;
  for (const auto& f : files) {
    std::error_code ec;
    if (!fs::is_regular_file(f, ec)) {
      std::cerr << fmt::format("crashgate-mutants: {}: no such file\n", f);
      return 2;
    }
    std::string display = fs::relative(fs::absolute(f), fs::absolute(root), ec).string();
    if (ec || display.empty() || display.rfind("..", 0) == 0) display = f;
    auto found = crashgate::find_mutants({.path = f, .display_path = display, .args = compiler});
    if (!found) {
      std::cerr << "crashgate-mutants: " << found.error() << "\n";
      return 2;
    }
    for (auto& m : *found)
      if (only.empty() || only.count(m.rule)) all.push_back(std::move(m));
  }
  std::cout << crashgate::mutants_document(all).dump(1) << "\n";
  return 0;
}
