#include "filter/parser.h"

#include <vector>

#include <fmt/format.h>

#include "filter/comparison.h"
#include "filter/lexer.h"
#include "filter/syntax_error.h"

namespace vstore::filter {
namespace {

// An operator waiting for its operands.
struct PendingOp {
  enum Kind : uint8_t { open_paren, negation, all_of, any_of } kind;
  uint32_t operands = 0;  // all_of/any_of: how many operands the chain has so far
  uint32_t offset = 0;    // open_paren: where it was opened, for "missing ')'"
};

// How tightly an operator binds; a new binary operator first reduces every
// pending operator that binds more tightly (left associativity is handled by
// extending a pending chain of the same kind instead).
int precedence(PendingOp::Kind kind) {
  switch (kind) {
    case PendingOp::negation: return 3;
    case PendingOp::all_of: return 2;
    case PendingOp::any_of: return 1;
    case PendingOp::open_paren: return 0;
  }
  return 0;
}

class Parser {
 public:
  Parser(std::string_view text, const FilterLimits& limits)
      : lexer_(text), comparisons_(lexer_, tree_, limits.max_clauses), max_depth_(limits.max_depth) {}

  Result<Tree> run() {
    // Reserving up front keeps a million-clause chain from reallocating its way up.
    tree_.pool.reserve(lexer_.text().size());
    bool expect_operand = true;
    for (;;) {
      VSTORE_ASSIGN_OR_RETURN(Token token, lexer_.next());
      if (expect_operand) {
        VSTORE_RETURN_IF_ERROR(operand(token, &expect_operand));
        continue;
      }
      switch (token.kind) {
        case TokenKind::kw_and: binary(PendingOp::all_of); expect_operand = true; break;
        case TokenKind::kw_or: binary(PendingOp::any_of); expect_operand = true; break;
        case TokenKind::close_paren: VSTORE_RETURN_IF_ERROR(close_paren(token)); break;
        case TokenKind::end: return finish(token);
        default:
          return syntax_error(lexer_.text(), token.offset,
                              fmt::format("expected AND, OR, ')' or the end of the filter but found {}",
                                          lexer_.describe(token)));
      }
    }
  }

 private:
  // In operand position: NOT, '(' or a comparison.
  Status operand(const Token& token, bool* expect_operand) {
    switch (token.kind) {
      case TokenKind::kw_not: return open(token, PendingOp::negation);
      case TokenKind::open_paren: return open(token, PendingOp::open_paren);
      case TokenKind::field: {
        VSTORE_ASSIGN_OR_RETURN(uint32_t leaf, comparisons_.parse(token));
        operands_.push_back(leaf);
        *expect_operand = false;
        return Status::Ok();
      }
      default: {
        std::string found = lexer_.describe(token);
        if (token.kind == TokenKind::kw_and || token.kind == TokenKind::kw_or ||
            token.kind == TokenKind::kw_in)
          found += " (a keyword; quote a field with that name: \"name\")";
        return syntax_error(lexer_.text(), token.offset,
                            fmt::format("expected a comparison (field = 'value'), NOT or '(' but found {}",
                                        found));
      }
    }
  }

  Status open(const Token& token, PendingOp::Kind kind) {
    if (++depth_ > max_depth_) {
      return syntax_error(lexer_.text(), token.offset,
                          fmt::format("nesting deeper than max_depth = {} (each '(' and each NOT is a level)",
                                      max_depth_));
    }
    ops_.push_back(PendingOp{kind, 0, token.offset});
    return Status::Ok();
  }

  void binary(PendingOp::Kind kind) {
    while (!ops_.empty() && precedence(ops_.back().kind) > precedence(kind)) reduce();
    if (!ops_.empty() && ops_.back().kind == kind) {
      ++ops_.back().operands;
    } else {
      ops_.push_back(PendingOp{kind, 2, 0});
    }
  }

  Status close_paren(const Token& token) {
    while (!ops_.empty() && ops_.back().kind != PendingOp::open_paren) reduce();
    if (ops_.empty())
      return syntax_error(lexer_.text(), token.offset, "unmatched ')': no '(' is open here");
    ops_.pop_back();
    --depth_;
    return Status::Ok();
  }

  Result<Tree> finish(const Token& end) {
    while (!ops_.empty() && ops_.back().kind != PendingOp::open_paren) reduce();
    if (!ops_.empty()) {
      return syntax_error(lexer_.text(), end.offset,
                          fmt::format("missing ')' to close the '(' at {}",
                                      position_name(lexer_.text(), ops_.back().offset)));
    }
    tree_.root = operands_.back();
    return std::move(tree_);
  }

  // Replaces the top operator and its operands with one node.
  void reduce() {
    PendingOp op = ops_.back();
    ops_.pop_back();
    Node node;
    node.first = static_cast<uint32_t>(tree_.children.size());
    if (op.kind == PendingOp::negation) {
      --depth_;
      node.kind = NodeKind::negation;
      node.count = 1;
    } else {
      node.kind = op.kind == PendingOp::all_of ? NodeKind::all_of : NodeKind::any_of;
      node.count = op.operands;
    }
    tree_.children.insert(tree_.children.end(), operands_.end() - node.count, operands_.end());
    operands_.resize(operands_.size() - node.count);
    tree_.nodes.push_back(node);
    operands_.push_back(static_cast<uint32_t>(tree_.nodes.size() - 1));
  }

  Lexer lexer_;
  Tree tree_;
  ComparisonParser comparisons_;
  size_t max_depth_;
  size_t depth_ = 0;               // '(' and NOT currently open
  std::vector<uint32_t> operands_;  // nodes not yet claimed by an operator
  std::vector<PendingOp> ops_;
};

}  // namespace

Result<Tree> parse_tree(std::string_view text, const FilterLimits& limits) {
  return Parser(text, limits).run();
}

}  // namespace vstore::filter
