// results.sarif (SARIF 2.1.0, OASIS): one run; a rule per crash kind or check;
// a result per failing cell located at its first project frame; the stacks as
// SARIF stacks; harness errors as tool execution notifications, not results.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cctype>
#include <filesystem>

#include <map>
#include <set>
#include <string>

#include "crashgate/report_writers.h"
#include "crashgate/summary_text.h"
#include "report/report_text.h"

namespace crashgate {
namespace {

using nlohmann::json;
using report::printable;

constexpr const char* kSarifSchema =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
constexpr const char* kSourceRootId = "SRCROOT";

json message(const std::string& text) { return {{"text", printable(text)}}; }

// RFC 3986 path: unreserved characters, '/' and the sub-delimiters stay; every other byte is %XX.
std::string uri_path(const std::string& path) {
  static const std::string kKeep = "-._~/!$&'()*+,;=:@";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || kKeep.find(static_cast<char>(c)) != std::string::npos)
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

// A source file: relative to SRCROOT when it is in the project, else an absolute file URI.
std::optional<json> artifact_location(const std::string& file, const std::string& source_root) {
  if (file.empty()) return std::nullopt;
  if (auto relative = report::project_relative(file, source_root))
    return json{{"uri", uri_path(*relative)}, {"uriBaseId", kSourceRootId}};
  if (!file.empty() && file[0] == '/') return json{{"uri", "file://" + uri_path(file)}};
  return json{{"uri", uri_path(file)}};
}

json frame_location(const Frame& f, const std::string& source_root) {
  json location = json::object();
  if (auto artifact = artifact_location(f.file, source_root)) {
    json physical = {{"artifactLocation", *artifact}};
    if (f.line > 0) {
      physical["region"] = {{"startLine", f.line}};
      if (f.column > 0) physical["region"]["startColumn"] = f.column;
    }
    location["physicalLocation"] = physical;
  }
  if (!f.function.empty())
    location["logicalLocations"] = json::array({{{"fullyQualifiedName", printable(f.function)}, {"kind", "function"}}});
  return location;
}

json stack_json(const Thread& thread, const std::string& source_root) {
  std::string who = thread.tid ? fmt::format("thread {}", thread.tid) : "";
  if (!thread.name.empty()) who += (who.empty() ? "" : " ") + fmt::format("'{}'", thread.name);
  json frames = json::array();
  for (const auto& f : thread.frames) {
    json frame = {{"location", frame_location(f, source_root)}};
    if (!f.module.empty()) frame["module"] = printable(f.module);
    if (thread.tid) frame["threadId"] = thread.tid;
    if (!f.module.empty()) frame["properties"] = {{"moduleOffset", fmt::format("0x{:x}", f.module_offset)}};
    frames.push_back(std::move(frame));
  }
  std::string text = (thread.role.empty() ? "stack" : thread.role) + (who.empty() ? "" : " (" + who + ")");
  if (!thread.error.empty()) text += "; unwinding stopped: " + thread.error;
  return {{"message", message(text)}, {"frames", frames}};
}

// Where the result is: the first project frame, else the scenario file that defines the cell.
json primary_location(const CellResult& cell, const Outcome& o, const std::string& source_root) {
  if (const Frame* f = report::first_project_frame(o, source_root)) return frame_location(*f, source_root);
  json location = json::object();
  // A scenario file is recorded as found: relative to where crashgate ran, the project's root.
  std::filesystem::path file(cell.scenario_file);
  std::optional<json> artifact;
  if (file.is_relative() && !cell.scenario_file.empty() && *file.lexically_normal().begin() != "..")
    artifact = json{{"uri", uri_path(file.lexically_normal().string())}, {"uriBaseId", kSourceRootId}};
  else
    artifact = artifact_location(cell.scenario_file, source_root);
  if (artifact) location["physicalLocation"] = {{"artifactLocation", *artifact}, {"region", {{"startLine", 1}}}};
  location["message"] = message("scenario " + cell.cell.scenario);
  return location;
}

json result_json(const CellResult& cell, const Attempt& attempt, int rule_index, const std::string& rule,
                 const std::string& source_root) {
  const Outcome& o = attempt.outcome;
  json fingerprints = {{"crashgateCell/v1", printable(cell.cell.id)}};
  if (!o.signature.empty()) fingerprints["crashSignature/v1"] = o.signature;
  json stacks = json::array();
  std::set<std::string> seen;  // SARIF wants the stacks of a result unique
  for (int i = -1; i < static_cast<int>(o.threads.size()); ++i) {
    // The crashing stack first, then the others in order.
    if (i == -1 && (o.crashing_thread < 0 || o.crashing_thread >= static_cast<int>(o.threads.size()))) continue;
    if (i >= 0 && i == o.crashing_thread) continue;
    json stack = stack_json(o.threads[i == -1 ? o.crashing_thread : i], source_root);
    if (seen.insert(stack.dump()).second) stacks.push_back(std::move(stack));
  }
  json properties = {
      {"cell", printable(cell.cell.id)},
      {"verdict", std::string(to_string(cell.verdict))},
      {"scenario", printable(cell.cell.scenario)},
      {"scenarioFile", printable(cell.scenario_file)},
      {"target", printable(cell.cell.target)},
      {"build", printable(cell.cell.build)},
      {"expected", printable(expectation_text(cell.cell.expect))},
      {"got", printable(outcome_text(o))},
      {"repro", printable(cell.repro)},
      {"diagnosis", printable(report::cell_diagnosis(cell))},
  };
  if (!cell.origin.empty()) properties["origin"] = printable(cell.origin);
  if (!attempt.unmet.empty()) {
    properties["unmet"] = json::array();
    for (const auto& why : attempt.unmet) properties["unmet"].push_back(printable(why));
  }
  if (o.attribution && !o.attribution->description.empty()) properties["attribution"] = printable(o.attribution->description);
  if (!o.crash_state.empty()) properties["crashState"] = printable(o.crash_state);
  if (o.known_issue) properties["knownIssue"] = printable(o.known_issue->id);
  json result = {
      {"ruleId", rule},
      {"ruleIndex", rule_index},
      {"kind", "fail"},
      // A flaky cell met its expectation in the end: worth a note, not an alert.
      {"level", cell.verdict == Verdict::flaky ? "note" : "error"},
      {"message", message(report::cell_headline(cell))},
      {"locations", json::array({primary_location(cell, o, source_root)})},
      {"partialFingerprints", fingerprints},
      {"properties", properties},
  };
  if (!stacks.empty()) result["stacks"] = stacks;
  return result;
}

}  // namespace

std::string write_sarif(const RunResults& r, const ReportInputs& inputs) {
  std::vector<std::string> rule_ids;
  std::map<std::string, int> rule_index;
  json results = json::array();
  json notifications = json::array();
  for (const auto& cell : r.cells) {
    const Attempt* first = report::first_attempt(cell);
    if (cell.verdict == Verdict::harness_error) {
      notifications.push_back({{"level", "error"},
                               {"message", message(cell.cell.id + ": " + report::cell_headline(cell))},
                               {"properties", {{"cell", printable(cell.cell.id)}}}});
      continue;
    }
    if (!first || (cell.verdict != Verdict::fail && cell.verdict != Verdict::flaky)) continue;
    std::string rule = report::rule_id(first->outcome);
    if (!rule_index.count(rule)) {
      rule_index[rule] = static_cast<int>(rule_ids.size());
      rule_ids.push_back(rule);
    }
    results.push_back(result_json(cell, *first, rule_index[rule], rule, inputs.source_root));
  }
  json rules = json::array();
  for (const auto& id : rule_ids) {
    std::string description = report::rule_description(id);
    rules.push_back({{"id", id},
                     {"name", id},
                     {"shortDescription", {{"text", description}}},
                     {"fullDescription", {{"text", description + " A scenario cell of crashgate's matrix ended this way "
                                                                "and its [expect] said otherwise."}}},
                     {"defaultConfiguration", {{"level", "error"}}},
                     {"properties", {{"tags", json::array({"crashgate", id.substr(0, id.find('/'))})}}}});
  }
  auto counts = r.counts();
  if (r.interrupted)
    notifications.push_back({{"level", "warning"},
                             {"message", message(fmt::format("interrupted: {} cells did not finish", counts[Verdict::not_run]))}});
  json invocation = {
      {"executionSuccessful", !r.interrupted && counts[Verdict::harness_error] == 0},
      {"commandLine", printable(fmt::format("{}", fmt::join(r.command_line, " ")))},
      {"arguments", json::array()},
      {"exitCode", r.exit_code},
      {"toolExecutionNotifications", notifications},
  };
  for (const auto& arg : r.command_line) invocation["arguments"].push_back(printable(arg));
  if (!r.started_at.empty()) invocation["startTimeUtc"] = printable(r.started_at);
  json run = {
      {"tool", {{"driver", {{"name", "crashgate"}, {"version", printable(r.crashgate_version)}, {"rules", rules}}}}},
      {"automationDetails", {{"id", printable("crashgate/" + r.run_id)}}},
      {"invocations", json::array({invocation})},
      {"results", results},
      {"properties", {{"runId", printable(r.run_id)}, {"seed", std::to_string(r.seed)}, {"host", printable(r.host)}}},
  };
  if (!inputs.source_root.empty() && inputs.source_root[0] == '/') {
    std::string root = inputs.source_root;
    if (root.back() != '/') root += '/';
    run["originalUriBaseIds"] = {{kSourceRootId, {{"uri", "file://" + uri_path(root)}}}};
  }
  json log = {{"$schema", kSarifSchema}, {"version", "2.1.0"}, {"runs", json::array({run})}};
  // Compact: stacks make up most of a log, and indenting them doubles its size (`jq .` shows it indented).
  return log.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace crashgate
