// The public face of the filter language: limits first, then the hardened
// parse-and-simplify pipeline (or, with the recursive-filter switch on, the
// regression).
#include "vstore/filter.h"

#include <algorithm>
#include <new>

#include <fmt/format.h>

#include "filter/evaluate.h"
#include "filter/parser.h"
#include "filter/print.h"
#include "filter/recursive_regression.h"
#include "filter/simplify.h"
#include "filter/syntax_error.h"
#include "filter/tree.h"
#include "vstore/regression.h"

namespace vstore {
namespace {

// Keeps every count and offset of a tree within 32 bits, whatever the limits say.
constexpr size_t kHardMaxInputBytes = size_t{1} << 30;

Result<filter::Tree> parse_limited(std::string_view text, const FilterLimits& limits) {
  size_t max_bytes = std::min(limits.max_input_bytes, kHardMaxInputBytes);
  if (text.size() > max_bytes) {
    return filter::syntax_error(
        text, max_bytes,
        fmt::format("the filter is {} bytes, over max_input_bytes = {}", text.size(), max_bytes));
  }
#ifdef VSTORE_REGRESSIONS_ENABLED
  if (regression_enabled(Regression::recursive_filter)) return filter::recursive::parse(text, limits);
#endif
  VSTORE_ASSIGN_OR_RETURN(filter::Tree parsed, filter::parse_tree(text, limits));
  return filter::simplify(std::move(parsed));
}

}  // namespace

Result<Filter> Filter::parse(std::string_view text, const FilterLimits& limits) {
  try {
    VSTORE_ASSIGN_OR_RETURN(filter::Tree tree, parse_limited(text, limits));
    return Filter(std::make_shared<const filter::Tree>(std::move(tree)));
  } catch (const std::bad_alloc&) {
    // The only exception the pipeline can raise; a huge filter under a memory
    // rlimit must come back as an error, not an abort.
    return Status::Exhausted(fmt::format("filter: out of memory parsing {} bytes", text.size()));
  }
}

bool Filter::matches(const Record& record) const {
  return matches([&record](std::string_view key) { return record.attribute(key); });
}

bool Filter::matches(AttributeLookup lookup) const {
#ifdef VSTORE_REGRESSIONS_ENABLED
  if (tree_->recursive) return filter::recursive::evaluate(*tree_, lookup);
#endif
  return filter::evaluate(*tree_, lookup);
}

std::string Filter::to_string() const {
#ifdef VSTORE_REGRESSIONS_ENABLED
  if (tree_->recursive) return filter::recursive::print(*tree_);
#endif
  return filter::print(*tree_);
}

size_t Filter::clause_count() const { return tree_->clauses; }

std::span<const std::string> Filter::fields() const { return tree_->fields; }

}  // namespace vstore
