#include "fuzz/crash_triage.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "crashgate/triage.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;

RunSpec spec_for(const FuzzTargetRun& t, std::vector<std::string> argv, std::chrono::milliseconds wall) {
  RunSpec spec;
  spec.argv = std::move(argv);
  spec.env = t.env;
  spec.limits.wall = wall;
  return spec;
}

bool same_crash(const Outcome& a, const Outcome& b) { return !a.signature.empty() && a.signature == b.signature; }

std::uint64_t file_size(const std::string& p) {
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

}  // namespace

void normalize_stack_overflow_state(Outcome& o) {
  if (o.kind != OutcomeKind::stack_overflow || o.threads.empty()) return;
  const Thread* t = nullptr;
  if (o.crashing_thread >= 0 && o.crashing_thread < static_cast<int>(o.threads.size())) t = &o.threads[o.crashing_thread];
  for (const Thread& th : o.threads)
    if (t == nullptr && th.role == "access") t = &th;
  if (t == nullptr) t = &o.threads.front();
  std::map<std::string, int> seen;
  std::vector<std::string> order;
  for (std::size_t i = 0; i < t->frames.size() && i < 64; ++i) {
    if (frame_ignore_rule(t->frames[i]) != nullptr) continue;
    std::string f = normalize_function(t->frames[i].function);
    if (f.empty()) continue;
    if (seen[f]++ == 0) order.push_back(f);
  }
  std::vector<std::string> cycle;
  for (const std::string& f : order)
    if (seen[f] > 1) cycle.push_back(f);
  if (cycle.empty()) return;  // no recursion in view: the core's state stands
  std::sort(cycle.begin(), cycle.end());
  if (cycle.size() > static_cast<std::size_t>(kCrashStateFrames)) cycle.resize(kCrashStateFrames);
  std::string state = "stack-overflow recursion";
  for (const std::string& f : cycle) state += "\n" + f;
  o.crash_state = state;
  o.signature = crash_signature(state);
}

Outcome reproduce_crash(const FuzzTargetRun& t, const std::string& input, const RunContext& context) {
  std::vector<std::string> argv{t.binary};
  for (const std::string& f : t.flags)
    if (f.rfind("-max_len=", 0) != 0 && f.rfind("-dict=", 0) != 0) argv.push_back(f);
  argv.push_back("-runs=1");
  argv.push_back(input);
  Outcome o = run_observed(spec_for(t, std::move(argv), std::chrono::seconds(120)), context);
  normalize_stack_overflow_state(o);
  return o;
}

Minimized minimize_crash(const FuzzTargetRun& t, const std::string& input, const Outcome& original,
                         const std::string& out_path, std::chrono::seconds budget, const RunContext& context) {
  Minimized m{input, original, false, ""};
  std::string candidate = out_path + ".candidate";
  std::vector<std::string> argv{t.binary, "-minimize_crash=1", fmt::format("-max_total_time={}", budget.count()),
                                "-exact_artifact_path=" + candidate, input};
  // The minimizer runs the target many times; it is not the run being observed, so no tracing.
  RunSpec spec = spec_for(t, std::move(argv), budget + std::chrono::seconds(60));
  spec.trace = false;
  Outcome run = run_observed(spec, context);
  std::error_code ec;
  if (!fs::exists(candidate, ec)) {
    m.note = fmt::format("libFuzzer's minimizer left no smaller input ({})", run.detail);
  } else if (file_size(candidate) >= file_size(input)) {
    m.note = "libFuzzer's minimizer found nothing smaller";
  } else {
    Outcome again = reproduce_crash(t, candidate, context);
    if (same_crash(again, original)) {
      fs::rename(candidate, out_path, ec);
      // The reproduction ran on the candidate's name; name the file as it now is.
      auto rename_path = [&](std::string& s) {
        for (std::size_t at; (at = s.find(candidate)) != std::string::npos;) s.replace(at, candidate.size(), out_path);
      };
      rename_path(again.repro);
      for (std::string& arg : again.command) rename_path(arg);
      if (!ec) {
        m.path = out_path;
        m.outcome = std::move(again);
        m.reduced = true;
      }
    } else {
      m.note = fmt::format("the minimized input crashes differently ({}), so the original is kept",
                           again.signature.empty() ? std::string(to_string(again.kind)) : again.signature);
    }
  }
  fs::remove(candidate, ec);
  if (!m.reduced) fs::copy_file(input, out_path, fs::copy_options::overwrite_existing, ec);
  if (!m.reduced && !ec) m.path = out_path;
  return m;
}

std::string crash_repro_command(const FuzzTargetRun& t, const std::string& input) {
  std::string cmd;
  for (const auto& [k, v] : t.env) cmd += k + "=" + shell_quote(v) + " ";
  return cmd + shell_quote(t.binary) + " -runs=1 " + shell_quote(input);
}

}  // namespace crashgate
