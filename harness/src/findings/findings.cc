// Findings across runs: every failed cell with a signature, grouped by engine
// and signature (findings.h).
#include "crashgate/findings.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "crashgate/outcome_kind.h"
#include "crashgate/runner.h"
#include "crashgate/triage.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFuzzScenarioPrefix = "fuzz:";
constexpr std::size_t kFindingFrames = 6;

void add_once(std::vector<std::string>& list, const std::string& value) {
  if (!value.empty() && std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

bool is_fuzz(const CellResult& cell) { return cell.cell.scenario.rfind(kFuzzScenarioPrefix, 0) == 0; }

// The fault class a cell belongs to: its scenario's folder, or the fuzz target.
std::string fault_class(const CellResult& cell) {
  if (is_fuzz(cell)) return cell.cell.scenario;
  fs::path folder = fs::path(cell.scenario_file).parent_path().filename();
  return folder.empty() ? cell.cell.scenario : folder.string();
}

// `path` relative to `root` when it lies below it.
std::string relative_to(const std::string& path, const std::string& root) {
  if (root.empty()) return path;
  std::error_code ec;
  fs::path rel = fs::proximate(fs::absolute(path, ec), fs::absolute(root, ec), ec);
  if (ec || rel.empty() || rel.string().rfind("..", 0) == 0) return path;
  return rel.string();
}

// The command that reproduces a scenario cell from a clean checkout: the run
// seed is crashgate's default, so the cell's own seed is derived the same way.
std::string scenario_repro(const CellResult& cell, const std::string& source_root) {
  return fmt::format("build/release/bin/crashgate run {} --build {} --filter {}",
                     shell_quote(relative_to(cell.scenario_file, source_root)), cell.cell.build, shell_quote(cell.cell.id));
}

const Outcome* last_outcome(const CellResult& cell) {
  return cell.attempts.empty() ? nullptr : &cell.attempts.back().outcome;
}

std::vector<Frame> top_frames(const Outcome& o) {
  std::vector<Frame> out;
  const Thread* stack = nullptr;
  if (o.crashing_thread >= 0 && o.crashing_thread < static_cast<int>(o.threads.size()))
    stack = &o.threads[o.crashing_thread];
  else if (!o.threads.empty())
    stack = &o.threads.front();
  if (!stack) return out;
  for (const Frame& f : stack->frames) {
    if (out.size() == kFindingFrames) break;
    if (frame_ignore_rule(f)) continue;  // how every crash is reported, and the driver kit: not the engine
    out.push_back(f);
  }
  return out;
}

}  // namespace

std::string engine_of(const CellResult& cell) {
  if (is_fuzz(cell)) {
    const std::string& target = cell.cell.target;
    return target.substr(0, target.find('_'));
  }
  for (auto it = cell.attempts.rbegin(); it != cell.attempts.rend(); ++it)
    if (it->outcome.engine && !it->outcome.engine->name.empty()) return it->outcome.engine->name;
  return cell.cell.target;
}

std::map<std::string, EngineFindings> collect_findings(const std::vector<FindingsInput>& runs, const std::string& source_root) {
  std::map<std::string, EngineFindings> by_engine;
  for (const FindingsInput& run : runs) {
    for (const CellResult& cell : run.results.cells) {
      bool fuzz_summary = is_fuzz(cell) && cell.cell.params.find("crash") == cell.cell.params.end();
      if (fuzz_summary) continue;  // a fuzz run's per-target line: its crashes are cells of their own
      const Outcome* o = last_outcome(cell);
      if (!o) continue;
      std::string engine = engine_of(cell);
      EngineFindings& ef = by_engine[engine];
      ef.engine = engine;
      ++ef.cells;
      if (o->engine) add_once(ef.versions, o->engine->version);
      if (cell.verdict != Verdict::fail && cell.verdict != Verdict::flaky) continue;
      ++ef.failed;
      if (o->signature.empty()) continue;
      auto found = std::find_if(ef.findings.begin(), ef.findings.end(), [&](const Finding& f) { return f.signature == o->signature; });
      if (found == ef.findings.end()) {
        ef.findings.push_back(Finding{.signature = o->signature});
        found = ef.findings.end() - 1;
      }
      Finding& f = *found;
      f.cells.push_back(cell.cell.id);
      add_once(f.builds, cell.cell.build);
      add_once(f.fault_classes, fault_class(cell));
      if (o->known_issue && !f.known_issue) f.known_issue = o->known_issue;
      // The smallest reproducer: the fewest steps, then the shortest run.
      bool smaller = f.smallest_cell.empty() || cell.cell.steps.size() < f.smallest_steps ||
                     (cell.cell.steps.size() == f.smallest_steps && o->duration_ms < f.smallest_ms);
      if (smaller) {
        f.smallest_cell = cell.cell.id;
        f.smallest_steps = cell.cell.steps.size();
        f.smallest_ms = o->duration_ms;
        f.kind = std::string(to_string(o->kind));
        f.detail = o->detail;
        f.crash_state = o->crash_state;
        f.attribution = o->attribution;
        f.frames = top_frames(*o);
        if (is_fuzz(cell)) {
          std::string minimized = (fs::path(cell.attempts.back().work_dir) / "minimized").string();
          std::error_code ec;
          f.input = fs::exists(minimized, ec) ? minimized : cell.origin;
          f.repro = cell.repro;
        } else {
          f.repro = scenario_repro(cell, source_root);
        }
      }
    }
  }
  return by_engine;
}

}  // namespace crashgate
