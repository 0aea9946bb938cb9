#include "crashgate/footprint_recording.h"

#include <cxxabi.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <tuple>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "fuzz/coverage_report.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;

// `path` relative to `root` when it is inside it, else "".
std::string inside(const fs::path& path, const std::string& root) {
  if (root.empty()) return "";
  fs::path relative = path.lexically_relative(fs::path(root).lexically_normal());
  if (relative.empty() || *relative.begin() == ".." || relative == ".") return "";
  return relative.generic_string();
}

Outcome run_tool(std::vector<std::string> argv, const RunContext& context, std::size_t stdout_bytes = 64 * 1024) {
  RunSpec spec;
  spec.argv = std::move(argv);
  spec.trace = false;
  spec.sanitizer_options = false;
  spec.limits.wall = std::chrono::minutes(10);
  spec.stdout_bounds = {stdout_bytes, 0};
  return run_observed(spec, context);
}

}  // namespace

std::string short_function_name(std::string_view symbol) {
  std::string name(symbol);
  // A local symbol's profile name is "path/file.cc:symbol".
  for (std::string_view ext : {".cc:", ".cpp:", ".cxx:", ".c:", ".h:", ".hpp:", ".hh:", ".inc:"})
    if (auto at = name.find(ext); at != std::string::npos) {
      name = name.substr(at + ext.size());
      break;
    }
  if (name.starts_with("_Z")) {
    int status = 0;
    char* demangled = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
    if (status == 0 && demangled) name = demangled;
    std::free(demangled);
  }
  for (auto [from, to] : {std::pair<std::string_view, std::string_view>{"(anonymous namespace)", "{anonymous}"},
                          {"[abi:cxx11]", ""}})
    for (std::size_t at; (at = name.find(from)) != std::string::npos;) name.replace(at, from.size(), to);
  // Template and call arguments elided, unless an operator's own '<', '>' or '-' would confuse the count.
  bool plain = true;
  for (std::size_t at = name.find("operator"); at != std::string::npos; at = name.find("operator", at + 8))
    if (at + 8 < name.size() && std::string_view("<>-").find(name[at + 8]) != std::string_view::npos) plain = false;
  if (plain) {
    std::string out;
    int angle = 0, paren = 0;
    for (char c : name) {
      if (c == '<') ++angle;
      else if (c == '>') angle = std::max(0, angle - 1);
      else if (angle == 0 && c == '(') {
        if (paren++ == 0) out += c;
      } else if (angle == 0 && c == ')') {
        if (--paren == 0) out += c;
        paren = std::max(0, paren);
      } else if (angle == 0 && paren == 0)
        out += c;
    }
    name = out;
  }
  if (name.size() > 160) name = name.substr(0, 157) + "...";
  return name;
}

Checked<std::vector<CoveredFunction>> repository_functions(std::string_view export_json, const std::string& source_root,
                                                           const std::string& build_root) {
  nlohmann::json doc = nlohmann::json::parse(export_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return failure("the llvm-cov export output is not a JSON object");
  if (!doc.contains("data") || !doc["data"].is_array() || doc["data"].empty() || !doc["data"][0].is_object())
    return failure("the llvm-cov export output has no data[0]");
  const nlohmann::json& functions = doc["data"][0].value("functions", nlohmann::json());
  if (!functions.is_array())
    return failure("the llvm-cov export output's data[0].functions is not an array (was it run with -summary-only?)");
  std::string root = fs::path(source_root).lexically_normal().string();
  std::string build = build_root.empty() ? "" : fs::path(build_root).lexically_normal().string();
  std::map<std::string, std::string> relative_of;  // absolute -> relative ("" outside the repository)
  std::map<std::tuple<std::string, std::uint32_t, std::uint32_t>, CoveredFunction> out;
  for (std::size_t i = 0; i < functions.size(); ++i) {
    const nlohmann::json& f = functions[i];
    if (!f.is_object() || !f.contains("filenames") || !f["filenames"].is_array() || f["filenames"].empty() ||
        !f["filenames"][0].is_string() || !f.contains("regions") || !f["regions"].is_array())
      return failure(fmt::format("the llvm-cov export output's functions[{}] has no filenames or regions", i));
    std::string absolute = f["filenames"][0].get<std::string>();
    auto [it, added] = relative_of.emplace(absolute, "");
    if (added) {
      fs::path path = fs::path(absolute).lexically_normal();
      if (inside(path, build).empty()) it->second = inside(path, root);
    }
    if (it->second.empty()) continue;
    // Its lines: those of its regions in its own file (file id 0; others are expansions of macros elsewhere).
    std::uint32_t first = UINT32_MAX, last = 0;
    for (const nlohmann::json& r : f["regions"]) {
      if (!r.is_array() || r.size() < 6 || !r[0].is_number_unsigned() || !r[2].is_number_unsigned() ||
          !r[5].is_number_unsigned())
        return failure(fmt::format("the llvm-cov export output's functions[{}] has a malformed region", i));
      if (r[5].get<std::uint64_t>() != 0) continue;
      first = std::min(first, r[0].get<std::uint32_t>());
      last = std::max(last, r[2].get<std::uint32_t>());
    }
    if (first == 0 || first > last) continue;  // no region in its own file
    bool executed = f.value("count", std::uint64_t{0}) > 0;
    auto [at, fresh] = out.try_emplace({it->second, first, last});
    if (fresh) at->second = {it->second, first, last, short_function_name(f.value("name", "")), executed};
    at->second.executed = at->second.executed || executed;
  }
  std::vector<CoveredFunction> list;
  for (auto& [range, function] : out) list.push_back(std::move(function));
  return list;
}

Footprints make_footprints(std::string recorded_at,
                           const std::map<std::string, std::vector<CoveredFunction>>& functions_by_key) {
  Footprints out;
  out.recorded_at = std::move(recorded_at);
  std::set<std::string> files;
  std::map<std::tuple<std::string, std::uint32_t, std::uint32_t>, std::string> ranges;  // -> the first name seen
  for (const auto& [key, functions] : functions_by_key)
    for (const auto& f : functions) {
      files.insert(f.file);
      ranges.try_emplace({f.file, f.first, f.last}, f.name);
    }
  out.files.assign(files.begin(), files.end());
  std::map<std::tuple<std::string, std::uint32_t, std::uint32_t>, std::uint32_t> index;
  for (const auto& [range, name] : ranges) {
    index[range] = static_cast<std::uint32_t>(out.functions.size());
    out.functions.push_back({*out.file_index(std::get<0>(range)), std::get<1>(range), std::get<2>(range), name});
  }
  std::map<std::vector<std::uint32_t>, std::uint32_t> set_index;
  for (const auto& [key, functions] : functions_by_key) {
    std::vector<std::uint32_t> set;
    for (const auto& f : functions)
      if (f.executed) set.push_back(index.at({f.file, f.first, f.last}));
    std::sort(set.begin(), set.end());
    set.erase(std::unique(set.begin(), set.end()), set.end());
    auto [it, added] = set_index.emplace(set, static_cast<std::uint32_t>(out.sets.size()));
    if (added) out.sets.push_back(std::move(set));
    out.cells[key] = it->second;
  }
  return out;
}

Checked<FootprintTools> find_footprint_tools() {
  auto profdata = find_llvm_tool("profdata");
  auto cov = find_llvm_tool("cov");
  if (!profdata || !cov)
    return failure("llvm-profdata and llvm-cov are needed (Debian: apt-get install llvm; ci/packages.txt lists it)");
  return FootprintTools{*profdata, *cov};
}

Checked<CellFootprint> cell_footprint(const FootprintTools& tools, const std::string& profile_dir, const std::string& driver,
                                      const std::string& source_root, const std::string& build_root,
                                      const RunContext& context) {
  CellFootprint out;
  std::vector<std::string> merge{tools.profdata, "merge", "-sparse", "-failure-mode=all"};
  std::string profdata = profile_dir + "/cell.profdata";
  merge.insert(merge.end(), {"-o", profdata});
  std::size_t inputs = merge.size();
  std::error_code ec;
  for (fs::directory_iterator it(profile_dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".profraw" && it->file_size(ec) > 0) merge.push_back(it->path().string());
  std::sort(merge.begin() + static_cast<std::ptrdiff_t>(inputs), merge.end());
  if (merge.size() == inputs) return out;  // no profile: the cell's processes all died before they could write one
  Outcome m = run_tool(merge, context);
  if (m.kind != OutcomeKind::ok) {
    // Every profile half-written (a killed process): as good as none.
    if (m.stderr_excerpt.text().find("no profile can be merged") != std::string::npos) return out;
    return failure(fmt::format("llvm-profdata merge failed: {}\n{}", m.detail, m.stderr_excerpt.text()));
  }
  Outcome x = run_tool({tools.cov, "export", "-format=text", "-skip-expansions", "-instr-profile=" + profdata, driver},
                       context, std::size_t{256} << 20);
  if (x.kind != OutcomeKind::ok)
    return failure(fmt::format("llvm-cov export failed: {}\n{}", x.detail, x.stderr_excerpt.text()));
  if (x.stdout_excerpt.truncated()) return failure("llvm-cov export wrote more than 256 MiB");
  auto functions = repository_functions(x.stdout_excerpt.head, source_root, build_root);
  if (!functions) return failure(functions.error());
  out.profiled = true;
  out.functions = std::move(*functions);
  return out;
}

}  // namespace crashgate
