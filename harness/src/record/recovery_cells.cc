// From a recording to the cells that check recovery (crash_check.h).
#include "crashgate/crash_check.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <random>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace crashgate {

namespace {

struct LoggedEvent {
  std::uint64_t seq = 0;
  nlohmann::json event;  // a JSON object
};

// The driver events logged in a recording (calls named event), each parsed; a
// line that is not a JSON object is left out. The failure: data.bin lacks an event's bytes.
Checked<std::vector<LoggedEvent>> event_lines(const Recording& recording) {
  std::vector<LoggedEvent> out;
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
    if (!j.is_discarded() && j.is_object()) out.push_back({c.seq, std::move(j)});
  }
  return out;
}

}  // namespace

Checked<std::vector<ModelEvent>> model_events(const Recording& recording) {
  Checked<std::vector<LoggedEvent>> lines = event_lines(recording);
  if (!lines) return failure(lines.error());
  std::vector<ModelEvent> out;
  for (const auto& [seq, j] : *lines) {
    if (j.value("event", "") != "records") continue;
    if (!j.contains("durable") || !j["durable"].is_boolean() || !j.contains("model"))
      return failure(fmt::format("{}: event #{}: a records event without durable and model", recording.path, seq));
    Checked<RecordModel> m = model_from_json(j["model"]);
    if (!m) return failure(fmt::format("{}: event #{}: model: {}", recording.path, seq, m.error()));
    out.push_back({seq, j["durable"].get<bool>(), std::move(*m)});
  }
  return out;
}

Checked<std::pair<std::uint64_t, std::uint64_t>> phase_calls(const Recording& recording, int first, int last) {
  Checked<std::vector<LoggedEvent>> lines = event_lines(recording);
  if (!lines) return failure(lines.error());
  std::optional<std::uint64_t> from, to;
  for (const auto& [seq, j] : *lines) {
    if (!j.contains("index") || !j["index"].is_number_integer()) continue;
    std::string event = j.value("event", "");
    int index = j["index"].get<int>();
    if (event == "step-start" && index == first && !from) from = seq;
    if (event == "step-end" && index == last && from && !to) to = seq;
  }
  if (!from)
    return failure(fmt::format("{}: step {} never started (the recorded run ended before it), so no call of steps {} to {} is a crash point",
                               recording.path, first, first, last));
  return std::make_pair(*from, to.value_or(recording.calls.size()));
}

std::vector<std::uint64_t> sample_crash_points(std::uint64_t first, std::uint64_t last, std::uint64_t sample, std::uint64_t seed) {
  std::vector<std::uint64_t> all;
  for (std::uint64_t seq = first; seq <= last && first > 0; ++seq) all.push_back(seq);
  if (sample == 0 || sample >= all.size()) return all;
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

namespace {

// The language runtimes a call passes through on its way to the kernel: the C
// and C++ libraries, the loader, and a Python driver's interpreter. Their
// frames say how a call was made, not which code of the engine made it.
constexpr std::string_view kRuntimeModules[] = {"libc.so", "libc-", "libstdc++.so", "libgcc_s.so", "libm.so", "libpthread.so",
                                                "ld-linux", "libpython3", "python3"};

std::string_view module_name(std::string_view frame) {
  std::string_view module = frame.substr(0, frame.rfind('+'));
  std::size_t slash = module.rfind('/');
  return slash == std::string_view::npos ? module : module.substr(slash + 1);
}

bool runtime_frame(std::string_view frame) {
  std::string_view module = module_name(frame);
  for (std::string_view runtime : kRuntimeModules)
    if (module.substr(0, runtime.size()) == runtime) return true;
  return false;
}

// A sanitizer's interceptor of the call, by its function's name.
bool interceptor(std::string_view described) {
  for (std::string_view prefix : {"__interceptor_", "___interceptor_", "__interception::", "__sanitizer", "__asan", "__tsan", "__ubsan", "__lsan"})
    if (described.substr(0, prefix.size()) == prefix) return true;
  return false;
}

}  // namespace

std::pair<std::string, std::string> site_and_caller(const std::vector<std::string>& stack,
                                                    const std::function<std::string(const std::string&)>& describe) {
  std::vector<std::string> program;  // the site, then its caller
  for (const auto& frame : stack) {
    if (runtime_frame(frame) || (describe && interceptor(describe(frame)))) continue;
    program.push_back(frame);
    if (program.size() == 2) return {program[0], program[1]};
  }
  if (!program.empty()) return {program[0], ""};
  // Every frame kept is a runtime's (a Python driver's own os.fsync): the first outside the C library.
  for (const auto& frame : stack) {
    std::string_view module = module_name(frame);
    if (module.substr(0, 7) != "libc.so" && module.substr(0, 5) != "libc-") return {frame, ""};
  }
  return {stack.empty() ? "" : stack.front(), ""};
}

std::string call_site(const FsCall& call) { return site_and_caller(call.stack, {}).first; }

std::string caller_of_site(const FsCall& call) { return site_and_caller(call.stack, {}).second; }

}  // namespace crashgate
