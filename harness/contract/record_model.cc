// Record models as runs of ids, and what a crash may leave of one (record_model.h).
#include "crashgate/record_model.h"

#include <fmt/format.h>

namespace crashgate {
namespace {

using json = nlohmann::json;

json seeded_runs(const std::map<std::uint64_t, std::uint64_t>& ids) {
  json out = json::array();
  for (auto it = ids.begin(); it != ids.end();) {
    std::uint64_t first = it->first, last = it->first, seed = it->second;
    for (++it; it != ids.end() && it->first == last + 1 && it->second == seed; ++it) last = it->first;
    out.push_back({first, last, seed});
  }
  return out;
}

json plain_runs(const std::set<std::uint64_t>& ids) {
  json out = json::array();
  for (auto it = ids.begin(); it != ids.end();) {
    std::uint64_t first = *it, last = *it;
    for (++it; it != ids.end() && *it == last + 1; ++it) last = *it;
    out.push_back({first, last});
  }
  return out;
}

// Reads [[first, last(, seed)], ...] into `put(id, seed)`; runs of more than a
// hundred million ids are refused (no store a cell builds is that big, and a
// typo must not allocate the machine away).
template <class Put>
CheckedDone read_runs(const json& j, const char* key, bool seeded, Put put) {
  if (!j.contains(key)) return done();
  const json& runs = j[key];
  if (!runs.is_array()) return failure(fmt::format("{}: not a list of runs", key));
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const json& r = runs[i];
    std::size_t want = seeded ? 3 : 2;
    bool numbers = r.is_array() && r.size() == want;
    for (std::size_t k = 0; numbers && k < want; ++k) numbers = r[k].is_number_unsigned();
    if (!numbers)
      return failure(fmt::format("{}[{}]: {} is not [first, last{}] of unsigned numbers", key, i, r.dump(), seeded ? ", seed" : ""));
    std::uint64_t first = r[0], last = r[1];
    if (last < first || last - first >= 100'000'000)
      return failure(fmt::format("{}[{}]: {} .. {} is not a run of ids", key, i, first, last));
    std::uint64_t seed = seeded ? r[2].get<std::uint64_t>() : 0;
    for (std::uint64_t id = first;; ++id) {
      put(id, seed);
      if (id == last) break;
    }
  }
  return done();
}

CheckedDone read_head(const json& j, std::uint32_t& dim, std::string& metric) {
  if (!j.is_object()) return failure("not a JSON object");
  if (j.contains("dim")) {
    if (!j["dim"].is_number_unsigned() || j["dim"].get<std::uint64_t>() > (1u << 20))
      return failure(fmt::format("dim: {} is not a dimension", j["dim"].dump()));
    dim = j["dim"].get<std::uint32_t>();
  }
  if (j.contains("metric")) {
    if (!j["metric"].is_string()) return failure(fmt::format("metric: {} is not a string", j["metric"].dump()));
    metric = j["metric"].get<std::string>();
  }
  return done();
}

}  // namespace

json model_to_json(const RecordModel& model) {
  json out = {{"dim", model.dim}, {"live", seeded_runs(model.live)}, {"removed", plain_runs(model.removed)}};
  if (!model.metric.empty()) out["metric"] = model.metric;
  return out;
}

Checked<RecordModel> model_from_json(const json& j) {
  RecordModel m;
  if (CheckedDone d = read_head(j, m.dim, m.metric); !d) return failure(d.error());
  if (CheckedDone d = read_runs(j, "live", true, [&](std::uint64_t id, std::uint64_t seed) { m.live[id] = seed; }); !d)
    return failure(d.error());
  if (CheckedDone d = read_runs(j, "removed", false, [&](std::uint64_t id, std::uint64_t) { m.removed.insert(id); }); !d)
    return failure(d.error());
  return m;
}

std::string CrashExpectation::describe() const {
  if (!acknowledged && must.empty() && gone.empty())
    return fmt::format("nothing acknowledged yet ({} records in flight)", maybe.size());
  return fmt::format("{} records acknowledged, {} in flight, {} durably removed", must.size(), maybe.size(), gone.size());
}

json expectation_to_json(const CrashExpectation& e) {
  json out = {{"dim", e.dim},
              {"acknowledged", e.acknowledged},
              {"must", seeded_runs(e.must)},
              {"maybe", seeded_runs(e.maybe)},
              {"gone", plain_runs(e.gone)}};
  if (!e.metric.empty()) out["metric"] = e.metric;
  return out;
}

Checked<CrashExpectation> expectation_from_json(const json& j) {
  CrashExpectation e;
  if (CheckedDone d = read_head(j, e.dim, e.metric); !d) return failure(d.error());
  if (j.contains("acknowledged")) {
    if (!j["acknowledged"].is_boolean()) return failure("acknowledged: not true or false");
    e.acknowledged = j["acknowledged"].get<bool>();
  }
  if (CheckedDone d = read_runs(j, "must", true, [&](std::uint64_t id, std::uint64_t seed) { e.must[id] = seed; }); !d)
    return failure(d.error());
  if (CheckedDone d = read_runs(j, "maybe", true, [&](std::uint64_t id, std::uint64_t seed) { e.maybe[id] = seed; }); !d)
    return failure(d.error());
  if (CheckedDone d = read_runs(j, "gone", false, [&](std::uint64_t id, std::uint64_t) { e.gone.insert(id); }); !d)
    return failure(d.error());
  for (const auto& [id, seed] : e.must)
    if (e.maybe.count(id) || e.gone.count(id)) return failure(fmt::format("id {} is in must and in maybe or gone", id));
  for (std::uint64_t id : e.gone)
    if (e.maybe.count(id)) return failure(fmt::format("id {} is in gone and in maybe", id));
  return e;
}

CrashExpectation expectation_at(const std::vector<ModelEvent>& events, std::uint64_t point) {
  CrashExpectation e;
  const ModelEvent* base = nullptr;
  std::size_t from = 0;
  for (std::size_t i = 0; i < events.size() && events[i].at <= point; ++i)
    if (events[i].durable) {
      base = &events[i];
      from = i + 1;
    }
  // Every event since the durable one, through the first after the point.
  std::vector<const RecordModel*> window;
  for (std::size_t i = from; i < events.size(); ++i) {
    window.push_back(&events[i].model);
    if (events[i].at > point) break;
  }
  if (base) {
    e.acknowledged = true;
    e.dim = base->model.dim;
    e.metric = base->model.metric;
    e.gone = base->model.removed;
    for (const auto& [id, seed] : base->model.live) {
      bool kept = true;
      for (const RecordModel* m : window) {
        auto it = m->live.find(id);
        if (it == m->live.end() || it->second != seed) kept = false;
      }
      (kept ? e.must : e.maybe)[id] = seed;
    }
  }
  for (const RecordModel* m : window) {
    if (e.dim == 0) e.dim = m->dim;
    if (e.metric.empty()) e.metric = m->metric;
    for (const auto& [id, seed] : m->live) {
      if (e.must.count(id)) continue;
      e.maybe.emplace(id, seed);
      e.gone.erase(id);
    }
  }
  return e;
}

}  // namespace crashgate
