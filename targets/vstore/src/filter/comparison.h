// filter/comparison.h: the leaves of the grammar (`f = 'v'`, `f != 'v'`,
// `f [NOT] IN ('a', ...)`), parsed flat and appended to a tree as match nodes.
// Shared by the hardened parser and the recursive-filter regression, so that the
// two differ only in how they handle nesting.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "filter/lexer.h"
#include "filter/tree.h"
#include "vstore/status.h"

namespace vstore::filter {

class ComparisonParser {
 public:
  // Appends to `tree`; counts clauses against `max_clauses`.
  ComparisonParser(Lexer& lexer, Tree& tree, size_t max_clauses)
      : lexer_(lexer), tree_(tree), max_clauses_(max_clauses) {}

  // Parses the comparison that starts with `field` (already read) and appends
  // its match node; returns the node's index.
  Result<uint32_t> parse(const Token& field);

 private:
  Result<Token> expect_string(TokenKind after);
  Status add_value(const Token& string);
  uint32_t field_id(const Token& field);

  Lexer& lexer_;
  Tree& tree_;
  size_t max_clauses_;
  // Most filters name a few fields: those are found by a scan of
  // tree_.fields, and the map is built only once there are more, so that a
  // 20,000-field filter stays linear. Skipping the map's allocations made a
  // four-field filter parse 9-15% faster (BM_FilterParseSmall, release).
  static constexpr size_t kScanFields = 8;
  std::unordered_map<std::string, uint32_t> field_ids_;
  std::string scratch_;
  uint32_t last_field_ = kNoNode;  // chains repeat one field; skip the lookup for it
};

}  // namespace vstore::filter
