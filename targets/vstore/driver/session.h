// One cell's run against a vstore store: the steps, the records the driver
// has added (a model of what must be there), background workloads and second
// processes. Every random choice comes from the cell's seed.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/driver_kit.h"
#include "crashgate/filter_reference.h"
#include "crashgate/search_oracle.h"
#include "crashgate/store_import.h"
#include "vstore/filter.h"
#include "vstore/store.h"

namespace crashgate::vstore_driver {

using kit::Args;
using kit::StepResult;

// A step's end from an engine Status: its code name and message.
StepResult from_status(const vstore::Status& st);
// A step's end from an fsck report (Session::fsck, Session::invariants).
StepResult fsck_result(const vstore::FsckReport& report);

// The record the driver adds for `id`: the same for the same (id, dim, seed).
vstore::Record record_for(uint64_t id, uint32_t dim, uint64_t seed);

// A second process running the phased writes (crash_phases.h) with one site armed.
struct PhasedWrites {
  std::string site;
  std::string fault;                 // "crash", "error(EIO)", "short(7)", ...
  uint64_t hit = 1;                  // which evaluation of the site the fault hits
  std::string spec;                  // the VSTORE_FAILPOINTS spec built from those
  std::set<std::string> allowed;     // error codes that count as a clean error
  uint64_t first = 0;                // its first new id
  std::set<uint64_t> before;         // the model's live ids when it started
};

class Session {
 public:
  explicit Session(kit::Context& context);
  ~Session();
  // One handler per op (main.cc registers them with the driver kit).
  StepResult create(const Args& step);
  StepResult import_store(const Args& step);
  StepResult add(const Args& step);
  StepResult remove(const Args& step);
  StepResult count(const Args& step);
  StepResult get(const Args& step);
  StepResult verify(const Args& step);
  StepResult delete_where(const Args& step);
  StepResult search(const Args& step);
  StepResult truncate(const Args& step);
  StepResult corrupt(const Args& step);
  StepResult replace(const Args& step);
  StepResult read(const Args& step);
  StepResult append_empty_slots(const Args& step);
  StepResult failpoints(const Args& step);
  StepResult spawn_workload(const Args& step);
  StepResult second_process(const Args& step);
  StepResult sleep(const Args& step);
  StepResult sync();
  // The record model, for crash-state checks (kit::Driver::record_model).
  RecordModel model();
  StepResult compact();
  StepResult reopen();
  StepResult fsck();
  // check_invariants, after a step: fsck of the files as they are (the store
  // stays open: the committed state a crash here would leave) and, with the
  // model exact, the store's count against it.
  StepResult invariants();
  // Opens the store if it is closed (after reopen, truncate or corrupt).
  StepResult ensure_open();
  // Waits for workloads and second processes; an error if any went wrong.
  StepResult join();

 private:
  StepResult add_records(std::vector<uint64_t> ids, uint64_t seed, const nlohmann::json& metadata);
  StepResult run_searches(uint64_t queries, uint64_t k, uint64_t ef, const std::optional<std::string>& filter,
                          std::optional<double> min_recall);
  // The model knows the store record for record: created in this cell, and no
  // import, outside damage, replaced file, failpoint, second process or
  // workload since. Only then are answers checked against it exactly.
  bool model_exact();
  // From here on the model no longer knows the store exactly (until the next create).
  void model_unsure();
  uint64_t seed_of(uint64_t id) const;  // under model_mu_
  // Every 97th id the model holds, in id order: the records a `read` mode looks up.
  std::vector<uint64_t> live_sample();
  std::vector<kit::OracleRecord> oracle_records();
  std::vector<kit::FilterRecord> filter_records();
  StepResult delete_checked(const std::string& text, const vstore::Filter& filter);
  // With the model exact, a count the engine gave must be the model's; otherwise ok.
  StepResult count_against_model(uint64_t n);
  // What a workload thread may judge, fixed when it is spawned.
  struct WorkloadView {
    bool imported = false;       // the files' own records: ids are any, data unknown
    bool vectors_known = false;  // every record is record_for(id) with the cell's seed
  };
  // One round of a workload thread: the action (entry_points.cc's workload_actions) on the store.
  void workload_action(std::string_view action, std::mt19937_64& rng, const std::string& tag, const WorkloadView& view);
  void workload_fail(std::string what);
  // A live id of the model (nullopt when there is none); `take` also removes it from the model
  // (and leaves at least 10).
  std::optional<uint64_t> workload_live_id(std::mt19937_64& rng, bool take);
  StepResult plan_phased_writes(const nlohmann::json& args, PhasedWrites* plan);
  StepResult after_phased_writes(const PhasedWrites& plan, pid_t pid, const std::string& report_path);
  // The file and offset a truncate or corrupt step names (closing the store first).
  struct DamageTarget {
    std::string path;
    uint64_t offset = 0;
  };
  vstore::Result<DamageTarget> damage_target(const Args& step, const char* offset_key);
  void close_store();
  void forget(const std::vector<uint64_t>& ids);

  kit::Context& context_;
  std::string work_dir_;
  std::string store_dir_;
  uint64_t seed_;
  size_t worker_stack_;
  std::mt19937_64 rng_;
  uint32_t dim_ = 0;
  std::unique_ptr<vstore::Store> store_;

  // verify's `acknowledged`: the model becomes what the crash must have kept.
  StepResult expect_after_crash(const nlohmann::json& acknowledged);

  std::mutex model_mu_;
  std::set<uint64_t> live_;     // ids added and not removed
  std::set<uint64_t> removed_;  // ids whose removal is durable: they must never come back
  // The store was imported: records not in live_ are the files' own, whose data the model does not know.
  bool imported_ = false;
  bool unsure_ = false;  // see model_exact()
  // After a crash (verify's `acknowledged`): the records the crash may or may not have kept, with their seeds.
  std::map<uint64_t, uint64_t> maybe_;
  bool after_crash_ = false;
  // Ids added with another seed than the cell's, and the metadata each was added with (under model_mu_).
  std::map<uint64_t, uint64_t> seeds_;
  using Attributes = std::vector<std::pair<std::string, std::string>>;
  std::map<uint64_t, std::shared_ptr<const Attributes>> metadata_;
  std::atomic<uint64_t> next_id_{0};

  std::vector<std::thread> workers_;
  std::atomic<bool> stop_workers_{false};
  std::atomic<uint64_t> workload_errors_{0};
  std::string first_workload_error_;  // under model_mu_
  std::vector<pid_t> second_processes_;
};

// The engine's file layout for crashgate (--list layout, offset expressions), from vstore/testing.h.
std::vector<kit::LayoutFile> store_layout();
const kit::LayoutFile* layout_of(std::string_view file);

// --list failpoints|regressions: the engine's tables as JSON lines.
int print_failpoints();
int print_regressions();

// The --second-process entry point: runs one op on the store and exits.
int run_second_process(int argc, char** argv);

}  // namespace crashgate::vstore_driver
