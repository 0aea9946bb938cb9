#include "fuzz/fuzz_report.h"

#include <sys/utsname.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "crashgate/limits.h"
#include "crashgate/outcome.h"
#include "crashgate/run_directory.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;

std::string host_name() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return fmt::format("{} ({} {} {})", u.nodename, u.sysname, u.release, u.machine);
}

Cell fuzz_cell(const FuzzCampaign& c, const std::string& target, const std::string& suffix) {
  Cell cell;
  cell.id = "fuzz/" + target + "/fuzz" + suffix;
  cell.scenario = "fuzz:" + target;
  cell.target = target;
  cell.build = "fuzz";
  cell.seed = c.options.seed.value_or(0);
  cell.limits.wall = std::chrono::milliseconds(c.options.time);
  cell.expect.outcome = {OutcomeKind::ok};
  cell.regression = c.options.regression;
  return cell;
}

// "45s", "10m 3s", "8h 0m".
std::string human_duration(std::int64_t ms) {
  std::int64_t s = (ms + 500) / 1000;
  if (s < 60) return ms < 1000 ? fmt::format("{}ms", ms) : fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m {}s", s / 60, s % 60);
  return fmt::format("{}h {}m", s / 3600, s / 60 % 60);
}

// A crash state without its first line (the kind of fault): the frames.
std::string frames_of(const std::string& crash_state) {
  std::size_t nl = crash_state.find('\n');
  return nl == std::string::npos ? "" : crash_state.substr(nl + 1);
}

// The first crash before `i` of the same target at the same frames but of another kind, if any.
const FuzzCrash* same_place_as(const std::vector<FuzzCrash>& crashes, std::size_t i) {
  std::string frames = frames_of(crashes[i].outcome.crash_state);
  if (frames.empty() || crashes[i].signature.empty()) return nullptr;
  for (std::size_t j = 0; j < i; ++j)
    if (crashes[j].target == crashes[i].target && !crashes[j].signature.empty() &&
        frames_of(crashes[j].outcome.crash_state) == frames)
      return &crashes[j];
  return nullptr;
}

// How a crash faulted in a mapped file, the file named by its kind (digit
// runs as '*': "vectors-*.bin"), or "" when no mapped file is to blame:
// "SIGBUS past the end of vectors-*.bin".
std::string file_fault_of(const Outcome& o) {
  if (!o.signal || !o.attribution || o.attribution->file.empty()) return "";
  std::string name = fs::path(o.attribution->file).filename().string(), kind;
  for (std::size_t i = 0; i < name.size(); ++i) {
    bool digit = name[i] >= '0' && name[i] <= '9';
    if (!digit) kind += name[i];
    else if (i == 0 || name[i - 1] < '0' || name[i - 1] > '9') kind += '*';
  }
  return fmt::format("{} {} {}", signal_name(*o.signal), o.attribution->past_eof ? "past the end of" : "in", kind);
}

// The first crash before `i` of the same target that faulted the same way in
// the same kind of file, from other frames, if any: one missing check that
// several readers reach (a header trusted, so every reader runs off the file).
const FuzzCrash* same_fault_as(const std::vector<FuzzCrash>& crashes, std::size_t i) {
  std::string fault = file_fault_of(crashes[i].outcome);
  if (fault.empty() || crashes[i].signature.empty()) return nullptr;
  for (std::size_t j = 0; j < i; ++j)
    if (crashes[j].target == crashes[i].target && !crashes[j].signature.empty() && file_fault_of(crashes[j].outcome) == fault)
      return &crashes[j];
  return nullptr;
}

// Why crash `i` is likely the same bug as an earlier one, as the report's
// line says it, or "" when it stands alone.
std::string link_to_earlier(const std::vector<FuzzCrash>& crashes, std::size_t i) {
  if (const FuzzCrash* first = same_place_as(crashes, i))
    return fmt::format("same frames as crash {}, another kind of fault: likely one bug whose bad address lands in different memory",
                       first->signature);
  if (const FuzzCrash* first = same_fault_as(crashes, i))
    return fmt::format("same fault as crash {} ({}), from other frames: likely one missing check that several readers reach",
                       first->signature, file_fault_of(crashes[i].outcome));
  return "";
}

std::string bytes_text(std::uint64_t n) { return n == 1 ? "1 byte" : fmt::format("{} bytes", format_thousands(n)); }

}  // namespace

RunResults fuzz_results(const FuzzCampaign& c, int exit_code) {
  RunResults r;
  r.run_id = fs::path(c.options.out_dir).filename().string();
  r.run_dir = fs::absolute(c.options.out_dir).string();
  r.started_at = c.started_at;
  r.duration_ms = c.duration_ms;
  r.seed = c.options.seed.value_or(0);
  r.host = host_name();
  r.command_line = c.options.command_line;
  r.build_root = fs::absolute(c.options.fuzzer_dir).string();
  r.jobs = c.options.jobs;
  r.interrupted = c.interrupted;
  r.exit_code = exit_code;
  for (const FuzzTargetSummary& t : c.targets) {
    CellResult cell;
    cell.cell = fuzz_cell(c, t.target, "");
    cell.summary = fmt::format("libFuzzer on {} for {}: {} execs ({}/s) in {} run{}, coverage {}, corpus {} -> {}", t.target,
                               human_duration(t.duration_ms), t.execs, t.execs_per_s, t.fuzzer_runs,
                               t.fuzzer_runs == 1 ? "" : "s", t.coverage, t.corpus_before, t.corpus_after);
    cell.driver = t.binary;
    Attempt a;
    a.outcome.kind = OutcomeKind::ok;
    a.outcome.detail = cell.summary;
    a.outcome.duration_ms = t.duration_ms;
    a.outcome.notes = t.notes;
    a.work_dir = fs::absolute(c.options.out_dir + "/" + t.target).string();
    std::size_t distinct = 0;
    for (const FuzzCrash& crash : c.crashes) distinct += crash.target == t.target;
    a.verdict = distinct == 0 ? Verdict::pass : Verdict::fail;
    if (distinct) a.unmet.push_back(fmt::format("{} distinct crashes (cells fuzz/{}/<signature>)", distinct, t.target));
    cell.verdict = a.verdict;
    cell.attempts.push_back(std::move(a));
    r.cells.push_back(std::move(cell));
  }
  for (const FuzzCrash& crash : c.crashes) {
    CellResult cell;
    std::string sig = crash.signature.empty() ? "not-reproduced" : crash.signature;
    cell.cell = fuzz_cell(c, crash.target, "[crash=" + sig + "]");
    cell.cell.params["crash"] = sig;
    cell.summary = fmt::format("found after {}; {} crash input(s); minimized to {}", human_duration(crash.found_after_ms),
                               crash.inputs.size(), bytes_text(crash.minimized_bytes));
    cell.origin = crash.inputs.front();
    cell.driver = fs::absolute(c.options.fuzzer_dir + "/" + crash.target).string();
    Attempt a;
    a.outcome = crash.outcome;
    a.verdict = crash.signature.empty() ? Verdict::flaky : Verdict::fail;
    a.unmet.push_back(fmt::format("outcome: expected ok, got {}", to_string(crash.outcome.kind)));
    a.work_dir = fs::absolute(crash.dir).string();
    cell.verdict = a.verdict;
    cell.attempts.push_back(std::move(a));
    cell.repro = crash.repro;
    r.cells.push_back(std::move(cell));
  }
  return r;
}

std::string fuzz_report_markdown(const FuzzCampaign& c) {
  std::string md = "# crashgate fuzz: morning report\n\n";
  md += fmt::format("Started {}, ran {}{}; {}{}; seed {}.\n\n", c.started_at,
                    human_duration(c.duration_ms), c.interrupted ? " (interrupted by Ctrl-C)" : "",
                    fuzzer_mode(c.options), c.options.regression.empty() ? ", hardened engine" : ", regression `" + c.options.regression + "` switched on",
                    c.options.seed ? std::to_string(*c.options.seed) : "libFuzzer's choice");
  std::size_t distinct = 0;
  for (const FuzzCrash& crash : c.crashes) distinct += !crash.signature.empty();
  // Crashes linked to an earlier one (the same frames, or the same fault in
  // the same kind of file) are likely the same bug; the headline counts what is left.
  std::vector<std::string> links;
  std::size_t bugs = 0;
  for (std::size_t i = 0; i < c.crashes.size(); ++i) {
    links.push_back(link_to_earlier(c.crashes, i));
    bugs += !c.crashes[i].signature.empty() && links.back().empty();
  }
  if (distinct == 0)
    md += "**No crashes.**\n\n";
  else if (bugs == distinct)
    md += fmt::format("**{} distinct crash{}.**\n\n", distinct, distinct == 1 ? "" : "es");
  else
    md += fmt::format("**{} distinct crashes, likely {} bug{}.** Crashes at the same frames as another, or faulting the same way "
                      "in the same file, say so below.\n\n", distinct, bugs, bugs == 1 ? "" : "s");
  md += "| target | time | execs | exec/s | libFuzzer runs | coverage | features | corpus (before -> after) | crash inputs | distinct crashes |\n";
  md += "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const FuzzTargetSummary& t : c.targets) {
    std::size_t n = 0;
    for (const FuzzCrash& crash : c.crashes) n += crash.target == t.target && !crash.signature.empty();
    md += fmt::format("| `{}` | {} | {} | {} | {} | {} | {} | {} -> {} | {} | {} |\n", t.target,
                      human_duration(t.duration_ms), format_thousands(t.execs),
                      format_thousands(t.execs_per_s), t.fuzzer_runs, t.coverage, t.features, t.corpus_before, t.corpus_after, t.crash_artifacts, n);
  }
  for (const FuzzTargetSummary& t : c.targets)
    for (const std::string& note : t.notes) md += fmt::format("\n- `{}`: {}", t.target, note);
  md += "\n";
  for (std::size_t i = 0; i < c.crashes.size(); ++i) {
    const FuzzCrash& crash = c.crashes[i];
    md += fmt::format("\n## `{}` {}\n\n", crash.target, crash.signature.empty() ? "inputs that did not crash again" : "crash " + crash.signature);
    md += fmt::format("- **{}**: {}\n", to_string(crash.outcome.kind), crash.outcome.detail);
    if (!crash.outcome.crash_state.empty()) {
      md += "- crash state:\n\n```\n" + crash.outcome.crash_state + "\n```\n\n";
    }
    if (!links[i].empty()) md += "- " + links[i] + "\n";
    md += fmt::format("- found after {}; {} input(s) with this signature\n",
                      human_duration(crash.found_after_ms), crash.inputs.size());
    md += fmt::format("- input {}, minimized {}{}\n", bytes_text(crash.input_bytes), bytes_text(crash.minimized_bytes),
                      crash.minimize_note.empty() ? "" : " (" + crash.minimize_note + ")");
    if (crash.outcome.known_issue) md += fmt::format("- known issue: {} ({})\n", crash.outcome.known_issue->id, crash.outcome.known_issue->title);
    md += fmt::format("- directory: `{}` (diagnosis.txt, result.json, input, minimized, repro.sh)\n", crash.dir);
    md += fmt::format("- repro: `{}`\n", crash.repro);
    if (!crash.signature.empty())
      md += fmt::format("- once fixed: `crashgate fuzz --promote {}` makes it a regression input\n", crash.dir);
  }
  return md;
}

CheckedDone write_fuzz_report(const FuzzCampaign& c, int exit_code) {
  std::string md_path = c.options.out_dir + "/report.md";
  std::ofstream md(md_path);
  md << fuzz_report_markdown(c);
  if (!md) return failure(md_path + ": cannot be written");
  return write_results(fuzz_results(c, exit_code), c.options.out_dir);
}

}  // namespace crashgate
