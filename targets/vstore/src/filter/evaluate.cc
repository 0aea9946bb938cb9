#include "filter/evaluate.h"

#include <memory>

namespace vstore::filter {
namespace {

struct Frame {
  uint32_t node;
  uint32_t next;  // the child to evaluate next
};

// Trees at most this deep are evaluated without allocating: 512 bytes of stack.
constexpr uint32_t kInlineFrames = 64;

bool run(const Tree& tree, AttributeLookup lookup, Frame* stack) {
  size_t top = 0;
  uint32_t node = tree.root;
  for (;;) {
    // Down the first children to a comparison.
    const Node* n = &tree.nodes[node];
    while (n->kind != NodeKind::match) {
      stack[top++] = Frame{node, 1};
      node = tree.child(*n, 0);
      n = &tree.nodes[node];
    }
    bool result = evaluate_match(tree, *n, lookup);
    // Up, until some list has a child left that could change its answer.
    for (;;) {
      if (top == 0) return result;
      Frame& f = stack[top - 1];
      const Node& parent = tree.nodes[f.node];
      if (parent.kind == NodeKind::negation) {
        result = !result;
        --top;
        continue;
      }
      bool decided = parent.kind == NodeKind::any_of ? result : !result;
      if (decided || f.next == parent.count) {
        --top;
        continue;
      }
      node = tree.child(parent, f.next++);
      break;
    }
  }
}

}  // namespace

bool evaluate_match(const Tree& tree, const Node& match, AttributeLookup lookup) {
  std::optional<std::string_view> value = lookup(tree.fields[match.field]);
  if (!value) return match.negated;
  const ValueIndex* index = match.index == kNoNode ? nullptr : &tree.indexes[match.index];
  return run_contains(*value, tree.pool, tree.values, match.first, match.count, index) != match.negated;
}

bool evaluate(const Tree& tree, AttributeLookup lookup) {
  if (tree.depth <= kInlineFrames) {
    Frame stack[kInlineFrames];
    return run(tree, lookup, stack);
  }
  std::unique_ptr<Frame[]> stack(new Frame[tree.depth]);
  return run(tree, lookup, stack.get());
}

}  // namespace vstore::filter
