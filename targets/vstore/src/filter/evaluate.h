// filter/evaluate.h: whether a record matches a tree. Short-circuits, keeps its
// stack on the heap for deep trees (on the call stack up to a small fixed depth,
// so the common shallow filter allocates nothing).
#pragma once

#include "filter/tree.h"
#include "vstore/attribute_lookup.h"

namespace vstore::filter {

bool evaluate(const Tree& tree, AttributeLookup lookup);

// One comparison; a record without the attribute equals nothing.
bool evaluate_match(const Tree& tree, const Node& match, AttributeLookup lookup);

}  // namespace vstore::filter
