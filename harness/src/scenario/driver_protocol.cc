#include "crashgate/driver_protocol.h"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>

#include "crashgate/scenario.h"
#include "crashgate/step_values.h"

namespace crashgate {

void read_step_events(const std::vector<EventLine>& lines, Observation& obs, const std::vector<std::string>& step_expects) {
  std::map<int, std::int64_t> started_at;
  int malformed = 0;
  for (std::size_t n = 0; n < lines.size(); ++n) {
    auto event = nlohmann::json::parse(lines[n].text, nullptr, false);
    if (event.is_discarded() || !event.is_object() || !event.contains("event") || !event["event"].is_string()) {
      if (malformed++ == 0)
        obs.notes.push_back(fmt::format("driver protocol: event line {} is not a JSON object with an \"event\"", n + 1));
      continue;
    }
    obs.protocol_spoken = true;
    std::string kind = event["event"];
    int index = event.value("index", -1);
    if (kind == "hello") {
      int version = event.value("protocol", 0);
      if (version != kDriverProtocolVersion)
        obs.notes.push_back(fmt::format("driver protocol: driver speaks version {}, crashgate {}", version,
                                        kDriverProtocolVersion));
      if (event.contains("engine") && event["engine"].is_string() && !event["engine"].get<std::string>().empty()) {
        EngineId engine{event["engine"].get<std::string>(), ""};
        if (event.contains("engine_version") && event["engine_version"].is_string())
          engine.version = event["engine_version"].get<std::string>();
        obs.engine = std::move(engine);
      }
    } else if (kind == "step-start") {
      StepRecord step;
      step.index = index;
      step.op = event.value("op", "");
      step.status = StepStatus::died;  // until a step-end says otherwise
      obs.steps.push_back(step);
      started_at[index] = lines[n].at_ms;
    } else if (kind == "step-end") {
      for (auto& step : obs.steps)
        if (step.index == index) {
          std::string expect = index >= 0 && static_cast<std::size_t>(index) < step_expects.size() ? step_expects[index] : "";
          bool ok = event.value("status", "ok") != "error";
          StepJudgement judged = judge_step(expect, ok, event.value("code", ""), event.value("message", ""));
          step.status = judged.ok ? StepStatus::ok : StepStatus::error;
          step.code = judged.code;
          // An error the step's expect allowed is ok, and keeps what it was: "ended as expected: corrupt: ...".
          step.message = judged.ok ? judged.note : judged.message;
          step.duration_ms = event.contains("duration_ms") && event["duration_ms"].is_number()
                                 ? event["duration_ms"].get<double>()
                                 : static_cast<double>(lines[n].at_ms - started_at[index]);
          step.measured.clear();
          if (event.contains("measured") && event["measured"].is_object()) {
            for (const auto& [name, value] : event["measured"].items())
              if (value.is_number()) step.measured[name] = value.get<double>();
              else obs.notes.push_back(fmt::format("driver protocol: step {} measured '{}' is not a number; ignored", index, name));
          } else if (event.contains("measured")) {
            obs.notes.push_back(fmt::format("driver protocol: step {} measured is not an object; ignored", index));
          }
        }
    } else if (kind != "log" && kind != "done") {
      obs.notes.push_back(fmt::format("driver protocol: unknown event '{}' ignored", kind));
    }
  }
  if (malformed > 1) obs.notes.push_back(fmt::format("driver protocol: {} malformed event lines in all", malformed));
}

nlohmann::json cell_document(const Cell& cell, const std::string& work_dir) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& step : cell.steps) {
    nlohmann::json s = step.args;
    s["op"] = step.op;
    s["index"] = step.index;
    steps.push_back(std::move(s));
  }
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [key, value] : cell.params) params[key] = value;
  nlohmann::json doc = {
      {"protocol", kDriverProtocolVersion}, {"cell", cell.id},   {"scenario", cell.scenario},
      {"target", cell.target},              {"build", cell.build}, {"params", params},
      {"seed", cell.seed},                  {"work_dir", work_dir}, {"steps", steps},
  };
  if (cell.limits.worker_stack) doc["worker_stack"] = *cell.limits.worker_stack;
  if (cell.check_invariants) doc["check_invariants"] = true;
  return doc;
}

Checked<RunSpec> cell_run_spec(const Cell& cell, const std::vector<std::string>& driver_command,
                               const std::string& work_dir) {
  if (driver_command.empty()) return failure("no driver command");
  std::error_code ec;
  std::filesystem::create_directories(work_dir, ec);
  if (ec) return failure(fmt::format("cannot create the work directory {}: {}", work_dir, ec.message()));
  std::string cell_path = work_dir + "/cell.json";
  std::ofstream out(cell_path);
  out << cell_document(cell, work_dir).dump(2) << "\n";
  if (!out) return failure(fmt::format("cannot write {}", cell_path));
  RunSpec spec;
  spec.argv = driver_command;
  spec.argv.push_back("--cell");
  spec.argv.push_back(cell_path);
  spec.work_dir = work_dir;
  spec.limits = cell.limits;
  spec.driver_protocol = true;
  spec.cell_id = cell.id;
  for (const auto& step : cell.steps) {
    if (static_cast<std::size_t>(step.index) >= spec.step_expects.size()) spec.step_expects.resize(step.index + 1);
    if (auto it = step.args.find("expect"); it != step.args.end() && it->is_string()) spec.step_expects[step.index] = *it;
  }
  spec.env.emplace_back("CRASHGATE_SEED", std::to_string(cell.seed));
  // A scenario that replays a historical bug names it; the driver switches it on.
  if (!cell.regression.empty()) spec.env.emplace_back("CRASHGATE_REGRESSION", cell.regression);
  return spec;
}

}  // namespace crashgate
