// filter/print.h: a tree as filter text that parses back to the same tree.
// Iterative; parentheses only where precedence needs them.
#pragma once

#include <string>
#include <string_view>

#include "filter/tree.h"

namespace vstore::filter {

std::string print(const Tree& tree);

// One comparison: `f = 'v'`, `f != 'v'`, `f IN ('a', 'b')`, `f NOT IN ('a')`...
void print_match(const Tree& tree, const Node& match, std::string* out);
// `s` quoted with `quote`, each quote inside doubled.
void print_quoted(std::string_view s, char quote, std::string* out);
// Whether `child` must be parenthesized as an operand of `parent`.
bool needs_parentheses(NodeKind parent, NodeKind child);

}  // namespace vstore::filter
