#include "filter/recursive_regression.h"

#ifdef VSTORE_REGRESSIONS_ENABLED

#include <memory>

#include <fmt/format.h>

#include "filter/comparison.h"
#include "filter/evaluate.h"
#include "filter/lexer.h"
#include "filter/print.h"
#include "filter/syntax_error.h"

namespace vstore::filter::recursive {
namespace {

// The textbook expression tree: owning child pointers, so that destroying it is
// itself a recursion as deep as the tree.
struct Expr {
  NodeKind kind = NodeKind::match;
  uint32_t leaf = kNoNode;  // match: its node, already in the tree
  std::unique_ptr<Expr> left;
  std::unique_ptr<Expr> right;
};

std::unique_ptr<Expr> make(NodeKind kind, std::unique_ptr<Expr> left, std::unique_ptr<Expr> right) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->left = std::move(left);
  e->right = std::move(right);
  return e;
}

class RecursiveDescent {
 public:
  RecursiveDescent(std::string_view text, Tree& tree, const FilterLimits& limits)
      : lexer_(text), tree_(tree), comparisons_(lexer_, tree_, limits.max_clauses) {}

  Result<std::unique_ptr<Expr>> parse_filter() {
    VSTORE_RETURN_IF_ERROR(advance());
    VSTORE_ASSIGN_OR_RETURN(auto e, parse_or());
    if (current_.kind != TokenKind::end) return unexpected("AND, OR or the end of the filter");
    return e;
  }

  // The walk that overflows: one frame per level of the left-deep chain.
  Result<uint32_t> lower(const Expr& e) {
    if (e.kind == NodeKind::match) return e.leaf;
    VSTORE_ASSIGN_OR_RETURN(uint32_t left, lower(*e.left));
    Node node{e.kind, false, 0, 0, 1};
    uint32_t right = kNoNode;
    if (e.kind != NodeKind::negation) {
      VSTORE_ASSIGN_OR_RETURN(right, lower(*e.right));
      node.count = 2;
    }
    node.first = static_cast<uint32_t>(tree_.children.size());
    tree_.children.push_back(left);
    if (right != kNoNode) tree_.children.push_back(right);
    tree_.nodes.push_back(node);
    return static_cast<uint32_t>(tree_.nodes.size() - 1);
  }

 private:
  // or := and (OR and)*, folded to the left as a textbook parser does.
  Result<std::unique_ptr<Expr>> parse_or() {
    VSTORE_ASSIGN_OR_RETURN(auto left, parse_and());
    while (current_.kind == TokenKind::kw_or) {
      VSTORE_RETURN_IF_ERROR(advance());
      VSTORE_ASSIGN_OR_RETURN(auto right, parse_and());
      left = make(NodeKind::any_of, std::move(left), std::move(right));
    }
    return left;
  }

  Result<std::unique_ptr<Expr>> parse_and() {
    VSTORE_ASSIGN_OR_RETURN(auto left, parse_unary());
    while (current_.kind == TokenKind::kw_and) {
      VSTORE_RETURN_IF_ERROR(advance());
      VSTORE_ASSIGN_OR_RETURN(auto right, parse_unary());
      left = make(NodeKind::all_of, std::move(left), std::move(right));
    }
    return left;
  }

  Result<std::unique_ptr<Expr>> parse_unary() {
    if (current_.kind == TokenKind::kw_not) {
      VSTORE_RETURN_IF_ERROR(advance());
      VSTORE_ASSIGN_OR_RETURN(auto operand, parse_unary());
      return make(NodeKind::negation, std::move(operand), nullptr);
    }
    if (current_.kind == TokenKind::open_paren) {
      VSTORE_RETURN_IF_ERROR(advance());
      VSTORE_ASSIGN_OR_RETURN(auto inner, parse_or());
      if (current_.kind != TokenKind::close_paren) return unexpected("')'");
      VSTORE_RETURN_IF_ERROR(advance());
      return inner;
    }
    if (current_.kind != TokenKind::field) return unexpected("a comparison (field = 'value'), NOT or '('");
    auto leaf = std::make_unique<Expr>();
    VSTORE_ASSIGN_OR_RETURN(leaf->leaf, comparisons_.parse(current_));
    VSTORE_RETURN_IF_ERROR(advance());
    return leaf;
  }

  Status advance() {
    VSTORE_ASSIGN_OR_RETURN(current_, lexer_.next());
    return Status::Ok();
  }

  Status unexpected(std::string_view expected) {
    return syntax_error(lexer_.text(), current_.offset,
                        fmt::format("expected {} but found {}", expected, lexer_.describe(current_)));
  }

  Lexer lexer_;
  Tree& tree_;
  ComparisonParser comparisons_;
  Token current_;
};

bool evaluate_node(const Tree& tree, uint32_t id, AttributeLookup lookup) {
  const Node& n = tree.nodes[id];
  switch (n.kind) {
    case NodeKind::match: return evaluate_match(tree, n, lookup);
    case NodeKind::negation: return !evaluate_node(tree, tree.child(n, 0), lookup);
    case NodeKind::all_of:
      return evaluate_node(tree, tree.child(n, 0), lookup) && evaluate_node(tree, tree.child(n, 1), lookup);
    case NodeKind::any_of:
      return evaluate_node(tree, tree.child(n, 0), lookup) || evaluate_node(tree, tree.child(n, 1), lookup);
  }
  return false;
}

void print_node(const Tree& tree, uint32_t id, std::string* out) {
  const Node& n = tree.nodes[id];
  if (n.kind == NodeKind::match) return print_match(tree, n, out);
  if (n.kind == NodeKind::negation) out->append("NOT ");
  for (uint32_t k = 0; k < n.count; ++k) {
    if (k > 0) out->append(n.kind == NodeKind::all_of ? " AND " : " OR ");
    uint32_t child = tree.child(n, k);
    bool parens = needs_parentheses(n.kind, tree.nodes[child].kind);
    if (parens) out->push_back('(');
    print_node(tree, child, out);
    if (parens) out->push_back(')');
  }
}

}  // namespace

Result<Tree> parse(std::string_view text, const FilterLimits& limits) {
  Tree tree;
  tree.recursive = true;
  RecursiveDescent parser(text, tree, limits);
  VSTORE_ASSIGN_OR_RETURN(std::unique_ptr<Expr> expr, parser.parse_filter());
  VSTORE_ASSIGN_OR_RETURN(tree.root, parser.lower(*expr));
  return tree;  // `expr` is destroyed here, recursively
}

bool evaluate(const Tree& tree, AttributeLookup lookup) { return evaluate_node(tree, tree.root, lookup); }

std::string print(const Tree& tree) {
  std::string out;
  print_node(tree, tree.root, &out);
  return out;
}

}  // namespace vstore::filter::recursive

#endif  // VSTORE_REGRESSIONS_ENABLED
