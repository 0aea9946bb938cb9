#include "crashgate/regression_matrix.h"

#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace crashgate {
namespace {

using nlohmann::json;

// The fields a person reads after id and status, as "key: value; ...".
std::string detail_text(const json& r) {
  std::string out;
  for (const auto& [key, value] : r.items()) {
    if (key == "id" || key == "status") continue;
    std::string shown = value.is_string() ? value.get<std::string>() : value.dump();
    if (shown.size() > 200) shown = shown.substr(0, 200) + "...";
    out += (out.empty() ? "" : "; ") + key + ": " + shown;
  }
  return out;
}

}  // namespace

std::optional<RegressionMatrix> load_regression_matrix(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = fmt::format("{}: cannot read the regression matrix", path);
    return std::nullopt;
  }
  std::stringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    error = fmt::format("{}: not a JSON object", path);
    return std::nullopt;
  }
  if (!j.contains("schema") || j["schema"] != kMatrixSchema) {
    error = fmt::format("{}: schema: {} (this crashgate reads {})", path,
                        j.contains("schema") ? j["schema"].dump() : std::string("missing"), kMatrixSchema);
    return std::nullopt;
  }
  RegressionMatrix m;
  if (j.contains("verdict") && j["verdict"].is_string()) m.verdict = j["verdict"];
  if (!j.contains("regressions") || !j["regressions"].is_array()) {
    error = fmt::format("{}: regressions: missing or not an array", path);
    return std::nullopt;
  }
  for (std::size_t i = 0; i < j["regressions"].size(); ++i) {
    const json& r = j["regressions"][i];
    if (!r.is_object() || !r.contains("id") || !r["id"].is_string() || !r.contains("status") || !r["status"].is_string()) {
      error = fmt::format("{}: regressions[{}]: needs a string 'id' and 'status'", path, i);
      return std::nullopt;
    }
    m.regressions.push_back({r["id"], r["status"], detail_text(r)});
  }
  return m;
}

}  // namespace crashgate
