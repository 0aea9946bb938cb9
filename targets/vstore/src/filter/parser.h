// filter/parser.h: the hardened parser. Operator precedence with explicit
// operand and operator stacks (no recursion), building n-ary AND/OR nodes for
// chains directly, so a million-clause OR is one node with a million children.
#pragma once

#include <string_view>

#include "filter/tree.h"
#include "vstore/filter.h"
#include "vstore/status.h"

namespace vstore::filter {

// The tree exactly as written (not yet simplified), nodes in post-order.
// `text` must be at most 1 GiB (the caller enforces max_input_bytes).
Result<Tree> parse_tree(std::string_view text, const FilterLimits& limits);

}  // namespace vstore::filter
