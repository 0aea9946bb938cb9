// One failing cell in report.html: what was expected and what came, where the
// fault lies, every stack with source locations, the steps, stderr, reruns,
// the field report it replays, and the command that reproduces it.
#include <fmt/format.h>

#include "crashgate/limits.h"
#include "crashgate/summary_text.h"
#include "report/html_parts.h"
#include "report/report_text.h"

namespace crashgate::report {
namespace {

constexpr std::size_t kFramesShown = 40;  // a stack deeper than this is recursion; the rest is counted
constexpr std::size_t kStacksShown = 16;
constexpr std::size_t kOutputShown = 4 * 1024;  // the end of stdout and stderr; results.json has more

std::string e(std::string_view text) { return markup_escape(text); }

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void row(std::string& out, const std::string& name, const std::string& value_html) {
  out += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", name, value_html);
}

void append_stack(std::string& out, const Thread& thread, bool crashed, const std::string& source_root) {
  std::string who = thread.tid ? fmt::format("thread {}", thread.tid) : "";
  if (!thread.name.empty()) who += (who.empty() ? "" : " ") + fmt::format("'{}'", thread.name);
  out += fmt::format("<table class=\"stack{}\"><caption>{}{}</caption>\n", crashed ? " crashed" : "",
                     e(thread.role.empty() ? "stack" : thread.role), who.empty() ? "" : " (" + e(who) + ")");
  for (std::size_t i = 0; i < thread.frames.size() && i < kFramesShown; ++i) {
    const Frame& f = thread.frames[i];
    std::string where;
    if (!f.file.empty()) {
      auto relative = project_relative(f.file, source_root);
      where = fmt::format("<span class=\"src{}\">{}:{}</span>", relative ? " project" : "", e(relative ? *relative : f.file),
                          f.line);
    }
    std::string module = f.module.empty() ? "" : fmt::format("{}+0x{:x}", e(base_name(f.module)), f.module_offset);
    out += fmt::format("<tr><td class=\"n\">#{}</td><td class=\"fn\">{}</td><td>{}</td><td class=\"mod\">{}</td></tr>\n", i,
                       e(f.function.empty() ? "??" : f.function), where, module);
  }
  if (thread.frames.size() > kFramesShown)
    out += fmt::format("<tr><td colspan=\"4\" class=\"more\">... {} more frames</td></tr>\n",
                       thread.frames.size() - kFramesShown);
  if (!thread.error.empty())
    out += fmt::format("<tr><td colspan=\"4\" class=\"more\">unwinding stopped: {}</td></tr>\n", e(thread.error));
  out += "</table>\n";
}

void append_attribution(std::string& out, const Outcome& o) {
  if (!o.attribution && !o.fault_address) return;
  out += "<h4>Where the fault lies</h4>\n<table class=\"facts\">\n";
  if (o.fault_address) row(out, "fault address", fmt::format("<code>0x{:x}</code>", *o.fault_address));
  if (o.attribution) {
    const Attribution& a = *o.attribution;
    if (!a.description.empty()) row(out, "attribution", e(a.description));
    if (!a.mapping.empty()) row(out, "mapping", "<code>" + e(a.mapping) + "</code>");
    if (!a.file.empty()) row(out, "file", "<code>" + e(a.file) + "</code>");
    if (a.file_offset) row(out, "offset", format_thousands(*a.file_offset));
    if (a.file_size) row(out, "file size", format_thousands(*a.file_size));
    if (a.thread_stack_size) row(out, "thread stack", format_thousands(*a.thread_stack_size) + " bytes");
  }
  out += "</table>\n";
}

void append_steps(std::string& out, const Outcome& o) {
  if (o.steps.empty()) return;
  out += "<h4>Steps</h4>\n<table class=\"steps\"><tr><th>#</th><th>op</th><th>status</th><th>code</th><th>message</th>"
         "<th>ms</th></tr>\n";
  for (const auto& s : o.steps)
    out += fmt::format("<tr class=\"step-{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1f}</td></tr>\n",
                       s.status == StepStatus::ok ? "ok" : "bad", s.index, e(s.op), e(std::string(to_string(s.status))), e(s.code), e(s.message),
                       s.duration_ms);
  out += "</table>\n";
}

void append_output(std::string& out, const char* name, const OutputExcerpt& excerpt) {
  if (excerpt.total_bytes == 0) return;
  out += fmt::format("<h4>{} ({} bytes{})</h4>\n<pre class=\"output\">{}</pre>\n", name, format_thousands(excerpt.total_bytes),
                     excerpt.truncated() ? ", excerpt" : "", e(output_tail(excerpt, kOutputShown)));
}

}  // namespace

void append_cell_diagnosis(std::string& out, const CellResult& cell, std::size_t index, const ReportInputs& inputs,
                           const FieldReportAnchors& field_reports) {
  std::string verdict(to_string(cell.verdict));
  out += fmt::format("<section class=\"diagnosis {}\" id=\"{}\" data-cell=\"{}\" data-verdict=\"{}\">\n",
                     verdict_class(cell.verdict), cell_anchor(index), e(cell.cell.id), verdict);
  out += fmt::format("<h3><span class=\"badge {}\">{}</span> {}</h3>\n", verdict_class(cell.verdict), verdict, e(cell.cell.id));
  out += fmt::format("<p class=\"headline\">{}</p>\n<table class=\"facts\">\n", e(cell_headline(cell)));
  row(out, "expected", e(expectation_text(cell.cell.expect)));
  const Attempt* first = first_attempt(cell);
  if (first) {
    row(out, "got", e(outcome_text(first->outcome) + ": " + first->outcome.detail));
    for (const auto& why : first->unmet) row(out, "unmet", e(why));
    if (!first->outcome.crash_state.empty()) {
      std::string state = first->outcome.crash_state;
      for (auto& c : state)
        if (c == '\n') c = '|';
      row(out, "crash state", "<code>" + e(state) + "</code>");
      row(out, "signature", "<code>" + e(first->outcome.signature) + "</code>");
    }
    if (first->outcome.known_issue)
      row(out, "known issue", e(first->outcome.known_issue->id + " " + first->outcome.known_issue->title));
  }
  row(out, "scenario", fmt::format("{} <span class=\"dim\">({})</span>", e(cell.cell.scenario), e(cell.scenario_file)));
  if (!cell.summary.empty()) row(out, "summary", e(cell.summary));
  if (!cell.origin.empty()) {
    auto anchor = field_reports.find(cell.origin);
    row(out, "replays", anchor == field_reports.end()
                            ? e(cell.origin)
                            : fmt::format("<a href=\"#{}\">{}</a>", anchor->second, e(cell.origin)));
  }
  if (!cell.cell.regression.empty()) row(out, "regression", e(cell.cell.regression));
  row(out, "seed", std::to_string(cell.cell.seed));
  if (first) row(out, "ran", fmt::format("{} s, {} attempt{}", seconds_text(first->outcome.duration_ms), cell.attempts.size(),
                                         cell.attempts.size() == 1 ? "" : "s"));
  row(out, "repro", "<code class=\"repro\">" + e(cell.repro) + "</code>");
  out += "</table>\n";
  if (first) {
    const Outcome& o = first->outcome;
    append_attribution(out, o);
    if (!o.threads.empty()) {
      out += "<h4>Stacks</h4>\n";
      std::size_t shown = 0;
      if (o.crashing_thread >= 0 && o.crashing_thread < static_cast<int>(o.threads.size())) {
        append_stack(out, o.threads[o.crashing_thread], true, inputs.source_root);
        ++shown;
      }
      for (std::size_t i = 0; i < o.threads.size() && shown < kStacksShown; ++i) {
        if (static_cast<int>(i) == o.crashing_thread) continue;
        append_stack(out, o.threads[i], false, inputs.source_root);
        ++shown;
      }
      if (o.threads.size() > shown)
        out += fmt::format("<p class=\"more\">... {} more stacks in results.json</p>\n", o.threads.size() - shown);
    }
    append_steps(out, o);
    append_output(out, "stderr", o.stderr_excerpt);
    append_output(out, "stdout", o.stdout_excerpt);
    for (const auto& note : o.notes) out += "<p class=\"note\">note: " + e(note) + "</p>\n";
  }
  if (cell.attempts.size() > 1) {
    out += "<h4>Reruns</h4>\n<ol class=\"reruns\">\n";
    for (std::size_t k = 1; k < cell.attempts.size(); ++k) {
      const Attempt& a = cell.attempts[k];
      out += fmt::format("<li><span class=\"badge {}\">{}</span> {}: {}</li>\n", verdict_class(a.verdict), to_string(a.verdict),
                         e(outcome_text(a.outcome)), e(a.outcome.detail));
    }
    out += "</ol>\n";
  }
  out += "</section>\n";
}

}  // namespace crashgate::report
