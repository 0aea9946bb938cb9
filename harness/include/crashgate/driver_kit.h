// The C++ driver kit: what every crashgate driver needs, so that a driver is
// its engine's handlers and tables and nothing else (reports/driver-protocol.md).
//
//   crashgate::kit::Driver driver("myengine");
//   driver.on("create", [&](const Args& a, Context& c) { ...; return StepResult::ok(); });
//   driver.values("truncate", "file", {"data", "lock"});
//   driver.layout({...});
//   return driver.main(argc, argv);
//
// The kit reads cell.json and types every step's keys from the op table
// (scenario_ops.h), writes the events with one write(2) each (step-start
// before the work), runs the steps on a worker thread with the cell's worker
// stack, dispatches each step to its op's handler, stops at the first step
// whose end its `expect` does not allow (crashgate judges it again), answers
// `--list ops|layout|...`, and evaluates offset expressions from the layout.
// A handler for an op outside the table, or an op listed with no handler, is
// a startup error (Driver::self_check), so a driver's own test catches it.
// The records a driver adds and the model `verify` checks them against are in
// crashgate/driver_records.h.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/checked.h"
#include "crashgate/scenario_ops.h"
#include "crashgate/record_model.h"

namespace crashgate::kit {

// How a step ended: what happened, not whether it was expected.
struct StepResult {
  bool is_ok = true;
  std::string code;     // the engine's error code: corrupt, io, busy, invalid-argument, ...; wrong-result
  std::string message;
  // A second process died of this signal: the driver exits 128 + it without
  // ending the step, so the runner explains the crash it traced there.
  int descendant_signal = 0;
  // What the step measured (an oracle's recall, ...): sent in step-end, kept in results.json.
  std::map<std::string, double> measured;
  static StepResult ok() { return {}; }
  static StepResult error(std::string code, std::string message) { return {false, std::move(code), std::move(message), 0, {}}; }
};

// One step's keys, typed. Values were checked against the op table when the
// cell was read: an accessor's fallback applies only to a key the step does
// not have, never to a value of the wrong form. Asking for a key the op does
// not declare, or as another type, throws std::logic_error (a driver bug).
class Args {
 public:
  Args(const OpSpec& op, int index, nlohmann::json values);
  const OpSpec& op() const { return *op_; }
  int index() const { return index_; }
  bool has(std::string_view key) const;
  std::uint64_t u64(std::string_view key, std::uint64_t fallback) const;
  std::int64_t i64(std::string_view key, std::int64_t fallback) const;
  double real(std::string_view key, double fallback) const;
  bool boolean(std::string_view key, bool fallback) const;
  std::string string(std::string_view key, std::string fallback = "") const;  // string, path, enum, offset, fill
  std::uint64_t duration_ms(std::string_view key, std::uint64_t fallback) const;
  std::uint64_t size(std::string_view key, std::uint64_t fallback) const;
  std::vector<std::uint64_t> u64_list(std::string_view key) const;  // empty when absent
  nlohmann::json table(std::string_view key) const;                 // an empty object when absent
  const nlohmann::json& values() const { return values_; }

 private:
  const nlohmann::json* typed(std::string_view key, ValueType type) const;
  const nlohmann::json* typed(std::string_view key, std::initializer_list<ValueType> types) const;
  const OpSpec* op_;
  int index_;
  nlohmann::json values_;
};

// Reads cell.json's steps into Args: every key checked against its type. Fails naming the step and key.
Checked<std::vector<Args>> read_steps(const nlohmann::json& cell);

// One field of an engine file's header.
struct LayoutField {
  std::string name;
  std::uint64_t offset = 0;
  std::uint64_t width = 0;  // bytes
  std::string meaning;
};

// One kind of file the engine writes. `slot(N)` is slot_base + N * slot size,
// the slot size read (little-endian) from the file's `slot_size_field`, or
// `slot_size` when no field holds it.
struct LayoutFile {
  std::string file;            // the name scenarios use: `file = "vectors"`
  std::string pattern;         // its name on disk: "vectors-*.bin", "data.mdb"
  std::uint64_t header_size = 0;
  std::string meaning;
  std::vector<LayoutField> fields;
  std::uint64_t slot_base = 0;
  std::uint64_t slot_size = 0;
  std::string slot_size_field;
  const LayoutField* field(std::string_view name) const;
};

// Evaluates an offset expression against one file on disk: numbers, header,
// end (the file's size), field(NAME), slot(N), and any name `extra` resolves
// (vstore's `committed`); terms joined by + and -.
using ExtraTerm = std::function<std::optional<std::uint64_t>(const std::string& name, const std::optional<std::string>& arg)>;
Checked<std::uint64_t> evaluate_offset(const LayoutFile& file, const std::string& path, std::string_view expr,
                                       const ExtraTerm& extra = {});
// An engine term's argument as a decimal number (slot(N), upper(K)), or
// nothing when it is absent or not one.
std::optional<std::uint64_t> term_number(const std::optional<std::string>& arg);

// The little-endian value of one layout field of a file on disk: a failure
// when the layout has no such field or the file is too short to hold it.
Checked<std::uint64_t> read_field(const LayoutFile& file, const std::string& path, std::string_view field);

// The events of fd 3 (CRASHGATE_EVENT_FD), each one write(2) of a whole line.
class Events {
 public:
  Events();
  // `engine`/`engine_version`: the engine the driver runs, as loaded (omitted when empty).
  void hello(std::string_view driver, std::string_view version, std::string_view engine = {},
             std::string_view engine_version = {});
  void step_start(int index, std::string_view op);
  void step_end(int index, const StepResult& result, double duration_ms);
  void log(std::string_view message);
  void done();
  void emit(const nlohmann::json& event);

 private:
  int fd_ = -1;
};

// What a handler has besides its step's keys.
struct Context {
  std::string work_dir;
  std::uint64_t seed = 0;
  std::uint64_t worker_stack = 0;  // bytes; 0: the system's default
  bool check_invariants = false;   // the cell asks for the engine's own check after every step (Driver::invariants)
  Events* events = nullptr;
  void log(std::string_view message) const;
};

// Starts fn on a thread with exactly this stack (rounded up to whole pages,
// mapped by the kit above one guard page; 0: the default); join the std::thread returned.
std::thread start_thread(std::uint64_t stack, std::function<void()> fn);

using Handler = std::function<StepResult(const Args&, Context&)>;

// A handler that calls a member of the driver's session, which on_start
// creates: driver.on("add", kit::member(session, &Session::add)). The member
// takes the step's Args, or nothing.
template <class Session>
Handler member(const std::unique_ptr<Session>& session, StepResult (Session::*handler)(const Args&)) {
  return [&session, handler](const Args& a, Context&) { return ((*session).*handler)(a); };
}
template <class Session>
Handler member(const std::unique_ptr<Session>& session, StepResult (Session::*handler)()) {
  return [&session, handler](const Args&, Context&) { return ((*session).*handler)(); };
}

class Driver {
 public:
  explicit Driver(std::string name, std::string version = "1");

  // The handler of an op of the table (scenario_ops.h).
  Driver& on(std::string_view op, Handler handler);
  // Called before every op the table marks as needing an open store.
  Driver& before_store_ops(Handler open_store);
  // The engine this driver runs and its version as loaded at run time ("lmdb",
  // "0.9.24"): said in hello, kept with every outcome, and matched by the
  // known issues that name an engine and its versions.
  Driver& engine(std::string name, std::string version);
  // The values the engine accepts for one of its enum keys (a file, a read mode, a workload, ...).
  Driver& values(std::string_view op, std::string_view key, std::vector<std::string> accepted);
  // The engine's file layout (--list layout, offset expressions, `from = "layout"` params).
  Driver& layout(std::vector<LayoutFile> files);
  // Another table for --list WHAT: prints it (JSON lines) and returns an exit status.
  Driver& listing(std::string what, std::function<int()> print);
  // --second-process ARGS...: the entry point of a process the driver starts itself.
  Driver& second_process(std::function<int(int, char**)> entry);
  // Called once the steps ended (or stopped): wait for background work; its error ends the cell.
  Driver& on_finish(std::function<StepResult(Context&)> finish);
  // The engine's own consistency check (vstore: fsck; others: verify against
  // the model), run after every step that ended ok when the cell sets
  // check_invariants and the model knows the store (reports/driver-protocol.md,
  // cell.json); its error becomes that step's. Without one, such a cell is refused.
  Driver& invariants(Handler check);
  // The record model, for crash-state checks (record_model.h): when the
  // environment has CRASHGATE_MODEL_EVENTS=1 (crashgate crash-check's recorded
  // run), a `records` event follows every step that ended ok, marked durable
  // when `durable_after(op)` says that op's return means the engine has made
  // the model durable (a sync; every write of an engine that syncs each commit).
  Driver& record_model(std::function<RecordModel()> snapshot, std::function<bool(std::string_view op)> durable_after);
  // Called before the first step, in the worker thread (set up engine switches, ...); an error is exit 2.
  Driver& on_start(std::function<Checked<Done>(const nlohmann::json& cell, Context&)> start);

  // Every problem of the driver's own declarations: an op with no handler,
  // an engine enum with no values, a value list for a key that is not an enum. Empty: fine.
  std::vector<std::string> self_check() const;

  const std::vector<LayoutFile>& layout_files() const { return layout_; }
  const LayoutFile* layout_file(std::string_view file) const;
  // The `--list ops` lines: one JSON object per op this driver handles.
  std::vector<nlohmann::json> ops_listing() const;
  std::vector<nlohmann::json> layout_listing() const;

  // Parses the command line (--cell PATH, --list WHAT, --second-process, --help) and runs.
  int main(int argc, char** argv);

 private:
  int run_cell(const std::string& path);
  // The values the driver takes for an engine key of `op`: its own list, else
  // the key's default values; nullopt for a key that is not the engine's.
  std::optional<std::vector<std::string>> accepted_values(std::string_view op, const KeySpec& key) const;
  int list(const std::string& what);
  std::string name_;
  std::string version_;
  std::string engine_, engine_version_;
  std::map<std::string, Handler, std::less<>> handlers_;
  Handler open_store_;
  std::map<std::string, std::vector<std::string>, std::less<>> values_;  // "op.key"
  std::vector<LayoutFile> layout_;
  std::map<std::string, std::function<int()>, std::less<>> listings_;
  std::function<int(int, char**)> second_process_;
  std::function<StepResult(Context&)> finish_;
  Handler invariants_;
  std::function<Checked<Done>(const nlohmann::json&, Context&)> start_;
  std::function<RecordModel()> model_snapshot_;
  std::function<bool(std::string_view)> durable_after_;
  std::vector<std::string> declaration_errors_;
};

// What an application that means a save to last does once an engine's save
// returned: fsync the file, then its directory (for its name). An io error names the call and the path.
StepResult sync_to_disk(const std::string& file);

// Driver exit statuses (driver_protocol.h says the same for the runner).
inline constexpr int kExitAllStepsOk = 0;
inline constexpr int kExitStepFailed = 1;
inline constexpr int kExitCannotRun = 2;

}  // namespace crashgate::kit
