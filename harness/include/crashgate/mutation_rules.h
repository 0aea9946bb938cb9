// The mutation rules: how `crashgate mutate` makes small, realistic bugs from
// an engine's source, each a change a contributor could make by mistake. One
// table drives the generator (crashgate-mutants), --rules and the report.
#pragma once

#include <span>
#include <string_view>

namespace crashgate {

// X(enumerator, name, what it changes)
#define CRASHGATE_MUTATION_RULES(X)                                                                     \
  X(relational_boundary, "relational-boundary", "a comparison off by one: < and <=, > and >= swapped")  \
  X(equality_flip, "equality-flip", "== and != swapped")                                                 \
  X(arithmetic_flip, "arithmetic-flip", "+ and - swapped (also += and -=)")                              \
  X(logical_flip, "logical-flip", "&& and || swapped")                                                   \
  X(drop_not, "drop-not", "a logical negation removed: !x becomes x")                                    \
  X(constant_change, "constant-change", "an integer constant one larger")                                \
  X(return_flip, "return-flip", "return true and return false swapped")                                  \
  X(remove_guard, "remove-guard", "a check removed: an `if (...) return ...;` with no else deleted")     \
  X(remove_call, "remove-call", "a call to a sync, lock, check, validate, verify or flush deleted")

enum class MutationRule {
#define CRASHGATE_RULE_ENUM(id, name, what) id,
  CRASHGATE_MUTATION_RULES(CRASHGATE_RULE_ENUM)
#undef CRASHGATE_RULE_ENUM
};

struct MutationRuleInfo {
  MutationRule rule;
  std::string_view name;
  std::string_view what;
};

inline constexpr MutationRuleInfo kMutationRules[] = {
#define CRASHGATE_RULE_INFO(id, name, what) {MutationRule::id, name, what},
    CRASHGATE_MUTATION_RULES(CRASHGATE_RULE_INFO)
#undef CRASHGATE_RULE_INFO
};

inline constexpr std::span<const MutationRuleInfo> mutation_rules() { return kMutationRules; }

inline constexpr std::string_view to_string(MutationRule r) { return kMutationRules[static_cast<int>(r)].name; }

// The rule with this name, or nullptr.
inline constexpr const MutationRuleInfo* find_mutation_rule(std::string_view name) {
  for (const auto& r : kMutationRules)
    if (r.name == name) return &r;
  return nullptr;
}

}  // namespace crashgate
