// filter/tree.h: a parsed filter. One flat arena of nodes that name their
// children by index: destroying, copying or moving a tree never recurses,
// whatever its depth (the walk that overflowed in field report 003 was a tree
// walk). Every pass over a tree keeps its own stack on the heap.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "filter/value_set.h"

namespace vstore::filter {

enum class NodeKind : uint8_t {
  match,     // field [NOT] IN values (also = and !=, with one value)
  negation,  // NOT child
  all_of,    // child AND child AND ...
  any_of,    // child OR child OR ...
};

inline constexpr uint32_t kNoNode = UINT32_MAX;

struct Node {
  NodeKind kind = NodeKind::match;
  bool negated = false;        // match: != or NOT IN
  uint32_t field = 0;          // match: index into Tree::fields
  uint32_t first = 0;          // match: into Tree::values; otherwise into Tree::children
  uint32_t count = 0;          // match: values; otherwise children (1 for negation)
  uint32_t index = kNoNode;    // match: into Tree::indexes when the run is indexed
};

struct Tree {
  std::vector<Node> nodes;
  std::vector<uint32_t> children;
  std::vector<std::string> fields;  // each distinct field once, in order of first use
  std::string pool;                 // the bytes of every value
  std::vector<ValueRef> values;
  std::vector<ValueIndex> indexes;
  uint32_t root = kNoNode;
  uint32_t depth = 0;        // nodes on the longest path from the root
  size_t clauses = 0;        // as FilterLimits::max_clauses counts them
  bool recursive = false;    // built by the recursive-filter regression: walk it recursively

  std::string_view value(uint32_t i) const {
    return std::string_view(pool).substr(values[i].offset, values[i].length);
  }
  uint32_t child(const Node& n, uint32_t i) const { return children[n.first + i]; }
};

}  // namespace vstore::filter
