#include "runner/sanitizer_env.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <set>
#include <vector>

namespace crashgate {
namespace {

// Why each default: color=never keeps escape codes out of the text we parse;
// print_summary gives the greppable SUMMARY line; UBSan's report_error_type puts
// the check name (signed-integer-overflow) in it and print_stacktrace adds a
// stack; halt_on_error makes UBSan's first report the outcome, as with ASan.
constexpr std::array kDefaults = {
    SanitizerOptionDefaults{"ASAN_OPTIONS", "symbolize=1:color=never:print_summary=1"},
    SanitizerOptionDefaults{"UBSAN_OPTIONS",
                            "symbolize=1:color=never:print_summary=1:print_stacktrace=1:report_error_type=1:"
                            "halt_on_error=1"},
    SanitizerOptionDefaults{"TSAN_OPTIONS", "symbolize=1:color=never:print_summary=1:second_deadlock_stack=1"},
    SanitizerOptionDefaults{"LSAN_OPTIONS", "symbolize=1:color=never:print_summary=1"},
};

std::vector<std::string_view> split_options(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ':' || text[i] == ' ' || text[i] == ',') {
      if (i > start) out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::string_view key_of(std::string_view option) { return option.substr(0, option.find('=')); }

// Looked up once: sanitizers find llvm-symbolizer in PATH themselves, but a
// child run with a minimal PATH would print unsymbolized frames.
const std::string& symbolizer_path() {
  static const std::string path = [] {
    const char* path_env = std::getenv("PATH");
    std::string dirs = path_env ? path_env : "";
    dirs += ":/usr/bin:/usr/lib/llvm-14/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
      size_t colon = dirs.find(':', start);
      std::string dir = dirs.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
      if (!dir.empty()) {
        std::string candidate = dir + "/llvm-symbolizer";
        if (access(candidate.c_str(), X_OK) == 0) return candidate;
      }
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
    return std::string();
  }();
  return path;
}

}  // namespace

std::span<const SanitizerOptionDefaults> sanitizer_option_defaults() { return kDefaults; }

std::string merge_sanitizer_options(std::string_view current, const SanitizerOptionDefaults& tool) {
  std::set<std::string_view> present;
  for (auto option : split_options(current)) present.insert(key_of(option));
  std::string merged(current);
  auto add = [&](std::string_view option) {
    if (present.count(key_of(option))) return;
    if (!merged.empty()) merged += ':';
    merged += option;
  };
  for (auto option : split_options(tool.defaults)) add(option);
  if (!symbolizer_path().empty()) add("external_symbolizer_path=" + symbolizer_path());
  return merged;
}

}  // namespace crashgate
