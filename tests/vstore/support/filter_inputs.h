// vstore/support/filter_inputs.h: the huge and deep filters the hardening is for.
#pragma once

#include <cstddef>
#include <string>

namespace vstore::testing {

// The value of clause `i` of a field-report chain: a 36-byte file path.
std::string report_path(size_t i);
// `file_path = '<report_path(0)>' OR ...`: 50-byte clauses joined by " OR ", as
// in field report 003 (31,985 clauses are 1.73 MB).
std::string report_chain(size_t clauses);
// `((( ... a = 'x' ... )))`, `depth` pairs of parentheses.
std::string nested_parentheses(size_t depth);
// `NOT NOT ... a = 'x'`, `count` NOTs.
std::string not_chain(size_t count);
// `a = '0' OR (b = '0' AND (a = '1' OR (b = '1' AND (...))))`: `depth` levels
// that no simplification can flatten.
std::string alternating_nest(size_t depth);
// `NOT (a = '0' AND NOT (a = '1' AND NOT (...)))`: `depth` NOTs that stay.
std::string negated_nest(size_t depth);

}  // namespace vstore::testing
