// filter/syntax_error.h: the one place that turns a byte offset in filter text
// into the "column N" (or "line L, column N") every filter error carries.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "vstore/status.h"

namespace vstore::filter {

// invalid-argument "filter: column C: <what>", with "line L, " before the column
// when `text` has more than one line. Columns and lines are 1-based; columns count bytes.
Status syntax_error(std::string_view text, size_t offset, std::string_view what);

// "column C" (or "line L, column C") of `offset` in `text`, for messages that
// mention a second position ("(opened at column 3)").
std::string position_name(std::string_view text, size_t offset);

}  // namespace vstore::filter
