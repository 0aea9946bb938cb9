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

}  // namespace crashgate
