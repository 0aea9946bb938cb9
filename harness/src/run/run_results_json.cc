// results.json writer and reader (reports/results-schema.md). A cell's first
// attempt is written flat (outcome, unmet, work_dir) because that is what
// every consumer reads; reruns follow under `reruns`.
#include <fmt/format.h>

#include "crashgate/result_json.h"
#include "crashgate/run_results.h"

namespace crashgate {
namespace {

using nlohmann::json;

// A limit as a number in its unit (bytes, count, milliseconds); nothing when unset.
std::optional<std::uint64_t> limit_number(const std::optional<std::uint64_t>& v) { return v; }
std::optional<std::uint64_t> limit_number(std::uint64_t v) { return v; }
std::optional<std::uint64_t> limit_number(const std::optional<std::chrono::milliseconds>& v) {
  if (!v) return std::nullopt;
  return static_cast<std::uint64_t>(v->count());
}
std::optional<std::uint64_t> limit_number(std::chrono::milliseconds v) { return static_cast<std::uint64_t>(v.count()); }

// "wall" -> "wall_ms": the unit is in the name, so nobody guesses it.
std::string limit_json_key(std::string_view key, LimitUnit unit) {
  return std::string(key) + (unit == LimitUnit::duration ? "_ms" : "");
}

json expectation_json(const Expectation& e) {
  return {{"outcome", to_string(e.outcome)}, {"code", e.code},
          {"signal", e.signal},   {"check", e.check},
          {"step", e.step ? json(*e.step) : json(nullptr)}, {"message", e.message}};
}

json steps_json(const std::vector<Step>& steps) {
  json out = json::array();
  for (const auto& step : steps) {
    json s = step.args;
    s["op"] = step.op;
    s["index"] = step.index;
    out.push_back(std::move(s));
  }
  return out;
}

json attempt_json(const Attempt& a) {
  return {{"verdict", to_string(a.verdict)}, {"unmet", a.unmet}, {"work_dir", a.work_dir}, {"outcome", to_json(a.outcome)}};
}

json cell_json(const CellResult& r) {
  const Cell& c = r.cell;
  json params = json::object();
  for (const auto& [key, value] : c.params) params[key] = value;
  json j = {
      {"id", c.id},
      {"scenario", c.scenario},
      {"scenario_file", r.scenario_file},
      {"summary", r.summary},
      {"origin", r.origin},
      {"regression", c.regression.empty() ? json(nullptr) : json(c.regression)},
      {"check_invariants", c.check_invariants},
      {"target", c.target},
      {"build", c.build},
      {"params", params},
      {"seed", c.seed},
      {"limits", limits_json(c.limits)},
      {"steps", steps_json(c.steps)},
      {"expectation", expectation_json(c.expect)},
      {"driver", r.driver},
      {"verdict", to_string(r.verdict)},
      {"attempts", r.attempts.size()},
  };
  if (!r.attempts.empty()) {
    j["unmet"] = r.attempts.front().unmet;
    j["work_dir"] = r.attempts.front().work_dir;
    j["outcome"] = to_json(r.attempts.front().outcome);
  } else {
    j["unmet"] = json::array();
    j["work_dir"] = "";
    j["outcome"] = nullptr;
  }
  j["reruns"] = json::array();
  for (std::size_t i = 1; i < r.attempts.size(); ++i) j["reruns"].push_back(attempt_json(r.attempts[i]));
  j["repro"] = r.repro;
  return j;
}

// Strict reading: a file that changed shape says which field of which cell.
struct Reader {
  std::string& error;
  std::string where;

  bool fail(const std::string& field, const std::string& what) {
    if (error.empty()) error = fmt::format("{}{}: {}", where, field, what);
    return false;
  }
  template <class T>
  bool get(const json& j, const std::string& field, T& out) {
    if (!j.is_object() || !j.contains(field)) return fail(field, "missing");
    try {
      out = j.at(field).get<T>();
    } catch (const json::exception&) {
      return fail(field, "has the wrong type");
    }
    return true;
  }
  bool get_verdict(const json& j, Verdict& out) {
    std::string name;
    if (!get(j, "verdict", name)) return false;
    auto v = parse_verdict(name);
    if (!v) return fail("verdict", fmt::format("'{}' is not a verdict", name));
    out = *v;
    return true;
  }
  bool get_outcome(const json& j, Outcome& out) {
    if (!j.contains("outcome")) return fail("outcome", "missing");
    Checked<Outcome> o = outcome_from_json(j["outcome"]);
    if (!o) return fail("outcome.", o.error());
    out = std::move(*o);
    return true;
  }
};

bool read_attempt(const json& j, Reader& r, Attempt& a) {
  return r.get_verdict(j, a.verdict) && r.get(j, "unmet", a.unmet) && r.get(j, "work_dir", a.work_dir) &&
         r.get_outcome(j, a.outcome);
}

bool read_steps(const json& j, Reader& r, std::vector<Step>& steps) {
  if (!j.contains("steps") || !j["steps"].is_array()) return r.fail("steps", "missing or not an array");
  for (const auto& s : j["steps"]) {
    Step step;
    if (!s.is_object() || !s.contains("op") || !s["op"].is_string() || !s.contains("index") ||
        !s["index"].is_number_integer())
      return r.fail("steps", "a step lacks its op or index");
    step.op = s["op"];
    step.index = s["index"];
    step.args = s;
    step.args.erase("op");
    step.args.erase("index");
    steps.push_back(std::move(step));
  }
  return true;
}

bool read_cell(const json& j, Reader& r, CellResult& out) {
  Cell& c = out.cell;
  json params, limits, expect;
  std::optional<std::string> regression;
  bool ok = r.get(j, "id", c.id) && r.get(j, "scenario", c.scenario) && r.get(j, "scenario_file", out.scenario_file) &&
            r.get(j, "summary", out.summary) && r.get(j, "origin", out.origin) && r.get(j, "target", c.target) &&
            r.get(j, "build", c.build) && r.get(j, "params", params) && r.get(j, "seed", c.seed) &&
            r.get(j, "limits", limits) && read_steps(j, r, c.steps) && r.get(j, "expectation", expect) &&
            r.get(j, "driver", out.driver) && r.get_verdict(j, out.verdict) && r.get(j, "repro", out.repro);
  if (!ok) return false;
  if (j.contains("regression") && j["regression"].is_string()) c.regression = j["regression"];
  if (j.contains("check_invariants")) {  // added within version 1: absent in older files
    if (!j["check_invariants"].is_boolean()) return r.fail("check_invariants", "not true or false");
    c.check_invariants = j["check_invariants"].get<bool>();
  }
  if (!params.is_object()) return r.fail("params", "not an object");
  for (const auto& [key, value] : params.items()) {
    if (!value.is_string()) return r.fail("params." + key, "not a string");
    c.params[key] = value.get<std::string>();
  }
  Checked<Limits> parsed_limits = limits_from_json(limits);
  if (!parsed_limits) return r.fail("limits.", parsed_limits.error());
  c.limits = *parsed_limits;
  Reader er{r.error, r.where + "expectation."};
  std::string outcome;
  if (!er.get(expect, "outcome", outcome)) return false;
  Checked<OutcomeKinds> kinds = parse_outcome_kinds(outcome);
  if (!kinds) return er.fail("outcome", kinds.error());
  c.expect.outcome = std::move(*kinds);
  if (!(er.get(expect, "code", c.expect.code) &&
        er.get(expect, "signal", c.expect.signal) && er.get(expect, "check", c.expect.check) &&
        er.get(expect, "message", c.expect.message)))
    return false;
  if (expect.contains("step") && expect["step"].is_number_integer()) c.expect.step = expect["step"].get<int>();
  if (j.contains("outcome") && !j["outcome"].is_null()) {
    Attempt first;
    first.verdict = out.verdict;
    if (!(r.get(j, "unmet", first.unmet) && r.get(j, "work_dir", first.work_dir) && r.get_outcome(j, first.outcome)))
      return false;
    out.attempts.push_back(std::move(first));
  }
  if (!j.contains("reruns") || !j["reruns"].is_array()) return r.fail("reruns", "missing or not an array");
  for (std::size_t i = 0; i < j["reruns"].size(); ++i) {
    Reader ar{r.error, r.where + fmt::format("reruns[{}].", i)};
    Attempt a;
    if (!read_attempt(j["reruns"][i], ar, a)) return false;
    out.attempts.push_back(std::move(a));
  }
  // The first attempt's own verdict is not stored flat; a rerun means it did not pass.
  if (out.attempts.size() > 1) out.attempts.front().verdict = Verdict::fail;
  return true;
}

json merged_runs_json(const std::vector<MergedRun>& runs) {
  json out = json::array();
  for (const auto& m : runs)
    out.push_back({{"run_id", m.run_id},
                   {"run_dir", m.run_dir},
                   {"shard", m.shard.empty() ? json(nullptr) : json(m.shard)},
                   {"host", m.host},
                   {"duration_ms", m.duration_ms},
                   {"cells", m.cells}});
  return out;
}

// Fields added within version 1 (shard, regression, merged_from, change): absent in older files.
bool read_run_additions(const json& j, RunResults& out, std::string& error) {
  if (j.contains("shard") && j["shard"].is_string()) out.shard = j["shard"];
  if (j.contains("regression") && j["regression"].is_string()) out.regression = j["regression"];
  if (j.contains("change") && !j["change"].is_null()) {
    Checked<ChangeScope> change = change_scope_from_json(j["change"]);
    if (!change) {
      error = "change." + change.error();
      return false;
    }
    out.change = std::move(*change);
  }
  if (!j.contains("merged_from")) return true;
  if (!j["merged_from"].is_array()) {
    error = "merged_from: not an array";
    return false;
  }
  for (std::size_t i = 0; i < j["merged_from"].size(); ++i) {
    const json& m = j["merged_from"][i];
    Reader r{error, fmt::format("merged_from[{}].", i)};
    MergedRun run;
    if (!(r.get(m, "run_id", run.run_id) && r.get(m, "run_dir", run.run_dir) && r.get(m, "host", run.host) &&
          r.get(m, "duration_ms", run.duration_ms) && r.get(m, "cells", run.cells)))
      return false;
    if (m.contains("shard") && m["shard"].is_string()) run.shard = m["shard"];
    out.merged_from.push_back(std::move(run));
  }
  return true;
}

}  // namespace

std::map<Verdict, int> RunResults::counts() const {
  std::map<Verdict, int> out;
  for (const auto& info : verdicts()) out[info.verdict] = 0;
  for (const auto& cell : cells) ++out[cell.verdict];
  return out;
}

json limits_json(const Limits& limits) {
  json out = json::object();
#define CRASHGATE_LIMIT_JSON(member, key, flag, unit, meaning) \
  if (auto n = limit_number(limits.member)) out[limit_json_key(key, LimitUnit::unit)] = *n;
  CRASHGATE_LIMITS(CRASHGATE_LIMIT_JSON)
#undef CRASHGATE_LIMIT_JSON
  return out;
}

Checked<Limits> limits_from_json(const json& j) {
  if (!j.is_object()) {
    return failure("not an object");
  }
  Limits limits;
  for (const auto& [key, value] : j.items()) {
    const LimitField* field = nullptr;
    for (const auto& f : limit_fields()) {
      if (limit_json_key(f.scenario_key, f.unit) == key) field = &f;
    }
    if (!field) continue;  // a newer writer's limit: ignore, as the schema promises
    if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<std::int64_t>() >= 0)) {
      return failure(key + ": not a non-negative integer");
    }
    std::string text = std::to_string(value.get<std::uint64_t>());
    if (field->unit == LimitUnit::duration) text += "ms";
    if (auto why = set_limit(limits, *field, text)) {
      return failure(key + ": " + *why);
    }
  }
  return limits;
}

json to_json(const RunResults& r) {
  json counts = json::object();
  for (const auto& [verdict, n] : r.counts()) counts[std::string(to_string(verdict))] = n;
  json cells = json::array();
  for (const auto& cell : r.cells) cells.push_back(cell_json(cell));
  return {
      {"schema", kResultsSchema},
      {"run_id", r.run_id},
      {"run_dir", r.run_dir},
      {"started_at", r.started_at},
      {"duration_ms", r.duration_ms},
      {"seed", r.seed},
      {"crashgate_version", r.crashgate_version},
      {"host", r.host},
      {"command_line", r.command_line},
      {"build_root", r.build_root},
      {"jobs", r.jobs},
      {"rerun_failures", r.rerun_failures},
      {"interrupted", r.interrupted},
      {"exit_code", r.exit_code},
      {"shard", r.shard.empty() ? json(nullptr) : json(r.shard)},
      {"regression", r.regression.empty() ? json(nullptr) : json(r.regression)},
      {"merged_from", merged_runs_json(r.merged_from)},
      {"change", r.change ? change_scope_json(*r.change) : json(nullptr)},
      {"counts", counts},
      {"cells", cells},
  };
}

namespace {

std::optional<RunResults> read_run_results(const json& j, std::string& error) {
  Reader r{error, ""};
  RunResults out;
  std::string schema;
  if (!r.get(j, "schema", schema)) return std::nullopt;
  if (schema != kResultsSchema) {
    error = fmt::format("schema: '{}' (this crashgate reads {})", schema, kResultsSchema);
    return std::nullopt;
  }
  if (!(r.get(j, "run_id", out.run_id) && r.get(j, "run_dir", out.run_dir) && r.get(j, "started_at", out.started_at) &&
        r.get(j, "duration_ms", out.duration_ms) && r.get(j, "seed", out.seed) &&
        r.get(j, "crashgate_version", out.crashgate_version) && r.get(j, "host", out.host) &&
        r.get(j, "command_line", out.command_line) && r.get(j, "build_root", out.build_root) &&
        r.get(j, "jobs", out.jobs) && r.get(j, "rerun_failures", out.rerun_failures) &&
        r.get(j, "interrupted", out.interrupted) && r.get(j, "exit_code", out.exit_code)))
    return std::nullopt;
  if (!read_run_additions(j, out, error)) return std::nullopt;
  if (!j.contains("cells") || !j["cells"].is_array()) {
    error = "cells: missing or not an array";
    return std::nullopt;
  }
  for (std::size_t i = 0; i < j["cells"].size(); ++i) {
    Reader cr{error, fmt::format("cells[{}].", i)};
    CellResult cell;
    if (!read_cell(j["cells"][i], cr, cell)) return std::nullopt;
    out.cells.push_back(std::move(cell));
  }
  return out;
}

}  // namespace

Checked<RunResults> run_results_from_json(const json& j) {
  std::string error;
  std::optional<RunResults> r = read_run_results(j, error);
  if (!r) return failure(error);
  return std::move(*r);
}

}  // namespace crashgate
