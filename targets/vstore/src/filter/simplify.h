// filter/simplify.h: rewrites a parsed tree into its normal form, the form every
// Filter holds and to_string() prints:
// - no NOT over a NOT (NOT NOT x is x) and none over a comparison (NOT f = 'v' is
//   f != 'v', NOT f IN (...) is f NOT IN (...));
// - no AND directly under an AND, no OR directly under an OR (chains are n-ary);
// - within an OR, the equalities and IN lists on one field are one IN list;
//   within an AND, the inequalities and NOT IN lists on one field are one NOT IN
//   list; an AND or OR that merges down to one comparison is that comparison;
// - each value appears once per list (first occurrence kept), and lists longer
//   than kScanAtMost carry a hash index.
// Linear time and heap-only stacks, whatever the shape of the input.
#pragma once

#include "filter/tree.h"

namespace vstore::filter {

// `parsed` must be in post-order (children before parents), as parse_tree
// builds it. Its fields and values are moved into the result.
Tree simplify(Tree&& parsed);

}  // namespace vstore::filter
