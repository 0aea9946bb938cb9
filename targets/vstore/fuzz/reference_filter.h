// A naive reference for the filter language of vstore/filter.h, written from
// the grammar alone so that vstore_filter can check the engine against
// something that shares none of its code: a textbook recursive-descent parser
// (depth-capped, so it never overflows) and a tree walk. Slow and simple on
// purpose; only the fuzz target uses it.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vstore/record.h"

namespace vstore_fuzz {

struct ReferenceNode {
  enum Kind { kOr, kAnd, kNot, kEq, kNe, kIn, kNotIn } kind;
  std::vector<std::unique_ptr<ReferenceNode>> children;  // kOr, kAnd: 2+; kNot: 1
  std::string field;
  std::vector<std::string> values;  // kEq/kNe: 1; kIn/kNotIn: 1+
};

struct ReferenceParse {
  enum Verdict { kAccepted, kRejected, kTooDeep } verdict = kRejected;
  std::unique_ptr<ReferenceNode> root;
  std::size_t clauses = 0;  // comparisons, each IN value counting as one
  std::size_t depth = 0;    // deepest nesting: each '(' and each NOT is a level
};

// Parses `text`; kTooDeep when nesting passes `max_depth` (no verdict then).
ReferenceParse reference_parse(std::string_view text, std::size_t max_depth);
bool reference_matches(const ReferenceNode& node, const vstore::Record& record);

}  // namespace vstore_fuzz
