#include "crashgate/scenario_ops.h"

#include <array>

namespace crashgate {
namespace {

constexpr std::array kOps = {
#define CRASHGATE_OP_SPEC(name, required, optional, summary) OpSpec{name, required, optional, summary},
    CRASHGATE_SCENARIO_OPS(CRASHGATE_OP_SPEC)
#undef CRASHGATE_OP_SPEC
};

}  // namespace

std::span<const OpSpec> scenario_ops() { return kOps; }

const OpSpec* find_op(std::string_view name) {
  for (const auto& op : kOps)
    if (op.name == name) return &op;
  return nullptr;
}

std::vector<std::string_view> op_keys(std::string_view text) {
  std::vector<std::string_view> keys;
  while (!text.empty()) {
    auto space = text.find(' ');
    if (space != 0) keys.push_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return keys;
}

}  // namespace crashgate
