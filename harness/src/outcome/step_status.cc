#include <array>

#include "crashgate/outcome.h"

namespace crashgate {
namespace {

struct StepStatusName {
  StepStatus status;
  std::string_view name;
};

constexpr std::array kStepStatuses = {
    StepStatusName{StepStatus::ok, "ok"},
    StepStatusName{StepStatus::error, "error"},
    StepStatusName{StepStatus::died, "died"},
};

}  // namespace

std::string_view to_string(StepStatus status) { return kStepStatuses[static_cast<std::size_t>(status)].name; }

std::optional<StepStatus> parse_step_status(std::string_view name) {
  for (const auto& s : kStepStatuses)
    if (s.name == name) return s.status;
  return std::nullopt;
}

}  // namespace crashgate
