#include "crashgate/footprint_recording.h"

#include <algorithm>
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

Checked<std::vector<std::string>> covered_repository_files(std::string_view export_json, const std::string& source_root,
                                                           const std::string& build_root) {
  nlohmann::json doc = nlohmann::json::parse(export_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return failure("the llvm-cov export output is not a JSON object");
  if (!doc.contains("data") || !doc["data"].is_array() || doc["data"].empty() || !doc["data"][0].is_object())
    return failure("the llvm-cov export output has no data[0]");
  const nlohmann::json& files = doc["data"][0].value("files", nlohmann::json::array());
  if (!files.is_array()) return failure("the llvm-cov export output's data[0].files is not an array");
  std::string root = fs::path(source_root).lexically_normal().string();
  std::string build = build_root.empty() ? "" : fs::path(build_root).lexically_normal().string();
  std::set<std::string> out;
  for (const nlohmann::json& file : files) {
    if (!file.is_object() || !file.contains("filename") || !file["filename"].is_string()) continue;
    const nlohmann::json* lines = nullptr;
    if (file.contains("summary") && file["summary"].is_object() && file["summary"].contains("lines"))
      lines = &file["summary"]["lines"];
    if (!lines || !lines->is_object() || lines->value("covered", std::uint64_t{0}) == 0) continue;
    fs::path path = fs::path(file["filename"].get<std::string>()).lexically_normal();
    std::string relative = inside(path, root);
    if (relative.empty() || !inside(path, build).empty()) continue;
    out.insert(std::move(relative));
  }
  return std::vector<std::string>(out.begin(), out.end());
}

Footprints make_footprints(std::string recorded_at, const std::map<std::string, std::vector<std::string>>& files_by_key) {
  Footprints out;
  out.recorded_at = std::move(recorded_at);
  std::set<std::string> all;
  for (const auto& [key, files] : files_by_key) all.insert(files.begin(), files.end());
  out.files.assign(all.begin(), all.end());
  auto index_of = [&](const std::string& file) {
    return static_cast<std::uint32_t>(std::lower_bound(out.files.begin(), out.files.end(), file) - out.files.begin());
  };
  std::map<std::vector<std::uint32_t>, std::uint32_t> set_index;
  for (const auto& [key, files] : files_by_key) {
    std::vector<std::uint32_t> set;
    for (const auto& file : files) set.push_back(index_of(file));
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
  Outcome x = run_tool({tools.cov, "export", "-summary-only", "-format=text", "-instr-profile=" + profdata, driver}, context,
                       std::size_t{256} << 20);
  if (x.kind != OutcomeKind::ok)
    return failure(fmt::format("llvm-cov export failed: {}\n{}", x.detail, x.stderr_excerpt.text()));
  if (x.stdout_excerpt.truncated()) return failure("llvm-cov export wrote more than 256 MiB");
  auto files = covered_repository_files(x.stdout_excerpt.head, source_root, build_root);
  if (!files) return failure(files.error());
  out.profiled = true;
  out.files = std::move(*files);
  return out;
}

}  // namespace crashgate
