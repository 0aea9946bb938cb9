// The ops on records: create, add, remove, count, get, search, verify, read,
// sync, reopen; loading and saving the index. Judged against the kit's
// Records model (driver_records.h).
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "crashgate/search_oracle.h"
#include "errors.h"
#include "session.h"

namespace crashgate::faiss_driver {

namespace {

// Training points an IVF gets at least (k-means asks for 39 per centroid).
constexpr std::uint64_t kMinTrainingPoints = 39 * kNlist;
// The largest dimension a loaded index may say it has before the driver will not build queries for it.
constexpr std::int64_t kLargestQueryDim = std::int64_t{1} << 22;

faiss::IndexIDMap2* id_map_of(faiss::Index* index) { return dynamic_cast<faiss::IndexIDMap2*>(index); }
faiss::IndexIVF* ivf_of(faiss::Index* index) { return dynamic_cast<faiss::IndexIVF*>(index); }
faiss::IndexHNSW* hnsw_of(faiss::Index* index) {
  if (auto* map = id_map_of(index)) return dynamic_cast<faiss::IndexHNSW*>(map->index);
  return dynamic_cast<faiss::IndexHNSW*>(index);
}

std::vector<float> vectors_of(const std::vector<std::uint64_t>& ids, std::uint32_t dim, std::uint64_t seed) {
  std::vector<float> out;
  out.reserve(ids.size() * dim);
  for (std::uint64_t id : ids) {
    kit::RecordData r = kit::record_for(id, dim, seed);
    out.insert(out.end(), r.vector.begin(), r.vector.end());
  }
  return out;
}

}  // namespace

std::string_view type_name(IndexType t) {
  switch (t) {
    case IndexType::flat: return "flat";
    case IndexType::hnsw: return "hnsw";
    case IndexType::ivf: return "ivf";
  }
  return "?";
}

Session::Session(kit::Context& context)
    : context_(context), work_dir_(context.work_dir), store_dir_(work_dir_ + "/store"), seed_(context.seed), rng_(context.seed) {}

Session::~Session() {
  stop_workloads();
  std::unique_lock lock(index_mu_);
  index_.reset();
}

StepResult Session::create(const Args& step) {
  // The index type: create's `metric` (main.cc says why), or hnsw = false for flat.
  std::string metric = step.string("metric", step.boolean("hnsw", false) ? "hnsw-l2" : "flat-l2");
  IndexType type;
  if (metric == "flat-l2") type = IndexType::flat;
  else if (metric == "hnsw-l2") type = IndexType::hnsw;
  else if (metric == "ivf-l2") type = IndexType::ivf;
  else return StepResult::error("invalid-argument", fmt::format("create: metric must be flat-l2, hnsw-l2 or ivf-l2, not '{}'", metric));
  if (step.has("hnsw") && step.boolean("hnsw", true) != (type == IndexType::hnsw))
    return StepResult::error("invalid-argument", fmt::format("create: hnsw = {} contradicts metric = {}", step.boolean("hnsw", true), metric));
  if (type != IndexType::hnsw && (step.has("m") || step.has("ef_construction")))
    return StepResult::error("invalid-argument", "create: m and ef_construction are HNSW's (metric = hnsw-l2)");
  std::uint64_t dim = step.u64("dim", 64), vectors = step.u64("vectors", 0);
  std::uint64_t m = step.u64("m", kDefaultM), efc = step.u64("ef_construction", kDefaultEfConstruction);
  if (StepResult o = close_index(); !o.is_ok) return o;
  if (step.has("store")) store_dir_ = work_dir_ + "/" + step.string("store");
  std::error_code ec;
  if (std::filesystem::exists(index_path(), ec))
    return StepResult::error("invalid-argument", fmt::format("create: {} exists: an index is there already", index_path()));
  std::filesystem::create_directories(store_dir_, ec);
  if (ec) return StepResult::error("io", fmt::format("create: {}: {}", store_dir_, ec.message()));
  std::uint64_t seed = step.u64("seed", seed_);
  type_ = type;
  dim_ = static_cast<std::uint32_t>(dim);
  records_.reset(dim_);
  {
    std::lock_guard lock(ids_mu_);
    reserved_ids_ = 0;
  }
  StepResult made = guarded("create", "invalid-argument", [&] {
    auto d = static_cast<idx_t>(dim);
    std::unique_ptr<faiss::Index> index;
    if (type == IndexType::ivf) {
      auto* ivf = new faiss::IndexIVFFlat(new faiss::IndexFlatL2(d), d, kNlist);
      index.reset(ivf);
      ivf->own_fields = true;
      ivf->cp.verbose = false;
      // Trained on the records' own vectors: the first max(vectors, 624) ids.
      std::vector<std::uint64_t> train_ids(std::max(vectors, kMinTrainingPoints));
      for (std::uint64_t i = 0; i < train_ids.size(); ++i) train_ids[i] = i;
      std::vector<float> train = vectors_of(train_ids, dim_, seed);
      ivf->train(static_cast<idx_t>(train_ids.size()), train.data());
      ivf->set_direct_map_type(faiss::DirectMap::Hashtable);
      ivf->nprobe = kNprobe;
    } else {
      faiss::Index* inner = nullptr;
      if (type == IndexType::hnsw) {
        auto* h = new faiss::IndexHNSWFlat(d, static_cast<int>(m));
        h->hnsw.efConstruction = static_cast<int>(efc);
        inner = h;
      } else {
        inner = new faiss::IndexFlatL2(d);
      }
      auto* map = new faiss::IndexIDMap2(inner);
      map->own_fields = true;
      index.reset(map);
    }
    std::unique_lock lock(index_mu_);
    index_ = std::move(index);
    return StepResult::ok();
  });
  if (!made.is_ok) return made;
  created_ = true;
  std::vector<std::uint64_t> ids(vectors);
  for (std::uint64_t i = 0; i < vectors; ++i) ids[i] = i;
  if (StepResult o = add_records(ids, seed); !o.is_ok) return o;
  {
    std::shared_lock lock(index_mu_);
    if (StepResult o = save("create"); !o.is_ok) return o;
  }
  context_.log(fmt::format("created a {} index of {} records of {} dimensions{}", type_name(type), vectors, dim,
                           type == IndexType::hnsw ? fmt::format(" (m {}, ef_construction {})", m, efc) : ""));
  return StepResult::ok();
}

StepResult Session::add(const Args& step) {
  if (!step.table("metadata").empty())
    return StepResult::error("invalid-argument", "FAISS keeps vectors and ids only: this driver stores no metadata");
  std::vector<std::uint64_t> ids = step.u64_list("ids");
  if (!step.has("ids")) {
    std::uint64_t n = step.u64("vectors", 100), first = allocate_ids(n);
    for (std::uint64_t i = 0; i < n; ++i) ids.push_back(first + i);
  }
  if (StepResult o = add_records(ids, step.u64("seed", seed_)); !o.is_ok) return o;
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
  if (ids.empty()) return StepResult::ok();
  std::set<std::uint64_t> seen;
  for (std::uint64_t id : ids) {
    if (id > static_cast<std::uint64_t>(INT64_MAX))
      return StepResult::error("invalid-argument", fmt::format("add: id {} is past FAISS's idx_t (int64)", id));
    if (!seen.insert(id).second || records_.holds(id))
      return StepResult::error("invalid-argument", fmt::format("add: id {} is there already (FAISS would keep both)", id));
  }
  std::vector<float> x = vectors_of(ids, dim_, seed);
  std::vector<idx_t> xids(ids.begin(), ids.end());
  std::unique_lock lock(index_mu_);
  if (!index_) return StepResult::error("not-found", "add: the index is not loaded");
  if (index_->d != static_cast<int>(dim_))
    return StepResult::error("corrupt", fmt::format("add: the loaded index has d = {}, the store was created with {}", index_->d, dim_));
  StepResult o = guarded("add: add_with_ids", "corrupt", [&] {
    index_->add_with_ids(static_cast<idx_t>(ids.size()), x.data(), xids.data());
    return StepResult::ok();
  });
  if (!o.is_ok) return o;
  dirty_ = true;
  records_.added(ids, seed);
  return StepResult::ok();
}

bool Session::index_has(std::uint64_t id) const {
  auto key = static_cast<idx_t>(id);
  if (auto* map = id_map_of(index_.get())) return map->rev_map.count(key) > 0;
  if (auto* ivf = ivf_of(index_.get()); ivf && ivf->direct_map.type == faiss::DirectMap::Hashtable)
    return ivf->direct_map.hashtable.count(key) > 0;
  return true;  // no map to ask: reconstruct says
}

StepResult Session::lookup(std::uint64_t id, std::optional<kit::Found>& found) const {
  found.reset();
  if (!index_has(id)) return StepResult::ok();
  return guarded(fmt::format("reconstruct(id {})", id), "corrupt", [&] {
    if (index_->d < 0 || index_->d > kLargestQueryDim)
      return StepResult::error("corrupt", fmt::format("reconstruct(id {}): the index says d = {}", id, index_->d));
    kit::Found f;
    f.vector.resize(static_cast<std::size_t>(index_->d));
    index_->reconstruct(static_cast<idx_t>(id), f.vector.data());
    found = std::move(f);
    return StepResult::ok();
  });
}

StepResult Session::remove(const Args& step) {
  std::vector<std::uint64_t> ids = step.u64_list("ids");
  if (!step.has("ids")) {
    std::set<std::uint64_t> live = records_.live();
    ids.assign(live.begin(), live.end());
    std::shuffle(ids.begin(), ids.end(), rng_);
    ids.resize(std::min<std::size_t>(ids.size(), step.u64("count", 1)));
  }
  std::unique_lock lock(index_mu_);
  if (hnsw_of(index_.get()))
    return StepResult::error("unsupported", "remove: IndexHNSWFlat has no remove_ids (FAISS: \"not implemented\")");
  for (std::uint64_t id : ids)
    if (!index_has(id)) return StepResult::error("not-found", fmt::format("remove: id {} is not in the index", id));
  std::vector<idx_t> keys(ids.begin(), ids.end());
  std::size_t removed = 0;
  StepResult o = guarded("remove: remove_ids", "corrupt", [&] {
    if (ivf_of(index_.get())) {
      // A hashtable direct map removes only by an IDSelectorArray.
      faiss::IDSelectorArray sel(keys.size(), keys.data());
      removed = index_->remove_ids(sel);
    } else {
      faiss::IDSelectorBatch sel(keys.size(), keys.data());
      removed = index_->remove_ids(sel);
    }
    return StepResult::ok();
  });
  if (!o.is_ok) return o;
  dirty_ = true;
  records_.removed(ids);
  if (removed != ids.size())
    return StepResult::error("wrong-result", fmt::format("remove: remove_ids removed {} of {} ids", removed, ids.size()));
  context_.log(fmt::format("removed {} records", ids.size()));
  return StepResult::ok();
}

StepResult Session::count(const Args& step) {
  std::shared_lock lock(index_mu_);
  auto n = static_cast<std::uint64_t>(index_->ntotal);
  context_.log(fmt::format("count = {} (ntotal)", index_->ntotal));
  if (step.has("equals") && n != step.u64("equals", 0))
    return StepResult::error("wrong-result", fmt::format("count is {} (ntotal), expected {}", index_->ntotal, step.u64("equals", 0)));
  return StepResult::ok();
}

StepResult Session::get(const Args& step) {
  std::shared_lock lock(index_mu_);
  for (std::uint64_t id : step.u64_list("ids")) {
    std::optional<kit::Found> found;
    if (StepResult o = lookup(id, found); !o.is_ok) return o;
    if (!found) return StepResult::error("not-found", fmt::format("get: id {} is not in the index", id));
    if (found->vector.size() != dim_)
      return StepResult::error("wrong-result", fmt::format("get: id {} has {} values, not {}", id, found->vector.size(), dim_));
  }
  return StepResult::ok();
}

StepResult Session::run_searches(faiss::Index& index, std::uint64_t queries, std::uint64_t k, std::mt19937_64& rng, bool strict,
                                 std::string_view doing) const {
  if (index.d < 0 || index.d > kLargestQueryDim) return StepResult::error("corrupt", fmt::format("{}: the index says d = {}", doing, index.d));
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> q(queries * static_cast<std::size_t>(index.d));
  for (float& x : q) x = uniform(rng);
  return search_batch(index, q, queries, k, strict, doing, nullptr);
}

StepResult Session::search_batch(faiss::Index& index, const std::vector<float>& q, std::uint64_t queries, std::uint64_t k, bool strict,
                                 std::string_view doing, std::vector<std::vector<std::uint64_t>>* returned) const {
  return guarded(doing, "corrupt", [&] {
    if (index.d < 0 || index.d > kLargestQueryDim)
      return StepResult::error("corrupt", fmt::format("{}: the index says d = {}", doing, index.d));
    auto d = static_cast<std::size_t>(index.d);
    if (q.size() != queries * d)
      return StepResult::error("wrong-result", fmt::format("{}: the index says d = {}, but the store was made with {} dimensions", doing, d,
                                                           queries ? q.size() / queries : 0));
    std::vector<float> distances(queries * k);
    std::vector<idx_t> labels(queries * k);
    index.search(static_cast<idx_t>(queries), q.data(), static_cast<idx_t>(k), distances.data(), labels.data());
    std::uint64_t reserved = 0;
    if (!strict) {
      std::lock_guard lock(ids_mu_);
      reserved = std::max(reserved_ids_, records_.next_id());
    }
    if (returned) returned->assign(queries, {});
    for (std::uint64_t i = 0; i < queries; ++i)
      for (std::uint64_t j = 0; j < k; ++j) {
        idx_t label = labels[i * k + j];
        if (label < 0) continue;  // fewer than k hits
        // After an import the files' ids are any: the model cannot say which are live.
        bool known = strict ? records_.may_hold(static_cast<std::uint64_t>(label))
                            : !records_.known() || static_cast<std::uint64_t>(label) < reserved;
        if (!known)
          return StepResult::error("wrong-result", fmt::format("{}: query {} hit id {}, which is not {}", doing, i, label,
                                                               strict ? "a live record" : "an id the driver ever added"));
        if (j > 0 && labels[i * k + j - 1] >= 0 && distances[i * k + j] < distances[i * k + j - 1])
          return StepResult::error("wrong-result", fmt::format("{}: query {}'s hit {} is nearer than the one before it", doing, i, j));
        if (returned) (*returned)[i].push_back(static_cast<std::uint64_t>(label));
      }
    return StepResult::ok();
  });
}

StepResult Session::search(const Args& step) {
  if (step.has("filter")) return StepResult::error("invalid-argument", "FAISS keeps no attributes: no filtered search");
  std::uint64_t queries = step.u64("queries", 10), k = step.u64("k", 10);
  if (step.has("ef")) {
    // efSearch (HNSW) or nprobe (IVF, at most nlist): a setting of the index, so changed alone.
    std::unique_lock lock(index_mu_);
    auto ef = static_cast<int>(std::min<std::uint64_t>(step.u64("ef", 16), 1 << 20));
    if (auto* h = hnsw_of(index_.get())) h->hnsw.efSearch = ef;
    else if (auto* ivf = ivf_of(index_.get())) ivf->nprobe = std::min<std::size_t>(static_cast<std::size_t>(ef), ivf->nlist);
    else return StepResult::error("invalid-argument", "search: a flat index's search is exact: ef has no meaning");
  }
  std::shared_lock lock(index_mu_);
  if (index_->d < 0 || index_->d > kLargestQueryDim) return StepResult::error("corrupt", fmt::format("search: the index says d = {}", index_->d));
  // Every index type here is L2 (create's metric names the type: flat-l2, hnsw-l2, ivf-l2).
  kit::OracleSearch ask{.metric = kit::Metric::l2, .model_exact = records_.exact(), .live = records_.size(),
                        .dim = static_cast<std::uint32_t>(index_->d), .queries = queries, .k = k};
  if (step.has("min_recall")) ask.min_recall = step.real("min_recall", 0);
  kit::SearchOne one = [&](const std::vector<float>& q, std::vector<std::uint64_t>& ids) {
    std::vector<std::vector<std::uint64_t>> returned;
    StepResult r = search_batch(*index_, q, 1, k, true, "search", &returned);
    if (r.is_ok && !returned.empty()) ids = std::move(returned.front());
    return r;
  };
  StepResult o = kit::oracle_searches(ask, [this] { return kit::oracle_records(records_); }, rng_, one, context_);
  if (o.is_ok) context_.log(fmt::format("{} searches, k {}", queries, k));
  return o;
}

StepResult Session::verify(const Args& step) {
  // After a crash, `acknowledged` is the model (crashgate crash-check).
  if (step.op().name == "verify" && step.has("acknowledged"))
    if (StepResult r = records_.expect(step.table("acknowledged")); !r.is_ok) return r;
  std::shared_lock lock(index_mu_);
  kit::Lookup look = [&](std::uint64_t id, std::optional<kit::Found>& found) { return lookup(id, found); };
  StepResult o = records_.verify(look, static_cast<std::uint64_t>(index_->ntotal));
  if (o.is_ok)
    context_.log(records_.known() ? fmt::format("verified {} records", records_.size())
                                  : fmt::format("verified the {} records added since the import (the files' own are unknown)", records_.size()));
  return o;
}

StepResult Session::scan_all() {
  // Every stored vector in FAISS's own order: the id map's entries (Flat,
  // HNSW) or each inverted list (IVF); each id a live record with its vector.
  std::shared_lock lock(index_mu_);
  std::uint64_t scanned = 0;
  auto check = [&](std::uint64_t id, const float* v, std::size_t d) {
    std::optional<kit::RecordData> want = records_.expected(id);
    if (!want && !records_.known()) {  // one of an imported index's own records: the model knows nothing of it
      ++scanned;
      return StepResult::ok();
    }
    if (!want) return StepResult::error("wrong-result", fmt::format("scan: id {} is in the index and not a live record", id));
    if (d != want->vector.size() || std::memcmp(v, want->vector.data(), d * sizeof(float)) != 0)
      return StepResult::error("wrong-result", fmt::format("scan: id {}'s vector is not the one added", id));
    ++scanned;
    return StepResult::ok();
  };
  StepResult o = guarded("scan", "corrupt", [&] {
    if (index_->d < 0 || index_->d > kLargestQueryDim) return StepResult::error("corrupt", fmt::format("scan: the index says d = {}", index_->d));
    auto d = static_cast<std::size_t>(index_->d);
    std::vector<float> v(d);
    if (auto* map = id_map_of(index_.get())) {
      if (map->id_map.size() != static_cast<std::size_t>(map->index->ntotal))
        return StepResult::error("wrong-result", fmt::format("scan: the id map has {} ids, the index {} vectors", map->id_map.size(), map->index->ntotal));
      for (std::size_t i = 0; i < map->id_map.size(); ++i) {
        map->index->reconstruct(static_cast<idx_t>(i), v.data());
        if (StepResult c = check(static_cast<std::uint64_t>(map->id_map[i]), v.data(), d); !c.is_ok) return c;
      }
    } else if (auto* ivf = ivf_of(index_.get())) {
      for (std::size_t l = 0; l < ivf->nlist; ++l) {
        std::size_t n = ivf->invlists->list_size(l);
        faiss::InvertedLists::ScopedCodes codes(ivf->invlists, l);
        faiss::InvertedLists::ScopedIds ids(ivf->invlists, l);
        for (std::size_t i = 0; i < n; ++i) {
          std::memcpy(v.data(), codes.get() + i * ivf->code_size, std::min<std::size_t>(ivf->code_size, d * sizeof(float)));
          if (StepResult c = check(static_cast<std::uint64_t>(ids[i]), v.data(), d); !c.is_ok) return c;
        }
      }
    } else {
      return StepResult::error("corrupt", "scan: the file holds an index of a type this driver did not write");
    }
    return StepResult::ok();
  });
  if (!o.is_ok) return o;
  if (scanned != static_cast<std::uint64_t>(index_->ntotal))
    return StepResult::error("wrong-result", fmt::format("scan: {} vectors, but ntotal is {}", scanned, index_->ntotal));
  context_.log(fmt::format("scanned {} vectors", scanned));
  return StepResult::ok();
}

StepResult Session::read(const Args& step) {
  // Load the index (if the step before closed it), then query it: a file that
  // loads cleanly can still crash the first search.
  std::string what = step.string("what");
  if (StepResult o = ensure_open(); !o.is_ok) return o;
  std::mt19937_64 rng(seed_ ^ 0x5EA4C4);
  if (what == "open" || what == "count") {
    std::shared_lock lock(index_mu_);
    if (what == "count") context_.log(fmt::format("count {} (ntotal)", index_->ntotal));
    return run_searches(*index_, 1, 1, rng, false, fmt::format("read {}: a search after the load", what));
  }
  if (what == "get") {
    std::vector<std::uint64_t> ids = records_.sample(97);
    std::shared_lock lock(index_mu_);
    for (std::uint64_t id : ids) {
      std::optional<kit::Found> found;
      if (StepResult o = lookup(id, found); !o.is_ok) return o;
      if (!found) return StepResult::error("not-found", fmt::format("read get: id {}, added and not removed, is not in the index", id));
    }
    context_.log(fmt::format("read {} records", ids.size()));
    return StepResult::ok();
  }
  if (what == "search") {
    std::shared_lock lock(index_mu_);
    return run_searches(*index_, 5, 10, rng, true, "read search");
  }
  if (what == "scan") return scan_all();
  return StepResult::error("invalid-argument", fmt::format("read: what must be open, count, get, search or scan, not '{}'", what));
}

StepResult Session::load() {
  struct stat st {};
  if (::stat(index_path().c_str(), &st) != 0)
    return StepResult::error("not-found", fmt::format("load: {} is not there", index_path()));
  return guarded("read_index", "corrupt", [&] {
    index_.reset(faiss::read_index(index_path().c_str()));
    dirty_ = false;
    if (!records_.known()) skip_imported_ids();
    return StepResult::ok();
  });
}

void Session::skip_imported_ids() {
  // An imported index's ids are not the model's: ids `add` hands out start
  // past the largest it holds (the id map or the IVF's direct map, in memory
  // once read_index returned).
  std::uint64_t past = 0;
  if (auto* map = id_map_of(index_.get()))
    for (idx_t id : map->id_map)
      if (id >= 0) past = std::max<std::uint64_t>(past, static_cast<std::uint64_t>(id) + 1);
  if (auto* ivf = ivf_of(index_.get()); ivf && ivf->direct_map.type == faiss::DirectMap::Hashtable)
    for (const auto& [id, at] : ivf->direct_map.hashtable)
      if (id >= 0) past = std::max<std::uint64_t>(past, static_cast<std::uint64_t>(id) + 1);
  std::lock_guard lock(ids_mu_);
  reserved_ids_ = std::max(reserved_ids_, past);
}

StepResult Session::save(std::string_view doing) {
  // write_index writes the file in place (fopen "wb": truncated, then written).
  StepResult o = guarded(fmt::format("{}: write_index", doing), "io", [&] {
    faiss::write_index(index_.get(), index_path().c_str());
    return StepResult::ok();
  });
  if (!o.is_ok) return o;
  // write_index never fsyncs: a save meant to last is the application's fsync away.
  if (StepResult synced = kit::sync_to_disk(index_path()); !synced.is_ok) return synced;
  dirty_ = false;
  return o;
}

RecordModel Session::model() const { return records_.snapshot(std::string(type_name(type_)) + "-l2"); }

StepResult Session::ensure_open() {
  std::unique_lock lock(index_mu_);
  if (index_) return StepResult::ok();
  if (!created_) return StepResult::error("not-found", "there is no index: no create step made one");
  return load();
}

StepResult Session::close_index() {
  stop_workloads();
  std::unique_lock lock(index_mu_);
  if (!index_) return StepResult::ok();
  if (dirty_)
    if (StepResult o = save("close"); !o.is_ok) return o;
  index_.reset();
  return StepResult::ok();
}

StepResult Session::sync() {
  std::shared_lock lock(index_mu_);
  return save("sync");
}

StepResult Session::reopen() {
  if (StepResult o = close_index(); !o.is_ok) return o;
  return ensure_open();
}

StepResult Session::sleep(const Args& step) {
  std::this_thread::sleep_for(std::chrono::milliseconds(step.duration_ms("duration", 0)));
  return StepResult::ok();
}

}  // namespace crashgate::faiss_driver
