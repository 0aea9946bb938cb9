// report.html: one self-contained page (inline CSS, no script, no URL; a
// Content-Security-Policy forbids fetching anything): the run, each engine's
// counts when it ran several, the cell matrix as a grid coloured by verdict,
// the regression matrix when the run has one, each failing cell's diagnosis,
// the field reports replayed, and run times.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "crashgate/findings.h"  // engine_of
#include "report/html_parts.h"
#include "report/report_text.h"

namespace crashgate {
namespace report {

std::string verdict_class(Verdict verdict) { return "v-" + std::string(to_string(verdict)); }
std::string cell_anchor(std::size_t index) { return fmt::format("cell-{}", index); }

}  // namespace report

namespace {

using report::markup_escape;
using nlohmann::json;

std::string e(std::string_view text) { return markup_escape(text); }

// The one place colours are chosen: a verdict, or a regression's status in matrix.json.
constexpr const char* kStyle = R"css(
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; padding: 1em 2em; max-width: 1400px; color: #1d1d1f; background: #fff; }
h1 { font-size: 1.5em; margin: .2em 0; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
h3 { margin: .2em 0 .4em; font-size: 1.1em; word-break: break-all; } h4 { margin: .8em 0 .3em; }
code, pre, .fn, .src, .mod { font-family: ui-monospace, monospace; font-size: 12.5px; }
pre { background: #f6f6f6; padding: .6em; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; } th, td { text-align: left; vertical-align: top; padding: 2px 8px; }
.facts th { color: #555; font-weight: normal; white-space: nowrap; }
.dim, .more { color: #777; }
.banner { display: inline-block; padding: .3em .8em; font-weight: bold; border-radius: 4px; }
.counts span { margin-right: .6em; padding: 1px 8px; border-radius: 3px; }
table.grid th, table.grid td { border: 1px solid #ddd; }
table.grid tr.folder th { background: #eee; }
table.grid td.none { color: #bbb; text-align: center; }
a.chip { display: inline-block; margin: 1px; padding: 0 6px; border-radius: 3px; color: #111; text-decoration: none; font-size: 12px; min-width: 1em; }
.v-pass { background: #c8e6c9; } .v-flaky { background: #ffe082; } .v-fail { background: #ef9a9a; }
.v-harness-error { background: #b39ddb; } .v-not-run { background: #e0e0e0; }
.s-caught { background: #c8e6c9; } .s-escaped { background: #ef9a9a; } .s-wrong-kind { background: #ffcc80; }
.badge { padding: 0 6px; border-radius: 3px; font-size: 12px; }
section.diagnosis { border-left: 6px solid #ccc; background: #fff; padding: .4em 1em; margin: 1em 0; }
section.diagnosis.v-fail { border-left-color: #c62828; } section.diagnosis.v-flaky { border-left-color: #f9a825; }
section.diagnosis.v-harness-error { border-left-color: #5e35b1; }
.headline { font-weight: bold; }
table.stack { margin: .3em 0 .8em; } table.stack caption { text-align: left; font-weight: bold; }
table.stack.crashed caption { color: #c62828; }
.src.project { font-weight: bold; } .n { color: #888; }
tr.step-bad td { background: #fdecea; }
)css";

struct GridRow {
  std::string folder;
  std::string label;                                     // scenario (and target, when a run has several)
  std::string summary;
  std::map<std::string, std::vector<std::size_t>> by_build;  // build -> cell indices
};

void append_header(std::string& out, const RunResults& r) {
  auto counts = r.counts();
  bool failed = counts[Verdict::fail] > 0;
  std::string verdict = r.interrupted ? "INTERRUPTED" : failed ? "FAIL" : counts[Verdict::harness_error] ? "HARNESS ERROR" : "PASS";
  if (r.change) verdict += " (SELECTED)";  // a change-aware run: not the whole catalog
  Verdict colour = r.interrupted ? Verdict::not_run : failed ? Verdict::fail
                                   : counts[Verdict::harness_error] ? Verdict::harness_error : Verdict::pass;
  out += fmt::format("<header>\n<h1>crashgate run {}</h1>\n<p><span class=\"banner {}\" id=\"verdict\">{}</span> "
                     "<span class=\"counts\">",
                     e(r.run_id), report::verdict_class(colour), verdict);
  for (const auto& info : verdicts())
    out += fmt::format("<span class=\"{}\" data-count=\"{}\">{} {}</span>", report::verdict_class(info.verdict), info.name,
                       counts[info.verdict], info.name);
  out += "</span></p>\n<table class=\"facts\">\n";
  auto fact = [&](const char* name, const std::string& value) {
    out += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", name, value);
  };
  fact("started", e(r.started_at));
  fact("wall time", e(report::seconds_text(r.duration_ms)) + " s");
  fact("cells", fmt::format("{} (-j {}, --rerun-failures {})", r.cells.size(), r.jobs, r.rerun_failures));
  if (r.change)
    fact("selected", fmt::format("{}: {}; <a href=\"#skipped\">{} skipped</a>", e(r.change->headline()),
                                 e(r.change->breakdown()), r.change->skipped.size()));
  fact("seed", std::to_string(r.seed));
  fact("exit status", std::to_string(r.exit_code));
  fact("host", e(r.host));
  fact("crashgate", e(r.crashgate_version));
  fact("command", "<code>" + e(fmt::format("{}", fmt::join(r.command_line, " "))) + "</code>");
  fact("run directory", "<code>" + e(r.run_dir) + "</code>");
  out += "</table>\n</header>\n";
}

// A change-aware run: what changed, and every cell it left out.
void append_skipped(std::string& out, const ChangeScope& c) {
  out += "<section id=\"skipped\">\n<h2>Skipped: the change cannot reach them</h2>\n";
  out += fmt::format("<p>{}. Merge base <code>{}</code>, head <code>{}</code>; footprints: {}. <code>--all</code> runs "
                     "every cell.</p>\n<details><summary>{} changed files</summary><ul>",
                     e(c.headline()), e(c.merge_base), e(c.head),
                     c.footprints.empty() ? std::string("none read")
                                          : "<code>" + e(c.footprints) + "</code> (recorded at <code>" +
                                                e(c.footprints_recorded_at) + "</code>)",
                     c.changed_files.size());
  for (const auto& f : c.changed_files) out += "<li><code>" + e(f) + "</code></li>";
  out += fmt::format("</ul></details>\n<details><summary>{} skipped cells</summary><ul>", c.skipped.size());
  for (const auto& k : c.skipped) out += "<li><code>" + e(k.id) + "</code></li>";
  out += "</ul></details>\n</section>\n";
}

void append_grid(std::string& out, const RunResults& r) {
  std::vector<std::string> builds;
  std::vector<GridRow> rows;
  std::map<std::string, std::size_t> row_of;
  std::map<std::string, int> targets;
  for (const auto& cell : r.cells) ++targets[cell.cell.target];
  for (std::size_t i = 0; i < r.cells.size(); ++i) {
    const CellResult& cell = r.cells[i];
    if (std::find(builds.begin(), builds.end(), cell.cell.build) == builds.end()) builds.push_back(cell.cell.build);
    std::string label = cell.cell.scenario + (targets.size() > 1 ? " \u00b7 " + cell.cell.target : "");
    std::string key = report::scenario_folder(cell) + "\n" + label;
    if (!row_of.count(key)) {
      row_of[key] = rows.size();
      rows.push_back({report::scenario_folder(cell), label, cell.summary, {}});
    }
    rows[row_of[key]].by_build[cell.cell.build].push_back(i);
  }
  // Folders together, each in the order its first cell came.
  std::vector<std::string> folders;
  for (const auto& row : rows)
    if (std::find(folders.begin(), folders.end(), row.folder) == folders.end()) folders.push_back(row.folder);

  out += "<section id=\"cells\">\n<h2>Cells</h2>\n";
  if (r.cells.empty()) {
    out += "<p class=\"empty\">This run selected no cells.</p>\n</section>\n";
    return;
  }
  out += "<table class=\"grid\" id=\"cell-grid\">\n<thead><tr><th>scenario</th>";
  for (const auto& build : builds) out += "<th>" + e(build) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& folder : folders) {
    out += fmt::format("<tr class=\"folder\"><th colspan=\"{}\">{}</th></tr>\n", builds.size() + 1, e(folder));
    for (const auto& row : rows) {
      if (row.folder != folder) continue;
      out += fmt::format("<tr><th scope=\"row\" title=\"{}\">{}</th>", e(row.summary), e(row.label));
      for (const auto& build : builds) {
        auto it = row.by_build.find(build);
        if (it == row.by_build.end()) {
          out += "<td class=\"none\">\u2013</td>";
          continue;
        }
        out += "<td>";
        for (std::size_t index : it->second) {
          const CellResult& cell = r.cells[index];
          std::string params = report::params_text(cell);
          std::string label = params.empty() ? std::string(to_string(cell.verdict)) : params.substr(1, params.size() - 2);
          std::int64_t ms = cell.attempts.empty() ? 0 : cell.attempts.front().outcome.duration_ms;
          bool diagnosed = cell.verdict != Verdict::pass && cell.verdict != Verdict::not_run;
          std::string href = !diagnosed ? "" : " href=\"#" + report::cell_anchor(index) + "\"";
          out += fmt::format("<a class=\"chip {}\"{} data-cell=\"{}\" data-verdict=\"{}\" title=\"{} \u2014 {} s\">{}</a>",
                             report::verdict_class(cell.verdict), href, e(cell.cell.id), to_string(cell.verdict),
                             e(report::cell_headline(cell)), report::seconds_text(ms), e(label));
        }
        out += "</td>";
      }
      out += "</tr>\n";
    }
  }
  out += "</tbody>\n</table>\n</section>\n";
}

// For a run of more than one engine: each engine, the version its cells ran,
// its cells, how many failed with a known issue (and in how many distinct
// crashes) and how many failed with none, so one engine's known findings are
// not lost among another's. Known = the issue each failure matched when it ran.
void append_engines(std::string& out, const RunResults& r) {
  struct Tally {
    std::string version;
    std::size_t cells = 0, passed = 0, known = 0, unknown = 0;
    std::set<std::string> known_signatures;
  };
  std::map<std::string, Tally> by_engine;
  for (const CellResult& cell : r.cells) {
    Tally& t = by_engine[engine_of(cell)];
    ++t.cells;
    const Outcome* last = cell.attempts.empty() ? nullptr : &cell.attempts.back().outcome;
    if (last && last->engine && !last->engine->version.empty()) t.version = last->engine->version;
    if (cell.verdict == Verdict::pass) ++t.passed;
    if (cell.verdict != Verdict::fail && cell.verdict != Verdict::flaky) continue;
    if (last && last->known_issue) {
      ++t.known;
      if (!last->signature.empty()) t.known_signatures.insert(last->signature);
    } else {
      ++t.unknown;
    }
  }
  if (by_engine.size() < 2) return;
  out += "<section id=\"engines\">\n<h2>Engines</h2>\n<table class=\"grid\" id=\"engine-grid\">\n<thead><tr><th>engine</th>"
         "<th>version</th><th>cells</th><th>passed</th><th>failed, known issue</th><th>failed, no known issue</th></tr></thead>\n"
         "<tbody>\n";
  for (const auto& [engine, t] : by_engine)
    out += fmt::format("<tr data-engine=\"{}\"><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{} ({} distinct "
                       "crash{})</td><td class=\"{}\">{}</td></tr>\n",
                       e(engine), e(engine), e(t.version.empty() ? "\u2013" : t.version), t.cells, t.passed, t.known,
                       t.known_signatures.size(), t.known_signatures.size() == 1 ? "" : "es",
                       t.unknown ? report::verdict_class(Verdict::fail) : "", t.unknown);
  out += "</tbody>\n</table>\n</section>\n";
}

// matrix.json (crashgate.matrix/1): each regression, caught or escaped, and which cells caught it.
void append_matrix(std::string& out, const ReportInputs& inputs) {
  if (!inputs.matrix && inputs.matrix_problem.empty()) return;
  out += "<section id=\"regressions\">\n<h2>Regression matrix</h2>\n";
  if (!inputs.matrix) {
    out += "<p class=\"problem\">matrix.json could not be used: " + e(inputs.matrix_problem) + "</p>\n</section>\n";
    return;
  }
  const DetectionMatrix& m = *inputs.matrix;
  out += fmt::format("<p>verdict: <span class=\"banner {}\" id=\"matrix-verdict\">{}</span></p>\n",
                     m.passed ? "v-pass" : "v-fail", m.passed ? "pass" : "fail");
  out += "<table class=\"grid\" id=\"regression-grid\">\n<thead><tr><th>regression</th><th>status</th><th>expected kinds</th>"
         "<th>caught by</th></tr></thead>\n<tbody>\n";
  for (const MatrixRegression& reg : m.regressions) {
    std::string status(to_string(reg.status));
    std::string kinds = reg.info.shows_as;
    for (std::size_t bar; (bar = kinds.find('|')) != std::string::npos;) kinds.replace(bar, 1, ", ");
    std::string caught;
    for (const MatrixCatch& c : reg.caught_by)
      caught += fmt::format("<li><code>{}</code> {} \u2014 {} <span class=\"dim\">({} s)</span></li>", e(c.cell), e(c.kind),
                            e(c.detail), c.ms / 1000.0);
    out += fmt::format("<tr data-regression=\"{}\" data-status=\"{}\"><th scope=\"row\">{}</th><td class=\"s-{}\">{}</td><td>{}</td>"
                       "<td><ul>{}</ul></td></tr>\n",
                       e(reg.info.id), e(status), e(reg.info.id), status, e(status), e(kinds), caught);
  }
  out += "</tbody>\n</table>\n</section>\n";
}

void append_field_reports(std::string& out, const report::FieldReportAnchors& anchors, const ReportInputs& inputs) {
  if (anchors.empty()) return;
  std::vector<std::pair<std::string, std::string>> ordered(anchors.begin(), anchors.end());
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.second.size() != b.second.size() ? a.second.size() < b.second.size() : a.second < b.second; });
  out += "<section id=\"field-reports\">\n<h2>Field reports replayed</h2>\n";
  for (const auto& [origin, anchor] : ordered) {
    out += fmt::format("<section class=\"field-report\" id=\"{}\"><h3>{}</h3>\n<pre>{}</pre>\n</section>\n", anchor, e(origin),
                       e(inputs.field_reports.at(origin)));
  }
  out += "</section>\n";
}

void append_run_times(std::string& out, const RunResults& r) {
  if (r.cells.empty()) return;
  std::map<std::string, std::int64_t> by_build;
  std::vector<std::pair<std::int64_t, std::size_t>> slowest;
  for (std::size_t i = 0; i < r.cells.size(); ++i) {
    std::int64_t ms = 0;
    for (const auto& a : r.cells[i].attempts) ms += a.outcome.duration_ms;
    by_build[r.cells[i].cell.build] += ms;
    slowest.emplace_back(ms, i);
  }
  std::stable_sort(slowest.begin(), slowest.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  out += "<section id=\"run-times\">\n<h2>Run times</h2>\n";
  out += fmt::format("<p>wall time {} s with -j {}; cell time by build:</p>\n<table class=\"facts\">\n",
                     report::seconds_text(r.duration_ms), r.jobs);
  for (const auto& [build, ms] : by_build)
    out += fmt::format("<tr><th>{}</th><td>{} s</td></tr>\n", e(build), report::seconds_text(ms));
  out += "</table>\n<h3>Slowest cells</h3>\n<table class=\"facts\" id=\"slowest\">\n";
  for (std::size_t n = 0; n < slowest.size() && n < 20; ++n) {
    const CellResult& cell = r.cells[slowest[n].second];
    out += fmt::format("<tr><th>{} s</th><td><span class=\"badge {}\">{}</span> {} <span class=\"dim\">({} attempt{})</span></td></tr>\n",
                       report::seconds_text(slowest[n].first), report::verdict_class(cell.verdict), to_string(cell.verdict),
                       e(cell.cell.id), cell.attempts.size(), cell.attempts.size() == 1 ? "" : "s");
  }
  out += "</table>\n</section>\n";
}

}  // namespace

std::string write_html(const RunResults& r, const ReportInputs& inputs) {
  report::FieldReportAnchors anchors;
  for (const auto& cell : r.cells)
    if (!cell.origin.empty() && inputs.field_reports.count(cell.origin) && !anchors.count(cell.origin))
      anchors[cell.origin] = fmt::format("field-report-{}", anchors.size());

  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>crashgate run {}</title>\n<style>{}</style>\n</head>\n<body>\n", e(r.run_id), kStyle);
  append_header(out, r);
  append_engines(out, r);
  append_grid(out, r);
  append_matrix(out, inputs);

  std::size_t problems = 0;
  for (const auto& cell : r.cells) problems += cell.verdict == Verdict::fail || cell.verdict == Verdict::flaky ||
                                               cell.verdict == Verdict::harness_error;
  if (problems) {
    out += "<section id=\"diagnoses\">\n<h2>Cells that did not pass</h2>\n";
    for (Verdict v : {Verdict::fail, Verdict::flaky, Verdict::harness_error})
      for (std::size_t i = 0; i < r.cells.size(); ++i)
        if (r.cells[i].verdict == v) report::append_cell_diagnosis(out, r.cells[i], i, inputs, anchors);
    out += "</section>\n";
  }
  std::string not_run;
  for (const auto& cell : r.cells)
    if (cell.verdict == Verdict::not_run) not_run += "<li><code>" + e(cell.cell.id) + "</code></li>";
  if (!not_run.empty())
    out += "<section id=\"not-run\">\n<h2>Not run (interrupted)</h2>\n<ul>" + not_run + "</ul>\n</section>\n";
  if (r.change) append_skipped(out, *r.change);
  append_field_reports(out, anchors, inputs);
  append_run_times(out, r);
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace crashgate
