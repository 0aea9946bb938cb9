#include "crashgate/run_regression.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

namespace crashgate {
namespace {

std::vector<std::string> split_ids(const std::string& ids) {
  std::vector<std::string> out;
  std::stringstream in(ids);
  for (std::string id; std::getline(in, id, ',');)
    if (!id.empty()) out.push_back(id);
  return out;
}

}  // namespace

bool build_has_regressions(const std::string& build_root, const std::string& build) {
  std::ifstream cache(build_root + "/" + build + "/CMakeCache.txt");
  for (std::string line; std::getline(cache, line);) {
    if (line.rfind("VSTORE_REGRESSIONS:", 0) != 0) continue;
    auto value = line.substr(line.find('=') + 1);
    return value == "ON" || value == "1" || value == "TRUE" || value == "YES" || value == "on" || value == "true";
  }
  return false;
}

std::optional<std::string> regression_ids_error(const std::string& ids) {
  if (split_ids(ids).empty()) return "expected a regression id, e.g. unvalidated-header (`vstore regressions` lists them)";
  for (char c : ids)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == ','))
      return fmt::format("'{}': ids are lowercase words joined by '-', separated by ',' "
                         "(`vstore regressions` lists them)", ids);
  return std::nullopt;
}

void add_regressions(Cell& cell, const std::string& ids) {
  std::vector<std::string> all = split_ids(cell.regression);
  for (const auto& id : split_ids(ids))
    if (std::find(all.begin(), all.end(), id) == all.end()) all.push_back(id);
  std::string joined;
  for (const auto& id : all) joined += (joined.empty() ? "" : ",") + id;
  cell.regression = joined;
}

}  // namespace crashgate
