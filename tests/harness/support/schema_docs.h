// Test support for schema documents (reports/*.md): the field names a table lists.
#pragma once

#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace crashgate::testing {

// reports/<name>, read whole.
std::string report_doc(const std::string& name);

// The field names ("| `name` |" rows) of the table under "## heading", up to the next heading.
std::set<std::string> documented_fields(const std::string& doc, const std::string& heading);

// The keys of a JSON object.
template <class Json>
std::set<std::string> written_fields(const Json& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.insert(key);
  return keys;
}

}  // namespace crashgate::testing
