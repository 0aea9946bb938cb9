#include "fuzz/coverage_report.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "crashgate/runner.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;

Outcome run_tool(std::vector<std::string> argv, std::vector<std::pair<std::string, std::string>> env, std::chrono::minutes wall,
                 const std::string& stdout_path = "") {
  RunSpec spec;
  spec.argv = std::move(argv);
  spec.env = std::move(env);
  spec.trace = false;
  spec.limits.wall = wall;
  if (!stdout_path.empty()) spec.stdout_bounds = {std::size_t{256} << 20, 0};
  return run_observed(spec);
}

void add(CoverageCount& to, const nlohmann::json& summary) {
  to.covered += summary.value("covered", std::uint64_t{0});
  to.total += summary.value("count", std::uint64_t{0});
}

}  // namespace

std::optional<std::string> coverage_part(std::string_view path) {
  auto after = [&](std::string_view marker) -> std::optional<std::string> {
    std::size_t at = path.find(marker);
    if (at == std::string_view::npos) return std::nullopt;
    std::string_view rest = path.substr(at + marker.size());
    std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return std::string("(top)");  // a file directly in src/
    return std::string(rest.substr(0, slash));
  };
  if (auto p = after("targets/vstore/src/")) return *p == "(top)" ? "vstore" : *p;
  if (path.find("targets/vstore/tools/") != std::string_view::npos) return "tools";
  if (auto p = after("harness/src/")) return "crashgate/" + *p;
  return std::nullopt;
}

std::optional<std::string> find_llvm_tool(const std::string& tool) {
  const char* path_env = std::getenv("PATH");
  std::string path = path_env ? path_env : "/usr/bin";
  std::vector<std::string> names{"llvm-" + tool};
  for (int v = 20; v >= 11; --v) names.push_back(fmt::format("llvm-{}-{}", tool, v));
  for (const std::string& name : names) {
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return std::nullopt;
}

Checked<CoverageResult> run_coverage(const CoverageOptions& o) {
  auto profdata = find_llvm_tool("profdata");
  auto cov = find_llvm_tool("cov");
  if (!profdata || !cov)
    return failure("llvm-profdata and llvm-cov are needed (Debian: apt-get install llvm; ci/packages.txt lists it)");
  CoverageResult result;
  std::error_code ec;
  std::string raw = o.out_dir + "/profraw";
  fs::remove_all(raw, ec);
  fs::create_directories(raw, ec);
  std::vector<std::string> binaries;
  for (const std::string& t : o.targets) {
    std::string bin = o.build_dir + "/fuzz/" + t + "_replay";
    if (::access(bin.c_str(), X_OK) != 0) {
      result.notes.push_back(fmt::format("{}: no {} in the coverage build; skipped", t, bin));
      continue;
    }
    std::vector<std::string> argv{bin, o.corpora_dir + "/" + t + "/seed", o.corpora_dir + "/" + t + "/regressions"};
    if (fs::is_directory(o.corpus_dir + "/" + t)) argv.push_back(o.corpus_dir + "/" + t);
    Outcome r = run_tool(argv, {{"LLVM_PROFILE_FILE", raw + "/" + t + "-%p.profraw"}}, std::chrono::minutes(30));
    if (r.kind != OutcomeKind::ok) result.notes.push_back(fmt::format("{}: the replay did not end cleanly: {}", t, r.detail));
    binaries.push_back(bin);
  }
  if (binaries.empty())
    return failure(fmt::format("no <target>_replay binaries in {}/fuzz; build them with `ci/build coverage`", o.build_dir));
  std::vector<std::string> merge{*profdata, "merge", "-sparse", "-o", o.out_dir + "/coverage.profdata"};
  for (fs::directory_iterator it(raw, ec), end; !ec && it != end; it.increment(ec)) merge.push_back(it->path().string());
  if (merge.size() == 5)
    return failure("the replays wrote no .profraw files: is this build configured with CRASHGATE_COVERAGE=ON (the coverage preset)?");
  Outcome m = run_tool(merge, {}, std::chrono::minutes(10));
  if (m.kind != OutcomeKind::ok)
    return failure(fmt::format("llvm-profdata merge failed: {}\n{}", m.detail, m.stderr_excerpt.text()));
  std::vector<std::string> objects{"-instr-profile=" + o.out_dir + "/coverage.profdata", binaries.front()};
  for (std::size_t i = 1; i < binaries.size(); ++i) objects.insert(objects.end(), {"-object", binaries[i]});
  std::vector<std::string> sources{o.source_root + "/targets/vstore/src", o.source_root + "/targets/vstore/tools",
                                   o.source_root + "/harness/src"};
  std::string html = o.out_dir + "/html";
  fs::remove_all(html, ec);
  std::vector<std::string> show{*cov, "show", "-format=html", "-show-branches=count", "-output-dir=" + html};
  show.insert(show.end(), objects.begin(), objects.end());
  show.insert(show.end(), sources.begin(), sources.end());
  Outcome s = run_tool(show, {}, std::chrono::minutes(20));
  if (s.kind != OutcomeKind::ok)
    return failure(fmt::format("llvm-cov show failed: {}\n{}", s.detail, s.stderr_excerpt.text()));
  result.html_index = html + "/index.html";
  std::vector<std::string> exp{*cov, "export", "-summary-only", "-format=text"};
  exp.insert(exp.end(), objects.begin(), objects.end());
  exp.insert(exp.end(), sources.begin(), sources.end());
  Outcome x = run_tool(exp, {}, std::chrono::minutes(10), "stdout");
  nlohmann::json doc = nlohmann::json::parse(x.stdout_excerpt.head, nullptr, false);
  if (x.kind != OutcomeKind::ok || doc.is_discarded() || !doc.contains("data") || doc["data"].empty())
    return failure(fmt::format("llvm-cov export failed: {}\n{}", x.detail, x.stderr_excerpt.text()));
  std::ofstream(o.out_dir + "/summary.json") << doc.dump(1) << "\n";
  for (const nlohmann::json& file : doc["data"][0].value("files", nlohmann::json::array())) {
    auto part = coverage_part(file.value("filename", ""));
    if (!part || !file.contains("summary")) continue;
    const nlohmann::json& sum = file["summary"];
    PartCoverage& p = result.parts[*part];
    for (PartCoverage* to : {&p, &result.total}) {
      if (sum.contains("lines")) add(to->lines, sum["lines"]);
      if (sum.contains("branches")) add(to->branches, sum["branches"]);
    }
  }
  return result;
}

std::string coverage_summary_line(const CoverageResult& r) {
  std::string line = "coverage:";
  auto show = [](const std::string& name, const PartCoverage& p) {
    return fmt::format(" {} {:.1f}% lines, {:.1f}% branches", name, p.lines.percent(), p.branches.percent());
  };
  for (const auto& [name, part] : r.parts) line += show(name, part) + " ·";
  line += show("total", r.total);
  return line;
}

}  // namespace crashgate
