// `crashgate coverage`: the fuzz corpora (seeds, regressions and the working
// corpora) replayed through the coverage build's <target>_replay binaries,
// merged with llvm-profdata and shown with llvm-cov: an HTML report and one
// summary line of lines and branches covered per part of the engine.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crashgate/checked.h"

namespace crashgate {

struct CoverageOptions {
  std::string build_dir;    // the coverage preset's build (build/coverage)
  std::string source_root;  // the repository
  std::string corpora_dir;  // corpora/
  std::string corpus_dir;   // working corpora of `crashgate fuzz` (used when present)
  std::string out_dir;      // build/reports/coverage
  std::vector<std::string> targets;
};

struct CoverageCount {
  std::uint64_t covered = 0, total = 0;
  double percent() const { return total ? 100.0 * static_cast<double>(covered) / static_cast<double>(total) : 0.0; }
};

struct PartCoverage {
  CoverageCount lines, branches;
};

struct CoverageResult {
  std::map<std::string, PartCoverage> parts;  // "storage", "index", "filter", "tools", "crashgate/scenario", ...
  PartCoverage total;
  std::string html_index;
  std::vector<std::string> notes;
};

// The part of the code a source file belongs to, by its path:
// targets/vstore/src/<part>/... -> <part>; targets/vstore/tools/... -> tools;
// harness/src/<part>/... -> crashgate/<part>; nothing for everything else (tests, fuzz entry points, system headers).
std::optional<std::string> coverage_part(std::string_view path);

// The first of llvm-<tool>, llvm-<tool>-20 ... llvm-<tool>-11 on PATH, or nothing.
std::optional<std::string> find_llvm_tool(const std::string& tool);

// Replays, merges and reports; the failure names the step that failed (a missing
// llvm tool, no replay binaries or .profraw files, llvm-profdata or llvm-cov) and why.
Checked<CoverageResult> run_coverage(const CoverageOptions& options);

// "coverage: storage 81.2% lines, 62.0% branches · index ... · total ..."
std::string coverage_summary_line(const CoverageResult& result);

}  // namespace crashgate
