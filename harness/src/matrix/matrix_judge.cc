// Judging a finished matrix run: every hardened cell met, every switch caught
// the way its bug shows.
#include <fmt/format.h>

#include <map>

#include "crashgate/detection_matrix.h"
#include "crashgate/outcome_kind.h"

namespace crashgate {
namespace {

MatrixCatch catch_of(const CellResult& c) {
  const Outcome& o = c.attempts.front().outcome;
  MatrixCatch m;
  m.cell = c.cell.id;
  m.scenario = c.cell.scenario;
  m.build = c.cell.build;
  m.kind = std::string(to_string(o.kind));
  m.detail = outcome_detail(o);
  if (o.attribution && o.attribution->past_eof) m.detail += "@past-eof";
  m.ms = o.duration_ms;
  return m;
}

}  // namespace

DetectionMatrix judge_detection_matrix(const RunResults& results, const std::vector<MatrixRole>& roles,
                                       const std::vector<RegressionSwitch>& switches, const MatrixOptions& options) {
  DetectionMatrix m;
  m.run_id = results.run_id;
  m.options = options;
  m.duration_ms = results.duration_ms;
  std::map<std::string, MatrixRegression*> by_id;
  for (const RegressionSwitch& r : switches) {
    MatrixRegression line;
    line.info = r;
    m.regressions.push_back(std::move(line));
  }
  for (MatrixRegression& line : m.regressions) by_id[line.info.id] = &line;
  for (size_t i = 0; i < results.cells.size() && i < roles.size(); ++i) {
    const CellResult& c = results.cells[i];
    if (std::find(m.scenarios.begin(), m.scenarios.end(), c.cell.scenario) == m.scenarios.end())
      m.scenarios.push_back(c.cell.scenario);
    if (roles[i] == MatrixRole::hardened) {
      ++m.hardened_cells;
      if (c.verdict != Verdict::pass && c.verdict != Verdict::flaky) m.hardened_failures.push_back(c.cell.id);
      continue;
    }
    auto found = by_id.find(c.cell.regression);
    if (found == by_id.end() || c.attempts.empty()) continue;
    MatrixRegression& line = *found->second;
    ++line.cells;
    const Outcome& o = c.attempts.front().outcome;
    bool met = c.attempts.front().verdict == Verdict::pass;
    if (o.kind == OutcomeKind::harness_error) {
      m.problems.push_back(fmt::format("{}: harness error: {}", c.cell.id, o.detail));
      continue;
    }
    bool shows = outcome_shows_as(o, line.info.shows_as);
    if (roles[i] == MatrixRole::injected) {
      if (met) continue;  // the bug made no difference here
      (shows ? line.caught_by : line.other_failures).push_back(catch_of(c));
    } else {  // replay: written to end the way the bug does
      if (met && shows) line.caught_by.push_back(catch_of(c));
      else line.other_failures.push_back(catch_of(c));
    }
  }
  for (MatrixRegression& line : m.regressions) {
    line.status = !line.caught_by.empty() ? "caught" : !line.other_failures.empty() ? "wrong-kind" : "escaped";
    if (line.status == "wrong-kind")
      m.problems.push_back(fmt::format("{} is caught only as unrelated kinds (first: {} {} in {}); it shows as {}", line.info.id,
                                       line.other_failures[0].kind, line.other_failures[0].detail, line.other_failures[0].cell,
                                       line.info.shows_as));
    if (line.status == "escaped")
      m.problems.push_back(fmt::format("{} escapes: no scenario's cell fails with it on ({} cells ran)", line.info.id, line.cells));
  }
  for (const std::string& id : m.hardened_failures)
    m.problems.insert(m.problems.begin(), fmt::format("hardened cell {} did not meet its expectation", id));
  m.verdict = m.problems.empty() ? "pass" : "fail";
  return m;
}

nlohmann::json to_json(const DetectionMatrix& m) {
  using nlohmann::json;
  auto catches = [](const std::vector<MatrixCatch>& list) {
    json out = json::array();
    for (const MatrixCatch& c : list)
      out.push_back({{"cell", c.cell}, {"scenario", c.scenario}, {"build", c.build}, {"kind", c.kind}, {"detail", c.detail},
                     {"seconds", static_cast<double>(c.ms) / 1000.0}});
    return out;
  };
  json regressions = json::array();
  for (const MatrixRegression& r : m.regressions) {
    json expected = json::array();
    size_t pos = 0;
    while (pos <= r.info.shows_as.size()) {
      size_t bar = r.info.shows_as.find('|', pos);
      if (bar == std::string::npos) bar = r.info.shows_as.size();
      expected.push_back(r.info.shows_as.substr(pos, bar - pos));
      pos = bar + 1;
    }
    regressions.push_back({{"id", r.info.id},
                           {"field_report", r.info.field_report},
                           {"what", r.info.what},
                           {"status", r.status},
                           {"expected_kinds", expected},
                           {"cells", r.cells},
                           {"caught_by", catches(r.caught_by)},
                           {"other_failures", catches(r.other_failures)}});
  }
  return {{"schema", kMatrixSchema},
          {"run_id", m.run_id},
          {"verdict", m.verdict},
          {"problems", m.problems},
          {"duration_seconds", static_cast<double>(m.duration_ms) / 1000.0},
          {"plain_build", m.options.plain_build},
          {"sample", m.options.sample},
          {"hardened", {{"cells", m.hardened_cells}, {"failed", m.hardened_failures}}},
          {"scenarios", m.scenarios},
          {"regressions", regressions}};
}

std::string matrix_markdown(const DetectionMatrix& m) {
  std::string out = "# Detection matrix\n\n";
  out += "Generated by `crashgate matrix --update`; do not edit. Each regression switch of the engine is turned on in turn "
         "and the catalog runs against it (the plain build, plus the sanitizer builds a scenario names where the bug "
         "shows as a sanitizer report). A cell reads `kind detail time`: how the fastest catching cell of that scenario "
         "ended, and its run time (time to detect). `(other)` marks failures that are not the way the bug shows.\n\n";
  int caught = 0;
  for (const MatrixRegression& r : m.regressions) caught += r.status == "caught";
  out += fmt::format("**Verdict: {}** · {} of {} regressions caught · {} hardened cells, {} not met · run {} in {:.0f} s{}\n\n",
                     m.verdict, caught, m.regressions.size(), m.hardened_cells, m.hardened_failures.size(), m.run_id,
                     static_cast<double>(m.duration_ms) / 1000.0,
                     m.options.sample ? fmt::format(" · injected cells sampled: at most {} per scenario and build", m.options.sample) : "");
  out += "| regression | field report | shows as | status | fastest catch |\n|---|---|---|---|---|\n";
  for (const MatrixRegression& r : m.regressions) {
    std::string fastest = "—";
    if (!r.caught_by.empty()) {
      const MatrixCatch* best = &r.caught_by[0];
      for (const MatrixCatch& c : r.caught_by)
        if (c.ms < best->ms) best = &c;
      fastest = fmt::format("{} {} in {:.2f} s (`{}`)", best->kind, best->detail, best->ms / 1000.0, best->cell);
    }
    std::string shows = r.info.shows_as;
    for (size_t p; (p = shows.find('|')) != std::string::npos;) shows.replace(p, 1, " or ");
    out += fmt::format("| `{}` | {} | {} | {} | {} |\n", r.info.id, r.info.field_report, shows, r.status, fastest);
  }
  out += "\n## Regression × scenario\n\n| scenario |";
  for (const MatrixRegression& r : m.regressions) out += fmt::format(" `{}` |", r.info.id);
  out += "\n|---|";
  for (size_t i = 0; i < m.regressions.size(); ++i) out += "---|";
  out += "\n";
  for (const std::string& scenario : m.scenarios) {
    std::string row = fmt::format("| {} |", scenario);
    bool any = false;
    for (const MatrixRegression& r : m.regressions) {
      const MatrixCatch* best = nullptr;
      for (const MatrixCatch& c : r.caught_by)
        if (c.scenario == scenario && (!best || c.ms < best->ms)) best = &c;
      std::string cell;
      if (best) cell = fmt::format("{} {} {:.1f}s", best->kind, best->detail, best->ms / 1000.0);
      else
        for (const MatrixCatch& c : r.other_failures)
          if (c.scenario == scenario) cell = fmt::format("(other: {} {})", c.kind, c.detail);
      any = any || !cell.empty();
      row += " " + cell + " |";
    }
    out += row + "\n";
  }
  if (!m.problems.empty()) {
    out += "\n## Problems\n\n";
    for (const std::string& p : m.problems) out += "- " + p + "\n";
  }
  return out;
}

}  // namespace crashgate
