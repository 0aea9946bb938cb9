#include "session.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "crashgate/driver_records.h"
#include "entry_points.h"
#include "vstore/failpoint.h"
#include "vstore/filter.h"
#include "vstore/search.h"
#include "vstore/testing.h"

namespace crashgate::vstore_driver {

using nlohmann::json;
using vstore::Code;
using vstore::Record;
using vstore::Status;

StepResult from_status(const Status& st) {
  if (st.ok()) return StepResult::ok();
  return StepResult::error(std::string(vstore::code_name(st.code())), st.message());
}

Record record_for(uint64_t id, uint32_t dim, uint64_t seed) {
  // The kit's record: the same data every driver adds for (id, dim, seed).
  kit::RecordData data = kit::record_for(id, dim, seed);
  Record r;
  r.id = id;
  r.vector = std::move(data.vector);
  r.attributes.push_back({"file_path", std::move(data.file_path)});
  return r;
}

Session::Session(kit::Context& context)
    : context_(context),
      work_dir_(context.work_dir),
      store_dir_(work_dir_ + "/store"),
      seed_(context.seed),
      worker_stack_(context.worker_stack),
      rng_(context.seed) {}

Session::~Session() { (void)join(); }

StepResult Session::append_empty_slots(const Args& step) {
  // A huge store without writing it: empty slots on a sparse file.
  uint64_t slots = step.u64("slots", 0);
  StepResult o = from_status(vstore::testing::append_empty_slots(*store_, slots));
  if (o.is_ok) context_.log(fmt::format("appended {} empty slots", slots));
  return o;
}

StepResult Session::failpoints(const Args& step) {
  // What a failpoint made fail, or half-do, the model cannot say.
  if (!step.string("spec").empty()) model_unsure();
  return from_status(vstore::configure_failpoints(step.string("spec")));
}

bool Session::model_exact() {
  std::lock_guard lock(model_mu_);
  return !imported_ && !unsure_ && workers_.empty() && second_processes_.empty();
}

void Session::model_unsure() {
  std::lock_guard lock(model_mu_);
  unsure_ = true;
}

uint64_t Session::seed_of(uint64_t id) const {
  auto it = seeds_.find(id);
  return it == seeds_.end() ? seed_ : it->second;
}

std::vector<kit::OracleRecord> Session::oracle_records() {
  std::lock_guard lock(model_mu_);
  std::vector<kit::OracleRecord> out;
  out.reserve(live_.size());
  for (uint64_t id : live_) out.push_back({id, kit::record_for(id, dim_, seed_of(id)).vector});
  return out;
}

std::vector<kit::FilterRecord> Session::filter_records() {
  // The attributes in the order add_records gives them to the engine.
  std::lock_guard lock(model_mu_);
  std::vector<kit::FilterRecord> out;
  out.reserve(live_.size());
  for (uint64_t id : live_) {
    kit::FilterRecord r{id, {{"file_path", kit::file_path_for(id)}}};
    if (auto it = metadata_.find(id); it != metadata_.end()) r.attributes.insert(r.attributes.end(), it->second->begin(), it->second->end());
    out.push_back(std::move(r));
  }
  return out;
}

StepResult Session::sync() { return from_status(store_->sync()); }

StepResult Session::compact() { return from_status(store_->compact()); }

StepResult Session::reopen() {
  close_store();
  return ensure_open();
}

void Session::forget(const std::vector<uint64_t>& ids) {
  std::lock_guard lock(model_mu_);
  for (uint64_t id : ids) live_.erase(id);
}

StepResult Session::ensure_open() {
  if (store_) return StepResult::ok();
  vstore::Result<std::unique_ptr<vstore::Store>> s = vstore::Store::open(store_dir_);
  if (!s.ok()) return from_status(s.status());
  store_ = std::move(s).value();
  dim_ = store_->dim();
  return StepResult::ok();
}

void Session::close_store() {
  if (!store_) return;
  store_->close().ignore();
  store_.reset();
}

StepResult Session::create(const Args& step) {
  vstore::CreateOptions o;
  o.dim = static_cast<uint32_t>(step.u64("dim", 64));
  std::string metric = step.string("metric", "l2");
  if (!vstore::parse_metric(metric, &o.metric)) return StepResult::error("invalid-argument", fmt::format("unknown metric '{}'", metric));
  o.index.enabled = step.boolean("hnsw", true);  // not "index": every step has its own index
  o.index.m = static_cast<uint32_t>(step.u64("m", o.index.m));
  o.index.ef_construction = static_cast<uint32_t>(step.u64("ef_construction", o.index.ef_construction));
  if (step.has("store")) store_dir_ = work_dir_ + "/" + step.string("store");
  vstore::Result<std::unique_ptr<vstore::Store>> s = vstore::Store::create(store_dir_, o);
  if (!s.ok()) return from_status(s.status());
  store_ = std::move(s).value();
  dim_ = o.dim;
  {
    // A new store: the model is its records, none yet.
    std::lock_guard lock(model_mu_);
    imported_ = false;
    unsure_ = false;
    live_.clear();
    removed_.clear();
    seeds_.clear();
    metadata_.clear();
    maybe_.clear();
    after_crash_ = false;
  }
  next_id_ = 0;
  std::vector<uint64_t> ids(step.u64("vectors", 0));
  for (uint64_t& id : ids) id = next_id_++;
  StepResult added = add_records(std::move(ids), step.u64("seed", seed_), json::object());
  if (!added.is_ok) return added;
  return from_status(store_->sync());
}

StepResult Session::import_store(const Args& step) {
  // The files of `from` become the store, closed: the next store op opens
  // them as vstore::Store::open opens any store, so damage shows there.
  // MANIFEST holds the dimension and the metric; a MANIFEST too short to
  // hold them says nothing, and the open judges it.
  std::string from = step.string("from");
  const kit::LayoutFile* manifest = layout_of("manifest");
  auto field = [&](std::string_view name) -> std::optional<uint64_t> {
    auto v = kit::read_field(*manifest, from + "/" + manifest->pattern, name);
    return v ? std::optional<uint64_t>(*v) : std::nullopt;
  };
  kit::FromFiles<uint64_t> dim_in_files{field("dim"), "MANIFEST's dim"};
  kit::FromFiles<std::string> metric_in_files{std::nullopt, "MANIFEST's metric"};
  if (auto m = field("metric"); m && *m >= 1 && *m <= 3) metric_in_files.value = std::string(vstore::metric_name(static_cast<vstore::Metric>(*m)));
  uint64_t dim = 0;
  std::string metric;
  if (StepResult r = kit::settle_import_key(step, "dim", dim_in_files, 64, dim); !r.is_ok) return r;
  if (StepResult r = kit::settle_import_key(step, "metric", metric_in_files, "l2", metric); !r.is_ok) return r;
  if (vstore::Metric parsed; !vstore::parse_metric(metric, &parsed))
    return StepResult::error("invalid-argument", fmt::format("unknown metric '{}'", metric));
  close_store();
  if (step.has("store")) store_dir_ = work_dir_ + "/" + step.string("store");
  if (StepResult r = kit::import_store_files(from, store_dir_); !r.is_ok) return r;
  dim_ = static_cast<uint32_t>(dim);
  {
    std::lock_guard lock(model_mu_);
    live_.clear();
    removed_.clear();
    maybe_.clear();
    after_crash_ = false;
    imported_ = true;
  }
  next_id_ = 0;
  context_.log(fmt::format("imported {} into {}: {} dimensions, {} (the open will read them)", from, store_dir_, dim, metric));
  return StepResult::ok();
}

StepResult Session::add(const Args& step) {
  std::vector<uint64_t> ids = step.u64_list("ids");
  bool imported = false;
  {
    std::lock_guard lock(model_mu_);
    imported = imported_;
  }
  if (!step.has("ids") && imported) {
    // The files' own ids are not the model's: new ones pass over every id the store holds (contains is O(1)).
    for (uint64_t n = step.u64("vectors", 100); ids.size() < n;)
      if (uint64_t id = next_id_++; !store_->contains(id)) ids.push_back(id);
  } else if (!step.has("ids")) {
    uint64_t n = step.u64("vectors", 100);
    uint64_t first = next_id_.fetch_add(n);
    for (uint64_t i = 0; i < n; ++i) ids.push_back(first + i);
  }
  return add_records(std::move(ids), step.u64("seed", seed_), step.table("metadata"));
}

StepResult Session::add_records(std::vector<uint64_t> ids, uint64_t seed, const json& metadata) {
  if (ids.empty()) return StepResult::ok();  // (and the next id stays where it is)
  auto attributes = std::make_shared<Attributes>();
  for (auto& [k, v] : metadata.items()) attributes->push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
  std::vector<Record> batch;
  for (uint64_t id : ids) {
    Record r = record_for(id, dim_, seed);
    for (const auto& [k, v] : *attributes) r.attributes.push_back({k, v});
    batch.push_back(std::move(r));
    if (batch.size() == 10000 || id == ids.back()) {
      Status st = store_->add(batch);
      if (!st.ok()) {
        model_unsure();  // a failed batch may be in part
        return from_status(st);
      }
      std::lock_guard lock(model_mu_);
      for (const Record& added : batch) {
        live_.insert(added.id);
        removed_.erase(added.id);
        if (seed != seed_) seeds_[added.id] = seed;
        else seeds_.erase(added.id);
        if (!attributes->empty()) metadata_[added.id] = attributes;
        else metadata_.erase(added.id);
      }
      batch.clear();
    }
  }
  uint64_t max_id = ids.empty() ? 0 : *std::max_element(ids.begin(), ids.end());
  uint64_t want = max_id + 1;
  for (uint64_t cur = next_id_.load(); cur < want && !next_id_.compare_exchange_weak(cur, want);) {
  }
  return StepResult::ok();
}

StepResult Session::remove(const Args& step) {
  std::vector<uint64_t> ids = step.u64_list("ids");
  if (!step.has("ids")) {
    std::lock_guard lock(model_mu_);
    std::vector<uint64_t> live(live_.begin(), live_.end());
    std::shuffle(live.begin(), live.end(), rng_);
    live.resize(std::min<size_t>(live.size(), step.u64("count", 1)));
    ids = live;
  }
  bool exact = model_exact();
  uint64_t live_before = 0;
  if (exact) {
    std::lock_guard lock(model_mu_);
    std::set<uint64_t> distinct(ids.begin(), ids.end());
    for (uint64_t id : distinct) live_before += live_.count(id);
  }
  vstore::Result<uint64_t> n = store_->remove(ids);
  if (!n.ok()) return from_status(n.status());
  forget(ids);
  if (exact && *n != live_before)
    return StepResult::error("wrong-result", fmt::format("remove of {} ids removed {} records; {} of them were live", ids.size(), *n, live_before));
  return StepResult::ok();
}

StepResult Session::count(const Args& step) {
  uint64_t n = store_->count();
  context_.log(fmt::format("count = {}", n));
  if (step.has("equals") && n != step.u64("equals", 0))
    return StepResult::error("wrong-result", fmt::format("count() is {}, expected {}", n, step.u64("equals", 0)));
  return count_against_model(n);
}

StepResult Session::count_against_model(uint64_t n) {
  if (!model_exact()) return StepResult::ok();
  std::lock_guard lock(model_mu_);
  if (n != live_.size())
    return StepResult::error("wrong-result", fmt::format("count() is {}, but {} records were added and not removed", n, live_.size()));
  return StepResult::ok();
}

StepResult Session::get(const Args& step) {
  // Any engine error ends the step as it is; with the model exact, what a get
  // finds (or does not) must also be what was added (or removed).
  bool exact = model_exact();
  for (uint64_t id : step.u64_list("ids")) {
    vstore::Result<Record> r = store_->get(id);
    bool live = false;
    uint64_t seed = seed_;
    if (exact) {
      std::lock_guard lock(model_mu_);
      live = live_.count(id) > 0;
      seed = seed_of(id);
    }
    if (exact && live && r.ok() && r->vector != record_for(id, dim_, seed).vector)
      return StepResult::error("wrong-result", fmt::format("get({}) returned another vector than the one added", id));
    if (exact && live && !r.ok() && r.status().code() == Code::not_found)
      return StepResult::error("wrong-result", fmt::format("get({}): not found, but it was added and not removed", id));
    if (exact && !live && r.ok())
      return StepResult::error("wrong-result", fmt::format("get({}) found a record the model does not have (never added, or removed)", id));
    if (!r.ok()) return from_status(r.status());
  }
  return StepResult::ok();
}

StepResult Session::expect_after_crash(const nlohmann::json& acknowledged) {
  Checked<CrashExpectation> e = expectation_from_json(acknowledged);
  if (!e) return StepResult::error("invalid-argument", "verify: acknowledged: " + e.error());
  if (e->dim != 0 && dim_ != 0 && e->dim != dim_)
    return StepResult::error("invalid-argument", fmt::format("verify: acknowledged records of dimension {}, but the store's is {}", e->dim, dim_));
  std::lock_guard lock(model_mu_);
  live_.clear();
  seeds_.clear();
  for (const auto& [id, seed] : e->must) {
    live_.insert(id);
    if (seed != seed_) seeds_[id] = seed;
  }
  removed_ = e->gone;
  maybe_ = e->maybe;
  imported_ = false;
  unsure_ = true;  // the records the crash may have kept leave answers open
  after_crash_ = true;
  return StepResult::ok();
}

RecordModel Session::model() {
  std::lock_guard lock(model_mu_);
  RecordModel m;
  m.dim = dim_;
  for (uint64_t id : live_) m.live[id] = seed_of(id);
  m.removed = removed_;
  return m;
}

StepResult Session::verify(const Args& step) {
  // Every record the driver knows to be live is there and exact; every record
  // there at all is exactly what was added (none torn, none foreign); count()
  // agrees with what a scan finds. After an import the records the files
  // brought are the model's unknowns: they must scan and count, not match.
  // After a crash, `acknowledged` is the model (crashgate crash-check).
  if (step.op().name == "verify" && step.has("acknowledged"))
    if (StepResult r = expect_after_crash(step.table("acknowledged")); !r.is_ok) return r;
  std::set<uint64_t> live, removed;
  std::map<uint64_t, uint64_t> maybe;
  bool imported = false, after_crash = false;
  {
    std::lock_guard lock(model_mu_);
    live = live_;
    removed = removed_;
    imported = imported_;
    maybe = maybe_;
    after_crash = after_crash_;
  }
  uint64_t scanned = 0;
  std::string bad;
  Status st = store_->scan([&](const vstore::RecordRef& r) {
    ++scanned;
    if (removed.count(r.id())) {
      bad = fmt::format("record {} was removed, durably, and is back", r.id());
      return false;
    }
    if (imported && !live.count(r.id())) return true;
    std::vector<float> v(r.vector().begin(), r.vector().end());
    if (after_crash && !live.count(r.id())) {
      auto m = maybe.find(r.id());
      if (m == maybe.end()) bad = fmt::format("record {} is there, and no step before the crash wrote it", r.id());
      else if (v != record_for(r.id(), dim_, m->second).vector)
        bad = fmt::format("record {} (written since the last acknowledged sync) is there but torn", r.id());
      return bad.empty();
    }
    uint64_t seed = seed_;
    {
      std::lock_guard lock(model_mu_);
      seed = seed_of(r.id());
    }
    if (v != record_for(r.id(), dim_, seed).vector) {
      bad = fmt::format("record {} comes back different from what was added", r.id());
      return false;
    }
    return true;
  });
  if (!st.ok()) return from_status(st);
  if (!bad.empty()) return StepResult::error("wrong-result", bad);
  for (uint64_t id : live) {
    vstore::Result<Record> r = store_->get(id);
    if (!r.ok()) {
      if (r.status().code() == Code::not_found) return StepResult::error("wrong-result", fmt::format("record {} was added (and synced) and never removed, but is missing", id));
      return from_status(r.status());
    }
  }
  if (store_->count() != scanned)
    return StepResult::error("wrong-result", fmt::format("count() is {} but a scan finds {} records", store_->count(), scanned));
  return StepResult::ok();
}

StepResult Session::delete_where(const Args& step) {
  std::string tmpl = step.string("filter");
  uint64_t clauses = step.u64("clauses", 1);
  std::string shape = step.string("shape", "or");
  auto instance = [&](uint64_t i) {
    std::string c = tmpl;
    for (size_t p; (p = c.find("%i")) != std::string::npos;) c.replace(p, 2, fmt::format("{:08}", i));
    for (size_t p; (p = c.find("%m")) != std::string::npos;) c.replace(p, 2, fmt::format("{:06}", i / 1000));
    return c;
  };
  std::string text;
  if (shape == "nested") {
    // `clauses` levels of parentheses around one predicate.
    text = std::string(clauses, '(') + instance(0) + std::string(clauses, ')');
  } else if (shape == "not") {
    // `clauses` NOTs (round up to even: the predicate keeps its meaning).
    for (uint64_t i = 0; i < clauses + (clauses % 2); ++i) text += "NOT ";
    text += instance(0);
  } else if (shape == "in" || shape == "not-in") {
    // One [NOT] IN list of `clauses` values: `filter` is the field name, values as %i/%m name the driver's paths.
    std::string field = step.string("field", "file_path");
    text = field + (shape == "in" ? " IN (" : " NOT IN (");
    // The values are the quoted part of `filter`: file_path = '...%i...'.
    auto value = [&](uint64_t i) {
      std::string c = instance(i);
      size_t open = c.find('\''), close = c.rfind('\'');
      return open != std::string::npos && close > open ? c.substr(open + 1, close - open - 1) : c;
    };
    for (uint64_t i = 0; i < std::max<uint64_t>(clauses, 1); ++i) text += (i ? ", '" : "'") + value(i) + "'";
    text += ")";
  } else if (shape == "and-or") {
    // a OR (b AND (c OR (d AND ...))): alternating connectives, `clauses` deep.
    uint64_t n = std::max<uint64_t>(clauses, 1);
    for (uint64_t i = 0; i + 1 < n; ++i) text += instance(i) + (i % 2 ? " AND (" : " OR (");
    text += instance(n - 1) + std::string(n - 1, ')');
  } else if (shape != "or" && shape != "and") {
    return StepResult::error("invalid-argument",
                             fmt::format("delete: shape must be or, and, nested, not, in, not-in or and-or, not '{}'", shape));
  } else if (clauses <= 1 && tmpl.find('%') == std::string::npos) {
    text = tmpl;
  } else {
    // `clauses` copies OR-ed (AND-ed for shape "and"), %i replaced by the
    // copy's number (8 digits) and %m by number / 1000 (6 digits), as the
    // driver names its records' file_path: the field's 31,985-clause
    // `file_path = '...' OR ...` delete, or a `!=` chain.
    for (uint64_t i = 0; i < std::max<uint64_t>(clauses, 1); ++i) {
      if (i) text += shape == "and" ? " AND " : " OR ";
      std::string c = tmpl;
      for (size_t p; (p = c.find("%i")) != std::string::npos;) c.replace(p, 2, fmt::format("{:08}", i));
      for (size_t p; (p = c.find("%m")) != std::string::npos;) c.replace(p, 2, fmt::format("{:06}", i / 1000));
      text += c;
    }
  }
  context_.log(fmt::format("delete: {} clauses, {} bytes", clauses, text.size()));
  vstore::Result<vstore::Filter> filter = vstore::Filter::parse(text);
  if (!filter.ok()) return from_status(filter.status());
  if (model_exact()) return delete_checked(text, *filter);
  // The model does not know every record: the engine's own scan says what matches.
  std::vector<uint64_t> doomed;
  Status st = store_->scan([&](const vstore::RecordRef& r) {
    if (filter->matches([&](std::string_view key) { return r.attribute(key); })) doomed.push_back(r.id());
    return true;
  });
  if (!st.ok()) return from_status(st);
  // The engine's own delete_where: atomic with respect to a crash, index included.
  vstore::Result<uint64_t> n = store_->delete_where(*filter);
  if (!n.ok()) return from_status(n.status());
  context_.log(fmt::format("delete removed {}", *n));
  if (*n != doomed.size())
    return StepResult::error("wrong-result", fmt::format("delete_where removed {}, but {} records match", *n, doomed.size()));
  forget(doomed);
  return StepResult::ok();
}

StepResult Session::delete_checked(const std::string& text, const vstore::Filter& filter) {
  // The kit's reference evaluator says which records the filter selects; the
  // engine must remove exactly those, keep every other, and count what is left.
  std::vector<kit::FilterRecord> records = filter_records();
  Checked<std::vector<uint64_t>> doomed = kit::reference_select(text, records);
  if (!doomed)
    return StepResult::error("wrong-result", fmt::format("delete: the engine parsed a filter the kit's reference rejects: {}", doomed.error()));
  vstore::Result<uint64_t> n = store_->delete_where(filter);
  if (!n.ok()) return from_status(n.status());
  context_.log(fmt::format("delete removed {}; the reference selects {} of {}", *n, doomed->size(), records.size()));
  forget(*doomed);
  if (*n != doomed->size())
    return StepResult::error("wrong-result", fmt::format("delete_where removed {} records, but the filter selects {} of the {} live", *n,
                                                         doomed->size(), records.size()));
  for (uint64_t id : *doomed)
    if (store_->contains(id))
      return StepResult::error("wrong-result", fmt::format("delete_where left record {}, which the filter selects", id));
  std::set<uint64_t> gone(doomed->begin(), doomed->end());
  for (const kit::FilterRecord& r : records)
    if (!gone.count(r.id) && !store_->contains(r.id))
      return StepResult::error("wrong-result", fmt::format("delete_where removed record {}, which the filter does not select", r.id));
  return count_against_model(store_->count());
}

StepResult Session::search(const Args& step) {
  std::optional<std::string> filter;
  if (step.has("filter")) filter = step.string("filter");
  std::optional<double> min_recall;
  if (step.has("min_recall")) min_recall = step.real("min_recall", 0);
  return run_searches(step.u64("queries", 10), step.u64("k", 10), step.u64("ef", 64), filter, min_recall);
}

StepResult Session::run_searches(uint64_t queries, uint64_t k, uint64_t ef, const std::optional<std::string>& filter_text,
                                 std::optional<double> min_recall) {
  // k-NN queries from the cell's seed; every hit must be a live record the
  // driver added, nearest first, and no more than k of them. With the model
  // exact, the kit's oracle measures recall@k and judges it against min_recall.
  vstore::SearchOptions options;
  options.k = k;
  options.ef = ef;
  std::optional<vstore::Filter> filter;
  if (filter_text) {
    vstore::Result<vstore::Filter> f = vstore::Filter::parse(*filter_text);
    if (!f.ok()) return from_status(f.status());
    filter = std::move(f).value();
  }
  uint64_t kept = 0;  // hits that pass the filter (a post-filtered search)
  kit::SearchOne one = [&](const std::vector<float>& q, std::vector<uint64_t>& ids) {
    vstore::Result<std::vector<vstore::SearchHit>> hits = store_->search(q, options);
    if (!hits.ok()) return from_status(hits.status());
    if (hits->size() > options.k) return StepResult::error("wrong-result", fmt::format("search returned {} hits for k = {}", hits->size(), options.k));
    for (size_t h = 0; h < hits->size(); ++h) {
      if (h > 0 && (*hits)[h].distance < (*hits)[h - 1].distance)
        return StepResult::error("wrong-result", "search hits are not ordered nearest first");
      vstore::Result<Record> r = store_->get((*hits)[h].id);
      if (!r.ok() && workers_.empty())
        return StepResult::error("wrong-result", fmt::format("search returned id {}, which is not a live record ({})", (*hits)[h].id, r.status().to_string()));
      if (r.ok() && (!filter || filter->matches(*r))) ++kept;
      ids.push_back((*hits)[h].id);
    }
    return StepResult::ok();
  };
  kit::OracleSearch ask{.metric = kit::metric_named(vstore::metric_name(store_->metric())),
                        .model_exact = model_exact(),
                        .live = store_->count(),
                        .dim = dim_,
                        .queries = queries,
                        .k = k,
                        .min_recall = min_recall};
  StepResult r = kit::oracle_searches(ask, [this] { return oracle_records(); }, rng_, one, context_);
  context_.log(fmt::format("{} searches, k {}, ef {}: {} hits kept{}", queries, options.k, options.ef, kept, filter ? " by the filter" : ""));
  return r;
}

vstore::Result<Session::DamageTarget> Session::damage_target(const Args& step, const char* offset_key) {
  // Damage from outside: the store is closed first unless `while_open` says an
  // outside process cuts a file this process still maps.
  if (!step.boolean("while_open", false)) close_store();
  model_unsure();
  std::string file = step.string("file");
  DamageTarget t;
  VSTORE_ASSIGN_OR_RETURN(t.path, vstore::testing::current_file(store_dir_, file));
  const kit::LayoutFile* layout = layout_of(file);
  if (!layout) return Status::Invalid(fmt::format("the layout has no file '{}'", file));
  // vstore's own terms: `committed` (MANIFEST's committed end) and `slot(N)` at MANIFEST's slot size.
  std::string failed;
  auto extra = [&](const std::string& name, const std::optional<std::string>& arg) -> std::optional<uint64_t> {
    vstore::Result<uint64_t> v = Status::NotFound("");
    if (name == "committed" && !arg) v = vstore::testing::committed_end(store_dir_, file);
    else if (name == "slot" && arg && !arg->empty() && std::all_of(arg->begin(), arg->end(), ::isdigit))
      v = vstore::testing::manifest_slot(store_dir_, file, std::stoull(*arg));
    else return std::nullopt;
    if (v.ok()) return *v;
    failed = v.status().message();
    return std::nullopt;
  };
  Checked<uint64_t> offset = kit::evaluate_offset(*layout, t.path, step.string(offset_key), extra);
  if (!failed.empty()) return Status::Invalid(failed);
  if (!offset) return Status::Invalid(offset.error());
  t.offset = *offset;
  return t;
}

StepResult Session::truncate(const Args& step) {
  vstore::Result<DamageTarget> target = damage_target(step, "to");
  if (!target.ok()) return from_status(target.status());
  const std::string* path = &target->path;
  const uint64_t* to = &target->offset;
  std::error_code ec;
  std::filesystem::resize_file(*path, *to, ec);
  if (ec) return StepResult::error("io", fmt::format("truncate {} to {}: {}", *path, *to, ec.message()));
  context_.log(fmt::format("truncated {} to {} bytes", *path, *to));
  return StepResult::ok();
}

StepResult Session::corrupt(const Args& step) {
  vstore::Result<DamageTarget> target = damage_target(step, "at");
  if (!target.ok()) return from_status(target.status());
  const std::string* path = &target->path;
  const uint64_t* at = &target->offset;
  uint64_t bytes = step.u64("bytes", 1);
  std::fstream f(*path, std::ios::in | std::ios::out | std::ios::binary);
  if (!f) return StepResult::error("io", fmt::format("open {}", *path));
  std::vector<char> buf(bytes, 0);
  f.seekg(static_cast<std::streamoff>(*at));
  f.read(buf.data(), static_cast<std::streamsize>(bytes));
  f.clear();
  // value: a byte (0-255) written over each byte, "flip" (default) to invert
  // them, or "u32le:N" / "u64le:N" for a little-endian number (bytes 4 or 8).
  std::string value = step.string("value", "flip");
  if (value.rfind("u32le:", 0) == 0 || value.rfind("u64le:", 0) == 0) {
    size_t width = value[1] == '3' ? 4 : 8;
    if (bytes != width) return StepResult::error("invalid-argument", fmt::format("corrupt: value {} needs bytes = {}", value, width));
    uint64_t n = std::stoull(value.substr(6));
    for (size_t i = 0; i < width; ++i) buf[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  } else {
    for (char& c : buf) c = value == "flip" ? static_cast<char>(~c) : static_cast<char>(std::stoi(value));
  }
  f.seekp(static_cast<std::streamoff>(*at));
  f.write(buf.data(), static_cast<std::streamsize>(bytes));
  if (!f) return StepResult::error("io", fmt::format("write {}", *path));
  f.close();
  // rechecksum: make the header's checksums agree again, so that what is
  // tested is the engine's check of the field itself, not of the checksum.
  if (step.boolean("rechecksum", false)) {
    StepResult fixed = from_status(vstore::testing::rechecksum_header(*path, step.string("file")));
    if (!fixed.is_ok) return fixed;
  }
  context_.log(fmt::format("corrupted {} bytes of {} at {}", bytes, *path, *at));
  return StepResult::ok();
}

std::vector<uint64_t> Session::live_sample() {
  std::vector<uint64_t> ids;
  std::lock_guard lock(model_mu_);
  size_t i = 0;
  for (uint64_t id : live_)
    if (i++ % 97 == 0) ids.push_back(id);
  return ids;
}

StepResult Session::read(const Args& step) {
  // One way of reading the store, named by `what` (entry_points.cc's read_modes):
  // open alone, count, get, view or contains (a few ids the model holds),
  // search, exact-search, scan, stats, or fsck.
  std::string what = step.string("what");
  if (what == "fsck") return fsck();
  StepResult o = ensure_open();
  if (!o.is_ok || what == "open") return o;
  if (what == "count") {
    context_.log(fmt::format("count {}", store_->count()));
    return count_against_model(store_->count());
  }
  if (what == "get") {
    for (uint64_t id : live_sample())
      if (vstore::Result<Record> r = store_->get(id); !r.ok()) return from_status(r.status());
    return StepResult::ok();
  }
  if (what == "search") return run_searches(5, 10, 64, std::nullopt, std::nullopt);
  if (what == "scan") {
    uint64_t n = 0;
    vstore::Status st = store_->scan([&](const vstore::RecordRef&) {
      ++n;
      return true;
    });
    return from_status(st);
  }
  if (what == "view" || what == "contains") {
    // A few ids the model holds: each must be there (when the model knows the store), and a view's
    // attributes must read.
    bool exact = model_exact();
    for (uint64_t id : live_sample()) {
      if (what == "contains") {
        // A store the model does not know exactly (damaged, imported, raced) may lack a record.
        if (!store_->contains(id) && exact) return StepResult::error("wrong-result", fmt::format("read contains: record {} is not there", id));
        continue;
      }
      vstore::Result<vstore::RecordView> v = store_->view(id);
      if (!v.ok()) return from_status(v.status());
      if (vstore::Result<std::vector<vstore::Attribute>> attrs = v->attributes(); !attrs.ok()) return from_status(attrs.status());
    }
    return StepResult::ok();
  }
  if (what == "exact-search") {
    for (uint64_t q = 0; q < 5; ++q) {
      vstore::Result<std::vector<vstore::SearchHit>> hits = store_->exact_search(record_for(rng_() % (next_id_.load() + 1), dim_, seed_).vector, 10);
      if (!hits.ok()) return from_status(hits.status());
    }
    return StepResult::ok();
  }
  if (what == "stats") {
    vstore::StoreStats s = store_->stats();
    context_.log(fmt::format("stats: dim {}, generation {}, commit {}, {} live in {} slots", s.dim, s.generation, s.commit_seq, s.live, s.slots));
    if (s.dim != store_->dim() || s.metric != store_->metric() || store_->dir().empty())
      return StepResult::error("wrong-result", "read stats: stats() disagrees with dim(), metric() or dir()");
    return count_against_model(s.live);
  }
  return StepResult::error("invalid-argument", fmt::format("read: what must be one of {}, not '{}'", fmt::join(read_mode_names(), ", "), what));
}

StepResult Session::replace(const Args& step) {
  // `with`: directory, empty, fifo, or foreign (the same file of a store of another dimension).
  close_store();
  model_unsure();
  std::string logical = step.string("file");
  std::string with = step.string("with");
  vstore::Result<std::string> path = vstore::testing::current_file(store_dir_, logical);
  if (!path.ok()) return from_status(path.status());
  std::error_code ec;
  if (with == "foreign") {
    std::string other = work_dir_ + "/foreign";
    if (!std::filesystem::exists(other)) {
      vstore::CreateOptions o;
      o.dim = dim_ * 2 + 8;
      vstore::Result<std::unique_ptr<vstore::Store>> s = vstore::Store::create(other, o);
      if (!s.ok()) return from_status(s.status());
      std::vector<Record> few;
      for (uint64_t id = 0; id < 50; ++id) few.push_back(record_for(id, o.dim, seed_));
      if (vstore::Status st = (*s)->add(few); !st.ok()) return from_status(st);
      if (vstore::Status st = (*s)->close(); !st.ok()) return from_status(st);
    }
    vstore::Result<std::string> theirs = vstore::testing::current_file(other, logical);
    if (!theirs.ok()) return from_status(theirs.status());
    std::filesystem::copy_file(*theirs, *path, std::filesystem::copy_options::overwrite_existing, ec);
  } else {
    std::filesystem::remove(*path, ec);
    if (with == "directory") std::filesystem::create_directory(*path, ec);
    else if (with == "empty") std::ofstream(*path).flush();
    else if (with == "fifo") {
      if (::mkfifo(path->c_str(), 0644) != 0) ec = std::error_code(errno, std::generic_category());
    } else return StepResult::error("invalid-argument", fmt::format("replace: with must be directory, empty, fifo or foreign, not '{}'", with));
  }
  if (ec) return StepResult::error("io", fmt::format("replace {} with {}: {}", *path, with, ec.message()));
  context_.log(fmt::format("replaced {} with {}", *path, with));
  return StepResult::ok();
}

// fsck's verdict as a step's end: every problem a corrupt error, unless fsck
// could not read the store at all (missing, I/O error): then that error.
StepResult fsck_result(const vstore::FsckReport& report) {
  if (report.ok()) return StepResult::ok();
  if (!report.unreadable.ok()) return from_status(report.unreadable);
  return StepResult::error("corrupt", fmt::format("fsck: {} problems; the first: {}", report.problems.size(), report.problems.front()));
}

StepResult Session::fsck() {
  // The store's own check, closed: every problem is a corrupt error, unless fsck
  // could not read the store at all (missing, I/O error): then that error.
  close_store();
  vstore::FsckReport report = vstore::Store::fsck(store_dir_);
  context_.log(fmt::format("fsck checked {} records: {} problems", report.records_checked, report.problems.size()));
  return fsck_result(report);
}

StepResult Session::invariants() {
  if (StepResult checked = fsck_result(vstore::Store::fsck(store_dir_)); !checked.is_ok) return checked;
  return store_ ? count_against_model(store_->count()) : StepResult::ok();
}

StepResult Session::sleep(const Args& step) {
  std::this_thread::sleep_for(std::chrono::milliseconds(step.duration_ms("duration", 0)));
  return StepResult::ok();
}

}  // namespace crashgate::vstore_driver
