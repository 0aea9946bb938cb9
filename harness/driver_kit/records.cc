#include "crashgate/driver_records.h"

#include <fmt/format.h>

#include <cstring>

namespace crashgate::kit {

std::string file_path_for(std::uint64_t id) {
  return fmt::format("src/mcp_vector_search/module_{:06}/file_{:08}.py", id / 1000, id);
}

RecordData record_for(std::uint64_t id, std::uint32_t dim, std::uint64_t seed) {
  RecordData r;
  r.id = id;
  r.vector.resize(dim);
  std::uint64_t x = (id + 1) * 0x9E3779B97F4A7C15ull ^ seed;
  for (std::uint32_t i = 0; i < dim; ++i) {
    if (i >= 1024) {
      r.vector[i] = r.vector[i % 1024];
      continue;
    }
    // splitmix64's mixing steps: cheap, and the same in Python's integers.
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    r.vector[i] = static_cast<float>(static_cast<std::int64_t>(x % 2001) - 1000) / 1000.0f;
  }
  r.file_path = file_path_for(id);
  return r;
}

void Records::reset(std::uint32_t dim) {
  std::lock_guard lock(mu_);
  dim_ = dim;
  live_.clear();
  removed_.clear();
  maybe_.clear();
  after_crash_ = false;
  next_id_ = 0;
  known_ = true;
  unsure_ = false;
}

void Records::imported(std::uint32_t dim) {
  reset(dim);
  std::lock_guard lock(mu_);
  known_ = false;
}

void Records::set_dim(std::uint32_t dim) {
  std::lock_guard lock(mu_);
  dim_ = dim;
}

bool Records::known() const {
  std::lock_guard lock(mu_);
  return known_;
}

void Records::unsure() {
  std::lock_guard lock(mu_);
  unsure_ = true;
}

bool Records::exact() const {
  std::lock_guard lock(mu_);
  return known_ && !unsure_;
}

bool Records::may_hold(std::uint64_t id) const {
  std::lock_guard lock(mu_);
  return !known_ || live_.count(id) > 0;
}

void Records::added(std::span<const std::uint64_t> ids, std::uint64_t seed) {
  std::lock_guard lock(mu_);
  for (std::uint64_t id : ids) {
    live_[id] = seed;
    removed_.erase(id);
    if (id >= next_id_) next_id_ = id + 1;
  }
}

void Records::removed(std::span<const std::uint64_t> ids) {
  std::lock_guard lock(mu_);
  for (std::uint64_t id : ids)
    if (live_.erase(id) > 0) removed_.insert(id);
}

std::uint64_t Records::next_id() const {
  std::lock_guard lock(mu_);
  return next_id_;
}

std::set<std::uint64_t> Records::live() const {
  std::lock_guard lock(mu_);
  std::set<std::uint64_t> ids;
  for (const auto& [id, seed] : live_) ids.insert(ids.end(), id);
  return ids;
}

std::size_t Records::size() const {
  std::lock_guard lock(mu_);
  return live_.size();
}

bool Records::holds(std::uint64_t id) const {
  std::lock_guard lock(mu_);
  return live_.count(id) > 0;
}

std::uint32_t Records::dim() const {
  std::lock_guard lock(mu_);
  return dim_;
}

std::optional<RecordData> Records::expected(std::uint64_t id) const {
  std::lock_guard lock(mu_);
  auto it = live_.find(id);
  if (it == live_.end()) {
    it = maybe_.find(id);  // after a crash, a record written since the acknowledgement
    if (it == maybe_.end()) return std::nullopt;
  }
  return record_for(id, dim_, it->second);
}

std::vector<std::uint64_t> Records::sample(std::size_t every) const {
  std::lock_guard lock(mu_);
  std::vector<std::uint64_t> ids;
  std::size_t i = 0;
  for (const auto& [id, seed] : live_)
    if (i++ % (every == 0 ? 1 : every) == 0) ids.push_back(id);
  return ids;
}

namespace {

// The first index at which two vectors differ bit for bit, or -1.
long first_difference(const std::vector<float>& a, const std::vector<float>& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return static_cast<long>(i);
  return a.size() == b.size() ? -1 : static_cast<long>(std::min(a.size(), b.size()));
}

}  // namespace

RecordModel Records::snapshot(std::string metric) const {
  std::lock_guard lock(mu_);
  RecordModel m;
  m.dim = dim_;
  m.metric = std::move(metric);
  m.live = live_;
  m.removed = removed_;
  return m;
}

StepResult Records::expect(const nlohmann::json& acknowledged) {
  Checked<CrashExpectation> e = expectation_from_json(acknowledged);
  if (!e) return StepResult::error("invalid-argument", "verify: acknowledged: " + e.error());
  std::lock_guard lock(mu_);
  if (e->dim != 0 && dim_ != 0 && e->dim != dim_)
    return StepResult::error("invalid-argument", fmt::format("verify: acknowledged records of dimension {}, but the store's is {}", e->dim, dim_));
  if (e->dim != 0) dim_ = e->dim;
  live_ = e->must;
  maybe_ = e->maybe;
  removed_ = e->gone;
  next_id_ = 0;
  for (const auto* ids : {&live_, &maybe_})
    if (!ids->empty()) next_id_ = std::max(next_id_, ids->rbegin()->first + 1);
  known_ = true;
  unsure_ = true;  // the maybe records leave answers open
  after_crash_ = true;
  return StepResult::ok();
}

StepResult Records::verify(const Lookup& lookup, std::optional<std::uint64_t> count) const {
  std::map<std::uint64_t, std::uint64_t> live, maybe;
  std::set<std::uint64_t> removed;
  std::uint32_t dim;
  bool known, after_crash;
  {
    std::lock_guard lock(mu_);
    after_crash = after_crash_;
    live = live_;
    maybe = maybe_;
    removed = removed_;
    dim = dim_;
    known = known_;
  }
  std::size_t maybe_there = 0;
  for (const auto& [id, seed] : maybe) {
    std::optional<Found> found;
    if (StepResult r = lookup(id, found); !r.is_ok) return r;
    if (!found) continue;
    ++maybe_there;
    RecordData want = record_for(id, dim, seed);
    if (long at = first_difference(found->vector, want.vector); at >= 0)
      return StepResult::error("wrong-result", fmt::format("verify: id {} (written since the last acknowledged sync) is there but torn: "
                                                           "{}", id, found->vector.size() != want.vector.size()
                                                                    ? fmt::format("{} values, not {}", found->vector.size(), want.vector.size())
                                                                    : fmt::format("value {} is {}, not {}", at, found->vector[at], want.vector[at])));
  }
  for (const auto& [id, seed] : live) {
    std::optional<Found> found;
    if (StepResult r = lookup(id, found); !r.is_ok) return r;
    if (!found)
      return StepResult::error("wrong-result", after_crash
                                                   ? fmt::format("verify: id {} was acknowledged durable before the crash, and is missing", id)
                                                   : fmt::format("verify: id {} was added and not removed, and is missing", id));
    const Found& f = *found;
    RecordData want = record_for(id, dim, seed);
    if (long at = first_difference(f.vector, want.vector); at >= 0)
      return StepResult::error(
          "wrong-result",
          f.vector.size() != want.vector.size()
              ? fmt::format("verify: id {} has {} values, not {}", id, f.vector.size(), want.vector.size())
              : fmt::format("verify: id {} differs at value {}: {} instead of {}", id, at, f.vector[at], want.vector[at]));
    if (f.file_path && *f.file_path != want.file_path)
      return StepResult::error("wrong-result",
                               fmt::format("verify: id {} has file_path '{}', not '{}'", id, *f.file_path, want.file_path));
  }
  for (std::uint64_t id : removed) {
    std::optional<Found> found;
    if (StepResult r = lookup(id, found); !r.is_ok) return r;
    if (found)
      return StepResult::error("wrong-result", after_crash ? fmt::format("verify: id {} was removed durably before the crash, and is back", id)
                                                           : fmt::format("verify: id {} was removed and is still there", id));
  }
  if (count && known && *count != live.size() + maybe_there)
    return StepResult::error("wrong-result",
                             maybe.empty() ? fmt::format("verify: the store counts {} records; {} were added and not removed", *count, live.size())
                                           : fmt::format("verify: the store counts {} records; it holds {} acknowledged and {} of those "
                                                         "written since, and nothing else may be there", *count, live.size(), maybe_there));
  return StepResult::ok();
}

}  // namespace crashgate::kit
