// The records every driver adds, and the model of what must be in the store.
//
// Every driver adds the same record for the same (id, dim, seed): a vector of
// values in [-1, 1] and a `file_path` attribute, so that a cell means the same
// data on every engine and a finding in one engine can be replayed on another.
// The Python kit (crashgate_driver.py) computes the same values bit for bit.
//
// `Records` is the model `verify` checks against: the ids added and not removed
// since the store was created, each with the seed its vector came from (`add`
// takes a seed of its own). It is safe to use from several threads (a
// background workload adds while a step removes).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "crashgate/driver_kit.h"
#include "crashgate/record_model.h"

namespace crashgate::kit {

struct RecordData {
  std::uint64_t id = 0;
  std::vector<float> vector;
  std::string file_path;  // src/mcp_vector_search/module_NNNNNN/file_NNNNNNNN.py
  bool operator==(const RecordData&) const = default;
};

// The record a driver adds for `id`. Past 1,024 dimensions the first 1,024
// values repeat, so a huge store is generated in seconds.
RecordData record_for(std::uint64_t id, std::uint32_t dim, std::uint64_t seed);
std::string file_path_for(std::uint64_t id);

// What a driver's lookup found for one id.
struct Found {
  std::vector<float> vector;
  std::optional<std::string> file_path;  // absent: the engine keeps no attributes
};

// Looks one id up in the store: sets `found` to the record, or leaves it empty
// when the store does not have it; an engine error is returned as it is.
using Lookup = std::function<StepResult(std::uint64_t id, std::optional<Found>& found)>;

class Records {
 public:
  // A store of this dimension was created (or replaced): nothing is in it yet.
  void reset(std::uint32_t dim);
  // A store of this dimension was imported (the `import` op): its records are
  // unknown, so until it is created again the model checks only what was added
  // since. dim 0: not known yet (the driver learns it when it opens the store: set_dim).
  void imported(std::uint32_t dim);
  void set_dim(std::uint32_t dim);
  // False after an import: the store may hold records the model never saw.
  bool known() const;
  // From here on the model may not match the store record for record (outside
  // damage, a replaced file, a second process, a workload, a failpoint): the
  // oracles that compare answers exactly stand aside until the next reset.
  void unsure();
  // Known, and not unsure since the store was created: answers are checked exactly.
  bool exact() const;
  // holds(id), or true when the model does not know the store's records (after an import).
  bool may_hold(std::uint64_t id) const;
  void added(std::span<const std::uint64_t> ids, std::uint64_t seed);
  void removed(std::span<const std::uint64_t> ids);
  // The first id no record has used yet (ids of `add` without `ids`).
  std::uint64_t next_id() const;
  std::set<std::uint64_t> live() const;
  std::size_t size() const;
  bool holds(std::uint64_t id) const;
  std::uint32_t dim() const;
  // The record `id` must be (its vector from the seed it was added with); nullopt when not live
  // (nor, after expect(), one the crash may have kept).
  std::optional<RecordData> expected(std::uint64_t id) const;
  // Every `every`-th live id, in order (for `read what = get`).
  std::vector<std::uint64_t> sample(std::size_t every) const;

  // Every live record is there and exact (vector bit for bit, file_path when
  // the engine keeps it); every removed id is gone; `count`, when the engine
  // has one and the model knows the whole store (not after an import), agrees. The first difference is a wrong-result step error naming
  // the id and what differs; a lookup's own error ends the check as it is.
  StepResult verify(const Lookup& lookup, std::optional<std::uint64_t> count) const;

  // The model as a `records` event carries it (record_model.h); `metric` is the driver's.
  RecordModel snapshot(std::string metric = "") const;
  // A `verify` step's `acknowledged` key (after a crash, the store imported):
  // from here the model is what the crash must have kept, and the records it
  // may have kept are checked exact when there; count lies between the two.
  // The failure is an invalid-argument naming the key's problem.
  StepResult expect(const nlohmann::json& acknowledged);

 private:
  mutable std::mutex mu_;
  std::uint32_t dim_ = 0;
  std::map<std::uint64_t, std::uint64_t> live_;  // id -> the seed of its vector
  std::set<std::uint64_t> removed_;
  std::map<std::uint64_t, std::uint64_t> maybe_;  // after expect(): there or not; exact when there
  bool after_crash_ = false;                       // expect() set the model
  std::uint64_t next_id_ = 0;
  bool known_ = true;
  bool unsure_ = false;
};

}  // namespace crashgate::kit
