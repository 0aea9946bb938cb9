// Background workloads (threads in this process) and second processes (this
// driver re-executed with --second-process) running against the same store.
#include <pthread.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "crash_phases.h"
#include "entry_points.h"
#include "session.h"
#include "table_args.h"
#include "vstore/failpoint.h"
#include "vstore/regression.h"
#include "vstore/search.h"

extern char** environ;

namespace crashgate::vstore_driver {

using nlohmann::json;
using vstore::Code;
using vstore::Record;
using vstore::Status;

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

StepResult Session::spawn_workload(const Args& step) {
  // The workloads are the values main.cc lists for spawn-workload.workload (entry_points.cc); the kit refused any other.
  std::string kind = step.string("workload");
  const WorkloadKind* plan = nullptr;
  for (const WorkloadKind& k : workload_kinds())
    if (k.name == kind) plan = &k;
  if (plan == nullptr) return StepResult::error("invalid-argument", fmt::format("spawn-workload: no workload '{}'", kind));
  uint64_t threads = step.u64("threads", 2);
  uint64_t ms = step.duration_ms("duration", 500);
  size_t stack = step.size("stack", worker_stack_);
  auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  model_unsure();  // threads racing on the store: the model follows them, but not record for record
  WorkloadView view;
  {
    std::lock_guard lock(model_mu_);
    view.imported = imported_;  // the files' own ids are any: a search hit is not judged by next_id_
    view.vectors_known = !imported_ && seeds_.empty();  // every live record is record_for(id) with the cell's seed
  }
  for (uint64_t t = 0; t < threads; ++t) {
    uint64_t thread_seed = seed_ ^ (0x51ED270B + t * 0x9E3779B97F4A7C15ull) ^ workers_.size();
    uint64_t worker = workers_.size();
    workers_.push_back(kit::start_thread(stack, [this, plan, deadline, thread_seed, t, worker, view] {
      std::mt19937_64 rng(thread_seed);
      uint64_t round = 0;
      while (Clock::now() < deadline && !stop_workers_.load()) {
        std::string_view action = plan->actions[(round + t) % plan->actions.size()];
        workload_action(action, rng, fmt::format("{}.{}", worker, round), view);
        ++round;
      }
    }));
  }
  context_.log(fmt::format("spawned {} {} threads for {} ms", threads, kind, ms));
  return StepResult::ok();
}

void Session::workload_fail(std::string what) {
  if (workload_errors_.fetch_add(1) == 0) {
    std::lock_guard lock(model_mu_);
    first_workload_error_ = std::move(what);
  }
}

std::optional<uint64_t> Session::workload_live_id(std::mt19937_64& rng, bool take) {
  std::lock_guard lock(model_mu_);
  if (live_.empty() || (take && live_.size() < 10)) return std::nullopt;
  auto it = live_.lower_bound(rng() % (next_id_.load() + 1));
  if (it == live_.end()) {
    if (take) return std::nullopt;
    it = live_.begin();
  }
  uint64_t id = *it;
  if (take) live_.erase(it);
  return id;
}

void Session::workload_action(std::string_view action, std::mt19937_64& rng, const std::string& tag, const WorkloadView& view) {
  auto check_hits = [&](const char* what, const vstore::Result<std::vector<vstore::SearchHit>>& hits) {
    if (!hits.ok()) return workload_fail(fmt::format("workload {}: {}", what, hits.status().to_string()));
    for (const vstore::SearchHit& h : *hits)
      if (!view.imported && h.id >= next_id_.load() + 100000) workload_fail(fmt::format("workload {} returned id {}, which was never added", what, h.id));
  };
  auto check_vector = [&](const char* what, uint64_t id, std::span<const float> v) {
    if (!view.vectors_known) return;
    std::vector<float> want = record_for(id, dim_, seed_).vector;
    if (!std::equal(v.begin(), v.end(), want.begin(), want.end())) workload_fail(fmt::format("workload {}({}) returned a different vector", what, id));
  };
  if (action == "get") {
    std::optional<uint64_t> id = workload_live_id(rng, false);
    if (!id) return;
    vstore::Result<Record> r = store_->get(*id);
    if (r.ok() && !(*r == record_for(*id, dim_, seed_))) workload_fail(fmt::format("workload get({}) returned different data", *id));
    if (!r.ok() && r.status().code() != Code::not_found) workload_fail(fmt::format("workload get({}): {}", *id, r.status().to_string()));
  } else if (action == "view") {
    std::optional<uint64_t> id = workload_live_id(rng, false);
    if (!id) return;
    vstore::Result<vstore::RecordView> r = store_->view(*id);
    if (!r.ok()) {
      if (r.status().code() != Code::not_found) workload_fail(fmt::format("workload view({}): {}", *id, r.status().to_string()));
      return;
    }
    check_vector("view", *id, r->vector());
    if (auto attrs = r->attributes(); !attrs.ok()) workload_fail(fmt::format("workload view({}).attributes(): {}", *id, attrs.status().to_string()));
  } else if (action == "contains") {
    std::optional<uint64_t> id = workload_live_id(rng, false);
    if (id) (void)store_->contains(*id);  // the id may be removed meanwhile: either answer is right
    if (store_->contains(next_id_.load() + 200000)) workload_fail("workload contains() found an id never added");
  } else if (action == "search") {
    // A record's own vector: every hit must be a record the driver added.
    uint64_t id = rng() % (next_id_.load() + 1);
    check_hits("search", store_->search(record_for(id, dim_, seed_).vector, {.k = 5, .ef = 32}));
  } else if (action == "exact-search") {
    uint64_t id = rng() % (next_id_.load() + 1);
    check_hits("exact_search", store_->exact_search(record_for(id, dim_, seed_).vector, 5));
  } else if (action == "scan") {
    uint64_t seen = 0;
    vstore::Status st = store_->scan([&](const vstore::RecordRef& r) {
      check_vector("scan", r.id(), r.vector());
      if (auto attrs = r.attributes(); !attrs.ok()) workload_fail(fmt::format("workload scan: record {}'s attributes(): {}", r.id(), attrs.status().to_string()));
      return ++seen < 400;  // a part of the store per round, so other actions interleave
    });
    if (!st.ok()) workload_fail("workload scan: " + st.to_string());
  } else if (action == "count") {
    (void)store_->count();
  } else if (action == "stats") {
    vstore::StoreStats s = store_->stats();
    if (s.dim != dim_ || store_->dim() != dim_) workload_fail(fmt::format("workload stats: dim {} and {}, not {}", s.dim, store_->dim(), dim_));
    if (s.live > s.slots) workload_fail(fmt::format("workload stats: {} live records in {} slots", s.live, s.slots));
    if (store_->metric() != s.metric || store_->dir().empty()) workload_fail("workload stats: metric() or dir() disagrees with stats()");
  } else if (action == "fsck") {
    // The whole-store check on files other threads are writing: its verdict may be anything a torn
    // moment shows; it must come back, and say why when it cannot read.
    vstore::FsckReport report = vstore::Store::fsck(store_dir_);
    if (!report.ok() && report.problems.empty()) workload_fail("workload fsck: not ok, with no problem named");
  } else if (action == "add") {
    uint64_t first = next_id_.fetch_add(50);
    std::vector<Record> batch;
    for (uint64_t i = 0; i < 50; ++i) batch.push_back(record_for(first + i, dim_, seed_));
    Status st = store_->add(batch);
    if (!st.ok()) workload_fail("workload add: " + st.to_string());
    std::lock_guard lock(model_mu_);
    for (const Record& r : batch) live_.insert(r.id);
  } else if (action == "remove") {
    std::optional<uint64_t> id = workload_live_id(rng, true);
    if (!id) return;
    vstore::Result<uint64_t> n = store_->remove({*id});
    if (!n.ok()) workload_fail("workload remove: " + n.status().to_string());
  } else if (action == "delete-where") {
    // Ten records of this round's own, tagged so that a filter selects exactly them: the delete
    // must remove those ten and nothing the other threads or the model hold.
    uint64_t first = next_id_.fetch_add(10);
    std::vector<Record> batch;
    for (uint64_t i = 0; i < 10; ++i) {
      Record r = record_for(first + i, dim_, seed_);
      r.attributes = {{"workload", tag}};
      batch.push_back(std::move(r));
    }
    if (Status st = store_->add(batch); !st.ok()) return workload_fail("workload delete-where: add: " + st.to_string());
    vstore::Result<vstore::Filter> filter = vstore::Filter::parse(fmt::format("workload = '{}'", tag));
    if (!filter.ok()) return workload_fail("workload delete-where: " + filter.status().to_string());
    vstore::Result<uint64_t> n = store_->delete_where(*filter);
    if (!n.ok()) workload_fail("workload delete-where: " + n.status().to_string());
    else if (*n != 10) workload_fail(fmt::format("workload delete-where {} removed {} records, not its 10", tag, *n));
  } else if (action == "sync") {
    if (Status st = store_->sync(); !st.ok()) workload_fail("workload sync: " + st.to_string());
  } else if (action == "compact") {
    Status st = store_->compact();
    if (!st.ok()) workload_fail("workload compact: " + st.to_string());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } else {
    workload_fail(fmt::format("workload action '{}' has no code (entry_points.cc lists it)", action));
  }
}

StepResult Session::second_process(const Args& step) {
  model_unsure();  // another writer, or a reader whose crash may leave anything behind
  std::string op = step.string("action");
  json args = step.table("args");
  PhasedWrites phased;
  if (op == "phased-writes") {
    StepResult planned = plan_phased_writes(args, &phased);
    if (!planned.is_ok) return planned;
    args["failpoints"] = phased.spec;
  }
  if (op == "crash-writes" || op == "phased-writes") close_store();  // the second process becomes the writer
  std::string ready = fmt::format("{}/second-{}.ready", work_dir_, second_processes_.size());
  std::string synced = fmt::format("{}/second-{}.synced", work_dir_, second_processes_.size());
  std::string self = "/proc/self/exe";
  std::vector<std::string> argv_s = {"crashgate-driver-vstore", "--second-process", op, "--store", store_dir_,
                                     "--seed", std::to_string(seed_), "--args", args.dump(), "--ready", ready, "--synced", synced,
                                     "--first-id", std::to_string(next_id_.load())};
  std::vector<char*> argv;
  for (std::string& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclose(&actions, 3);  // the event pipe is ours alone
  pid_t pid = 0;
  int rc = posix_spawn(&pid, self.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return StepResult::error("io", fmt::format("second-process: spawn failed: {}", std::strerror(rc)));
  if (op == "phased-writes") return after_phased_writes(phased, pid, synced);
  second_processes_.push_back(pid);
  if (op == "crash-writes") {
    // Wait for it here: the model learns what it synced before the next step.
    (void)join();
    std::ifstream in(synced);
    uint64_t first = 0, last = 0;
    std::string word;
    std::lock_guard lock(model_mu_);
    while (in >> word >> first >> last) {
      for (uint64_t id = first; id <= last; ++id) live_.insert(id);
      next_id_ = std::max<uint64_t>(next_id_.load(), last + 1);
    }
    next_id_ += 100000;  // past anything it may have added unsynced
    return StepResult::ok();
  }
  // Wait until it has the store open, so the next step really runs beside it.
  for (int i = 0; i < 500 && !std::filesystem::exists(ready); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  context_.log(fmt::format("second process {} running {}", pid, op));
  return StepResult::ok();
}

StepResult Session::join() {
  for (std::thread& t : workers_)
    if (t.joinable()) t.join();
  workers_.clear();
  StepResult outcome = StepResult::ok();
  for (pid_t pid : second_processes_) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL && outcome.is_ok) {
      outcome = StepResult::error("second-process", fmt::format("second process {} died of signal {} ({})", pid, WTERMSIG(status), strsignal(WTERMSIG(status))));
      outcome.descendant_signal = WTERMSIG(status);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && outcome.is_ok)
      outcome = StepResult::error("second-process", fmt::format("second process {} exited {}", pid, WEXITSTATUS(status)));
  }
  second_processes_.clear();
  if (workload_errors_.load() > 0 && outcome.is_ok) {
    std::lock_guard lock(model_mu_);
    outcome = StepResult::error("wrong-result", fmt::format("{} workload errors; the first: {}", workload_errors_.load(), first_workload_error_));
    workload_errors_ = 0;
  }
  return outcome;
}

StepResult Session::plan_phased_writes(const json& args, PhasedWrites* plan) {
  Checked<std::string> site = table_string(args, "site", "");
  Checked<std::string> fault = table_string(args, "fault", "crash");
  Checked<uint64_t> hit = table_u64(args, "hit", 1);
  for (const std::string* error : {site ? nullptr : &site.error(), fault ? nullptr : &fault.error(), hit ? nullptr : &hit.error()})
    if (error) return StepResult::error("invalid-argument", "phased-writes: " + *error);
  plan->site = *site;
  plan->fault = *fault;
  plan->hit = *hit;
  if (plan->site.empty()) return StepResult::error("invalid-argument", "phased-writes: args.site names the failpoint site to arm");
  if (plan->hit == 0) return StepResult::error("invalid-argument", "phased-writes: args.hit counts from 1");
  plan->spec = plan->hit == 1 ? fmt::format("{}=1*{}", plan->site, plan->fault)
                              : fmt::format("{}={}*off->1*{}", plan->site, plan->hit - 1, plan->fault);
  plan->allowed = {"io", "resource-exhausted"};
  if (auto it = args.find("errors"); it != args.end()) {
    if (!it->is_array()) return StepResult::error("invalid-argument", "phased-writes: args.errors must be a list of error codes");
    plan->allowed.clear();
    for (const json& code : *it) {
      if (!code.is_string()) return StepResult::error("invalid-argument", "phased-writes: args.errors must hold error codes (strings)");
      plan->allowed.insert(code.get<std::string>());
    }
  }
  plan->first = next_id_.load();
  std::lock_guard lock(model_mu_);
  plan->before = live_;
  return StepResult::ok();
}

StepResult Session::after_phased_writes(const PhasedWrites& plan, pid_t pid, const std::string& report_path) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL) {
    StepResult o = StepResult::error("second-process", fmt::format("second process {} died of signal {} ({}) with {} armed",
                                                                     pid, WTERMSIG(status), strsignal(WTERMSIG(status)), plan.spec));
    o.descendant_signal = WTERMSIG(status);
    return o;
  }
  bool killed = WIFSIGNALED(status);
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return StepResult::error("second-process", fmt::format("phased writes could not start (exit {}); see stderr", WEXITSTATUS(status)));
  int phase = 0;
  uint64_t fired = 0;
  std::string error_code, error_message;
  std::ifstream in(report_path);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("phase ", 0) == 0) phase = std::stoi(line.substr(6));
    if (line.rfind("fired ", 0) == 0) fired = std::stoull(line.substr(6));
    if (line.rfind("error ", 0) == 0) {
      size_t space = line.find(' ', 6);
      error_code = line.substr(6, space == std::string::npos ? std::string::npos : space - 6);
      error_message = space == std::string::npos ? "" : line.substr(space + 1);
    }
  }
  // The model: what phase `phase` made durable; whatever later phases touch may be either way.
  {
    std::set<uint64_t> durable = live_after_phase(phase, plan.before, plan.first);
    std::set<uint64_t> flux = in_flux_after_phase(phase, plan.before, plan.first);
    std::set<uint64_t> ever = plan.before;
    for (int p = 1; p <= phase; ++p) {
      std::set<uint64_t> live = live_after_phase(p, plan.before, plan.first);
      ever.insert(live.begin(), live.end());
    }
    std::lock_guard lock(model_mu_);
    live_.clear();
    for (uint64_t id : durable)
      if (!flux.count(id)) live_.insert(id);
    for (uint64_t id : ever)
      if (!durable.count(id) && !flux.count(id)) removed_.insert(id);
    for (uint64_t id : flux) removed_.erase(id);
    next_id_ = plan.first + 100000;  // past anything it may have added unsynced
  }
  std::string where = fmt::format("{} (after phase {} was synced)", plan.spec, phase);
  bool crash = plan.fault == "crash";
  if (killed) {
    if (!crash) return StepResult::error("second-process", fmt::format("phased writes were killed with {}", where));
    context_.log("crashed at " + where);
    return StepResult::ok();
  }
  if (!error_code.empty() && (crash || fired == 0))
    return StepResult::error(error_code, fmt::format("phased writes failed with no fault injected yet ({}): {}", plan.spec, error_message));
  if (!error_code.empty()) {
    if (!plan.allowed.count(error_code))
      return StepResult::error("wrong-result", fmt::format("{} made the engine report {}: {} (a clean error is one of: {})", where,
                                                            error_code, error_message, fmt::join(plan.allowed, ", ")));
    context_.log(fmt::format("clean error at {}: {}: {}", where, error_code, error_message));
    return StepResult::ok();
  }
  if (fired == 0 && plan.hit == 1)
    return StepResult::error("unreached", fmt::format("the phased writes never reach failpoint {}: extend them "
                                                       "(targets/vstore/driver/crash_phases.cc) so that every site is tested",
                                                       plan.site));
  context_.log(fired == 0 ? fmt::format("{} is passed fewer than {} times", plan.site, plan.hit)
                          : fmt::format("the engine carried on through {}", plan.spec));
  return StepResult::ok();
}

namespace {

std::string arg_after(int argc, char** argv, const char* flag) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], flag) == 0) return argv[i + 1];
  return "";
}

void touch(const std::string& path) { std::ofstream(path).put('\n'); }

}  // namespace

int run_second_process(int argc, char** argv) {
  if (const char* regression = std::getenv("CRASHGATE_REGRESSION"); regression && *regression) {
    if (!vstore::set_regressions(regression).ok()) return 2;
  }
  std::string op = arg_after(argc, argv, "--second-process");
  std::string store_dir = arg_after(argc, argv, "--store");
  uint64_t seed = std::stoull(arg_after(argc, argv, "--seed"));
  json args = json::parse(arg_after(argc, argv, "--args"), nullptr, false);
  std::string ready = arg_after(argc, argv, "--ready");
  if (!args.is_object()) {
    fmt::print(stderr, "second process: --args is not a JSON object\n");
    return 2;
  }
  Checked<uint64_t> duration = table_duration_ms(args, "duration", 500);
  if (!duration) {
    fmt::print(stderr, "second process: {}\n", duration.error());
    return 2;
  }
  uint64_t ms = *duration;
  // A malformed args entry is the scenario's mistake: exit 2 saying which.
  auto text = [&](const char* key, const std::string& fallback) {
    Checked<std::string> v = table_string(args, key, fallback);
    if (!v) {
      fmt::print(stderr, "second process: {}\n", v.error());
      std::exit(2);
    }
    return *v;
  };
  auto say = [](const Status& st) {
    fmt::print(stderr, "second process: {}\n", st.to_string());
    return st.ok() ? 0 : 1;
  };

  if (op == "read-loop" || op == "count") {
    vstore::Result<std::unique_ptr<vstore::Store>> s = vstore::Store::open(store_dir, {.read_only = true});
    touch(ready);
    if (!s.ok()) return say(s.status());
    if (op == "count") {
      fmt::print("second process: count {}\n", (*s)->count());
      return 0;
    }
    auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    uint64_t rounds = 0;
    while (Clock::now() < deadline) {
      uint32_t dim = (*s)->dim();
      Status st = (*s)->scan([&](const vstore::RecordRef& r) {
        std::vector<float> v(r.vector().begin(), r.vector().end());
        return v == record_for(r.id(), dim, seed).vector;
      });
      if (!st.ok()) return say(st);
      ++rounds;
    }
    fmt::print(stderr, "second process: {} read rounds\n", rounds);
    return 0;
  }
  if (op == "open-writer") {
    vstore::Result<std::unique_ptr<vstore::Store>> s = vstore::Store::open(store_dir);
    touch(ready);
    std::string expect = text("expect", "ok");
    std::string got = s.ok() ? "ok" : std::string(vstore::code_name(s.status().code()));
    fmt::print(stderr, "second process: open as writer: {}\n", s.status().to_string());
    return got == expect ? 0 : 1;
  }
  if (op == "crash-writes") {
    // Writes in synced batches with a failpoint armed (usually a crash), and
    // records each synced id range so the first process can verify them.
    std::string spec = text("failpoints", "");
    Status st = vstore::configure_failpoints(spec);
    if (!st.ok()) return say(st);
    vstore::Result<std::unique_ptr<vstore::Store>> s = vstore::Store::open(store_dir);
    if (!s.ok()) return say(s.status());
    uint64_t first = std::stoull(arg_after(argc, argv, "--first-id"));
    uint32_t dim = (*s)->dim();
    std::ofstream synced(arg_after(argc, argv, "--synced"), std::ios::app);
    Checked<uint64_t> batches = table_u64(args, "batches", 8);
    if (!batches) {
      fmt::print(stderr, "second process: {}\n", batches.error());
      return 2;
    }
    for (uint64_t b = 0; b < *batches; ++b) {
      std::vector<Record> batch;
      for (uint64_t i = 0; i < 300; ++i) batch.push_back(record_for(first + i, dim, seed));
      if (!(st = (*s)->add(batch)).ok()) return say(st);
      if (b % 3 == 2 && !(st = (*s)->compact()).ok()) return say(st);
      if (!(st = (*s)->sync()).ok()) return say(st);
      synced << "synced " << first << " " << first + 299 << std::endl;
      first += 300;
    }
    return say((*s)->close());
  }
  if (op == "phased-writes")
    return run_phased_writes(store_dir, ready + ".spare", arg_after(argc, argv, "--synced"), text("failpoints", ""),
                             text("site", ""), std::stoull(arg_after(argc, argv, "--first-id")), seed);
  fmt::print(stderr, "second process: unknown op '{}' (read-loop, count, open-writer, crash-writes, phased-writes)\n", op);
  return 2;
}

}  // namespace crashgate::vstore_driver
