// The driver kit's run loop (driver_kit.h): command line, cell.json, events,
// the worker thread with the cell's stack, dispatch, the stop rule, listings.
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "crashgate/driver_kit.h"
#include "crashgate/invariant_window.h"
#include "crashgate/step_values.h"

namespace crashgate::kit {

using nlohmann::json;

Events::Events() {
  const char* env = std::getenv("CRASHGATE_EVENT_FD");
  int fd = env ? std::atoi(env) : 3;
  if (fd >= 0 && ::fcntl(fd, F_GETFD) != -1) fd_ = fd;
}

void Events::emit(const json& event) {
  if (fd_ < 0) return;
  std::string line = event.dump(-1, ' ', false, json::error_handler_t::replace);
  // PIPE_BUF (4096) is what one write(2) to a pipe keeps whole.
  if (line.size() > 4000) line = json{{"event", event.value("event", "log")}, {"truncated", true}}.dump();
  line += '\n';
  ssize_t n;
  do {
    n = ::write(fd_, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
}

void Events::hello(std::string_view driver, std::string_view version, std::string_view engine,
                   std::string_view engine_version) {
  nlohmann::json line = {{"event", "hello"}, {"protocol", 1}, {"driver", driver}, {"version", version}};
  if (!engine.empty()) line["engine"] = engine;
  if (!engine_version.empty()) line["engine_version"] = engine_version;
  emit(line);
}

void Events::step_start(int index, std::string_view op) { emit({{"event", "step-start"}, {"index", index}, {"op", op}}); }

void Events::step_end(int index, const StepResult& r, double duration_ms) {
  json e = {{"event", "step-end"}, {"index", index}, {"status", r.is_ok ? "ok" : "error"}, {"duration_ms", duration_ms}};
  if (!r.is_ok) {
    e["code"] = r.code;
    e["message"] = r.message.size() > 2000 ? r.message.substr(0, 2000) + "..." : r.message;
  }
  if (!r.measured.empty()) {
    json measured = json::object();
    for (const auto& [name, value] : r.measured)
      if (std::isfinite(value)) measured[name] = value;
    e["measured"] = std::move(measured);
  }
  emit(e);
}

void Events::log(std::string_view message) { emit({{"event", "log"}, {"message", message}}); }

void Events::done() { emit({{"event", "done"}}); }

void Context::log(std::string_view message) const {
  if (events) events->log(message);
}

std::thread start_thread(std::uint64_t stack, std::function<void()> fn) {
  if (stack == 0) return std::thread(std::move(fn));
  // std::thread cannot set a stack: run fn on a pthread that has one, and wait
  // for that from a std::thread, so the caller still joins a std::thread.
  return std::thread([stack, fn = std::move(fn)]() mutable {
    // The kit maps the stack itself, one guard page below it: given only a
    // size, glibc may hand out a cached stack of up to four times that size,
    // and a cell asking for 64 KiB would then not overflow where it should.
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t size = (static_cast<std::size_t>(stack) + page - 1) / page * page;
    auto cannot = [&](const std::string& why) {
      // Never run on another stack than asked: the cell would test something else.
      fmt::print(stderr, "cannot start a thread with a {}-byte stack: {}\n", stack, why);
      std::fflush(nullptr);
      ::_exit(kExitCannotRun);
    };
    void* block = ::mmap(nullptr, size + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (block == MAP_FAILED) cannot(std::strerror(errno));
    if (::mprotect(block, page, PROT_NONE) != 0) cannot(std::strerror(errno));
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    int rc = pthread_attr_setstack(&attr, static_cast<char*>(block) + page, size);
    if (rc != 0) cannot(std::string(std::strerror(rc)) + " (pthread_attr_setstack)");
    pthread_t t;
    auto* heap_fn = new std::function<void()>(std::move(fn));
    rc = pthread_create(&t, &attr, [](void* p) -> void* {
      auto* f = static_cast<std::function<void()>*>(p);
      (*f)();
      delete f;
      return nullptr;
    }, heap_fn);
    pthread_attr_destroy(&attr);
    if (rc != 0) cannot(std::strerror(rc));
    pthread_join(t, nullptr);
    ::munmap(block, size + page);
  });
}

Driver::Driver(std::string name, std::string version) : name_(std::move(name)), version_(std::move(version)) {}

Driver& Driver::on(std::string_view op, Handler handler) {
  if (!find_op(op)) declaration_errors_.push_back(fmt::format("a handler for '{}', which is not an op of the table (crashgate ops)", op));
  else if (handlers_.count(op)) declaration_errors_.push_back(fmt::format("two handlers for '{}'", op));
  handlers_[std::string(op)] = std::move(handler);
  return *this;
}

Driver& Driver::before_store_ops(Handler open_store) {
  open_store_ = std::move(open_store);
  return *this;
}

Driver& Driver::engine(std::string name, std::string version) {
  engine_ = std::move(name);
  engine_version_ = std::move(version);
  return *this;
}

Driver& Driver::values(std::string_view op, std::string_view key, std::vector<std::string> accepted) {
  const OpSpec* spec = find_op(op);
  const KeySpec* k = spec ? spec->key(key) : nullptr;
  if (!k || !k->engine_values())
    declaration_errors_.push_back(fmt::format("values for {}.{}, which is not a key whose values are the engine's", op, key));
  values_[fmt::format("{}.{}", op, key)] = std::move(accepted);
  return *this;
}

Driver& Driver::layout(std::vector<LayoutFile> files) {
  layout_ = std::move(files);
  return *this;
}

Driver& Driver::listing(std::string what, std::function<int()> print) {
  if (what == "ops" || what == "layout") declaration_errors_.push_back(fmt::format("--list {} is the kit's own", what));
  listings_[std::move(what)] = std::move(print);
  return *this;
}

Driver& Driver::second_process(std::function<int(int, char**)> entry) {
  second_process_ = std::move(entry);
  return *this;
}

Driver& Driver::on_finish(std::function<StepResult(Context&)> finish) {
  finish_ = std::move(finish);
  return *this;
}

Driver& Driver::invariants(Handler check) {
  invariants_ = std::move(check);
  return *this;
}

Driver& Driver::record_model(std::function<RecordModel()> snapshot, std::function<bool(std::string_view op)> durable_after) {
  model_snapshot_ = std::move(snapshot);
  durable_after_ = std::move(durable_after);
  return *this;
}

Driver& Driver::on_start(std::function<Checked<Done>(const json&, Context&)> start) {
  start_ = std::move(start);
  return *this;
}

std::vector<std::string> Driver::self_check() const {
  std::vector<std::string> problems = declaration_errors_;
  for (const auto& [op, handler] : handlers_) {
    if (!handler) problems.push_back(fmt::format("op '{}' is listed with no handler", op));
    const OpSpec* spec = find_op(op);
    if (!spec) continue;
    for (const auto& key : spec->keys)
      if (key.engine_values() && key.default_values.empty() && !values_.count(fmt::format("{}.{}", op, key.name)))
        problems.push_back(fmt::format("op '{}' takes {}, whose values are the engine's, but the driver lists none (Driver::values)", op, key.name));
  }
  for (const auto& [key, accepted] : values_) {
    std::string op = key.substr(0, key.find('.'));
    if (!handlers_.count(op)) problems.push_back(fmt::format("values for {}, but no handler for op '{}'", key, op));
    if (accepted.empty()) problems.push_back(fmt::format("an empty list of values for {}", key));
  }
  for (const auto& file : layout_) {
    if (file.file.empty()) problems.push_back("a layout file with no name");
    for (const auto& f : file.fields)
      if (f.width == 0 || (file.header_size && f.offset + f.width > file.header_size))
        problems.push_back(fmt::format("layout {}.{}: offset {} + width {} lies outside the {}-byte header", file.file, f.name,
                                       f.offset, f.width, file.header_size));
  }
  bool uses_layout = false;
  for (const auto& [key, accepted] : values_)
    if (key.ends_with(".file")) uses_layout = true;
  if (uses_layout)
    for (const auto& [key, accepted] : values_)
      if (key.ends_with(".file") && !key.starts_with("replace."))
        for (const auto& file : accepted)
          if (!layout_file(file)) problems.push_back(fmt::format("{} accepts '{}', which the layout does not describe", key, file));
  return problems;
}

const LayoutFile* Driver::layout_file(std::string_view file) const {
  for (const auto& f : layout_)
    if (f.file == file) return &f;
  return nullptr;
}

std::optional<std::vector<std::string>> Driver::accepted_values(std::string_view op, const KeySpec& key) const {
  if (auto it = values_.find(fmt::format("{}.{}", op, key.name)); it != values_.end()) return it->second;
  if (std::vector<std::string> defaults = key.driver_defaults(); !defaults.empty()) return defaults;
  return std::nullopt;
}

std::vector<json> Driver::ops_listing() const {
  std::vector<json> out;
  for (const auto& op : scenario_ops()) {
    if (!handlers_.count(op.name)) continue;
    json values = json::object();
    for (const auto& key : op.keys)
      if (auto accepted = accepted_values(op.name, key)) values[std::string(key.name)] = *accepted;
    out.push_back({{"op", op.name}, {"needs_store", op.needs_store}, {"values", values}});
  }
  return out;
}

std::vector<json> Driver::layout_listing() const {
  std::vector<json> out;
  for (const auto& file : layout_) {
    json fields = json::array();
    for (const auto& f : file.fields)
      fields.push_back({{"name", f.name}, {"offset", f.offset}, {"width", f.width}, {"meaning", f.meaning}});
    json line = {{"file", file.file}, {"pattern", file.pattern}, {"header_size", file.header_size},
                 {"meaning", file.meaning}, {"fields", fields}};
    if (file.slot_size || !file.slot_size_field.empty()) {
      line["slot_base"] = file.slot_base;
      if (file.slot_size) line["slot_size"] = file.slot_size;
      if (!file.slot_size_field.empty()) line["slot_size_field"] = file.slot_size_field;
    }
    out.push_back(std::move(line));
  }
  return out;
}

int Driver::list(const std::string& what) {
  if (what == "ops" || what == "layout") {
    for (const auto& line : what == "ops" ? ops_listing() : layout_listing()) fmt::print("{}\n", line.dump());
    return kExitAllStepsOk;
  }
  if (auto it = listings_.find(what); it != listings_.end()) return it->second();
  std::string known = "ops, layout";
  for (const auto& [name, print] : listings_) known += ", " + name;
  fmt::print(stderr, "crashgate-driver-{}: --list takes one of {}, not '{}'\n", name_, known, what);
  return kExitCannotRun;
}

namespace {

struct CellRun {
  Driver* driver = nullptr;
  const std::map<std::string, Handler, std::less<>>* handlers = nullptr;
  const Handler* open_store = nullptr;
  const Handler* invariants = nullptr;
  InvariantWindow window;
  const std::function<StepResult(Context&)>* finish = nullptr;
  const std::function<RecordModel()>* model = nullptr;  // set when the model's events are asked for
  const std::function<bool(std::string_view)>* durable_after = nullptr;
  std::vector<Args> steps;
  Context context;
  int exit_code = kExitAllStepsOk;
};

// A second process crashed: leave the step unended and exit 128 + signal, the
// shell's convention, so the runner attributes the crash it traced there.
[[noreturn]] void exit_for_descendant(const StepResult& r) {
  fmt::print(stderr, "{}\n", r.message);
  std::fflush(nullptr);
  ::_exit(128 + r.descendant_signal);
}

StepResult run_handler(CellRun& run, const Args& step) {
  try {
    if (step.op().needs_store && *run.open_store) {
      StepResult opened = (*run.open_store)(step, run.context);
      if (!opened.is_ok || opened.descendant_signal) return opened;
    }
    return run.handlers->find(step.op().name)->second(step, run.context);
  } catch (const std::exception& e) {
    // A driver's own mistake (a key read as the wrong type) or an engine's exception: reported, not a crash.
    return StepResult::error("invalid-argument", fmt::format("step {} ({}): {}", step.index(), step.op().name, e.what()));
  }
}

// The step, then (when the cell asks and the model knows the store) the
// engine's own check, whose failure becomes the step's error.
StepResult run_one(CellRun& run, const Args& step) {
  StepResult r = run_handler(run, step);
  run.window.after(step, r.is_ok);
  if (!r.is_ok || r.descendant_signal || !run.context.check_invariants || !*run.invariants || !run.window.open()) return r;
  StepResult check;
  try {
    check = (*run.invariants)(step, run.context);
  } catch (const std::exception& e) {
    check = StepResult::error("invalid-argument", e.what());
  }
  if (check.descendant_signal) return check;
  if (check.is_ok) return r;
  StepResult failed = StepResult::error(check.code, "invariant after this step: " + check.message);
  failed.measured = std::move(r.measured);
  return failed;
}

void run_steps(CellRun& run) {
  Events& events = *run.context.events;
  for (const Args& step : run.steps) {
    events.step_start(step.index(), step.op().name);
    auto start = std::chrono::steady_clock::now();
    StepResult r = run_one(run, step);
    if (r.descendant_signal != 0) exit_for_descendant(r);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    events.step_end(step.index(), r, ms);
    if (r.is_ok && run.model) {
      bool durable = *run.durable_after && (*run.durable_after)(step.op().name);
      events.emit({{"event", "records"}, {"step", step.index()}, {"op", step.op().name}, {"durable", durable},
                   {"model", model_to_json((*run.model)())}});
    }
    // Go on only while each step ended as its `expect` allows (crashgate judges the same way).
    std::string expect = step.has("expect") ? step.string("expect") : "";
    StepJudgement judged = judge_step(expect, r.is_ok, r.code, r.message);
    if (!judged.note.empty()) events.log(fmt::format("step {} ({}) {}", step.index(), step.op().name, judged.note));
    if (!judged.ok) {
      fmt::print(stderr, "step {} ({}): {}: {}\n", step.index(), step.op().name, judged.code, judged.message);
      run.exit_code = kExitStepFailed;
      if (*run.finish) (void)(*run.finish)(run.context);  // background work stops; its result cannot change this one
      return;
    }
  }
  if (!*run.finish) return;
  StepResult joined = (*run.finish)(run.context);
  int index = static_cast<int>(run.steps.size());
  if (joined.descendant_signal != 0) {
    events.step_start(index, "join");
    exit_for_descendant(joined);
  }
  if (!joined.is_ok) {
    events.step_start(index, "join");
    events.step_end(index, joined, 0);
    fmt::print(stderr, "background work: {}: {}\n", joined.code, joined.message);
    run.exit_code = kExitStepFailed;
  }
}

// Conformance probes (CRASHGATE_PROBE, reports/driver-protocol.md): what
// `crashgate driver-check` needs to see from inside a driver.
volatile bool g_probe_forever = true;

[[gnu::noinline]] int probe_recurse(int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  if (!g_probe_forever) return frame[0];
  return probe_recurse(depth + 1) + frame[0];
}

void run_probe(const std::string& probe, Events& events) {
  if (probe == "stack") {
    events.step_start(0, "probe-stack");
    (void)probe_recurse(0);  // until the worker's stack runs out
  } else if (probe == "crash-in-step") {
    events.step_start(0, "probe-crash");
    std::signal(SIGSEGV, SIG_DFL);
    std::raise(SIGSEGV);
  }
}

}  // namespace

int Driver::run_cell(const std::string& path) {
  auto cannot_run = [&](const std::string& why) {
    fmt::print(stderr, "crashgate-driver-{}: {}\n", name_, why);
    return kExitCannotRun;
  };
  if (auto problems = self_check(); !problems.empty()) {
    std::string text;
    for (const auto& p : problems) text += "\n  " + p;
    return cannot_run("the driver's own declarations are wrong:" + text);
  }
  std::ifstream in(path);
  if (!in) return cannot_run(fmt::format("cannot read {}", path));
  std::stringstream text;
  text << in.rdbuf();
  json cell = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (cell.is_discarded() || !cell.is_object()) return cannot_run(fmt::format("{}: not valid JSON", path));
  if (cell.value("protocol", 0) != 1)
    return cannot_run(fmt::format("{}: not a protocol-1 cell (this driver speaks protocol 1)", path));
  auto steps = read_steps(cell);
  if (!steps) return cannot_run(fmt::format("{}: {}", path, steps.error()));
  for (const Args& step : *steps) {
    if (!handlers_.count(step.op().name))
      return cannot_run(fmt::format("{}: step {}: this driver does not support op '{}' (--list ops says what it does)", path,
                                    step.index(), step.op().name));
    for (const auto& key : step.op().keys) {
      auto accepted = accepted_values(step.op().name, key);
      if (!accepted || !step.has(key.name)) continue;
      auto typed = typed_value(key, step.values()[std::string(key.name)], &*accepted, ValueForm::canonical);
      if (!typed) return cannot_run(fmt::format("{}: step {} ({}): {}", path, step.index(), step.op().name, typed.error()));
    }
  }
  Events events;
  CellRun run;
  run.driver = this;
  run.handlers = &handlers_;
  run.open_store = &open_store_;
  run.invariants = &invariants_;
  run.finish = &finish_;
  if (const char* asked = std::getenv("CRASHGATE_MODEL_EVENTS"); asked && std::string_view(asked) == "1") {
    if (!model_snapshot_) return cannot_run("CRASHGATE_MODEL_EVENTS=1, but this driver reports no record model (Driver::record_model)");
    run.model = &model_snapshot_;
    run.durable_after = &durable_after_;
  }
  run.steps = std::move(*steps);
  run.context.work_dir = cell.value("work_dir", ".");
  run.context.seed = cell.contains("seed") && cell["seed"].is_number_unsigned() ? cell["seed"].get<std::uint64_t>() : 1;
  run.context.worker_stack =
      cell.contains("worker_stack") && cell["worker_stack"].is_number_unsigned() ? cell["worker_stack"].get<std::uint64_t>() : 0;
  run.context.events = &events;
  if (cell.contains("check_invariants")) {
    if (!cell["check_invariants"].is_boolean()) return cannot_run(fmt::format("{}: check_invariants must be true or false", path));
    run.context.check_invariants = cell["check_invariants"].get<bool>();
  }
  if (run.context.check_invariants && !invariants_)
    return cannot_run(fmt::format("{}: the cell asks for check_invariants, and this driver has no invariants check", path));
  if (start_)
    if (auto started = start_(cell, run.context); !started) return cannot_run(started.error());
  events.hello(name_, version_, engine_, engine_version_);
  if (const char* probe = std::getenv("CRASHGATE_PROBE"); probe && *probe) {
    std::string which = probe;
    if (which != "stack" && which != "crash-in-step") return cannot_run(fmt::format("CRASHGATE_PROBE={}: unknown probe (stack, crash-in-step)", which));
    std::thread prober = start_thread(run.context.worker_stack, [&] { run_probe(which, events); });
    prober.join();
    return cannot_run(fmt::format("CRASHGATE_PROBE={} returned", which));
  }
  // The steps run on one worker thread with the cell's stack (a 2 MiB tokio worker in the field).
  std::thread worker = start_thread(run.context.worker_stack, [&run] { run_steps(run); });
  worker.join();
  if (run.exit_code == kExitAllStepsOk) events.done();
  return run.exit_code;
}

int Driver::main(int argc, char** argv) {
  auto usage = [&](const std::string& why, int status) {
    fmt::print(status == 0 ? stdout : stderr,
               "{}usage: crashgate-driver-{} --cell WORK_DIR/cell.json\n"
               "       crashgate-driver-{} --list ops|layout{}\n"
               "Runs one crashgate scenario cell against {} (driver protocol 1: reports/driver-protocol.md),\n"
               "or prints one of its tables as JSON lines.\n"
               "Exit status: 0 every step ended as expected, 1 a step did not (the driver stopped there),\n"
               "2 the cell cannot be run (bad cell.json, an op or value this driver does not support).\n",
               why.empty() ? "" : fmt::format("crashgate-driver-{}: {}\n", name_, why), name_, name_,
               [&] {
                 std::string more;
                 for (const auto& [what, print] : listings_) more += "|" + what;
                 return more;
               }(),
               name_);
    return status;
  };
  if (argc >= 2 && std::strcmp(argv[1], "--second-process") == 0) {
    if (!second_process_) return usage("this driver starts no second processes", kExitCannotRun);
    return second_process_(argc, argv);
  }
  if (argc >= 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) return usage("", 0);
  if (argc == 3 && std::strcmp(argv[1], "--list") == 0) return list(argv[2]);
  if (argc == 3 && std::strcmp(argv[1], "--cell") == 0) return run_cell(argv[2]);
  return usage(argc < 2 ? "expected --cell PATH" : fmt::format("unexpected arguments starting at '{}'", argv[1]), kExitCannotRun);
}

}  // namespace crashgate::kit
