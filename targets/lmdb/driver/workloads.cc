// spawn-workload and join: threads beside the steps, on the cell's worker
// stack (or the step's `stack`), until their duration ends or the env closes.
//
//   get    readers: a read-only transaction at a time, 16 random ids of the
//          records live when the workload started; a record found must have
//          the size of a record of its id (a torn or foreign value is
//          wrong-result); one not found is counted, not judged (a step may
//          have removed it), and `verify` after `join` judges the store whole
//   add    writers: commits of 20 new records each (LMDB lets one writer in
//          at a time; the others wait in mdb_txn_begin), growing the map
//          when it is full, with every reader of the process waiting outside
//          its transactions meanwhile (env.cc: Session::write)
//   mixed  thread 0 a writer, the others readers: readers while a writer
//          commits and grows the map
//
// Each reader thread has its own reader slot (the env is opened without
// MDB_NOTLS): more than LMDB's 126 slots is MDB_READERS_FULL, resource-exhausted.
#include <memory>
#include <set>

#include <fmt/format.h>

#include "errors.h"
#include "session.h"
#include "value.h"

namespace crashgate::lmdb_driver {

namespace {

constexpr std::uint64_t kIdsPerReadTxn = 16;
constexpr std::uint64_t kRecordsPerCommit = 20;

}  // namespace

StepResult Session::spawn_workload(const Args& step) {
  records_.unsure();  // threads racing on the store: the model follows them, not record for record
  std::string workload = step.string("workload");
  if (workload != "get" && workload != "add" && workload != "mixed")
    return StepResult::error("invalid-argument", fmt::format("spawn-workload: workload must be get, add or mixed, not '{}'", workload));
  std::uint64_t threads = step.u64("threads", 2);
  std::uint64_t duration_ms = step.duration_ms("duration", 500);
  std::uint64_t stack = step.size("stack", context_.worker_stack);
  Deadline deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(duration_ms);
  std::set<std::uint64_t> live = records_.live();
  auto ids = std::make_shared<const std::vector<std::uint64_t>>(live.begin(), live.end());
  for (std::uint64_t t = 0; t < threads; ++t) {
    bool writer = workload == "add" || (workload == "mixed" && t == 0);
    std::uint64_t thread = workers_.size();
    workers_.push_back(kit::start_thread(stack, [this, writer, thread, deadline, ids] {
      StepResult r = writer ? writer_loop(deadline) : reader_loop(thread, deadline, *ids);
      if (!r.is_ok) workload_failed(r);
    }));
  }
  context_.log(fmt::format("started {} threads of {} for {} ms", threads, workload, duration_ms));
  return StepResult::ok();
}

StepResult Session::reader_loop(std::uint64_t thread, Deadline deadline, const std::vector<std::uint64_t>& ids) {
  std::mt19937_64 rng(seed_ ^ (0x9E3779B97F4A7C15ull * (thread + 1)));
  std::uint32_t dim = records_.dim();
  while (!stop_workers_ && std::chrono::steady_clock::now() < deadline) {
    StepResult r = read_only("workload get", [&](MDB_txn* txn) {
      for (std::uint64_t i = 0; i < kIdsPerReadTxn && !ids.empty(); ++i) {
        std::uint64_t id = ids[rng() % ids.size()], key = id;
        MDB_val k = key_of(key), v{};
        int rc = mdb_get(txn, dbi_, &k, &v);
        if (rc == MDB_NOTFOUND) {
          ++workload_missing_;
          continue;
        }
        if (rc != 0) return mdb_error(rc, fmt::format("workload get: mdb_get(id {})", id));
        if (v.mv_size != value_size(id, dim))
          return StepResult::error("wrong-result", fmt::format("workload get: id {}'s value is {} bytes; a record of {} dimensions is {}",
                                                               id, v.mv_size, dim, value_size(id, dim)));
      }
      return StepResult::ok();
    });
    if (!r.is_ok) return r;
    ++workload_reads_;
  }
  return StepResult::ok();
}

StepResult Session::writer_loop(Deadline deadline) {
  while (!stop_workers_ && std::chrono::steady_clock::now() < deadline) {
    std::uint64_t first = allocate_ids(kRecordsPerCommit);
    std::vector<std::uint64_t> ids(kRecordsPerCommit);
    for (std::uint64_t i = 0; i < kRecordsPerCommit; ++i) ids[i] = first + i;
    if (StepResult r = add_records(ids, seed_); !r.is_ok) return r;
    ++workload_commits_;
  }
  return StepResult::ok();
}

void Session::workload_failed(const StepResult& r) {
  std::lock_guard lock(workload_mu_);
  if (!workload_error_) workload_error_ = r;
}

void Session::wait_for_workloads() {
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

void Session::stop_workloads() {
  if (workers_.empty()) return;
  stop_workers_ = true;
  wait_for_workloads();
  stop_workers_ = false;
}

StepResult Session::join() {
  wait_for_workloads();
  StepResult second = join_second_processes();
  // What the workloads did since the last join (a reopen or a damage step may have stopped them early).
  std::uint64_t reads = workload_reads_.exchange(0), missing = workload_missing_.exchange(0), commits = workload_commits_.exchange(0);
  if (reads || commits)
    context_.log(fmt::format("workloads: {} read transactions ({} ids not found), {} commits of {} records", reads, missing,
                             commits, kRecordsPerCommit));
  std::lock_guard lock(workload_mu_);
  std::optional<StepResult> error = std::move(workload_error_);
  workload_error_.reset();
  if (!second.is_ok || second.descendant_signal) return second;  // a second process's crash first: it is the cell's outcome
  return error ? *error : StepResult::ok();
}

}  // namespace crashgate::lmdb_driver
