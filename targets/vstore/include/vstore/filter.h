// vstore/filter.h: the filter language of `delete_where` and `vstore delete --where`.
//
//   filter     := or
//   or         := and ( OR and )*
//   and        := unary ( AND unary )*
//   unary      := NOT unary | '(' or ')' | comparison
//   comparison := field ( '=' | '!=' ) string
//               | field [ NOT ] IN '(' string ( ',' string )* ')'
//   field      := [A-Za-z_][A-Za-z0-9_.]*  (not a keyword)  |  "any text"
//   string     := 'any text'
//
// - Keywords (AND, OR, NOT, IN) are case-insensitive; field names and values are
//   case-sensitive. Precedence: NOT binds tighter than AND, AND tighter than OR.
// - Quoting is SQL's: inside '...' a quote is written twice ('it''s'); inside
//   "..." a double quote is written twice. Nothing else is an escape: a backslash
//   is an ordinary character, so 'C:\dir\file' means what it says. Values may hold
//   any bytes, including newlines.
// - Whitespace is space, tab, CR and LF. Errors name the 1-based column (in
//   bytes), preceded by the line when the text has more than one.
// - A record without the attribute has no value equal to anything: `f = 'x'` and
//   `f IN (...)` are false for it, `f != 'x'` and `f NOT IN (...)` are true. Logic
//   is two-valued (no SQL NULL), so `NOT (f = 'x')` always means `f != 'x'`.
//
// Hardened against deep and huge input (field report 003): parsing and every walk
// over a parsed filter use explicit stacks on the heap, never the call stack, so
// a million-clause OR chain or 100,000 nested parentheses run on a 64 KiB thread.
// Equalities on one field joined by OR (and inequalities joined by AND) become one
// hash-set lookup.
//
// Thread rule: a Filter is immutable; one Filter may be shared by any number of
// threads. parse() has no global state (beyond reading the regression switches).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "vstore/attribute_lookup.h"
#include "vstore/record.h"
#include "vstore/status.h"

namespace vstore {

namespace filter {
struct Tree;
}

// Bounds on what parse() accepts; exceeding one is invalid-argument naming it.
// The defaults admit a million-clause chain and 100,000 levels of nesting.
struct FilterLimits {
  size_t max_input_bytes = size_t{128} << 20;  // values above 1 GiB act as 1 GiB
  size_t max_depth = 1'000'000;                // nesting: each '(' and each NOT is a level
  size_t max_clauses = 2'000'000;              // comparisons; each IN value counts as one
};

class Filter {
 public:
  // Parses `text`. invalid-argument with "column N" (and "line L" for multi-line
  // text) for malformed input, or naming the FilterLimits field that was exceeded.
  static Result<Filter> parse(std::string_view text, const FilterLimits& limits = {});

  // Whether `record` matches.
  bool matches(const Record& record) const;
  // Whether the record whose attributes `lookup` returns matches. `lookup` may be
  // called any number of times per key, and not at all for keys that cannot
  // change the answer.
  bool matches(AttributeLookup lookup) const;

  // Canonical text: keywords upper-case, minimal parentheses, merged IN lists.
  // Parsing it gives an equivalent filter whose to_string() is the same text.
  std::string to_string() const;
  // Comparisons in the parsed text, each IN value counting as one (as max_clauses).
  size_t clause_count() const;
  // The attribute keys the filter reads, each once, in order of first use.
  std::span<const std::string> fields() const;

 private:
  explicit Filter(std::shared_ptr<const filter::Tree> tree) : tree_(std::move(tree)) {}
  std::shared_ptr<const filter::Tree> tree_;  // never null; shared because immutable
};

}  // namespace vstore
