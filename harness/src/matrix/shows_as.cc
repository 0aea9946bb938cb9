// `shows_as` patterns: how a regression's bug must show for a cell to catch it.
#include <fmt/format.h>

#include "crashgate/detection_matrix.h"
#include "crashgate/outcome_kind.h"

namespace crashgate {
namespace {

struct Alternative {
  std::string kind, detail, attribution;
};

std::vector<Alternative> alternatives(std::string_view text) {
  std::vector<Alternative> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t bar = text.find('|', pos);
    if (bar == std::string_view::npos) bar = text.size();
    std::string_view one = text.substr(pos, bar - pos);
    Alternative a;
    size_t at = one.find('@');
    if (at != std::string_view::npos) {
      a.attribution = std::string(one.substr(at + 1));
      one = one.substr(0, at);
    }
    size_t colon = one.find(':');
    a.kind = std::string(one.substr(0, colon));
    if (colon != std::string_view::npos) a.detail = std::string(one.substr(colon + 1));
    out.push_back(std::move(a));
    pos = bar + 1;
  }
  return out;
}

bool known_attribution(const std::string& a) { return a.empty() || a == "past-eof" || a == "stack-guard" || a == "null-page"; }

}  // namespace

std::string outcome_detail(const Outcome& o) {
  switch (o.kind) {
    case OutcomeKind::signal:
      return o.signal ? signal_name(*o.signal) : "";
    case OutcomeKind::asan:
    case OutcomeKind::ubsan:
    case OutcomeKind::tsan:
    case OutcomeKind::lsan:
      return o.check.substr(0, o.check.find(' '));
    case OutcomeKind::error:
      if (o.failed_step)
        for (const StepRecord& s : o.steps)
          if (s.index == *o.failed_step) return s.code;
      return "";
    default:
      return "";
  }
}

std::string shows_as_problem(std::string_view shows_as) {
  if (shows_as.empty()) return "empty: name how the bug shows, e.g. signal:SIGBUS@past-eof";
  for (const Alternative& a : alternatives(shows_as)) {
    if (!parse_outcome_kind(a.kind)) return fmt::format("'{}' is not an outcome kind (crashgate kinds lists them)", a.kind);
    if (!known_attribution(a.attribution))
      return fmt::format("'@{}' is not an attribution (past-eof, stack-guard, null-page)", a.attribution);
  }
  return "";
}

bool outcome_shows_as(const Outcome& o, std::string_view shows_as) {
  std::string detail = outcome_detail(o);
  for (const Alternative& a : alternatives(shows_as)) {
    auto kind = parse_outcome_kind(a.kind);
    if (!kind || *kind != o.kind) continue;
    if (!a.detail.empty() && a.detail != detail) continue;
    if (!a.attribution.empty()) {
      if (!o.attribution) continue;
      if (a.attribution == "past-eof" && !o.attribution->past_eof) continue;
      if (a.attribution == "stack-guard" && !o.attribution->stack_guard) continue;
      if (a.attribution == "null-page" && !o.attribution->null_page) continue;
    }
    return true;
  }
  return false;
}

std::string_view to_string(MatrixRole role) {
  switch (role) {
    case MatrixRole::hardened: return "hardened";
    case MatrixRole::injected: return "injected";
    case MatrixRole::replay: return "replay";
    case MatrixRole::crash_states: return "crash-states";
  }
  return "?";
}

}  // namespace crashgate
