#include "filter/comparison.h"

#include <fmt/format.h>

#include "filter/syntax_error.h"

namespace vstore::filter {

uint32_t ComparisonParser::field_id(const Token& field) {
  scratch_.clear();
  lexer_.append_content(field, &scratch_);
  if (last_field_ != kNoNode && tree_.fields[last_field_] == scratch_) return last_field_;
  const auto next = static_cast<uint32_t>(tree_.fields.size());
  if (next <= kScanFields) {
    for (uint32_t i = 0; i < next; ++i)
      if (tree_.fields[i] == scratch_) return last_field_ = i;
    tree_.fields.push_back(scratch_);
    if (tree_.fields.size() > kScanFields)  // from here on, the map
      for (uint32_t i = 0; i < tree_.fields.size(); ++i) field_ids_.emplace(tree_.fields[i], i);
    return last_field_ = next;
  }
  auto [it, inserted] = field_ids_.try_emplace(scratch_, next);
  if (inserted) tree_.fields.push_back(scratch_);
  return last_field_ = it->second;
}

Status ComparisonParser::add_value(const Token& string) {
  if (++tree_.clauses > max_clauses_) {
    return syntax_error(lexer_.text(), string.offset,
                        fmt::format("more than max_clauses = {} comparisons (each IN value counts as one)",
                                    max_clauses_));
  }
  ValueRef v;
  v.offset = static_cast<uint32_t>(tree_.pool.size());
  lexer_.append_content(string, &tree_.pool);
  v.length = static_cast<uint32_t>(tree_.pool.size() - v.offset);
  tree_.values.push_back(v);
  return Status::Ok();
}

Result<Token> ComparisonParser::expect_string(TokenKind after) {
  VSTORE_ASSIGN_OR_RETURN(Token token, lexer_.next());
  if (token.kind != TokenKind::string) {
    return syntax_error(lexer_.text(), token.offset,
                        fmt::format("expected a quoted string after {} but found {}{}", token_spelling(after),
                                    lexer_.describe(token),
                                    token.kind == TokenKind::field && !token.quoted
                                        ? " (values are quoted with ', as in 'value')"
                                        : ""));
  }
  return token;
}

Result<uint32_t> ComparisonParser::parse(const Token& field) {
  Node node;
  node.kind = NodeKind::match;
  node.field = field_id(field);
  node.first = static_cast<uint32_t>(tree_.values.size());
  VSTORE_ASSIGN_OR_RETURN(Token op, lexer_.next());
  if (op.kind == TokenKind::kw_not) {
    node.negated = true;
    VSTORE_ASSIGN_OR_RETURN(op, lexer_.next());
    if (op.kind != TokenKind::kw_in) {
      return syntax_error(lexer_.text(), op.offset,
                          fmt::format("expected IN after NOT but found {}", lexer_.describe(op)));
    }
  }
  if (op.kind == TokenKind::equal || op.kind == TokenKind::not_equal) {
    node.negated = op.kind == TokenKind::not_equal;
    VSTORE_ASSIGN_OR_RETURN(Token value, expect_string(op.kind));
    VSTORE_RETURN_IF_ERROR(add_value(value));
    node.count = 1;
  } else if (op.kind == TokenKind::kw_in) {
    VSTORE_ASSIGN_OR_RETURN(Token open, lexer_.next());
    if (open.kind != TokenKind::open_paren) {
      return syntax_error(lexer_.text(), open.offset,
                          fmt::format("expected '(' after IN but found {}", lexer_.describe(open)));
    }
    for (;;) {
      VSTORE_ASSIGN_OR_RETURN(Token value, lexer_.next());
      if (value.kind == TokenKind::close_paren && node.count == 0)
        return syntax_error(lexer_.text(), value.offset, "empty IN list: give at least one quoted value");
      if (value.kind != TokenKind::string) {
        return syntax_error(lexer_.text(), value.offset,
                            fmt::format("expected a quoted string in the IN list but found {}",
                                        lexer_.describe(value)));
      }
      VSTORE_RETURN_IF_ERROR(add_value(value));
      ++node.count;
      VSTORE_ASSIGN_OR_RETURN(Token next, lexer_.next());
      if (next.kind == TokenKind::close_paren) break;
      if (next.kind != TokenKind::comma) {
        return syntax_error(
            lexer_.text(), next.offset,
            fmt::format("expected ',' or ')' in the IN list opened at {} but found {}",
                        position_name(lexer_.text(), open.offset), lexer_.describe(next)));
      }
    }
  } else {
    return syntax_error(lexer_.text(), op.offset,
                        fmt::format("expected '=', '!=', IN or NOT IN after the {} but found {}",
                                    lexer_.describe(field), lexer_.describe(op)));
  }
  tree_.nodes.push_back(node);
  return static_cast<uint32_t>(tree_.nodes.size() - 1);
}

}  // namespace vstore::filter
