// The record model as a driver reports it while a run is recorded for crash
// states, and what a crash at one point of that run may leave of it.
//
// A driver (with CRASHGATE_MODEL_EVENTS=1) writes a `records` event after
// every step that ended ok: its model (the ids added and not removed, each
// with the seed of its vector; the ids removed) and whether the engine has now
// made that model durable (after a `sync`, or after every write of an engine
// that syncs each commit). crashgate reads those events from the recording
// and, for a crash point, works out what recovery must find:
//   must   acknowledged durable by the last durable event before the point,
//          and not touched by a step since: there, and exact
//   maybe  added or removed since that event, or by the step running at the
//          point: there or not, but exact when there (nothing torn)
//   gone   removed durably: never back
// The driver's `verify` takes that as its `acknowledged` key.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/checked.h"

namespace crashgate {

struct RecordModel {
  std::uint32_t dim = 0;
  std::string metric;                           // "" when the driver does not say
  std::map<std::uint64_t, std::uint64_t> live;  // id -> the seed of its vector
  std::set<std::uint64_t> removed;
};

// {"dim", "metric", "live": [[first, last, seed], ...], "removed": [[first, last], ...]}:
// runs of consecutive ids, so a store of a million records is a few numbers.
nlohmann::json model_to_json(const RecordModel& model);
// The failure names the key that is wrong ("live[3]: ...").
Checked<RecordModel> model_from_json(const nlohmann::json& j);

struct CrashExpectation {
  std::uint32_t dim = 0;
  std::string metric;
  std::map<std::uint64_t, std::uint64_t> must;   // id -> seed
  std::map<std::uint64_t, std::uint64_t> maybe;  // id -> seed
  std::set<std::uint64_t> gone;
  bool acknowledged = false;  // a durable event came before the point: something was promised
  std::string describe() const;  // "40 acknowledged, 10 in flight, 5 durably removed"
};

nlohmann::json expectation_to_json(const CrashExpectation& e);
Checked<CrashExpectation> expectation_from_json(const nlohmann::json& j);

// One `records` event of a recording: where it is in the log (the seq of the
// event call), whether the model it carries was durable when written.
struct ModelEvent {
  std::uint64_t at = 0;
  bool durable = false;
  RecordModel model;
};

// What recovery must find after a crash right after call `point`: from the
// last durable event before it, and every event after that one up to and
// including the first event after the point (the step running at the crash).
CrashExpectation expectation_at(const std::vector<ModelEvent>& events, std::uint64_t point);

}  // namespace crashgate
