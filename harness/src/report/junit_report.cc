// junit.xml: one testsuite per scenario folder (fault class), one testcase per
// cell. Fits the JUnit schema Jenkins publishes (xunit-plugin junit-10.xsd,
// Surefire's flakyFailure included); tests/harness/data/junit-10.xsd checks it.
// A small escaper of our own (report_text.h) writes the XML: every value goes
// through markup_escape, so no CDATA section is ever needed.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "crashgate/report_writers.h"
#include "crashgate/summary_text.h"
#include "report/report_text.h"

namespace crashgate {
namespace {

using report::markup_escape;

// The end of a failing cell's stdout and stderr; the diagnosis already holds its stacks.
constexpr std::size_t kOutputShown = 4 * 1024;

struct Tally {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  std::int64_t ms = 0;
  void add(const CellResult& cell, std::int64_t cell_ms) {
    ++tests;
    failures += cell.verdict == Verdict::fail;
    errors += cell.verdict == Verdict::harness_error;
    skipped += cell.verdict == Verdict::not_run;
    ms += cell_ms;
  }
};

std::int64_t cell_ms(const CellResult& cell) {
  std::int64_t ms = 0;
  for (const auto& a : cell.attempts) ms += a.outcome.duration_ms;
  return ms;
}

// The testcase name: scenario[params]@build, with the target when a run has several.
std::string testcase_name(const CellResult& cell, bool several_targets) {
  std::string at = several_targets ? cell.cell.target + "/" + cell.cell.build : cell.cell.build;
  return cell.cell.scenario + report::params_text(cell) + "@" + at;
}

std::string element(const std::string& name, const std::string& text, const std::string& indent) {
  return fmt::format("{}<{}>{}</{}>\n", indent, name, markup_escape(text), name);
}

void append_output(std::string& out, const Outcome& o, const std::string& indent) {
  if (o.stdout_excerpt.total_bytes > 0) out += element("system-out", report::output_tail(o.stdout_excerpt, kOutputShown), indent);
  if (o.stderr_excerpt.total_bytes > 0) out += element("system-err", report::output_tail(o.stderr_excerpt, kOutputShown), indent);
}

void append_testcase(std::string& out, const CellResult& cell, bool several_targets) {
  const std::string in = "      ";
  out += fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"{}\">\n",
                     markup_escape(testcase_name(cell, several_targets)), markup_escape(report::scenario_folder(cell)),
                     report::seconds_text(cell_ms(cell)));
  const Attempt* first = report::first_attempt(cell);
  std::string headline = markup_escape(report::cell_headline(cell));
  switch (cell.verdict) {
    case Verdict::pass: break;
    case Verdict::fail:
      out += in + fmt::format("<failure message=\"{}\" type=\"{}\">{}</failure>\n", headline,
                              markup_escape(report::rule_id(first->outcome)), markup_escape(report::cell_diagnosis(cell)));
      break;
    case Verdict::flaky:
      // Surefire's convention: the testcase passed; each failed attempt is a flakyFailure.
      for (std::size_t k = 0; k < cell.attempts.size(); ++k) {
        const Attempt& a = cell.attempts[k];
        if (a.verdict == Verdict::pass) continue;
        std::string trace = k == 0 ? report::cell_diagnosis(cell) : summary_text(a.outcome);
        out += in + fmt::format("<flakyFailure message=\"{}\" type=\"{}\">\n", markup_escape(
                                    fmt::format("attempt {}: {}: {}", k + 1, outcome_text(a.outcome), a.outcome.detail)),
                                markup_escape(report::rule_id(a.outcome)));
        out += element("stackTrace", trace, in + "  ");
        append_output(out, a.outcome, in + "  ");
        out += in + "</flakyFailure>\n";
      }
      break;
    case Verdict::harness_error:
      out += in + fmt::format("<error message=\"{}\" type=\"harness-error\">{}</error>\n", headline,
                              markup_escape(report::cell_diagnosis(cell)));
      break;
    case Verdict::not_run:
      out += in + fmt::format("<skipped message=\"{}\"/>\n", headline);
      break;
  }
  if (first && cell.verdict != Verdict::pass && cell.verdict != Verdict::flaky) append_output(out, first->outcome, in);
  out += "    </testcase>\n";
}

// The testcase name of a cell the change-aware selection left out, as testcase_name would write it.
void append_skipped_testcase(std::string& out, const SkippedCell& k, const ChangeScope& change, bool several_targets) {
  std::string prefix = k.scenario + "/" + k.target + "/" + k.build;
  std::string params = k.id.size() > prefix.size() && k.id.compare(0, prefix.size(), prefix) == 0 ? k.id.substr(prefix.size()) : "";
  std::string at = several_targets ? k.target + "/" + k.build : k.build;
  std::string folder = std::filesystem::path(k.scenario_file).parent_path().filename().string();
  out += fmt::format("    <testcase name=\"{}\" classname=\"{}\" time=\"0\">\n", markup_escape(k.scenario + params + "@" + at),
                     markup_escape(folder.empty() ? "scenarios" : folder));
  out += fmt::format("      <skipped message=\"{}\"/>\n",
                     markup_escape(fmt::format("not selected: no change since {} reaches it (--all runs it)", change.base)));
  out += "    </testcase>\n";
}

}  // namespace

std::string write_junit(const RunResults& r) {
  // Folders in the order their first cell ran; cells in run order within each.
  std::vector<std::string> folders;
  std::map<std::string, std::vector<const CellResult*>> by_folder;
  std::map<std::string, int> targets;
  for (const auto& cell : r.cells) {
    std::string folder = report::scenario_folder(cell);
    if (!by_folder.count(folder)) folders.push_back(folder);
    by_folder[folder].push_back(&cell);
    ++targets[cell.cell.target];
  }
  bool several_targets = targets.size() > 1;
  // A change-aware run: each cell it left out is a skipped testcase, so CI's test view shows what did not run.
  std::map<std::string, std::vector<const SkippedCell*>> skipped_by_folder;
  if (r.change) {
    std::map<std::string, int> all_targets = targets;
    for (const SkippedCell& k : r.change->skipped) {
      std::string folder = std::filesystem::path(k.scenario_file).parent_path().filename().string();
      if (folder.empty()) folder = "scenarios";
      if (!by_folder.count(folder) && !skipped_by_folder.count(folder)) folders.push_back(folder);
      skipped_by_folder[folder].push_back(&k);
      ++all_targets[k.target];
    }
    several_targets = all_targets.size() > 1;
  }

  Tally total;
  std::string suites;
  for (std::size_t i = 0; i < folders.size(); ++i) {
    Tally t;
    std::string cases;
    for (const CellResult* cell : by_folder[folders[i]]) {
      t.add(*cell, cell_ms(*cell));
      total.add(*cell, cell_ms(*cell));
      append_testcase(cases, *cell, several_targets);
    }
    for (const SkippedCell* k : skipped_by_folder[folders[i]]) {
      ++t.tests, ++t.skipped, ++total.tests, ++total.skipped;
      append_skipped_testcase(cases, *k, *r.change, several_targets);
    }
    suites += fmt::format(
        "  <testsuite name=\"{}\" package=\"crashgate\" id=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" "
        "skipped=\"{}\" time=\"{}\" timestamp=\"{}\" hostname=\"{}\">\n",
        markup_escape(folders[i]), i, t.tests, t.failures, t.errors, t.skipped, report::seconds_text(t.ms),
        markup_escape(r.started_at), markup_escape(r.host));
    suites += "    <properties>\n";
    for (const auto& [name, value] :
         std::vector<std::pair<std::string, std::string>>{{"run_id", r.run_id},
                                                          {"seed", std::to_string(r.seed)},
                                                          {"crashgate_version", r.crashgate_version},
                                                          {"command_line", fmt::format("{}", fmt::join(r.command_line, " "))}})
      suites += fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", name, markup_escape(value));
    suites += "    </properties>\n" + cases + "  </testsuite>\n";
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"crashgate run {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{}\">\n",
                     markup_escape(r.run_id), total.tests, total.failures, total.errors,
                     report::seconds_text(r.duration_ms));
  return out + suites + "</testsuites>\n";
}

}  // namespace crashgate
