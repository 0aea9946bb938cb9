// One cell's run against a FAISS index: the index in memory, the file it is
// written to (WORK_DIR/store/index.faiss, or create's `store`), the records the
// driver added (the kit's Records model) and the steps. Every random choice
// comes from the cell's seed.
//
// Index types (create's `metric`, see main.cc for why that key):
//   flat-l2  IndexIDMap2(IndexFlatL2)       exact search; remove; reconstruct by id
//   hnsw-l2  IndexIDMap2(IndexHNSWFlat(m))  m (default 16), ef_construction (default 40);
//                                           no remove (HNSW has no remove_ids: `unsupported`)
//   ivf-l2   IndexIVFFlat(IndexFlatL2, nlist 16), a hashtable direct map (reconstruct
//                                           and remove by any id), nprobe 4, trained at
//                                           create on the records' vectors (at least 64)
// The ids are the records' ids (add_with_ids); the records' file_path
// attributes are not kept: FAISS stores vectors and ids only (verify checks the
// vectors bit for bit, and get/verify report no attributes).
//
// Durability: the file is what write_index last wrote. `sync` writes it;
// closing the index (reopen, truncate, corrupt, replace, second-process) writes
// it first when anything changed since, as a program that saves its index on
// exit does, so the model is always what the file should hold once closed.
// A load is read_index of the file.
//
// Threads: FAISS's CPU indexes allow concurrent searches, but not an add or a
// remove beside a search (FAISS's wiki, "Threads and asynchronous calls").
// Every step takes `index_mu_` (shared to read, alone to change or close the
// index); the workloads (workloads.cc) do too, except `mixed-unlocked`, which
// adds beside searches with no lock, as a user who missed that note would.
#pragma once

#include <faiss/Index.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
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

namespace crashgate::faiss_driver {

using kit::Args;
using kit::StepResult;
using idx_t = faiss::Index::idx_t;  // FAISS 1.7.3 has it in Index, not yet in the namespace

enum class IndexType { flat, hnsw, ivf };
std::string_view type_name(IndexType t);  // "flat", "hnsw", "ivf": also the layout's file kinds

inline constexpr std::uint64_t kNlist = 16;
inline constexpr std::uint64_t kNprobe = 4;
inline constexpr std::uint64_t kDefaultM = 16;
inline constexpr std::uint64_t kDefaultEfConstruction = 40;

class Session {
 public:
  explicit Session(kit::Context& context);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // The records (store_ops.cc).
  StepResult create(const Args& step);
  // A copy of `from`'s index.faiss becomes the store, not loaded (import.cc).
  StepResult import_store(const Args& step);
  StepResult add(const Args& step);
  StepResult remove(const Args& step);
  StepResult count(const Args& step);
  StepResult get(const Args& step);
  StepResult search(const Args& step);
  StepResult verify(const Args& step);
  StepResult read(const Args& step);
  StepResult sync();  // write_index, then fsync of the file and the store's directory
  // The record model, for crash-state checks (kit::Driver::record_model).
  RecordModel model() const;
  StepResult reopen();
  StepResult sleep(const Args& step);
  // Loads the index if it is closed (after reopen, truncate, corrupt or replace).
  StepResult ensure_open();
  // Workloads and the second process (workloads.cc).
  StepResult spawn_workload(const Args& step);
  StepResult second_process(const Args& step);
  StepResult join();
  // Damage from outside (damage.cc).
  StepResult truncate(const Args& step);
  StepResult corrupt(const Args& step);
  StepResult replace(const Args& step);

  std::string index_path() const { return store_dir_ + "/index.faiss"; }

 private:
  // store_ops.cc
  StepResult load();            // read_index of the file; the caller holds index_mu_ alone
  StepResult save(std::string_view doing);  // write_index to the file; the caller holds index_mu_
  StepResult close_index();     // stops workloads, saves when dirty, drops the index
  StepResult add_records(const std::vector<std::uint64_t>& ids, std::uint64_t seed);  // holds index_mu_ alone
  std::uint64_t allocate_ids(std::uint64_t n);
  // After an import: the ids allocate_ids hands out start past the loaded index's largest; the caller holds index_mu_.
  void skip_imported_ids();
  // Whether the index holds `id` (the id map's reverse map, or the IVF's direct map); the caller holds index_mu_.
  bool index_has(std::uint64_t id) const;
  StepResult lookup(std::uint64_t id, std::optional<kit::Found>& found) const;  // the caller holds index_mu_
  // `queries` searches of k; every hit a live id of the model (`strict`) or an id ever handed out; nearest first.
  StepResult run_searches(faiss::Index& index, std::uint64_t queries, std::uint64_t k, std::mt19937_64& rng, bool strict,
                          std::string_view doing) const;
  // The queries in q (queries × the index's d), each hit checked as run_searches does; `returned`, when given, gets each query's ids.
  StepResult search_batch(faiss::Index& index, const std::vector<float>& q, std::uint64_t queries, std::uint64_t k, bool strict,
                          std::string_view doing, std::vector<std::vector<std::uint64_t>>* returned) const;
  StepResult scan_all();

  // damage.cc
  StepResult damage_target(const Args& step, const char* offset_key, std::string& path, std::uint64_t& offset);
  StepResult make_foreign(const std::string& path);

  // workloads.cc
  using Deadline = std::chrono::steady_clock::time_point;
  void workload_failed(const StepResult& r);
  void stop_workloads();
  void wait_for_workloads();
  StepResult kill_during_save(const Args& step);

  kit::Context& context_;
  std::string work_dir_;
  std::string store_dir_;
  std::uint64_t seed_;
  std::mt19937_64 rng_;
  kit::Records records_;
  bool created_ = false;
  IndexType type_ = IndexType::flat;
  std::uint32_t dim_ = 0;

  mutable std::shared_mutex index_mu_;  // shared: the index is read; alone: it changes, loads or closes
  std::unique_ptr<faiss::Index> index_;
  std::atomic<bool> dirty_{false};  // changed since the file was written

  mutable std::mutex ids_mu_;
  std::uint64_t reserved_ids_ = 0;

  std::vector<std::thread> workers_;
  std::atomic<bool> stop_workers_{false};
  std::atomic<std::uint64_t> workload_searches_{0}, workload_adds_{0};
  std::mutex workload_mu_;
  std::optional<StepResult> workload_error_;
};

// The layout of the three index files (--list layout) (layout.cc), and the
// engine's own offset term: at(FIELD), where FIELD is in the file on disk now.
std::vector<kit::LayoutFile> faiss_layout();
const kit::LayoutFile* layout_of(std::string_view file);
kit::ExtraTerm walk_terms(const std::string& path);

// OpenMP on one thread, for the calling thread (libgomp keeps the setting per thread).
void omp_one_thread();

// The entry point of `crashgate-driver-faiss --second-process ACTION ...` (workloads.cc).
int run_second_process(int argc, char** argv);

}  // namespace crashgate::faiss_driver
