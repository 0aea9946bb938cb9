// The driver kit's reference filter evaluator: which records a filter selects,
// computed by the kit itself, so a driver can check that an engine's
// filtered delete removed exactly those.
//
// The language is the one the catalog's `delete` steps build (vstore's, in
// targets/vstore/include/vstore/filter.h):
//   or := and (OR and)*      and := unary (AND unary)*
//   unary := NOT unary | '(' or ')' | field ('=' | '!=') 'value'
//          | field [NOT] IN '(' 'value' (, 'value')* ')'
// Keywords in any case; fields bare ([A-Za-z_][A-Za-z0-9_.]*) or "double
// quoted"; values 'single quoted'; a quote inside is written twice. A record
// without the field equals nothing: `f != 'x'` and `f NOT IN (...)` hold for it.
//
// Written for depth and size, not for speed of one record: an operator stack
// instead of recursion (a million nested parentheses or NOTs run on a 64 KiB
// thread), and sets of matching records per comparison from an index of each
// field's values, with complements kept symbolic, so a million-clause chain
// costs what its matches cost, not clauses times records.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crashgate/checked.h"

namespace crashgate::kit {

struct FilterRecord {
  std::uint64_t id = 0;
  std::vector<std::pair<std::string, std::string>> attributes;  // the first of a name counts
};

// The ids of the records `text` selects, ascending; a failure names the column
// (1-based, in bytes) of the first thing the grammar above does not allow.
Checked<std::vector<std::uint64_t>> reference_select(std::string_view text, std::span<const FilterRecord> records);

}  // namespace crashgate::kit
