#include "filter/print.h"

#include <vector>

#include "filter/token.h"

namespace vstore::filter {
namespace {

bool is_bare_field(std::string_view f) {
  if (f.empty()) return false;
  auto start = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!start(f[0])) return false;
  for (char c : f)
    if (!start(c) && !(c >= '0' && c <= '9') && c != '.') return false;
  TokenKind keyword;
  return !keyword_kind(f, &keyword);
}

std::string_view separator(NodeKind kind) { return kind == NodeKind::all_of ? " AND " : " OR "; }

}  // namespace

void print_quoted(std::string_view s, char quote, std::string* out) {
  out->push_back(quote);
  for (char c : s) {
    out->push_back(c);
    if (c == quote) out->push_back(c);
  }
  out->push_back(quote);
}

void print_match(const Tree& tree, const Node& match, std::string* out) {
  const std::string& field = tree.fields[match.field];
  if (is_bare_field(field)) {
    out->append(field);
  } else {
    print_quoted(field, '"', out);
  }
  if (match.count == 1) {
    out->append(match.negated ? " != " : " = ");
    print_quoted(tree.value(match.first), '\'', out);
    return;
  }
  out->append(match.negated ? " NOT IN (" : " IN (");
  for (uint32_t i = 0; i < match.count; ++i) {
    if (i > 0) out->append(", ");
    print_quoted(tree.value(match.first + i), '\'', out);
  }
  out->push_back(')');
}

bool needs_parentheses(NodeKind parent, NodeKind child) {
  if (child == NodeKind::match || child == NodeKind::negation) return false;
  // NOT and AND bind tighter than OR; a chain inside a chain of its own kind is
  // parenthesized too so that the printed tree has the same shape.
  return parent != NodeKind::any_of || child == NodeKind::any_of;
}

std::string print(const Tree& tree) {
  struct Frame {
    uint32_t node;
    uint32_t next;  // the child to print next
  };
  std::string out;
  std::vector<Frame> stack;
  uint32_t node = tree.root;
  for (;;) {
    // Open `node`: print what precedes its first child, or all of a comparison.
    const Node* n = &tree.nodes[node];
    while (n->kind != NodeKind::match) {
      if (n->kind == NodeKind::negation) out.append("NOT ");
      uint32_t first = tree.child(*n, 0);
      if (needs_parentheses(n->kind, tree.nodes[first].kind)) out.push_back('(');
      stack.push_back(Frame{node, 1});
      node = first;
      n = &tree.nodes[node];
    }
    print_match(tree, *n, &out);
    // Close finished parents; move on to the next sibling.
    for (;;) {
      if (stack.empty()) return out;
      Frame& f = stack.back();
      const Node& parent = tree.nodes[f.node];
      if (needs_parentheses(parent.kind, tree.nodes[tree.child(parent, f.next - 1)].kind)) out.push_back(')');
      if (f.next == parent.count) {
        stack.pop_back();
        continue;
      }
      out.append(separator(parent.kind));
      node = tree.child(parent, f.next++);
      if (needs_parentheses(parent.kind, tree.nodes[node].kind)) out.push_back('(');
      break;
    }
  }
}

}  // namespace vstore::filter
