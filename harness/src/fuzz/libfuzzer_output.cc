#include "fuzz/libfuzzer_output.h"

#include <cctype>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace crashgate {
namespace {

std::optional<std::uint64_t> number_at(std::string_view s, std::size_t pos) {
  if (pos >= s.size() || !std::isdigit(static_cast<unsigned char>(s[pos]))) return std::nullopt;
  std::uint64_t v = 0;
  while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
    v = v * 10 + static_cast<std::uint64_t>(s[pos] - '0');
    ++pos;
  }
  return v;
}

// The number after `key` (e.g. "cov: "), if the line has it.
std::optional<std::uint64_t> field(std::string_view line, std::string_view key) {
  std::size_t at = line.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  return number_at(line, at + key.size());
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<FuzzerStatus> parse_fuzzer_status(std::string_view line) {
  // "#2048	pulse  cov: 120 ft: 300 corp: 20/1.1Kb lim: 21 exec/s: 1024 rss: 40Mb"
  // "#15204: cov: 540 ft: 1466 corp: 139 exec/s 3040 oom/timeout/crash: 0/0/2 time: 5s job: 2 dft_time: 0"
  if (line.empty() || line[0] != '#') return std::nullopt;
  FuzzerStatus s;
  s.execs = number_at(line, 1);
  if (!s.execs) return std::nullopt;
  s.coverage = field(line, "cov: ");
  if (!s.coverage) return std::nullopt;
  s.features = field(line, "ft: ");
  s.corpus = field(line, "corp: ");
  s.execs_per_s = field(line, "exec/s: ");
  if (!s.execs_per_s) s.execs_per_s = field(line, "exec/s ");
  std::size_t triple = line.find("oom/timeout/crash: ");
  if (triple != std::string_view::npos) {
    std::size_t last = line.find('/', line.find('/', triple + 19) + 1);
    if (last != std::string_view::npos) s.crashes = number_at(line, last + 1);
  }
  return s;
}

std::optional<std::string> parse_artifact_line(std::string_view line) {
  // "artifact_prefix='out/'; Test unit written to out/crash-da39a3ee5e6b4b0d3255bfef95601890afd80709"
  constexpr std::string_view key = "Test unit written to ";
  std::size_t at = line.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view path = trim(line.substr(at + key.size()));
  if (path.empty()) return std::nullopt;
  return std::string(path);
}

std::optional<std::uint64_t> parse_final_execs(std::string_view line) {
  constexpr std::string_view key = "stat::number_of_executed_units: ";
  if (line.rfind(key, 0) != 0) return std::nullopt;
  return number_at(line, key.size());
}

Checked<std::vector<std::string>> read_fuzzer_options(const std::string& path) {
  std::ifstream in(path);
  if (!in) return failure(fmt::format("{}: cannot be read", path));
  std::vector<std::string> flags;
  std::string raw;
  bool in_libfuzzer = false;
  for (int n = 1; std::getline(in, raw); ++n) {
    std::string_view line = trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') return failure(fmt::format("{}:{}: '{}' is not a [section] header", path, n, line));
      in_libfuzzer = line == "[libfuzzer]";
      continue;
    }
    if (!in_libfuzzer) continue;  // other engines' sections (AFL, honggfuzz) are theirs
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos || trim(line.substr(0, eq)).empty())
      return failure(fmt::format("{}:{}: '{}' is not key = value", path, n, line));
    std::string key(trim(line.substr(0, eq)));
    std::string value(trim(line.substr(eq + 1)));
    if (key == "dict" && !value.empty() && value[0] != '/')
      value = (std::filesystem::path(path).parent_path() / value).string();
    flags.push_back(fmt::format("-{}={}", key, value));
  }
  return flags;
}

}  // namespace crashgate
