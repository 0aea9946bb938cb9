// The driver conformance suite (driver_conformance.h). Protocol-level checks
// run the driver directly with its events written to a file, so the exact
// lines and their order can be read; the crash checks run it under crashgate's
// runner, as a cell runs, so the crash is classified and attributed.
#include "crashgate/driver_conformance.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "crashgate/driver_protocol.h"
#include "crashgate/runner.h"
#include "crashgate/scenario.h"
#include "crashgate/scenario_ops.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::uint64_t kProbeStack = 512 * 1024;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// How a direct run ended, with what it wrote.
struct RawRun {
  int exit_status = -1;   // when it exited
  int signal = 0;         // when a signal ended it
  bool timed_out = false;
  std::vector<std::string> events;
  std::string out;
  std::string err;
  std::string how() const {
    if (timed_out) return "it did not finish in time";
    if (signal) return fmt::format("it died of {}", signal_name(signal));
    return fmt::format("it exited {}", exit_status);
  }
  std::string stderr_line() const {
    auto first = err.substr(0, err.find('\n'));
    return first.empty() ? "" : fmt::format(" (stderr: {})", first.substr(0, 200));
  }
};

// Runs DRIVER ARGS... in `dir` with fd 3 (the event pipe) a file, stdout and stderr files.
RawRun run_raw(const std::string& driver, const std::vector<std::string>& args, const fs::path& dir, int timeout_s,
               const std::vector<std::pair<std::string, std::string>>& env = {}) {
  RawRun run;
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::string out_path = (dir / "stdout").string(), err_path = (dir / "stderr").string(), ev_path = (dir / "events").string();
  std::vector<std::string> argv_s = {driver};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int ev = ::open(ev_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    int null = ::open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || ev < 0 || null < 0 || ::chdir(dir.c_str()) != 0) ::_exit(127);
    ::dup2(null, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::dup2(ev, 3);
    for (int fd : {out, err, ev, null})
      if (fd > 3) ::close(fd);
    ::setenv("CRASHGATE_EVENT_FD", "3", 1);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    ::setpgid(0, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (pid < 0) {
    run.err = "fork failed";
    return run;
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  for (;;) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      run.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!run.timed_out) {
    if (WIFEXITED(status)) run.exit_status = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  }
  run.events = lines_of(read_file(ev_path));
  run.out = read_file(out_path);
  run.err = read_file(err_path);
  return run;
}

json event_of(const std::string& line) {
  json e = json::parse(line, nullptr, false);
  return e.is_object() ? e : json();
}

std::string event_name(const json& e) { return e.is_object() && e.contains("event") && e["event"].is_string() ? e["event"].get<std::string>() : "?"; }

struct Op {
  std::string name;
  json values = json::object();  // key -> accepted values
};

// A step of a conformance cell: op and canonical values.
struct CheckStep {
  std::string op;
  json args = json::object();
};

Cell make_cell(const std::string& name, const std::vector<CheckStep>& steps, std::uint64_t seed = 42) {
  Cell cell;
  cell.id = "driver-check/" + name;
  cell.scenario = "driver-check";
  cell.target = "check";
  cell.build = "check";
  cell.seed = seed;
  int index = 0;
  for (const auto& s : steps) {
    Step step;
    step.index = index++;
    step.op = s.op;
    step.args = s.args;
    cell.steps.push_back(std::move(step));
  }
  return cell;
}

// Writes the cell's cell.json in a fresh directory and returns its path.
std::string write_cell(const Cell& cell, const fs::path& dir, int protocol = kDriverProtocolVersion) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  json doc = cell_document(cell, dir.string());
  doc["protocol"] = protocol;
  std::string path = (dir / "cell.json").string();
  std::ofstream(path) << doc.dump(2) << "\n";
  return path;
}

Outcome run_observed_cell(const std::string& driver, const Cell& cell, const fs::path& dir, int timeout_s,
                          std::vector<std::pair<std::string, std::string>> env = {}) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  Cell timed = cell;
  timed.limits.wall = std::chrono::seconds(timeout_s);
  auto spec = cell_run_spec(timed, {driver}, dir.string());
  if (!spec) {
    Outcome o;
    o.kind = OutcomeKind::harness_error;
    o.detail = spec.error();
    return o;
  }
  for (auto& kv : env) spec->env.push_back(std::move(kv));
  return run_observed(*spec);
}

bool is_crash(OutcomeKind k) {
  return k != OutcomeKind::ok && k != OutcomeKind::error && k != OutcomeKind::exit && k != OutcomeKind::timeout &&
         k != OutcomeKind::harness_error;
}

// A canonical sample value for a required key, so that every op can be run once.
json sample_value(const KeySpec& key, const Op& op) {
  switch (key.type) {
    case ValueType::u64: return std::max<std::uint64_t>(key.min, 1);
    case ValueType::i64: return 1;
    case ValueType::real: return 1.0;
    case ValueType::boolean: return false;
    case ValueType::string: return "x";
    case ValueType::path: return "no-such-directory";  // import's `from`: the clean not-found error
    case ValueType::duration: return std::max<std::uint64_t>(key.min, 10);
    case ValueType::size: return std::max<std::uint64_t>(key.min, 64 * 1024);
    case ValueType::offset: return "0";
    case ValueType::u64_list: return json::array({0});
    case ValueType::enumeration: {
      if (!key.engine_values()) return std::string(op_keys(key.values).front());
      auto it = op.values.find(std::string(key.name));
      if (it != op.values.end() && it->is_array() && !it->empty()) return it->front();
      return "x";
    }
    case ValueType::table: return json::object();
    case ValueType::fill: return "flip";
  }
  return nullptr;
}

class Checker {
 public:
  Checker(std::string driver, ConformanceOptions options) : driver_(std::move(driver)), options_(std::move(options)) {}

  std::vector<ConformanceCheck> run() {
    list_ops();
    list_layout();
    list_unknown();
    hello_and_all_ok();
    failed_step_exit();
    unknown_op();
    wrong_protocol();
    step_start_first();
    worker_stack();
    deterministic();
    every_op_runs();
    return checks_;
  }

 private:
  void record(std::string name, bool passed, std::string detail, bool skipped = false) {
    checks_.push_back({std::move(name), passed, skipped, std::move(detail)});
    if (options_.on_check) options_.on_check(checks_.back());
  }
  void skip(std::string name, std::string why) { record(std::move(name), true, std::move(why), true); }
  fs::path dir(const std::string& name) const { return fs::path(options_.work_root) / name; }
  bool has(const std::string& op) const { return ops_.count(op) > 0; }

  // The basic cell every protocol check runs: a small store, then count it.
  std::vector<CheckStep> basic_steps() const {
    std::vector<CheckStep> steps;
    if (has("create")) steps.push_back({"create", {{"dim", 8}, {"vectors", 20}}});
    if (has("count")) steps.push_back({"count", json::object()});
    return steps;
  }

  void list_ops() {
    RawRun r = run_raw(driver_, {"--list", "ops"}, dir("list-ops"), options_.timeout_seconds);
    if (r.exit_status != 0) return record("list-ops", false, fmt::format("--list ops: {}, not 0{}", r.how(), r.stderr_line()));
    std::vector<std::string> problems;
    for (const auto& line : lines_of(r.out)) {
      json row = event_of(line);
      if (!row.is_object() || !row.contains("op") || !row["op"].is_string()) {
        problems.push_back(fmt::format("not a JSON object with an \"op\": {}", line.substr(0, 120)));
        continue;
      }
      std::string name = row["op"];
      const OpSpec* spec = find_op(name);
      if (!spec) {
        problems.push_back(fmt::format("'{}' is not an op of the table (crashgate ops)", name));
        continue;
      }
      if (!row.contains("needs_store") || row["needs_store"] != spec->needs_store)
        problems.push_back(fmt::format("{}: needs_store must be {} as the table says", name, spec->needs_store));
      Op op{name, row.value("values", json::object())};
      if (!op.values.is_object()) problems.push_back(fmt::format("{}: \"values\" must be an object", name));
      else
        for (const auto& [key, accepted] : op.values.items()) {
          const KeySpec* k = spec->key(key);
          if (!k || !k->engine_values()) problems.push_back(fmt::format("{}: values for '{}', which is not a key whose values are the engine's", name, key));
          bool strings = accepted.is_array() && !accepted.empty();
          for (const auto& v : accepted) strings = strings && v.is_string() && !v.get<std::string>().empty();
          if (!strings) problems.push_back(fmt::format("{}.{}: values must be a non-empty list of non-empty strings", name, key));
        }
      for (const auto& k : spec->keys)
        if (k.engine_values() && k.default_values.empty() && op.values.is_object() && !op.values.contains(std::string(k.name)))
          problems.push_back(fmt::format("{}: lists no values for '{}', whose values are the engine's", name, k.name));
      if (!ops_.emplace(name, op).second) problems.push_back(fmt::format("'{}' is listed twice", name));
    }
    if (ops_.empty() && problems.empty()) problems.push_back("it lists no ops");
    if (!problems.empty()) return record("list-ops", false, fmt::format("--list ops: {}{}", problems.front(),
                                                                      problems.size() > 1 ? fmt::format(" (and {} more)", problems.size() - 1) : ""));
    record("list-ops", true, fmt::format("{} ops, each engine-valued key with its values", ops_.size()));
  }

  void list_layout() {
    RawRun r = run_raw(driver_, {"--list", "layout"}, dir("list-layout"), options_.timeout_seconds);
    if (r.exit_status != 0) return record("list-layout", false, fmt::format("--list layout: {}, not 0{}", r.how(), r.stderr_line()));
    std::vector<std::string> problems;
    std::set<std::string> files;
    std::size_t fields = 0;
    for (const auto& line : lines_of(r.out)) {
      json row = event_of(line);
      if (!row.is_object() || !row.contains("file") || !row["file"].is_string() || !row.contains("header_size") ||
          !row["header_size"].is_number_unsigned() || !row.contains("fields") || !row["fields"].is_array()) {
        problems.push_back(fmt::format("not a layout line (file, header_size, fields): {}", line.substr(0, 120)));
        continue;
      }
      std::string file = row["file"];
      std::uint64_t header = row["header_size"];
      files.insert(file);
      for (const auto& f : row["fields"]) {
        ++fields;
        if (!f.is_object() || !f.contains("name") || !f["name"].is_string() || !f.contains("offset") ||
            !f["offset"].is_number_unsigned() || !f.contains("width") || !f["width"].is_number_unsigned()) {
          problems.push_back(fmt::format("{}: a field without name, offset and width", file));
          continue;
        }
        std::uint64_t offset = f["offset"], width = f["width"];
        if (width == 0 || (header > 0 && offset + width > header))
          problems.push_back(fmt::format("{}.{}: offset {} + width {} lies outside the {}-byte header", file,
                                         f["name"].get<std::string>(), offset, width, header));
      }
    }
    for (const char* op : {"truncate", "corrupt"})
      if (auto it = ops_.find(op); it != ops_.end() && it->second.values.contains("file"))
        for (const auto& v : it->second.values["file"])
          if (v.is_string() && !files.count(v.get<std::string>()))
            problems.push_back(fmt::format("{} accepts file '{}', which the layout does not describe", op, v.get<std::string>()));
    if (!problems.empty()) return record("list-layout", false, fmt::format("--list layout: {}{}", problems.front(),
                                                                         problems.size() > 1 ? fmt::format(" (and {} more)", problems.size() - 1) : ""));
    record("list-layout", true, fmt::format("{} files, {} header fields inside their headers", files.size(), fields));
  }

  void list_unknown() {
    RawRun r = run_raw(driver_, {"--list", "no-such-table"}, dir("list-unknown"), options_.timeout_seconds);
    if (r.exit_status != kDriverCannotRun)
      return record("list-unknown", false, fmt::format("--list no-such-table: {}, not {} (a table it does not have)", r.how(), kDriverCannotRun));
    record("list-unknown", true, "--list of a table it does not have exits 2");
  }

  void hello_and_all_ok() {
    auto steps = basic_steps();
    if (steps.empty()) {
      skip("hello-first", "it lists neither create nor count");
      skip("all-ok-exit", "it lists neither create nor count");
      return;
    }
    Cell cell = make_cell("basic", steps);
    RawRun r = run_raw(driver_, {"--cell", write_cell(cell, dir("basic"))}, dir("basic"), options_.timeout_seconds);
    json first = r.events.empty() ? json() : event_of(r.events.front());
    if (event_name(first) != "hello")
      record("hello-first", false, fmt::format("the first event was {}, not hello", r.events.empty() ? "none" : "'" + event_name(first) + "'"));
    else if (first.value("protocol", 0) != kDriverProtocolVersion)
      record("hello-first", false, fmt::format("hello says protocol {}, crashgate speaks {}", first.value("protocol", 0), kDriverProtocolVersion));
    else
      record("hello-first", true, fmt::format("hello from '{}', protocol 1", first.value("driver", "?")));
    // Every step started before it ended, each once, in order, and `done` last.
    std::vector<std::string> problems;
    int started = -1;
    std::size_t ended = 0;
    for (const auto& line : r.events) {
      json e = event_of(line);
      std::string name = event_name(e);
      if (name == "?") problems.push_back(fmt::format("a line that is not an event: {}", line.substr(0, 120)));
      if (name == "step-start") started = e.value("index", -1);
      if (name == "step-end") {
        if (e.value("index", -2) != started) problems.push_back(fmt::format("step-end of step {} without its step-start first", e.value("index", -2)));
        if (e.value("status", "") != "ok") problems.push_back(fmt::format("step {} ended {}: {}", e.value("index", -2), e.value("code", ""), e.value("message", "")));
        ++ended;
      }
    }
    if (r.exit_status != 0) problems.insert(problems.begin(), fmt::format("{} where every step was fine{}", r.how(), r.stderr_line()));
    if (ended != steps.size()) problems.push_back(fmt::format("{} step-end events for {} steps", ended, steps.size()));
    if (r.events.empty() || event_name(event_of(r.events.back())) != "done") problems.push_back("the last event is not done");
    if (!problems.empty()) return record("all-ok-exit", false, problems.front());
    record("all-ok-exit", true, "a cell whose steps all end ok: every step-start before its step-end, done last, exit 0");
  }

  void failed_step_exit() {
    if (!has("create") || !has("count")) return skip("failed-step-exit", "it lists no create and count to fail a step with");
    Cell cell = make_cell("failed-step", {{"create", {{"dim", 8}, {"vectors", 20}}}, {"count", {{"equals", 987654321}}}});
    RawRun r = run_raw(driver_, {"--cell", write_cell(cell, dir("failed-step"))}, dir("failed-step"), options_.timeout_seconds);
    bool step_error = false;
    for (const auto& line : r.events) {
      json e = event_of(line);
      if (event_name(e) == "step-end" && e.value("index", -1) == 1 && e.value("status", "") == "error") step_error = true;
    }
    if (r.exit_status != kDriverStepFailed)
      return record("failed-step-exit", false, fmt::format("count with equals = 987654321 on 20 records: {}, not {}{}", r.how(), kDriverStepFailed, r.stderr_line()));
    if (!step_error) return record("failed-step-exit", false, "it exited 1, but no step-end of step 1 says error");
    record("failed-step-exit", true, "a step that fails ends with step-end error and exit 1");
  }

  void unknown_op() {
    Cell cell = make_cell("unknown-op", {{"no-such-op", json::object()}});
    RawRun r = run_raw(driver_, {"--cell", write_cell(cell, dir("unknown-op"))}, dir("unknown-op"), options_.timeout_seconds);
    if (r.exit_status != kDriverCannotRun)
      return record("unknown-op", false, fmt::format("a cell with op 'no-such-op': {}, not {} (it cannot run the cell)", r.how(), kDriverCannotRun));
    record("unknown-op", true, "a cell with an unknown op exits 2");
  }

  void wrong_protocol() {
    Cell cell = make_cell("wrong-protocol", basic_steps());
    RawRun r = run_raw(driver_, {"--cell", write_cell(cell, dir("wrong-protocol"), kDriverProtocolVersion + 1)}, dir("wrong-protocol"),
                       options_.timeout_seconds);
    if (r.exit_status != kDriverCannotRun)
      return record("wrong-protocol", false, fmt::format("a protocol-2 cell: {}, not {}", r.how(), kDriverCannotRun));
    record("wrong-protocol", true, "a cell of another protocol version exits 2");
  }

  void step_start_first() {
    Outcome o = run_observed_cell(driver_, make_cell("probe-crash", basic_steps()), dir("probe-crash"), options_.timeout_seconds,
                                  {{"CRASHGATE_PROBE", "crash-in-step"}});
    if (!is_crash(o.kind))
      return record("step-start-first", false, fmt::format("with CRASHGATE_PROBE=crash-in-step it did not crash: {} ({})", to_string(o.kind), o.detail));
    if (!o.failed_step || *o.failed_step != 0)
      return record("step-start-first", false, fmt::format("it crashed ({}) but no step-start came first, so crashgate cannot say which step died", o.detail));
    record("step-start-first", true, fmt::format("a crash inside a step is reported in that step: {}", o.detail));
  }

  void worker_stack() {
    Cell cell = make_cell("probe-stack", basic_steps());
    cell.limits.worker_stack = kProbeStack;
    Outcome o = run_observed_cell(driver_, cell, dir("probe-stack"), options_.timeout_seconds, {{"CRASHGATE_PROBE", "stack"}});
    bool overflow = o.kind == OutcomeKind::stack_overflow || o.check.rfind("stack-overflow", 0) == 0;
    if (!overflow)
      return record("worker-stack", false, fmt::format("with CRASHGATE_PROBE=stack its worker did not die of a stack overflow: {} ({})",
                                                       to_string(o.kind), o.detail));
    if (o.attribution && o.attribution->thread_stack_size) {
      std::uint64_t size = *o.attribution->thread_stack_size;
      if (size < kProbeStack / 2 || size > kProbeStack * 2)
        return record("worker-stack", false, fmt::format("the worker overflowed a stack of {}, not the cell's worker_stack of {}",
                                                         format_size(size), format_size(kProbeStack)));
    }
    if (!o.failed_step || *o.failed_step != 0)
      return record("worker-stack", false, fmt::format("its worker overflowed ({}) outside a step", o.detail));
    record("worker-stack", true, fmt::format("the worker runs on the cell's {} stack: {}", format_size(kProbeStack), o.detail));
  }

  // Two runs with the same seed write the same events (durations and the version aside).
  void deterministic() {
    std::vector<CheckStep> steps;
    if (has("create")) steps.push_back({"create", {{"dim", 8}, {"vectors", 50}}});
    if (has("add")) steps.push_back({"add", {{"vectors", 10}}});
    if (has("search")) steps.push_back({"search", {{"queries", 5}}});
    if (has("remove")) steps.push_back({"remove", {{"count", 5}}});
    if (has("count")) steps.push_back({"count", json::object()});
    if (steps.empty()) return skip("deterministic", "it lists none of create, add, search, remove, count");
    auto events = [&](const std::string& name) {
      Cell cell = make_cell("deterministic", steps, 7);
      RawRun r = run_raw(driver_, {"--cell", write_cell(cell, dir(name))}, dir(name), options_.timeout_seconds);
      std::vector<std::string> out;
      for (const auto& line : r.events) {
        json e = event_of(line);
        if (e.is_object()) {
          e.erase("duration_ms");
          e.erase("version");
          // The work directory differs between the runs by name only.
          std::string text = e.dump();
          for (std::size_t at; (at = text.find(name)) != std::string::npos;) text.replace(at, name.size(), "RUN");
          out.push_back(text);
        } else {
          out.push_back(line);
        }
      }
      return std::make_pair(r, out);
    };
    auto [first, a] = events("deterministic-1");
    auto [second, b] = events("deterministic-2");
    if (first.exit_status != 0 || second.exit_status != 0)
      return record("deterministic", false, fmt::format("the cell did not run cleanly: {}{}", (first.exit_status != 0 ? first : second).how(),
                                                        (first.exit_status != 0 ? first : second).stderr_line()));
    for (std::size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
      std::string x = i < a.size() ? a[i] : "(none)", y = i < b.size() ? b[i] : "(none)";
      if (x != y)
        return record("deterministic", false, fmt::format("the same seed gave different events at line {}: {} then {}", i + 1,
                                                          x.substr(0, 200), y.substr(0, 200)));
    }
    record("deterministic", true, fmt::format("the same seed, the same {} events", a.size()));
  }

  void every_op_runs() {
    std::vector<std::string> failures;
    std::size_t ran = 0;
    for (const auto& spec : scenario_ops()) {
      auto it = ops_.find(std::string(spec.name));
      if (it == ops_.end() || spec.name == "create") continue;
      CheckStep step{std::string(spec.name), json::object()};
      for (const auto& key : spec.keys)
        if (key.required) step.args[std::string(key.name)] = sample_value(key, it->second);
      std::vector<CheckStep> steps;
      if (has("create")) steps.push_back({"create", {{"dim", 8}, {"vectors", 20}}});
      steps.push_back(step);
      std::string name = "op-" + std::string(spec.name);
      Outcome o = run_observed_cell(driver_, make_cell(name, steps), dir(name), options_.timeout_seconds);
      ++ran;
      if (o.kind != OutcomeKind::ok && o.kind != OutcomeKind::error)
        failures.push_back(fmt::format("{} {}: {} ({})", spec.name, step.args.dump(), to_string(o.kind), o.detail));
    }
    if (!failures.empty())
      return record("every-op-runs", false, fmt::format("on a fresh store, {}{}", failures.front(),
                                                        failures.size() > 1 ? fmt::format(" (and {} more ops)", failures.size() - 1) : ""));
    record("every-op-runs", true, fmt::format("each of its {} ops (but create) ends ok or in a clean error on a fresh store", ran));
  }

  std::string driver_;
  ConformanceOptions options_;
  std::map<std::string, Op> ops_;
  std::vector<ConformanceCheck> checks_;
};

}  // namespace

std::vector<std::string> conformance_check_names() {
  return {"list-ops", "list-layout", "list-unknown", "hello-first", "all-ok-exit", "failed-step-exit",
          "unknown-op", "wrong-protocol", "step-start-first", "worker-stack", "deterministic", "every-op-runs"};
}

std::vector<ConformanceCheck> check_driver(const std::string& driver, const ConformanceOptions& options) {
  return Checker(driver, options).run();
}

}  // namespace crashgate
