// From a recording to the cells that check recovery (crash_check.h).
#include "crashgate/crash_check.h"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace crashgate {

Checked<std::vector<ModelEvent>> model_events(const Recording& recording) {
  std::vector<ModelEvent> out;
  std::ifstream data(recording.path + "/data.bin", std::ios::binary);
  for (const FsCall& c : recording.calls) {
    if (c.call != "event" || !c.data_at || !c.length) continue;
    std::string line(*c.length, '\0');
    data.clear();
    data.seekg(static_cast<std::streamoff>(*c.data_at));
    data.read(line.data(), static_cast<std::streamsize>(line.size()));
    if (static_cast<std::uint64_t>(data.gcount()) != *c.length)
      return failure(fmt::format("{}/data.bin: event #{}'s {} bytes are not all there", recording.path, c.seq, *c.length));
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("event", "") != "records") continue;
    if (!j.contains("durable") || !j["durable"].is_boolean() || !j.contains("model"))
      return failure(fmt::format("{}: event #{}: a records event without durable and model", recording.path, c.seq));
    Checked<RecordModel> m = model_from_json(j["model"]);
    if (!m) return failure(fmt::format("{}: event #{}: model: {}", recording.path, c.seq, m.error()));
    out.push_back({c.seq, j["durable"].get<bool>(), std::move(*m)});
  }
  return out;
}

std::vector<std::uint64_t> sample_crash_points(std::size_t calls, std::uint64_t sample, std::uint64_t seed) {
  std::vector<std::uint64_t> all(calls);
  std::iota(all.begin(), all.end(), std::uint64_t{1});
  if (sample == 0 || sample >= calls) return all;
  std::mt19937_64 rng(seed);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(sample);
  std::sort(all.begin(), all.end());
  return all;
}

Cell recovery_cell(const Cell& recorded, std::size_t state_number, const CrashExpectation& expected,
                   const std::string& state_dir) {
  Cell cell;
  cell.id = fmt::format("{}@state-{}", recorded.id, state_number);
  cell.scenario = recorded.scenario;
  cell.target = recorded.target;
  cell.build = recorded.build;
  cell.params = recorded.params;
  cell.params["state"] = std::to_string(state_number);
  cell.seed = recorded.seed;
  cell.limits = recorded.limits;
  cell.regression = recorded.regression;
  Step import;
  import.index = 0;
  import.op = "import";
  import.args = {{"from", state_dir + "/store"}};
  if (expected.dim != 0) import.args["dim"] = expected.dim;
  if (!expected.metric.empty()) import.args["metric"] = expected.metric;
  Step verify;
  verify.index = 1;
  verify.op = "verify";
  verify.args = {{"acknowledged", expectation_to_json(expected)}};
  cell.steps = {import, verify};
  bool promised = expected.acknowledged || !expected.must.empty() || !expected.gone.empty();
  cell.expect.outcome = promised ? OutcomeKinds{OutcomeKind::ok} : OutcomeKinds{OutcomeKind::ok, OutcomeKind::error};
  return cell;
}

std::string call_site(const FsCall& call) {
  for (const auto& frame : call.stack)
    if (frame.find("/libc.so") == std::string::npos && frame.find("/libc-") == std::string::npos) return frame;
  return "";
}

}  // namespace crashgate
