// matrix.json (crashgate.matrix/1, reports/matrix-schema.md) and its model,
// both ways: `crashgate matrix` writes it; the gate and report.html read it.
#include <fmt/format.h>

#include <array>
#include <cmath>
#include <fstream>
#include <sstream>
#include <type_traits>

#include "crashgate/detection_matrix.h"

namespace crashgate {
namespace {

using nlohmann::json;

struct StatusName {
  RegressionStatus status;
  std::string_view name;
};

constexpr std::array kStatuses = {
    StatusName{RegressionStatus::caught, "caught"},
    StatusName{RegressionStatus::wrong_kind, "wrong-kind"},
    StatusName{RegressionStatus::escaped, "escaped"},
};

json catches_json(const std::vector<MatrixCatch>& list) {
  json out = json::array();
  for (const MatrixCatch& c : list)
    out.push_back({{"cell", c.cell}, {"scenario", c.scenario}, {"build", c.build}, {"kind", c.kind}, {"detail", c.detail},
                   {"seconds", static_cast<double>(c.ms) / 1000.0}});
  return out;
}

// "signal:SIGBUS@past-eof|asan:BUS" as the list it is in the file.
json kinds_json(const std::string& shows_as) {
  json out = json::array();
  for (std::size_t pos = 0; pos <= shows_as.size();) {
    std::size_t bar = shows_as.find('|', pos);
    if (bar == std::string::npos) bar = shows_as.size();
    out.push_back(shows_as.substr(pos, bar - pos));
    pos = bar + 1;
  }
  return out;
}

// Reads the fields of one JSON object; the first problem names its path.
class Fields {
 public:
  Fields(const json& object, std::string where) : object_(object), where_(std::move(where)) {}
  const std::string& problem() const { return problem_; }
  bool ok() const { return problem_.empty(); }

  // A field that must be there.
  template <class T>
  void required(const char* key, T& out) {
    if (!object_.contains(key)) return fail(key, "missing");
    read(key, out);
  }
  // A field that may be absent (out keeps its empty value); present, it must have its type.
  template <class T>
  void optional(const char* key, T& out) {
    if (object_.contains(key)) read(key, out);
  }
  const json* array(const char* key) {
    if (!object_.contains(key)) return nullptr;
    if (!object_[key].is_array()) {
      fail(key, "not an array");
      return nullptr;
    }
    return &object_[key];
  }
  void fail(const std::string& key, const std::string& what) {
    if (problem_.empty()) problem_ = fmt::format("{}{}: {}", where_, key, what);
  }

 private:
  template <class T>
  void read(const char* key, T& out) {
    const json& v = object_.at(key);
    // nlohmann converts any number to any number type: a count must be a whole one.
    if constexpr (std::is_integral_v<T>) {
      if (!v.is_number_integer() || (std::is_unsigned_v<T> && !v.is_number_unsigned())) return fail(key, "has the wrong type");
    }
    try {
      out = object_.at(key).get<T>();
    } catch (const json::exception&) {
      fail(key, "has the wrong type");
    }
  }
  const json& object_;
  std::string where_;
  std::string problem_;
};

Checked<std::vector<MatrixCatch>> catches_from_json(const json* list, const std::string& where) {
  std::vector<MatrixCatch> out;
  if (!list) return out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& c = (*list)[i];
    std::string at = fmt::format("{}[{}]", where, i);
    if (!c.is_object()) return failure(at + ": not an object");
    Fields f(c, at + ".");
    MatrixCatch m;
    double seconds = 0;
    f.required("cell", m.cell);
    f.optional("scenario", m.scenario);
    f.optional("build", m.build);
    f.optional("kind", m.kind);
    f.optional("detail", m.detail);
    f.optional("seconds", seconds);
    if (!f.ok()) return failure(f.problem());
    if (!(seconds >= 0)) return failure(at + ".seconds: negative");
    m.ms = static_cast<std::int64_t>(std::llround(seconds * 1000.0));
    out.push_back(std::move(m));
  }
  return out;
}

Checked<MatrixRegression> regression_from_json(const json& r, const std::string& where) {
  if (!r.is_object()) return failure(where + ": not an object");
  Fields f(r, where + ".");
  MatrixRegression line;
  std::string status;
  f.required("id", line.info.id);
  f.required("status", status);
  f.optional("field_report", line.info.field_report);
  f.optional("what", line.info.what);
  f.optional("target", line.info.target);
  f.optional("cells", line.cells);
  const json* kinds = f.array("expected_kinds");
  const json* caught_by = f.array("caught_by");
  const json* other = f.array("other_failures");
  if (!f.ok()) return failure(f.problem());
  std::optional<RegressionStatus> parsed = parse_regression_status(status);
  if (!parsed) return failure(fmt::format("{}.status: '{}' is not caught, wrong-kind or escaped", where, status));
  line.status = *parsed;
  if (kinds)
    for (std::size_t i = 0; i < kinds->size(); ++i) {
      if (!(*kinds)[i].is_string()) return failure(fmt::format("{}.expected_kinds[{}]: not a string", where, i));
      line.info.shows_as += (i ? "|" : "") + (*kinds)[i].get<std::string>();
    }
  Checked<std::vector<MatrixCatch>> caught = catches_from_json(caught_by, where + ".caught_by");
  if (!caught) return failure(caught.error());
  Checked<std::vector<MatrixCatch>> others = catches_from_json(other, where + ".other_failures");
  if (!others) return failure(others.error());
  line.caught_by = std::move(*caught);
  line.other_failures = std::move(*others);
  return line;
}

}  // namespace

std::string_view to_string(RegressionStatus status) { return kStatuses[static_cast<std::size_t>(status)].name; }

std::optional<RegressionStatus> parse_regression_status(std::string_view name) {
  for (const auto& s : kStatuses)
    if (s.name == name) return s.status;
  return std::nullopt;
}

std::string regression_detail(const MatrixRegression& r) {
  switch (r.status) {
    case RegressionStatus::caught:
      return fmt::format("caught by {} of {} cells", r.caught_by.size(), r.cells);
    case RegressionStatus::wrong_kind:
      if (r.other_failures.empty()) return fmt::format("{} cells ran; none failed the way it shows ({})", r.cells, r.info.shows_as);
      return fmt::format("{} cells ran; they failed only as {} {} (first: {}), not as {}", r.cells, r.other_failures[0].kind,
                         r.other_failures[0].detail, r.other_failures[0].cell, r.info.shows_as);
    case RegressionStatus::escaped:
      return fmt::format("{} cells ran; none failed", r.cells);
  }
  return "";
}

json to_json(const DetectionMatrix& m) {
  json regressions = json::array();
  for (const MatrixRegression& r : m.regressions)
    regressions.push_back({{"id", r.info.id},
                           {"field_report", r.info.field_report},
                           {"what", r.info.what},
                           {"target", r.info.target},
                           {"status", to_string(r.status)},
                           {"expected_kinds", kinds_json(r.info.shows_as)},
                           {"cells", r.cells},
                           {"caught_by", catches_json(r.caught_by)},
                           {"other_failures", catches_json(r.other_failures)}});
  return {{"schema", kMatrixSchema},
          {"run_id", m.run_id},
          {"verdict", m.passed ? "pass" : "fail"},
          {"problems", m.problems},
          {"duration_seconds", static_cast<double>(m.duration_ms) / 1000.0},
          {"plain_build", m.options.plain_build},
          {"sample", m.options.sample},
          {"hardened", {{"cells", m.hardened_cells}, {"failed", m.hardened_failures}}},
          {"scenarios", m.scenarios},
          {"regressions", regressions}};
}

Checked<DetectionMatrix> detection_matrix_from_json(const json& j) {
  if (!j.is_object()) return failure("not a JSON object");
  if (!j.contains("schema") || j["schema"] != kMatrixSchema)
    return failure(fmt::format("schema: {} (this crashgate reads {})", j.contains("schema") ? j["schema"].dump() : "missing",
                               kMatrixSchema));
  Fields f(j, "");
  DetectionMatrix m;
  std::string verdict;
  double seconds = 0;
  f.required("verdict", verdict);
  f.optional("run_id", m.run_id);
  f.optional("problems", m.problems);
  f.optional("duration_seconds", seconds);
  f.optional("plain_build", m.options.plain_build);
  f.optional("sample", m.options.sample);
  f.optional("scenarios", m.scenarios);
  const json* regressions = f.array("regressions");
  if (!regressions && f.ok()) f.fail("regressions", "missing");
  if (!f.ok()) return failure(f.problem());
  if (verdict != "pass" && verdict != "fail") return failure(fmt::format("verdict: '{}' is not pass or fail", verdict));
  m.passed = verdict == "pass";
  m.duration_ms = static_cast<std::int64_t>(std::llround(seconds * 1000.0));
  if (j.contains("hardened")) {
    if (!j["hardened"].is_object()) return failure("hardened: not an object");
    Fields h(j["hardened"], "hardened.");
    h.optional("cells", m.hardened_cells);
    h.optional("failed", m.hardened_failures);
    if (!h.ok()) return failure(h.problem());
  }
  for (std::size_t i = 0; i < regressions->size(); ++i) {
    Checked<MatrixRegression> line = regression_from_json((*regressions)[i], fmt::format("regressions[{}]", i));
    if (!line) return failure(line.error());
    m.regressions.push_back(std::move(*line));
  }
  return m;
}

Checked<DetectionMatrix> load_detection_matrix(const std::string& path) {
  std::ifstream in(path);
  if (!in) return failure(fmt::format("{}: cannot read the detection matrix", path));
  std::stringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded()) return failure(fmt::format("{}: not valid JSON", path));
  Checked<DetectionMatrix> m = detection_matrix_from_json(j);
  if (!m) return failure(fmt::format("{}: {}", path, m.error()));
  return m;
}

}  // namespace crashgate
