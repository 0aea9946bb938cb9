// Crashes seen before, and how much a new crash is like each: an equal
// signature, or the frames of the crash states compared as ClusterFuzz
// compares them (the longest common subsequence, so one frame inlined away or
// added does not hide the likeness).
#include <fnmatch.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "crashgate/field_triage.h"
#include "crashgate/run_directory.h"

namespace crashgate {
namespace {

std::vector<std::string> state_lines(std::string_view state) {
  std::vector<std::string> lines;
  while (!state.empty()) {
    auto newline = state.find('\n');
    lines.emplace_back(state.substr(0, newline));
    state = newline == std::string_view::npos ? std::string_view{} : state.substr(newline + 1);
  }
  return lines;
}

bool line_matches(const std::string& past, const std::string& now, bool glob) {
  return glob ? fnmatch(past.c_str(), now.c_str(), 0) == 0 : past == now;
}

int common_subsequence(const std::vector<std::string>& past, const std::vector<std::string>& now, bool glob) {
  std::vector<std::vector<int>> table(past.size() + 1, std::vector<int>(now.size() + 1, 0));
  for (std::size_t i = 1; i <= past.size(); ++i)
    for (std::size_t j = 1; j <= now.size(); ++j)
      table[i][j] = line_matches(past[i - 1], now[j - 1], glob) ? table[i - 1][j - 1] + 1
                                                                : std::max(table[i - 1][j], table[i][j - 1]);
  return table[past.size()][now.size()];
}

}  // namespace

std::string SimilarCrash::how() const {
  if (same_signature) return "same signature";
  return fmt::format("{} of {} frames, {}", common_frames, frames, same_type ? "same type" : "another type");
}

std::vector<PastCrash> past_crashes(const KnownIssues& known, const std::string& where) {
  std::vector<PastCrash> past;
  for (const auto& issue : known.issues()) {
    for (const auto& signature : issue.signatures)
      past.push_back({"known issue " + issue.id, issue.id, where, signature, "", false});
    for (const auto& state : issue.states) past.push_back({"known issue " + issue.id, issue.id, where, "", state, true});
  }
  return past;
}

Checked<std::vector<PastCrash>> past_crashes_of_run(const std::string& path) {
  auto results = load_results(path);
  if (!results) return failure(results.error());
  // A fuzz run's results have one cell per target and one per crash, all of target kind "fuzz".
  bool fuzz = std::any_of(results->command_line.begin(), results->command_line.end(),
                          [](const std::string& word) { return word == "fuzz"; });
  std::string source = fmt::format("{} {}", fuzz ? "fuzz run" : "run", results->run_id);
  std::vector<PastCrash> past;
  std::set<std::string> seen;
  for (const auto& cell : results->cells)
    for (const auto& attempt : cell.attempts) {
      const Outcome& o = attempt.outcome;
      if (o.signature.empty() || o.crash_state.empty() || !seen.insert(o.signature).second) continue;
      past.push_back({source, cell.cell.id, results->run_dir.empty() ? path : results->run_dir, o.signature,
                      o.crash_state, false});
    }
  return past;
}

std::vector<SimilarCrash> similar_crashes(const Outcome& outcome, std::span<const PastCrash> past) {
  std::vector<SimilarCrash> found;
  std::vector<std::string> now = state_lines(outcome.crash_state);
  if (now.empty()) return found;
  std::string now_type = now.front();
  now.erase(now.begin());
  for (const auto& p : past) {
    SimilarCrash s{p};
    s.same_signature = !p.signature.empty() && p.signature == outcome.signature;
    std::vector<std::string> then = state_lines(p.crash_state);
    if (!then.empty()) {
      s.same_type = line_matches(then.front(), now_type, p.state_is_glob);
      then.erase(then.begin());
      s.common_frames = common_subsequence(then, now, p.state_is_glob);
      s.frames = static_cast<int>(std::max(then.size(), now.size()));
    }
    bool alike = s.frames > 0 && 3 * s.common_frames >= 2 * s.frames;
    if (s.same_signature || alike) found.push_back(std::move(s));
  }
  // Best first: equal signatures, then the share of frames in common, then the type.
  std::stable_sort(found.begin(), found.end(), [](const SimilarCrash& a, const SimilarCrash& b) {
    if (a.same_signature != b.same_signature) return a.same_signature;
    double share_a = a.frames ? double(a.common_frames) / a.frames : 0, share_b = b.frames ? double(b.common_frames) / b.frames : 0;
    if (share_a != share_b) return share_a > share_b;
    return a.same_type && !b.same_type;
  });
  return found;
}

}  // namespace crashgate
