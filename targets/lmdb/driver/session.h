// One cell's run against an LMDB env: the env, the records the driver added
// (the kit's Records model) and the steps. Every random choice comes from the
// cell's seed.
//
// The store is an env directory (default: WORK_DIR/store, or create's `store`)
// holding data.mdb and lock.mdb, opened with no flags (a subdirectory, synced
// commits, read-write) and the main DB with MDB_INTEGERKEY; records are as
// value.h says. After `create` the map's size is whatever the file's meta says
// (mm_mapsize): an open never sets it, so the header field is what an open
// uses. A write that fills the map grows it (mdb_env_set_mapsize, doubling)
// and runs again; only a map that cannot grow is resource-exhausted.
//
// Workloads (workloads.cc) run on threads of their own beside the steps: each
// transaction, the steps' and theirs, holds `map_mu_` shared, and growing the
// map holds it alone, as LMDB asks (no transaction of the process active while
// mdb_env_set_mapsize runs).
#pragma once

#include <lmdb.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "crashgate/driver_kit.h"
#include "crashgate/driver_records.h"
#include "crashgate/store_import.h"

namespace crashgate::lmdb_driver {

using kit::Args;
using kit::StepResult;

class Session {
 public:
  explicit Session(kit::Context& context);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The records (store_ops.cc).
  StepResult create(const Args& step);
  // The record model, for crash-state checks (kit::Driver::record_model).
  RecordModel model() const;
  // A copy of `from`'s env becomes the store, closed (import.cc).
  StepResult import_store(const Args& step);
  StepResult add(const Args& step);
  StepResult remove(const Args& step);
  StepResult count(const Args& step);
  StepResult get(const Args& step);
  StepResult search(const Args& step);
  StepResult verify(const Args& step);
  StepResult read(const Args& step);
  // read what = fsck: our structural check of data.mdb (fsck.cc), read with
  // pread and never through LMDB, so the env is not opened for it.
  StepResult fsck();
  StepResult sync();
  StepResult reopen();
  StepResult sleep(const Args& step);
  // Background work (workloads.cc): threads reading, adding, or both, until their duration ends.
  StepResult spawn_workload(const Args& step);
  // Waits for the workloads and second processes; the first error any of them met.
  StepResult join();
  // Another process on the env (second_process.cc): truncate-data, rewrite-data, read-loop, killed-at-commit.
  StepResult second_process(const Args& step);
  // Damage from outside (damage.cc).
  StepResult truncate(const Args& step);
  StepResult corrupt(const Args& step);
  StepResult replace(const Args& step);
  // Opens the env if it is closed (after reopen, truncate, corrupt or replace) (env.cc).
  StepResult ensure_open();

 private:
  // env.cc: the env and its transactions.
  StepResult open_env(bool creating, std::uint64_t mapsize);
  void close_env();
  // A writer is about to grow the map: a new transaction waits until it has (else readers could starve it).
  void wait_until_map_is_grown();
  // Runs `work` in a write transaction and commits it; when the map is full,
  // grows the map and runs it again from the start.
  // `work` returns LMDB's code, and may name the call that failed in `where`.
  StepResult write(std::string_view doing, const std::function<int(MDB_txn*, std::string& where)>& work);
  // Runs `work` in a read-only transaction.
  StepResult read_only(std::string_view doing, const std::function<StepResult(MDB_txn*)>& work);
  std::string data_path() const { return store_dir_ + "/data.mdb"; }
  // import.cc: after an import, the first open reads the dimension from the first record (value.h).
  StepResult learn_imported_dim();

  // store_ops.cc
  StepResult add_records(const std::vector<std::uint64_t>& ids, std::uint64_t seed);
  // `n` ids no record has used and no other writer will take.
  std::uint64_t allocate_ids(std::uint64_t n);
  StepResult run_searches(std::uint64_t queries, std::uint64_t k, std::optional<double> min_recall);
  StepResult scan_all();
  StepResult store_count(MDB_txn* txn, std::uint64_t& n);

  // damage.cc
  struct DamageTarget {
    std::string path;
    std::uint64_t offset = 0;
  };
  StepResult damage_target(const Args& step, const char* offset_key, DamageTarget& target);
  std::string file_path(const std::string& file) const;
  StepResult make_foreign(const std::string& dir);

  // workloads.cc
  using Deadline = std::chrono::steady_clock::time_point;
  StepResult reader_loop(std::uint64_t thread, Deadline deadline, const std::vector<std::uint64_t>& ids);
  StepResult writer_loop(Deadline deadline);
  void workload_failed(const StepResult& r);
  // Stops the workloads early and waits for them (before the env closes); their errors wait for join.
  void stop_workloads();
  void wait_for_workloads();

  // second_process.cc: waits for the second processes still running (read-loop); the first error, or the signal one died of.
  StepResult join_second_processes();
  struct SecondProcess {
    pid_t pid = 0;
    std::string action;
    std::string progress;        // the file it reports in
    std::optional<int> status;   // when it was reaped already
  };
  std::vector<SecondProcess> second_processes_;
  std::uint64_t second_count_ = 0;  // second processes started: names their files

  kit::Context& context_;
  std::string work_dir_;
  std::string store_dir_;
  std::uint64_t seed_;
  std::mt19937_64 rng_;
  kit::Records records_;  // ids added and not removed, with their seeds; the dimension
  bool created_ = false;
  // The env flags every open of the store uses: create's variant (writemap:
  // MDB_WRITEMAP, LMDB writing its pages through a shared writable mapping and
  // msyncing them at commit); an imported store opens with none.
  unsigned env_flags_ = 0;
  // Set by an import until the env is opened: the step's `dim`, when it gave one, for the first record to agree with.
  struct ImportDim {
    std::optional<std::uint64_t> given;
  };
  std::optional<ImportDim> import_dim_;
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;

  std::mutex ids_mu_;
  std::uint64_t reserved_ids_ = 0;  // ids below this are taken (allocate_ids)

  std::shared_mutex map_mu_;          // shared: a transaction is active; alone: the map grows
  std::atomic<int> growers_{0};       // writers waiting to grow the map: new transactions wait
  std::vector<std::thread> workers_;
  std::atomic<bool> stop_workers_{false};
  std::atomic<std::uint64_t> workload_reads_{0}, workload_commits_{0}, workload_missing_{0};
  std::mutex workload_mu_;
  std::optional<StepResult> workload_error_;  // the first, under workload_mu_
};

// The engine's own offset-expression terms beside the layout's: `half`, the file's size / 2 (damage.cc).
kit::ExtraTerm extra_terms(const std::string& path);

// The entry point of a second process (--second-process ACTION ...) (second_process.cc).
int run_second_process(int argc, char** argv);

// The engine's file layout (--list layout, offset expressions) (layout.cc).
std::vector<kit::LayoutFile> lmdb_layout();
const kit::LayoutFile* layout_of(std::string_view file);

}  // namespace crashgate::lmdb_driver
