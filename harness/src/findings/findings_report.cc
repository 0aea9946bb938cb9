// An engine's findings as JSON (crashgate.findings/1) and Markdown (findings.h).
#include <fmt/format.h>

#include "crashgate/findings.h"

namespace crashgate {
namespace {

using json = nlohmann::json;

json finding_frame_json(const Frame& f) {
  return {{"function", f.function}, {"file", f.file}, {"line", f.line}, {"module", f.module},
          {"module_offset", fmt::format("0x{:x}", f.module_offset)}};
}

std::string finding_frame_text(const Frame& f) {
  std::string where = f.function.empty() ? fmt::format("{}+0x{:x}", f.module, f.module_offset) : f.function;
  if (!f.file.empty()) where += fmt::format(" ({}:{})", f.file, f.line);
  return where;
}

std::string findings_md_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|' || c == '*' || c == '_' || c == '<' || c == '>' || c == '[' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

std::string findings_seconds(std::int64_t ms) { return fmt::format("{:.1f} s", ms / 1000.0); }

}  // namespace

json to_json(const EngineFindings& f) {
  json findings = json::array();
  for (const Finding& x : f.findings) {
    json frames = json::array();
    for (const Frame& fr : x.frames) frames.push_back(finding_frame_json(fr));
    json attribution = nullptr;
    if (x.attribution)
      attribution = {{"description", x.attribution->description},
                     {"file", x.attribution->file},
                     {"file_offset", x.attribution->file_offset ? json(*x.attribution->file_offset) : json(nullptr)},
                     {"file_size", x.attribution->file_size ? json(*x.attribution->file_size) : json(nullptr)},
                     {"past_eof", x.attribution->past_eof},
                     {"stack_guard", x.attribution->stack_guard},
                     {"null_page", x.attribution->null_page}};
    json known = nullptr;
    if (x.known_issue)
      known = {{"id", x.known_issue->id}, {"title", x.known_issue->title}, {"url", x.known_issue->url}, {"upstream", x.upstream}};
    findings.push_back({{"signature", x.signature},
                        {"kind", x.kind},
                        {"detail", x.detail},
                        {"crash_state", x.crash_state},
                        {"attribution", attribution},
                        {"frames", frames},
                        {"cells", x.cells},
                        {"builds", x.builds},
                        {"fault_classes", x.fault_classes},
                        {"smallest_cell", x.smallest_cell},
                        {"smallest_seconds", x.smallest_ms / 1000.0},
                        {"repro", x.repro},
                        {"input", x.input},
                        {"known_issue", known}});
  }
  return {{"schema", kFindingsSchema}, {"engine", f.engine}, {"versions", f.versions}, {"cells", f.cells},
          {"failed", f.failed},        {"findings", findings}};
}

std::string findings_markdown(const EngineFindings& f) {
  std::string versions;
  for (const auto& v : f.versions) versions += (versions.empty() ? " " : ", ") + v;
  int known = 0;
  for (const Finding& x : f.findings) known += x.known_issue.has_value();
  std::string md = fmt::format("# Findings: {}{}\n\n", f.engine, versions);
  md += fmt::format("{} cells read, {} failed; **{} distinct crash{}** ({} filed as known issues, {} not).\n\n", f.cells, f.failed,
                    f.findings.size(), f.findings.size() == 1 ? "" : "es", known, f.findings.size() - known);
  md += "Written by `crashgate findings` from scenario and fuzz runs; each crash is one signature "
        "(reports/result-schema.md, Triage). An engine linked as a compiled library (LMDB, FAISS) ran uninstrumented in "
        "every build: the sanitizers saw the driver, and the engine's own faults show as signals.\n\n";
  if (f.findings.empty()) return md + "No crash.\n";
  md += "| signature | kind | detail | cells | found by | known issue |\n|---|---|---|---|---|---|\n";
  for (const Finding& x : f.findings) {
    std::string classes;
    for (const auto& c : x.fault_classes) classes += (classes.empty() ? "" : ", ") + c;
    md += fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", x.signature, x.kind, findings_md_escape(x.detail), x.cells.size(), findings_md_escape(classes),
                      x.known_issue ? x.known_issue->id : "**new**");
  }
  for (const Finding& x : f.findings) {
    md += fmt::format("\n## `{}`: {}\n\n", x.signature, findings_md_escape(x.known_issue ? x.known_issue->title : x.detail));
    md += fmt::format("- **{}**: {}\n", x.kind, findings_md_escape(x.detail));
    if (x.attribution && !x.attribution->description.empty())
      md += fmt::format("- where: {}\n", findings_md_escape(x.attribution->description));
    if (x.known_issue)
      md += fmt::format("- known issue {}{}\n", x.known_issue->id, x.known_issue->url.empty() ? "" : " (" + x.known_issue->url + ")");
    if (!x.upstream.empty()) md += fmt::format("- upstream: {}\n", findings_md_escape(x.upstream));
    if (!x.known_issue)
      md += "- **not a known issue**: the gate blocks on it until reports/known-issues.toml files it\n";
    std::string builds;
    for (const auto& b : x.builds) builds += (builds.empty() ? "" : ", ") + b;
    md += fmt::format("- {} cell{} in {}; the smallest: `{}` ({})\n", x.cells.size(), x.cells.size() == 1 ? "" : "s", builds,
                      x.smallest_cell, findings_seconds(x.smallest_ms));
    if (!x.input.empty()) md += fmt::format("- minimized input: `{}`\n", x.input);
    md += fmt::format("- repro: `{}`\n", x.repro);
    if (!x.crash_state.empty()) md += "- crash state:\n\n```\n" + x.crash_state + "\n```\n";
    if (!x.frames.empty()) {
      md += "\n- frames:\n\n```\n";
      for (std::size_t i = 0; i < x.frames.size(); ++i) md += fmt::format("#{} {}\n", i, finding_frame_text(x.frames[i]));
      md += "```\n";
    }
    if (x.cells.size() > 1) {
      md += "\n<details><summary>every cell</summary>\n\n";
      for (const auto& c : x.cells) md += fmt::format("- `{}`\n", c);
      md += "\n</details>\n";
    }
  }
  return md;
}

}  // namespace crashgate
