// summary.md. Every item is rendered whole and then admitted only if it fits
// the section's share of the budget, so truncation never cuts a line in half.
#include "crashgate/limits.h"
#include "crashgate/run_directory.h"
#include "crashgate/summary_markdown.h"

#include "crashgate/findings.h"  // engine_of

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <set>
#include <fstream>
#include <functional>
#include <map>

#include "crashgate/verdict.h"

namespace crashgate {
namespace {

constexpr std::size_t kTextCap = 240;      // a detail or message, at most
constexpr std::size_t kSectionReserve = 700;  // kept back for each section still to come
constexpr std::size_t kFooterReserve = 1'400;

// At most `cap` bytes, not splitting a UTF-8 sequence, with "..." when cut.
std::string capped(std::string_view text, std::size_t cap) {
  if (text.size() <= cap) return std::string(text);
  std::size_t end = cap;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "...";
}

std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  return out;
}

// Inline code: a backtick inside would end it early.
std::string code(std::string_view text, std::size_t cap = kTextCap) {
  std::string out = capped(one_line(text), cap);
  for (char& c : out)
    if (c == '`') c = '\'';
  return "`" + out + "`";
}

// Plain text: nothing in it may turn into markup, HTML or a table cell.
std::string plain(std::string_view text, std::size_t cap = kTextCap) {
  std::string out;
  for (char c : capped(one_line(text), cap)) {
    if (std::strchr("\\`*_[]<>|#~", c)) out += '\\';
    out += c;
  }
  return out;
}

// "signal SIGBUS in `f` <- `g` <- `h`"
std::string state_text(const std::string& crash_state) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= crash_state.size()) {
    auto end = crash_state.find('\n', start);
    lines.push_back(crash_state.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (lines.empty() || lines.front().empty()) return "";
  std::string out = plain(lines.front(), 80);
  for (std::size_t i = 1; i < lines.size(); ++i) out += (i == 1 ? " in " : " ← ") + code(lines[i], 100);
  return out;
}

std::string cell_heading(const CellResult& c) {
  std::string out = fmt::format("- {} — scenario {}", code(c.cell.id, 200), code(c.cell.scenario, 100));
  if (!c.scenario_file.empty()) out += " (" + code(c.scenario_file, 120) + ")";
  if (!c.origin.empty()) out += ", replays " + code(c.origin, 120);
  return out + "\n";
}

std::string diagnosis(const CellResult& c, const Attempt* a) {
  if (!a) return "  - never ran\n";
  std::string out = fmt::format("  - expected {}, got {}", plain(expectation_text(c.cell.expect), 120),
                                plain(outcome_text(a->outcome), 120));
  if (!a->outcome.detail.empty()) out += ": " + plain(a->outcome.detail);
  return out + "\n";
}

std::string signature_line(const Outcome& o, bool is_new) {
  if (o.signature.empty()) return "";
  std::string out = fmt::format("  - {}signature {}", is_new ? "**new** " : "", code(o.signature, 40));
  if (std::string s = state_text(o.crash_state); !s.empty()) out += ": " + s;
  if (o.known_issue) out += fmt::format(" (known issue {})", code(o.known_issue->id, 60));
  return out + "\n";
}

std::string repro_line(const CellResult& c) {
  return c.repro.empty() ? "" : "  - repro: " + code(c.repro, 400) + "\n";
}

// Renders a section: heading, then items while they fit in `budget` bytes.
struct Section {
  std::string heading;
  std::size_t count = 0;
  std::function<std::string(std::size_t)> item;
};

// One line for a run of more than one engine: each engine (and the version
// its cells ran), its cells, its known failures and their distinct crashes,
// and what is new in it, so an engine's known findings are not lost among the rest.
std::string engines_line(const RunResults& r, const GateDecision& d) {
  struct Tally {
    std::string version;
    std::size_t cells = 0, known = 0, fresh = 0;
    std::set<std::string> known_signatures;
  };
  std::map<std::string, Tally> by_engine;
  for (const CellResult& c : r.cells) {
    Tally& t = by_engine[engine_of(c)];
    ++t.cells;
    for (const Attempt& a : c.attempts)
      if (a.outcome.engine && !a.outcome.engine->version.empty()) t.version = a.outcome.engine->version;
  }
  if (by_engine.size() < 2) return "";
  for (const GateCell& g : d.known) {
    Tally& t = by_engine[engine_of(r.cells[g.index])];
    ++t.known;
    if (!g.signature.empty()) t.known_signatures.insert(g.signature);
  }
  for (const GateCell& g : d.new_failures) ++by_engine[engine_of(r.cells[g.index])].fresh;
  std::string out = "Engines:";
  bool first = true;
  for (const auto& [engine, t] : by_engine) {
    out += fmt::format("{} {}{}: {} cells, {} known ({} distinct crash{}), {}", first ? "" : " ·", code(engine, 40),
                       t.version.empty() ? "" : " " + plain(t.version, 40), t.cells, t.known, t.known_signatures.size(),
                       t.known_signatures.size() == 1 ? "" : "es", t.fresh ? fmt::format("**{} new**", t.fresh) : "0 new");
    first = false;
  }
  return out + ".\n";
}

std::string render_section(const Section& s, std::size_t budget, const std::string& where_more) {
  if (s.count == 0) return "";
  std::string out = fmt::format("\n### {} ({})\n\n", s.heading, s.count);
  std::size_t shown = 0;
  for (; shown < s.count; ++shown) {
    std::string item = s.item(shown);
    if (out.size() + item.size() + 400 > budget) break;  // room for the "... and N more" line
    out += item;
  }
  if (shown < s.count) out += fmt::format("- ... and {} more ({})\n", s.count - shown, where_more);
  return out;
}

// What a change-aware run selected, why, and what it left out.
std::string change_paragraph(const ChangeScope& c) {
  std::string files;
  constexpr std::size_t kFilesShown = 8;
  for (std::size_t k = 0; k < c.changed_files.size() && k < kFilesShown; ++k)
    files += (k ? ", " : "") + code(c.changed_files[k], 120);
  if (c.changed_files.size() > kFilesShown) files += fmt::format(" and {} more", c.changed_files.size() - kFilesShown);
  std::string out = fmt::format("**Selected, not the whole catalog:** {}: {}. {} cells skipped (the JUnit report lists them; "
                                "`--all` runs every cell).",
                                plain(c.headline(), 300), plain(c.breakdown(), 600), format_thousands(c.skipped.size()));
  if (!files.empty()) out += " Changed: " + files + ".";
  out += c.footprints.empty() ? " No footprints were read."
                              : fmt::format(" Footprints recorded at {}, met by {}{}.", code(c.footprints_recorded_at.substr(0, 10), 20),
                                            c.footprints_by.empty() ? "files" : plain(c.footprints_by, 20),
                                            c.footprints_by_why.empty() ? "" : " (" + plain(c.footprints_by_why, 300) + ")");
  return out + "\n";
}

}  // namespace

std::string summary_markdown(const RunResults& r, const GateDecision& d, const SummaryMarkdownOptions& options) {
  const auto& cells = r.cells;
  std::string out;
  bool blocks = d.blocks();
  // A change-aware run says so in its verdict: a selection is not the whole catalog.
  out += fmt::format("## {} {}: {}{} — {}\n\n", blocks ? "❌" : "✅", plain(options.title, 60), blocks ? "FAIL" : "pass",
                     r.change ? fmt::format(" (selected: {} of {} cells)", format_thousands(r.change->selected()),
                                           format_thousands(r.change->total))
                              : "",
                     plain(d.headline(), 300));
  auto counts = r.counts();
  out += fmt::format("Run {} · {} cells · {} passed · {} new · {} flaky · {} known · {} fixed",
                     code(r.run_id, 60), d.cells, d.passed, d.new_failures.size(), d.flaky.size(), d.known.size(),
                     d.fixed.size());
  if (!d.escaped.empty()) out += fmt::format(" · {} escaped regressions", d.escaped.size());
  if (counts[Verdict::harness_error] > 0) out += fmt::format(" · {} could not run", counts[Verdict::harness_error]);
  out += "\n\n";
  if (d.has_baseline)
    out += fmt::format("Compared with the baseline {}{}.", code(options.baseline_path.empty() ? "baseline" : options.baseline_path, 200),
                       d.baseline_cells_missing ? fmt::format(" ({} of its cells were not in this run)", d.baseline_cells_missing) : "");
  else
    out += "No baseline: every failure is new.";
  if (!r.shard.empty()) out += fmt::format(" Shard {} only.", code(r.shard, 20));
  if (!r.merged_from.empty()) out += fmt::format(" Merged from {} runs.", r.merged_from.size());
  if (!r.regression.empty()) out += fmt::format(" Regression switched on for every cell that can take it: {}.", code(r.regression, 200));
  out += "\n";
  if (r.change) out += "\n" + change_paragraph(*r.change);
  if (std::string engines = engines_line(r, d); !engines.empty()) out += "\n" + engines;

  std::string where = options.run_dir.empty() ? std::string("report.html, results.json")
                                              : fmt::format("{}/report.html, {}/results.json", options.run_dir, options.run_dir);
  std::string where_more = "see " + plain(where, 240);
  std::vector<Section> sections;
  sections.push_back({"New failures", d.new_failures.size(), [&](std::size_t k) {
                        const GateCell& g = d.new_failures[k];
                        const CellResult& c = cells[g.index];
                        const Attempt* a = failing_attempt(c);
                        std::string item = cell_heading(c) + fmt::format("  - why it blocks: {}\n", plain(g.why, 200));
                        item += diagnosis(c, a);
                        if (a) item += signature_line(a->outcome, g.new_signature);
                        return item + repro_line(c);
                      }});
  sections.push_back({"New crash signatures", d.new_signatures.size(), [&](std::size_t k) {
                        const NewSignature& s = d.new_signatures[k];
                        std::map<std::string, int> scenarios;
                        for (auto i : s.cells) ++scenarios[cells[i].cell.scenario];
                        std::string item = fmt::format("- {}: {}\n  - in {} {} of scenario", code(s.signature, 40),
                                                       state_text(s.crash_state), s.cells.size(),
                                                       s.cells.size() == 1 ? "cell" : "cells");
                        item += scenarios.size() == 1 ? " " : "s ";
                        std::size_t n = 0;
                        for (const auto& [name, count] : scenarios) {
                          if (n++ == 8) {
                            item += fmt::format(", ... and {} more", scenarios.size() - 8);
                            break;
                          }
                          item += fmt::format("{}{} ({})", n > 1 ? ", " : "", code(name, 100), count);
                        }
                        return item + "\n";
                      }});
  sections.push_back({"Escaped regressions", d.escaped.size(), [&](std::size_t k) {
                        const MatrixRegression& m = d.escaped[k];
                        return fmt::format("- {}: {} — {}\n", code(m.info.id, 100), to_string(m.status),
                                           plain(regression_detail(m), 400));
                      }});
  sections.push_back({"Fixed (good news)", d.fixed.size() + d.fixed_signatures.size(), [&](std::size_t k) {
                        if (k < d.fixed.size()) {
                          const CellResult& c = cells[d.fixed[k].index];
                          return fmt::format("- {} passes now ({})\n", code(c.cell.id, 200), plain(d.fixed[k].why, 100));
                        }
                        const BaselineSignature& s = d.fixed_signatures[k - d.fixed.size()];
                        return fmt::format("- signature {} is gone: {}\n", code(s.signature, 40), state_text(s.crash_state));
                      }});
  sections.push_back({std::string("Flaky") + (d.strict ? " (blocking: --strict)" : " (not blocking)"), d.flaky.size(),
                      [&](std::size_t k) {
                        const CellResult& c = cells[d.flaky[k].index];
                        const Attempt* a = failing_attempt(c);
                        std::string item = cell_heading(c) + fmt::format("  - {}\n", plain(d.flaky[k].why, 100));
                        item += diagnosis(c, a);
                        if (a) item += signature_line(a->outcome, false);
                        return item + repro_line(c);
                      }});
  sections.push_back({"Known", d.known.size(), [&](std::size_t k) {
                        const CellResult& c = cells[d.known[k].index];
                        const Attempt* a = failing_attempt(c);
                        return fmt::format("- {} — {}\n", code(c.cell.id, 200), plain(d.known[k].why, 200)) +
                               diagnosis(c, a);
                      }});

  std::size_t remaining_sections = 0;
  for (const auto& s : sections) remaining_sections += s.count > 0;
  for (const auto& s : sections) {
    if (s.count == 0) continue;
    --remaining_sections;
    std::size_t used = out.size() + kFooterReserve + remaining_sections * kSectionReserve;
    std::size_t budget = options.max_bytes > used ? options.max_bytes - used : 0;
    out += render_section(s, budget, where_more);
  }
  out += fmt::format("\n---\nFull details: {}", plain(where, 600));
  if (!r.cells.empty()) out += " · `crashgate show CELL` explains one cell";
  out += "\n";
  return out;
}

CheckedDone write_summary_markdown(const std::string& run_dir, const std::string& text) {
  std::string path = run_dir + "/" + kSummaryFile;
  return write_file_atomically(path, text);
}

}  // namespace crashgate
