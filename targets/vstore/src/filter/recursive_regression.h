// filter/recursive_regression.h: the `recursive-filter` regression switch (field
// report 003). A naive recursive-descent parser that builds a left-deep binary
// tree for `a OR b OR c ...`, and recursive walks over it (lowering, evaluating,
// printing, destroying), one call-stack frame per level: a 31,985-clause OR chain
// overflows a 2 MiB worker stack exactly as it did in the field. Compiled only
// into builds configured with VSTORE_REGRESSIONS=ON; used only while the switch
// is on. Ignores FilterLimits::max_depth, which is the bug.
#pragma once

#ifdef VSTORE_REGRESSIONS_ENABLED

#include <string>
#include <string_view>

#include "filter/tree.h"
#include "vstore/attribute_lookup.h"
#include "vstore/filter.h"
#include "vstore/status.h"

namespace vstore::filter::recursive {

// A tree with Tree::recursive set: binary, unsimplified, as written.
Result<Tree> parse(std::string_view text, const FilterLimits& limits);
bool evaluate(const Tree& tree, AttributeLookup lookup);
std::string print(const Tree& tree);

}  // namespace vstore::filter::recursive

#endif  // VSTORE_REGRESSIONS_ENABLED
