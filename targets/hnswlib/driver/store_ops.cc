// The ops on records: create, add, remove, count, get, search, verify, read,
// sync, reopen, and loading and saving the index. Judged against the kit's
// Records model (driver_records.h).
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>
#include <span>
#include <thread>

#include <fmt/format.h>

#include "crashgate/search_oracle.h"
#include "session.h"

namespace crashgate::hnswlib_driver {

namespace {

// The default search beam width of the driver's searches (hnswlib's own default, 10, is below most k).
constexpr std::uint64_t kDefaultEf = 64;
// Records the model learns at a time while an add runs (so that an error part way keeps what was added).
constexpr std::size_t kModelBatch = 1000;

}  // namespace

Session::Session(kit::Context& context)
    : context_(context), work_dir_(context.work_dir), store_dir_(work_dir_ + "/store"), seed_(context.seed), rng_(context.seed) {}

Session::~Session() { stop_workloads(); }

StepResult Session::ensure_open() {
  if (engine_) return StepResult::ok();
  if (!created_) return StepResult::error("not-found", "there is no store: no create step made one");
  struct stat st {};
  if (::lstat(index_path().c_str(), &st) != 0) {
    int err = errno;
    return StepResult::error(err == ENOENT ? "not-found" : "io", fmt::format("open: {}: {}", kIndexFile, std::strerror(err)));
  }
  auto engine = std::make_unique<Engine>(records_.dim(), metric_);
  if (StepResult r = engine->load(index_path()); !r.is_ok) return r;
  engine_ = std::move(engine);
  dirty_ = false;
  if (!records_.known()) {
    // An imported index's labels are not the model's: ids `add` hands out start past the largest (in memory now).
    std::vector<std::uint64_t> labels = engine_->labels();
    std::lock_guard lock(ids_mu_);
    if (!labels.empty()) reserved_ids_ = std::max(reserved_ids_, *std::max_element(labels.begin(), labels.end()) + 1);
  }
  return StepResult::ok();
}

StepResult Session::close_index() {
  stop_workloads();  // they use the index
  if (!engine_) return StepResult::ok();
  StepResult r = StepResult::ok();
  if (dirty_) r = save_index();
  engine_.reset();
  dirty_ = false;
  return r;
}

StepResult Session::create(const Args& step) {
  if (!step.boolean("hnsw", true)) return StepResult::error("invalid-argument", "hnswlib is an HNSW index: hnsw = false has no meaning here");
  std::string metric_name = step.string("metric", metric_names().front());
  std::optional<Metric> metric = metric_from(metric_name);
  if (!metric)
    return StepResult::error("invalid-argument", fmt::format("create: metric must be l2, ip or cosine, not '{}'", metric_name));
  auto dim = static_cast<std::uint32_t>(step.u64("dim", 64));
  std::uint64_t vectors = step.u64("vectors", 0);
  std::uint64_t m = step.u64("m", 16), ef_construction = step.u64("ef_construction", 200);
  if (StepResult r = close_index(); !r.is_ok) return r;
  if (step.has("store")) store_dir_ = work_dir_ + "/" + step.string("store");
  std::error_code ec;
  if (std::filesystem::exists(index_path(), ec))
    return StepResult::error("invalid-argument", fmt::format("create: {}/{} exists: a store is there already",
                                                             std::filesystem::path(store_dir_).filename().string(), kIndexFile));
  std::filesystem::create_directories(store_dir_, ec);
  if (ec) return StepResult::error("io", fmt::format("create: the store's directory: {}", ec.message()));
  metric_ = *metric;
  auto engine = std::make_unique<Engine>(dim, metric_);
  std::size_t capacity = std::max<std::uint64_t>(vectors, 100);
  if (StepResult r = engine->init(capacity, m, ef_construction, seed_ & 0xFFFFFFFFu); !r.is_ok) return r;
  engine_ = std::move(engine);
  records_.reset(dim);
  {
    std::lock_guard lock(ids_mu_);
    reserved_ids_ = 0;
  }
  created_ = true;
  std::vector<std::uint64_t> ids(vectors);
  for (std::uint64_t i = 0; i < vectors; ++i) ids[i] = i;
  if (StepResult r = add_records(ids, step.u64("seed", seed_)); !r.is_ok) return r;
  if (StepResult r = sync(); !r.is_ok) return r;
  context_.log(fmt::format("created {}: {} records of {} dimensions ({}), M {}, ef_construction {}, max_elements {}", kIndexFile,
                           vectors, dim, metric_name, m, ef_construction, capacity));
  return StepResult::ok();
}

StepResult Session::import_store(const Args& step) {
  // index.bin of `from` becomes the store, closed: the next store op loads it
  // (loadIndex), so damage shows there. Its header says the vector's bytes
  // (label_offset - offsetData: dim floats, in every space); no metric, which
  // is the step's. A header too short to say leaves it to the step's `dim`.
  std::string from = step.string("from");
  const kit::LayoutFile* index = layout_of("index");
  std::string source = from + "/" + kIndexFile;
  kit::FromFiles<std::uint64_t> dim_in_files{std::nullopt, "index.bin's label_offset - offsetData (4 bytes a value)"};
  auto label = kit::read_field(*index, source, "label_offset"), data = kit::read_field(*index, source, "offsetData");
  if (label && data && *label > *data && (*label - *data) % sizeof(float) == 0 && (*label - *data) / sizeof(float) <= (1u << 20))
    dim_in_files.value = (*label - *data) / sizeof(float);
  std::uint64_t dim = 0;
  if (StepResult r = kit::settle_import_key(step, "dim", dim_in_files, 64, dim); !r.is_ok) return r;
  std::string metric_name = step.string("metric", metric_names().front());
  std::optional<Metric> metric = metric_from(metric_name);
  if (!metric)
    return StepResult::error("invalid-argument", fmt::format("import: metric must be l2, ip or cosine, not '{}'", metric_name));
  if (StepResult r = close_index(); !r.is_ok) return r;
  if (step.has("store")) store_dir_ = work_dir_ + "/" + step.string("store");
  if (StepResult r = kit::import_store_files(from, store_dir_); !r.is_ok) return r;
  metric_ = *metric;
  records_.imported(static_cast<std::uint32_t>(dim));
  {
    std::lock_guard lock(ids_mu_);
    reserved_ids_ = 0;
  }
  created_ = true;
  context_.log(fmt::format("imported {} into {}: {} dimensions, {} (the next store op loads it)", from, store_dir_, dim, metric_name));
  return StepResult::ok();
}

StepResult Session::add(const Args& step) {
  if (!step.table("metadata").empty())
    return StepResult::error("invalid-argument", "hnswlib keeps a vector and a label: this driver stores no metadata");
  std::vector<std::uint64_t> ids = step.u64_list("ids");
  if (!step.has("ids")) {
    std::uint64_t n = step.u64("vectors", 100), first = allocate_ids(n);
    for (std::uint64_t i = 0; i < n; ++i) ids.push_back(first + i);
  }
  if (StepResult r = add_records(ids, step.u64("seed", seed_)); !r.is_ok) return r;
  context_.log(fmt::format("added {} records", ids.size()));
  return StepResult::ok();
}

std::uint64_t Session::allocate_ids(std::uint64_t n) {
  std::lock_guard lock(ids_mu_);
  std::uint64_t first = std::max(reserved_ids_, records_.next_id());
  reserved_ids_ = first + n;
  return first;
}

StepResult Session::add_records(const std::vector<std::uint64_t>& ids, std::uint64_t seed) {
  std::lock_guard lock(call_mu_);
  std::uint32_t dim = records_.dim();
  // Room for them all first, as a user grows an index that would overflow (resizeIndex: hnswlib does not grow by itself).
  std::size_t need = engine_->element_count() + ids.size();
  if (need > engine_->max_elements()) {
    std::size_t grown = std::max(need, 2 * engine_->max_elements());
    if (StepResult r = engine_->resize(grown); !r.is_ok) return r;
    dirty_ = true;
  }
  for (std::size_t start = 0; start < ids.size(); start += kModelBatch) {
    std::size_t end = std::min(ids.size(), start + kModelBatch);
    for (std::size_t i = start; i < end; ++i) {
      StepResult r = engine_->add(kit::record_for(ids[i], dim, seed).vector, ids[i]);
      if (i > start || r.is_ok) dirty_ = true;
      if (!r.is_ok) {
        records_.added(std::span<const std::uint64_t>(ids.data() + start, i - start), seed);
        return r;
      }
    }
    records_.added(std::span<const std::uint64_t>(ids.data() + start, end - start), seed);
  }
  return StepResult::ok();
}

StepResult Session::remove(const Args& step) {
  std::vector<std::uint64_t> ids = step.u64_list("ids");
  if (!step.has("ids")) {
    std::set<std::uint64_t> live = records_.live();
    ids.assign(live.begin(), live.end());
    std::shuffle(ids.begin(), ids.end(), rng_);
    ids.resize(std::min<std::size_t>(ids.size(), step.u64("count", 1)));
  }
  std::lock_guard lock(call_mu_);
  for (std::uint64_t id : ids) {
    if (StepResult r = engine_->mark_delete(id); !r.is_ok) return r;
    dirty_ = true;
    records_.removed(std::span<const std::uint64_t>(&id, 1));
  }
  context_.log(fmt::format("removed {} records", ids.size()));
  return StepResult::ok();
}

StepResult Session::count(const Args& step) {
  std::uint64_t n = 0;
  {
    std::lock_guard lock(call_mu_);
    n = engine_->live_count();
  }
  context_.log(fmt::format("count = {}", n));
  if (step.has("equals") && n != step.u64("equals", 0))
    return StepResult::error("wrong-result", fmt::format("the index holds {} elements not marked deleted, expected {}", n, step.u64("equals", 0)));
  return StepResult::ok();
}

StepResult Session::get(const Args& step) {
  std::lock_guard lock(call_mu_);
  for (std::uint64_t id : step.u64_list("ids")) {
    std::optional<std::vector<float>> v;
    if (StepResult r = engine_->get(id, v); !r.is_ok) return r;
    if (!v) return StepResult::error("not-found", fmt::format("get: getDataByLabel(label {}): Label not found", id));
    if (v->size() != records_.dim())
      return StepResult::error("wrong-result", fmt::format("get: label {} has {} values, not {}", id, v->size(), records_.dim()));
  }
  return StepResult::ok();
}

StepResult Session::search(const Args& step) {
  if (step.has("filter")) return StepResult::error("invalid-argument", "hnswlib 0.6.2 has no filtered search");
  std::optional<double> min_recall;
  if (step.has("min_recall")) min_recall = step.real("min_recall", 0);
  return run_searches(step.u64("queries", 10), step.u64("k", 10), step.u64("ef", kDefaultEf), min_recall);
}

StepResult Session::run_searches(std::uint64_t queries, std::uint64_t k, std::uint64_t ef, std::optional<double> min_recall) {
  // Every hit a live record of the model (while workloads add and remove: an
  // id handed out so far), at most k of them, no id twice, nearest first; with
  // the model exact, the kit's oracle measures recall@k against its exact search.
  bool workloads_running = !workers_.empty();
  std::uint64_t hits_total = 0;
  std::lock_guard lock(call_mu_);
  kit::SearchOne one = [&](const std::vector<float>& q, std::vector<std::uint64_t>& ids) {
    std::vector<std::pair<float, std::uint64_t>> hits;
    if (StepResult r = engine_->search(q, k, std::max(ef, k), hits); !r.is_ok) return r;
    if (hits.size() > k) return StepResult::error("wrong-result", fmt::format("search returned {} hits for k = {}", hits.size(), k));
    // Every label in the index was handed out before it was added: the bound, read after the search, holds them all.
    std::uint64_t bound = std::max(records_.next_id(), allocate_ids(0));
    std::set<std::uint64_t> seen;
    for (std::size_t h = 0; h < hits.size(); ++h) {
      std::uint64_t label = hits[h].second;
      if (!seen.insert(label).second) return StepResult::error("wrong-result", fmt::format("search returned label {} twice", label));
      if (workloads_running ? records_.known() && label >= bound : !records_.may_hold(label))
        return StepResult::error("wrong-result", fmt::format("search returned label {}, which is not a live record", label));
      if (h > 0 && hits[h].first < hits[h - 1].first)
        return StepResult::error("wrong-result", "search hits are not ordered nearest first");
      ids.push_back(label);
    }
    hits_total += hits.size();
    return StepResult::ok();
  };
  kit::OracleSearch ask{.metric = kit::metric_named(metric_names()[static_cast<std::size_t>(metric_)]),
                        .model_exact = records_.exact() && !workloads_running,
                        .live = records_.size(),
                        .dim = records_.dim(),
                        .queries = queries,
                        .k = k,
                        .min_recall = min_recall};
  StepResult r = kit::oracle_searches(ask, [this] { return kit::oracle_records(records_); }, rng_, one, context_);
  context_.log(fmt::format("{} searches, k {}, ef {}: {} hits", queries, k, std::max(ef, k), hits_total));
  return r;
}

StepResult Session::verify(const Args& step) {
  // The kit's verdicts: every live record there and exact (its vector as the
  // metric stores it), every removed one gone, the live count the model's.
  // After a crash, `acknowledged` is the model (crashgate crash-check).
  if (step.op().name == "verify" && step.has("acknowledged"))
    if (StepResult r = records_.expect(step.table("acknowledged")); !r.is_ok) return r;
  std::lock_guard lock(call_mu_);
  kit::Lookup lookup = [&](std::uint64_t id, std::optional<kit::Found>& found) {
    std::optional<std::vector<float>> v;
    if (StepResult r = engine_->get(id, v); !r.is_ok) return r;
    found.reset();
    if (!v) return StepResult::ok();
    kit::Found f;
    f.vector = std::move(*v);
    // Cosine keeps the vector normalized: what was added, if that is exactly what is stored.
    if (metric_ == Metric::cosine)
      if (std::optional<kit::RecordData> want = records_.expected(id); want && stored_form(want->vector, metric_) == f.vector)
        f.vector = want->vector;
    found = std::move(f);
    return StepResult::ok();
  };
  StepResult r = records_.verify(lookup, engine_->live_count());
  if (r.is_ok)
    context_.log(records_.known() ? fmt::format("verified {} records", records_.size())
                                  : fmt::format("verified the {} records added since the import (the files' own are unknown)", records_.size()));
  return r;
}

StepResult Session::scan_all() {
  // Every label hnswlib's label_lookup_ holds: each one not marked deleted is
  // a record the driver added (any label, after an import), of the model's
  // dimension; as many as the count.
  std::lock_guard lock(call_mu_);
  std::uint64_t bound = std::max(records_.next_id(), allocate_ids(0));
  std::uint64_t live = 0;
  std::vector<std::uint64_t> labels = engine_->labels();
  std::sort(labels.begin(), labels.end());
  for (std::uint64_t label : labels) {
    std::optional<std::vector<float>> v;
    if (StepResult r = engine_->get(label, v); !r.is_ok) return r;
    if (!v) continue;  // marked deleted
    if (records_.known() && label >= bound)  // after an import the files' labels are any
      return StepResult::error("wrong-result", fmt::format("scan: label {} is no id the driver added", label));
    if (v->size() != records_.dim())
      return StepResult::error("wrong-result", fmt::format("scan: label {} has {} values, not {}", label, v->size(), records_.dim()));
    ++live;
  }
  if (std::uint64_t counted = engine_->live_count(); counted != live)
    return StepResult::error("wrong-result", fmt::format("scan: {} labels found, but {} elements are not marked deleted", live, counted));
  context_.log(fmt::format("scanned {} labels, {} live", labels.size(), live));
  return StepResult::ok();
}

StepResult Session::read(const Args& step) {
  // Load the index (if the step before closed it), then read it one way: a
  // file that loads cleanly can still crash hnswlib on its first query.
  std::string what = step.string("what");
  StepResult r = ensure_open();
  if (!r.is_ok || what == "open") return r;
  if (what == "count") {
    std::lock_guard lock(call_mu_);
    context_.log(fmt::format("count {} of {} elements", engine_->live_count(), engine_->element_count()));
    return StepResult::ok();
  }
  if (what == "get") {
    std::lock_guard lock(call_mu_);
    std::vector<std::uint64_t> ids = records_.sample(97);  // every 97th live record of the model
    for (std::uint64_t id : ids) {
      std::optional<std::vector<float>> v;
      if (StepResult g = engine_->get(id, v); !g.is_ok) return g;
      if (!v) return StepResult::error("not-found", fmt::format("read get: label {}, a record added and not removed, is not found", id));
      if (v->size() != records_.dim())
        return StepResult::error("wrong-result", fmt::format("read get: label {} has {} values, not {}", id, v->size(), records_.dim()));
    }
    context_.log(fmt::format("read {} records", ids.size()));
    return StepResult::ok();
  }
  if (what == "search") return run_searches(5, 10, kDefaultEf, std::nullopt);
  if (what == "scan") return scan_all();
  return StepResult::error("invalid-argument", fmt::format("read: what must be open, count, get, search or scan, not '{}'", what));
}

StepResult Session::save_index() {
  // saveIndex writes through an std::ofstream and checks nothing: a file it
  // could not open or write ends short and it returns as if saved. The size
  // of the file is the one thing a caller can check (hnswlib says nothing).
  std::lock_guard lock(call_mu_);
  if (StepResult r = engine_->save(index_path()); !r.is_ok) return r;
  std::uint64_t want = engine_->save_size();
  std::error_code ec;
  std::uint64_t size = std::filesystem::file_size(index_path(), ec);
  if (ec || size != want)
    return StepResult::error("io", fmt::format("saveIndex returned, but {} is {} (the index is {} bytes): hnswlib reports no write error",
                                               kIndexFile, ec ? ec.message() : fmt::format("{} bytes", size), want));
  // hnswlib never fsyncs: a save meant to last is the application's fsync away.
  if (StepResult r = kit::sync_to_disk(index_path()); !r.is_ok) return r;
  dirty_ = false;
  return StepResult::ok();
}

StepResult Session::sync() { return save_index(); }

RecordModel Session::model() const { return records_.snapshot(metric_names()[static_cast<std::size_t>(metric_)]); }

StepResult Session::reopen() {
  if (StepResult r = close_index(); !r.is_ok) return r;
  return ensure_open();
}

StepResult Session::sleep(const Args& step) {
  std::this_thread::sleep_for(std::chrono::milliseconds(step.duration_ms("duration", 0)));
  return StepResult::ok();
}

}  // namespace crashgate::hnswlib_driver
