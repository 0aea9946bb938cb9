#include "filter/syntax_error.h"

#include <algorithm>

#include <fmt/format.h>

namespace vstore::filter {

std::string position_name(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  std::string_view before = text.substr(0, offset);
  size_t line_start = before.rfind('\n');
  size_t column = line_start == std::string_view::npos ? offset + 1 : offset - line_start;
  if (text.find('\n') == std::string_view::npos) return fmt::format("column {}", column);
  size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
  return fmt::format("line {}, column {}", line, column);
}

Status syntax_error(std::string_view text, size_t offset, std::string_view what) {
  return Status::Invalid(fmt::format("filter: {}: {}", position_name(text, offset), what));
}

}  // namespace vstore::filter
