// One cell's run against a vstore store: the steps, the records the driver
// has added (a model of what must be there), background workloads and second
// processes. Every random choice comes from the cell's seed.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "event_pipe.h"
#include "vstore/store.h"

namespace crashgate::vstore_driver {

// How a step ended: ok, or an error with a code (an engine Status code, or
// "wrong-result" when the engine answered but the answer was wrong).
struct StepOutcome {
  bool ok = true;
  std::string code;
  std::string message;
  // A second process died of this signal: the driver exits 128 + it without
  // ending the step, so the runner explains the crash it traced in that process.
  int descendant_signal = 0;
  static StepOutcome Ok() { return {}; }
  static StepOutcome Error(std::string code, std::string message) { return {false, std::move(code), std::move(message)}; }
  static StepOutcome From(const vstore::Status& st);
};

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
  Session(std::string work_dir, uint64_t seed, size_t worker_stack, EventPipe* events);
  ~Session();
  StepOutcome run(const nlohmann::json& step);
  // Waits for workloads and second processes; an error if any went wrong.
  StepOutcome join();

 private:
  StepOutcome dispatch(const nlohmann::json& step);
  StepOutcome create(const nlohmann::json& step);
  StepOutcome add(const nlohmann::json& step);
  StepOutcome remove(const nlohmann::json& step);
  StepOutcome count(const nlohmann::json& step);
  StepOutcome get(const nlohmann::json& step);
  StepOutcome verify(const nlohmann::json& step);
  StepOutcome delete_where(const nlohmann::json& step);
  StepOutcome search(const nlohmann::json& step);
  StepOutcome truncate(const nlohmann::json& step);
  StepOutcome corrupt(const nlohmann::json& step);
  StepOutcome spawn_workload(const nlohmann::json& step);
  StepOutcome second_process(const nlohmann::json& step);
  StepOutcome sleep(const nlohmann::json& step);
  StepOutcome replace(const nlohmann::json& step);
  StepOutcome fsck();
  StepOutcome read(const nlohmann::json& step);
  StepOutcome plan_phased_writes(const nlohmann::json& args, PhasedWrites* plan);
  StepOutcome after_phased_writes(const PhasedWrites& plan, pid_t pid, const std::string& report_path);
  // The file and offset a truncate or corrupt step names (closing the store first).
  struct DamageTarget {
    std::string path;
    uint64_t offset = 0;
  };
  vstore::Result<DamageTarget> damage_target(const nlohmann::json& step, const char* offset_key);
  // Opens the store if it is closed (after reopen, truncate or corrupt).
  StepOutcome ensure_open();
  void close_store();
  // Removes ids from the model of live records.
  void forget(const std::vector<uint64_t>& ids);

  std::string work_dir_;
  std::string store_dir_;
  uint64_t seed_;
  size_t worker_stack_;
  EventPipe* events_;
  std::mt19937_64 rng_;
  uint32_t dim_ = 0;
  std::unique_ptr<vstore::Store> store_;

  std::mutex model_mu_;
  std::set<uint64_t> live_;     // ids added and not removed
  std::set<uint64_t> removed_;  // ids whose removal is durable: they must never come back
  std::atomic<uint64_t> next_id_{0};

  std::vector<std::thread> workers_;
  std::atomic<bool> stop_workers_{false};
  std::atomic<uint64_t> workload_errors_{0};
  std::string first_workload_error_;  // under model_mu_
  std::vector<pid_t> second_processes_;
};

// Parses "100ms", "2s", "1m" or a number of milliseconds; false otherwise.
bool parse_duration_ms(const nlohmann::json& v, uint64_t* ms);

// --list failpoints|regressions: the engine's tables as JSON lines.
int print_listing(const std::string& what);

// Recomputes the header checksum of a store file (and MANIFEST's list checksum).
StepOutcome rechecksum_header(const std::string& path, const std::string& logical);

// The --second-process entry point: runs one op on the store and exits.
int run_second_process(int argc, char** argv);

}  // namespace crashgate::vstore_driver
