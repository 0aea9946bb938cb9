// What `crashgate triage` prints: the human summary (as `crashgate exec`
// prints one), Markdown for a ticket, and the result JSON with a "triage" part.
#include <fmt/format.h>

#include "crashgate/field_triage.h"
#include "crashgate/limits.h"
#include "crashgate/result_json.h"
#include "crashgate/summary_text.h"

namespace crashgate {
namespace {

constexpr std::size_t kSimilarShown = 8;

std::string one_line_state(std::string state) {
  for (auto& c : state)
    if (c == '\n') c = '|';
  return state;
}

std::string similar_line(const SimilarCrash& s) {
  std::string what = s.past.source.rfind("known issue", 0) == 0
                         ? s.past.source
                         : fmt::format("crash {} of {} (cell {})", s.past.signature.substr(0, 8), s.past.source, s.past.id);
  return fmt::format("{} {} ({})", s.same_signature ? "same as" : "like", what, s.how());
}

std::string input_line(const TriageReport& r) {
  return fmt::format("{} ({}{})", r.input, to_string(r.kind), r.format.empty() ? "" : ", " + r.format);
}

std::string read_line(const StoreRead& read) {
  const Outcome& o = read.outcome;
  if (o.kind == OutcomeKind::ok) return "works";
  std::string line = fmt::format("{}: {}", to_string(o.kind), o.detail);
  if (o.kind == OutcomeKind::harness_error) {  // crashgate's problem, not the engine's: the driver says why
    std::string err = o.stderr_excerpt.text();
    while (!err.empty() && err.back() == '\n') err.pop_back();
    if (auto nl = err.rfind('\n'); nl != std::string::npos) err = err.substr(nl + 1);
    if (!err.empty()) line += ": " + err;
  }
  if (o.known_issue) line += fmt::format(" [known issue {}]", o.known_issue->id);
  return line;
}

void append_store(std::string& out, const StoreReport& s) {
  out += fmt::format("  engine: {} ({})\n", s.engine.target, s.recognised);
  out += "  files:\n";
  for (const auto& f : s.inspection.files) {
    out += fmt::format("    {:<24} {:>14} bytes  {}\n", f.name, format_thousands(f.size),
                       f.layout_file.empty() ? "(not in the layout)" : "(" + f.layout_file + ")");
    for (const auto& p : f.problems) out += fmt::format("      damaged: {}\n", p);
  }
  for (const auto& p : s.inspection.problems) out += fmt::format("    {}\n", p);
  out += "  reads, each on its own copy:\n";
  std::string working;
  for (const auto& read : s.reads) {
    out += fmt::format("    {:<8} {}\n", read.what, read_line(read));
    if (read.outcome.kind == OutcomeKind::ok) working += (working.empty() ? "" : ", ") + read.what;
  }
  out += fmt::format("  still works: {}\n", working.empty() ? "nothing: every read fails" : working);
}

}  // namespace

bool is_crash(const Outcome& o) {
  return o.kind != OutcomeKind::ok && o.kind != OutcomeKind::error && o.kind != OutcomeKind::harness_error;
}

std::string triage_text(const TriageReport& r) {
  SummaryOptions options;
  options.run_figures = false;
  std::string out = fmt::format("crashgate triage: {}\n", input_line(r));
  if (r.store) {
    append_store(out, *r.store);
    if (!is_crash(r.outcome)) return out + "  no read crashed\n";
    out += "the first read that crashed:\n";
  }
  out += summary_text(r.outcome, options);
  if (r.similar.empty()) {
    out += "  similar crashes: none among the known issues and runs given\n";
  } else {
    out += "  similar crashes:\n";
    for (std::size_t i = 0; i < r.similar.size() && i < kSimilarShown; ++i)
      out += fmt::format("    {}\n", similar_line(r.similar[i]));
    if (r.similar.size() > kSimilarShown) out += fmt::format("    ... and {} more\n", r.similar.size() - kSimilarShown);
  }
  return out;
}

std::string triage_markdown(const TriageReport& r) {
  const Outcome& o = r.outcome;
  std::string out = fmt::format("### Crash: {}\n\n", o.detail);
  out += fmt::format("- **Input:** `{}`\n", input_line(r));
  out += fmt::format("- **Kind:** {}", to_string(o.kind));
  if (!o.check.empty()) out += fmt::format(" — `{}`", o.check);
  out += "\n";
  if (o.attribution && !o.attribution->description.empty())
    out += fmt::format("- **Where:** {}\n", o.attribution->description);
  if (!o.crash_state.empty())
    out += fmt::format("- **Crash state:** `{}` (signature `{}`)\n", one_line_state(o.crash_state), o.signature);
  if (o.known_issue)
    out += fmt::format("- **Known issue:** {} — {}{}\n", o.known_issue->id, o.known_issue->title,
                       o.known_issue->url.empty() ? "" : " (" + o.known_issue->url + ")");
  for (const auto& s : r.similar) out += fmt::format("- **Seen before:** {}\n", similar_line(s));
  if (r.store) {
    out += fmt::format("- **Engine:** {} ({})\n", r.store->engine.target, r.store->recognised);
    for (const auto& f : r.store->inspection.files)
      for (const auto& p : f.problems) out += fmt::format("- **Damaged:** {}\n", p);
    out += "\n| read | outcome |\n|---|---|\n";
    for (const auto& read : r.store->reads) out += fmt::format("| {} | {} |\n", read.what, read_line(read));
  }
  for (const auto& note : o.notes) out += fmt::format("- **Note:** {}\n", note);
  if (o.crashing_thread >= 0 && o.crashing_thread < static_cast<int>(o.threads.size())) {
    const Thread& t = o.threads[static_cast<std::size_t>(o.crashing_thread)];
    out += fmt::format("\n<details><summary>Stack of the crashing thread{}</summary>\n\n```\n",
                       t.tid ? fmt::format(" ({})", t.tid) : "");
    int n = 0;
    for (const auto& f : t.frames) out += fmt::format("#{:<2} {}\n", n++, frame_text(f));
    out += "```\n\n</details>\n";
  }
  out += "\n_Triaged by `crashgate triage`._\n";
  return out;
}

nlohmann::json triage_json(const TriageReport& r) {
  nlohmann::json j = to_json(r.outcome);
  auto similar = nlohmann::json::array();
  for (const auto& s : r.similar)
    similar.push_back({{"source", s.past.source},
                       {"id", s.past.id},
                       {"where", s.past.where},
                       {"signature", s.past.signature},
                       {"crash_state", s.past.crash_state},
                       {"same_signature", s.same_signature},
                       {"same_type", s.same_type},
                       {"common_frames", s.common_frames},
                       {"frames", s.frames},
                       {"how", s.how()}});
  j["triage"] = {{"input", r.input}, {"kind", to_string(r.kind)}, {"format", r.format}, {"similar", similar}};
  if (r.store) {
    auto files = nlohmann::json::array();
    for (const auto& f : r.store->inspection.files) {
      auto fields = nlohmann::json::object();
      for (const auto& [name, value] : f.fields) fields[name] = value;
      files.push_back({{"name", f.name}, {"size", f.size}, {"layout_file", f.layout_file}, {"problems", f.problems}, {"fields", fields}});
    }
    auto reads = nlohmann::json::array();
    for (const auto& read : r.store->reads) reads.push_back({{"what", read.what}, {"result", to_json(read.outcome)}});
    j["triage"]["store"] = {{"engine", r.store->engine.target}, {"recognised", r.store->recognised}, {"files", files},
                            {"problems", r.store->inspection.problems}, {"reads", reads}};
  }
  return j;
}

}  // namespace crashgate
