#include "vstore/support/filter_inputs.h"

#include <fmt/format.h>

namespace vstore::testing {

Record with_attributes(std::vector<Attribute> attributes) {
  Record r;
  r.attributes = std::move(attributes);
  return r;
}

std::string report_path(size_t i) {
  return fmt::format("src/pkg_{:04}/mod_{:04}/file_{:06}.py", (i / 1000) % 10000, i % 10000, i % 1000000);
}

std::string report_chain(size_t clauses) {
  std::string out;
  out.reserve(clauses * 54);
  for (size_t i = 0; i < clauses; ++i) {
    if (i > 0) out += " OR ";
    out += "file_path = '";
    out += report_path(i);
    out += "'";
  }
  return out;
}

std::string nested_parentheses(size_t depth) {
  return std::string(depth, '(') + "a = 'x'" + std::string(depth, ')');
}

std::string not_chain(size_t count) {
  std::string out;
  out.reserve(count * 4 + 8);
  for (size_t i = 0; i < count; ++i) out += "NOT ";
  return out + "a = 'x'";
}

std::string alternating_nest(size_t depth) {
  std::string out;
  for (size_t i = 0; i < depth; ++i) {
    out += i % 2 == 0 ? "x = '1' AND (" : "y = '0' OR (";
  }
  out += "c = 'end'";
  out += std::string(depth, ')');
  return out;
}

std::string negated_nest(size_t depth) {
  std::string out;
  for (size_t i = 0; i < depth; ++i) out += "NOT (x = '1' AND ";
  out += "c = 'end'";
  out += std::string(depth, ')');
  return out;
}

}  // namespace vstore::testing
