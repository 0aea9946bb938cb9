// One cell's run against an hnswlib index: the index (engine.h), the records
// the driver added (the kit's Records model) and the steps. Every random
// choice comes from the cell's seed.
//
// The store is one file, STORE/index.bin (STORE: WORK_DIR/store, or create's
// `store`), written by saveIndex and read by loadIndex, as the Python driver
// (targets/pyhnswlib) keeps it. The index lives in memory between the two:
// `sync` saves it; closing the store (reopen, the damage ops, a second
// process that becomes the writer) saves it first when it changed, as a clean
// close would. Records are the kit's (record_for): the label is the id, the
// vector its vector. hnswlib keeps no attributes and this driver keeps no
// sidecar for them: file_path is not stored, `add` with metadata is
// invalid-argument, and verify checks vectors (bit for bit, in the metric's
// stored form) and labels only.
//
// Calls into hnswlib from the steps hold `call_mu_`; so do the threads of the
// `serialized` workload. The other workloads (workloads.cc) call hnswlib as
// its users do, with hnswlib's own locks only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "crashgate/driver_kit.h"
#include "crashgate/driver_records.h"
#include "crashgate/store_import.h"
#include "engine.h"

namespace crashgate::hnswlib_driver {

using kit::Args;

inline constexpr const char* kIndexFile = "index.bin";

class Session {
 public:
  explicit Session(kit::Context& context);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The records (store_ops.cc).
  StepResult create(const Args& step);
  StepResult import_store(const Args& step);
  StepResult add(const Args& step);
  StepResult remove(const Args& step);
  StepResult count(const Args& step);
  StepResult get(const Args& step);
  StepResult search(const Args& step);
  StepResult verify(const Args& step);
  StepResult read(const Args& step);
  StepResult sync();  // saveIndex, then fsync of index.bin and the store's directory
  StepResult reopen();
  // The record model, for crash-state checks (kit::Driver::record_model).
  RecordModel model() const;
  StepResult sleep(const Args& step);
  // Loads the index if it is closed (after create, reopen, damage or a second process).
  StepResult ensure_open();
  // Background work (workloads.cc).
  StepResult spawn_workload(const Args& step);
  StepResult join();
  // A second process on the same index file (second_process.cc).
  StepResult second_process(const Args& step);
  // Damage from outside (damage.cc).
  StepResult truncate(const Args& step);
  StepResult corrupt(const Args& step);
  StepResult replace(const Args& step);

 private:
  std::string index_path() const { return store_dir_ + "/" + kIndexFile; }
  // Saves the index when it changed since it was loaded or saved, and drops it.
  StepResult close_index();
  // saveIndex to index.bin, and the file's size checked against what it should have written.
  StepResult save_index();

  // store_ops.cc
  StepResult add_records(const std::vector<std::uint64_t>& ids, std::uint64_t seed);
  std::uint64_t allocate_ids(std::uint64_t n);
  StepResult run_searches(std::uint64_t queries, std::uint64_t k, std::uint64_t ef, std::optional<double> min_recall);
  StepResult scan_all();

  // damage.cc
  struct DamageTarget {
    std::string path;
    std::uint64_t offset = 0;
  };
  StepResult damage_target(const Args& step, const char* offset_key, DamageTarget& target);
  StepResult make_foreign(const std::string& path);

  // workloads.cc
  using Deadline = std::chrono::steady_clock::time_point;
  enum class Role { adder, searcher, remover };
  StepResult workload_thread(Role role, std::uint64_t thread, std::uint64_t threads, Deadline deadline, bool resize, bool serialized,
                             const std::vector<std::uint64_t>& initial);
  void workload_failed(const StepResult& r);
  void stop_workloads();
  void wait_for_workloads();

  kit::Context& context_;
  std::string work_dir_;
  std::string store_dir_;
  std::uint64_t seed_;
  std::mt19937_64 rng_;
  kit::Records records_;
  bool created_ = false;
  Metric metric_ = Metric::l2;
  std::unique_ptr<Engine> engine_;
  std::atomic<bool> dirty_{false};  // changed since it was loaded or saved (workload threads add too)
  std::recursive_mutex call_mu_;

  std::mutex ids_mu_;
  std::uint64_t reserved_ids_ = 0;

  std::vector<std::thread> workers_;
  std::atomic<bool> stop_workers_{false};
  std::atomic<std::uint64_t> workload_adds_{0}, workload_searches_{0}, workload_removes_{0}, workload_resizes_{0};
  std::mutex workload_mu_;
  std::optional<StepResult> workload_error_;
};

// The index file's layout (--list layout, offset expressions) (layout.cc).
std::vector<kit::LayoutFile> hnswlib_layout();
const kit::LayoutFile* layout_of(std::string_view file);
// The names hnswlib's layout adds to offset expressions, read from the file at `path`:
// links (where the link-list section begins), vector(N), label(N), linklist(N).
kit::ExtraTerm extra_terms(const std::string& path);

// The --second-process entry point (second_process.cc).
int run_second_process(int argc, char** argv);

}  // namespace crashgate::hnswlib_driver
