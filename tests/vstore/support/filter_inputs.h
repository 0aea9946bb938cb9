// vstore/support/filter_inputs.h: the huge and deep filters the hardening is for.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "vstore/record.h"

namespace vstore::testing {

// A record with only these attributes (no id, no vector): what a filter looks at.
Record with_attributes(std::vector<Attribute> attributes);

// The value of clause `i` of a field-report chain: a 36-byte file path.
std::string report_path(size_t i);
// `file_path = '<report_path(0)>' OR ...`: 50-byte clauses joined by " OR ", as
// in field report 003 (31,985 clauses are 1.73 MB).
std::string report_chain(size_t clauses);
// `((( ... a = 'x' ... )))`, `depth` pairs of parentheses.
std::string nested_parentheses(size_t depth);
// `NOT NOT ... a = 'x'`, `count` NOTs.
std::string not_chain(size_t count);
// `x = '1' AND (y = '0' OR (x = '1' AND (y = '0' OR (... c = 'end'))))`: `depth`
// levels that no simplification can flatten, and that a record with x = '1' and
// y = '1' makes the evaluator walk to the bottom.
std::string alternating_nest(size_t depth);
// `NOT (x = '1' AND NOT (x = '1' AND NOT (... c = 'end')))`: `depth` NOTs that
// stay, all walked for a record with x = '1'.
std::string negated_nest(size_t depth);

}  // namespace vstore::testing
