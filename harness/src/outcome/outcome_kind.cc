#include "crashgate/outcome_kind.h"

#include <array>

namespace crashgate {
namespace {

constexpr std::array kKinds = {
#define CRASHGATE_KIND_INFO(id, name, code, meaning) OutcomeKindInfo{OutcomeKind::id, name, code, meaning},
    CRASHGATE_OUTCOME_KINDS(CRASHGATE_KIND_INFO)
#undef CRASHGATE_KIND_INFO
};

}  // namespace

std::span<const OutcomeKindInfo> outcome_kinds() { return kKinds; }

std::string_view to_string(OutcomeKind kind) { return kKinds[static_cast<size_t>(kind)].name; }

int exit_code_of(OutcomeKind kind) { return kKinds[static_cast<size_t>(kind)].exit_code; }

std::optional<OutcomeKind> parse_outcome_kind(std::string_view name) {
  for (const auto& info : kKinds)
    if (info.name == name) return info.kind;
  return std::nullopt;
}

Checked<OutcomeKinds> parse_outcome_kinds(std::string_view text) {
  OutcomeKinds kinds;
  for (std::string_view rest = text;;) {
    std::size_t bar = rest.find('|');
    std::string_view one = rest.substr(0, bar);
    std::optional<OutcomeKind> kind = parse_outcome_kind(one);
    if (!kind) {
      std::string names;
      for (const auto& info : kKinds) names += (names.empty() ? "" : ", ") + std::string(info.name);
      return failure("unknown outcome '" + std::string(one) + "' (expected one of: " + names +
                     "; alternatives as \"ok|error\")");
    }
    kinds.push_back(*kind);
    if (bar == std::string_view::npos) break;
    rest.remove_prefix(bar + 1);
  }
  return kinds;
}

std::string to_string(const OutcomeKinds& kinds) {
  std::string out;
  for (OutcomeKind k : kinds) out += (out.empty() ? "" : "|") + std::string(to_string(k));
  return out;
}

}  // namespace crashgate
