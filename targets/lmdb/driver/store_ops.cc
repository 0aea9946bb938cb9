// The ops on records: create, add, remove, count, get, search, verify, read
// (what = fsck checks data.mdb without LMDB: fsck.cc), sync, reopen. Judged
// against the kit's Records model (driver_records.h).
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <queue>
#include <set>
#include <span>
#include <thread>

#include <fmt/format.h>

#include "crashgate/search_oracle.h"
#include "errors.h"
#include "guards.h"
#include "lmdb_fsck.h"
#include "session.h"

#include "crashgate/search_oracle.h"
#include "value.h"

namespace crashgate::lmdb_driver {

namespace {

// A write transaction holds at most this many records, or this many bytes of values.
constexpr std::size_t kBatchRecords = 10'000;
constexpr std::size_t kBatchBytes = std::size_t{64} << 20;

// The map a new store starts with: room for its first records twice over, at least 16 MiB.
std::uint64_t first_map_size(std::uint64_t records, std::uint32_t dim) {
  std::uint64_t value = std::uint64_t{dim} * sizeof(float) + 64;
  // Past half a page a value goes to overflow pages of its own (mdb.c's me_nodemax).
  std::uint64_t per_record = value > 2000 ? (value + 16 + 4095) / 4096 * 4096 : value + 32;
  std::uint64_t want = 2 * records * per_record + (std::uint64_t{4} << 20);
  std::uint64_t mib = std::uint64_t{1} << 20;
  return std::max<std::uint64_t>(std::uint64_t{16} << 20, (want + mib - 1) / mib * mib);
}

std::uint64_t id_of(const MDB_val& key) {
  std::uint64_t id = 0;
  std::memcpy(&id, key.mv_data, sizeof id);
  return id;
}

// A value of the wrong size is a record the driver did not write (or one LMDB tore).
StepResult check_value_size(std::string_view doing, std::uint64_t id, const MDB_val& value, std::uint32_t dim) {
  if (value.mv_size == value_size(id, dim)) return StepResult::ok();
  return StepResult::error("wrong-result", fmt::format("{}: id {}'s value is {} bytes; a record of {} dimensions is {}", doing, id,
                                                       value.mv_size, dim, value_size(id, dim)));
}

}  // namespace

StepResult Session::create(const Args& step) {
  // LMDB keeps records by key: no metric, no index.
  if (step.has("metric") && step.string("metric") != "none")
    return StepResult::error("invalid-argument", fmt::format("LMDB has no distance metric ('none'), not '{}'", step.string("metric")));
  if (step.boolean("hnsw", false) || step.has("m") || step.has("ef_construction"))
    return StepResult::error("invalid-argument", "LMDB has no index: hnsw = true, m and ef_construction have no meaning here");
  auto dim = static_cast<std::uint32_t>(step.u64("dim", 64));
  std::uint64_t vectors = step.u64("vectors", 0);
  close_env();
  if (step.has("store")) store_dir_ = work_dir_ + "/" + step.string("store");
  std::error_code ec;
  if (std::filesystem::exists(data_path(), ec))
    return StepResult::error("invalid-argument", fmt::format("create: {}/data.mdb exists: a store is there already",
                                                             std::filesystem::path(store_dir_).filename().string()));
  std::filesystem::create_directories(store_dir_, ec);
  if (ec) return mdb_error(ec.value(), "create: the env's directory");
  std::uint64_t mapsize = first_map_size(vectors, dim);
  env_flags_ = step.has("variant") && step.string("variant") == "writemap" ? MDB_WRITEMAP : 0;
  if (StepResult o = open_env(true, mapsize); !o.is_ok) return o;
  records_.reset(dim);
  import_dim_.reset();
  {
    std::lock_guard lock(ids_mu_);
    reserved_ids_ = 0;
  }
  created_ = true;
  std::vector<std::uint64_t> ids(vectors);
  for (std::uint64_t i = 0; i < vectors; ++i) ids[i] = i;
  if (StepResult o = add_records(ids, step.u64("seed", seed_)); !o.is_ok) return o;
  if (int rc = mdb_env_sync(env_, 1); rc != 0) return mdb_error(rc, "create: mdb_env_sync");
  context_.log(fmt::format("created an env of {} records of {} dimensions, a map of {} bytes{}", vectors, dim, mapsize,
                           env_flags_ & MDB_WRITEMAP ? ", MDB_WRITEMAP" : ""));
  return StepResult::ok();
}

StepResult Session::add(const Args& step) {
  if (!step.table("metadata").empty())
    return StepResult::error("invalid-argument", "this driver's LMDB records are a vector and a file_path: it stores no metadata");
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
  // After the ids the model has seen and those handed out to writers that have not committed yet.
  std::lock_guard lock(ids_mu_);
  std::uint64_t first = std::max(reserved_ids_, records_.next_id());
  reserved_ids_ = first + n;
  return first;
}

StepResult Session::add_records(const std::vector<std::uint64_t>& ids, std::uint64_t seed) {
  std::uint32_t dim = records_.dim();
  for (std::size_t start = 0; start < ids.size();) {
    std::size_t end = start, bytes = 0;
    while (end < ids.size() && end - start < kBatchRecords && bytes < kBatchBytes) bytes += value_size(ids[end++], dim);
    std::span<const std::uint64_t> batch(ids.data() + start, end - start);
    StepResult o = write("add", [&](MDB_txn* txn, std::string& where) {
      for (std::uint64_t id : batch) {
        std::string value = encode_value(kit::record_for(id, dim, seed));
        MDB_val k = key_of(id), v{value.size(), value.data()};
        if (int rc = mdb_put(txn, dbi_, &k, &v, 0); rc != 0) {
          where = fmt::format("mdb_put(id {})", id);
          return rc;
        }
      }
      return 0;
    });
    if (!o.is_ok) return o;
    records_.added(batch, seed);  // committed: durable, as the env syncs every commit
    start = end;
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
  // One transaction: every id goes, or (one is not there) none.
  StepResult o = write("remove", [&](MDB_txn* txn, std::string& where) {
    for (std::uint64_t id : ids) {
      std::uint64_t key = id;
      MDB_val k = key_of(key);
      if (int rc = mdb_del(txn, dbi_, &k, nullptr); rc != 0) {
        where = fmt::format("mdb_del(id {})", id);
        return rc;
      }
    }
    return 0;
  });
  if (!o.is_ok) return o;
  records_.removed(ids);
  context_.log(fmt::format("removed {} records", ids.size()));
  return StepResult::ok();
}

StepResult Session::store_count(MDB_txn* txn, std::uint64_t& n) {
  MDB_stat st{};
  if (int rc = mdb_stat(txn, dbi_, &st); rc != 0) return mdb_error(rc, "mdb_stat(main DB)");
  n = st.ms_entries;
  return StepResult::ok();
}

StepResult Session::count(const Args& step) {
  std::uint64_t n = 0;
  if (StepResult o = read_only("count", [&](MDB_txn* txn) { return store_count(txn, n); }); !o.is_ok) return o;
  context_.log(fmt::format("count = {}", n));
  if (step.has("equals") && n != step.u64("equals", 0))
    return StepResult::error("wrong-result", fmt::format("count is {} (mdb_stat's ms_entries), expected {}", n, step.u64("equals", 0)));
  return StepResult::ok();
}

StepResult Session::get(const Args& step) {
  std::vector<std::uint64_t> ids = step.u64_list("ids");
  return read_only("get", [&](MDB_txn* txn) {
    for (std::uint64_t id : ids) {
      std::uint64_t key = id;
      MDB_val k = key_of(key), v{};
      if (int rc = mdb_get(txn, dbi_, &k, &v); rc != 0) return mdb_error(rc, fmt::format("get: mdb_get(id {})", id));
      if (StepResult o = check_value_size("get", id, v, records_.dim()); !o.is_ok) return o;
    }
    return StepResult::ok();
  });
}

StepResult Session::search(const Args& step) {
  if (step.has("filter")) return StepResult::error("invalid-argument", "LMDB has no filtered search (and this driver keeps no attributes to filter on)");
  std::optional<double> min_recall;
  if (step.has("min_recall")) min_recall = step.real("min_recall", 0);
  return run_searches(step.u64("queries", 10), step.u64("k", 10), min_recall);
}

StepResult Session::run_searches(std::uint64_t queries, std::uint64_t k, std::optional<double> min_recall) {
  // LMDB has no k-NN: an exact search, one cursor pass over every record per
  // query, keeping the k nearest by L2 distance (in float, as an application
  // would). Every hit must be a live record of the model, nearest first; with
  // the model exact the kit's oracle checks that they are the k nearest.
  std::uint32_t dim = records_.dim();
  std::uint64_t scanned = 0, hits = 0;
  kit::SearchOne one = [&](const std::vector<float>& q, std::vector<std::uint64_t>& ids) {
    using Hit = std::pair<float, std::uint64_t>;  // (squared distance, id): a max-heap keeps the k nearest
    std::priority_queue<Hit> nearest;
    StepResult o = read_only("search", [&](MDB_txn* txn) {
      CursorGuard c;
      if (int rc = mdb_cursor_open(txn, dbi_, &c.cursor); rc != 0) return mdb_error(rc, "search: mdb_cursor_open");
      MDB_val key{}, value{};
      std::vector<float> v(dim);
      for (int rc = mdb_cursor_get(c.cursor, &key, &value, MDB_FIRST); rc != MDB_NOTFOUND;
           rc = mdb_cursor_get(c.cursor, &key, &value, MDB_NEXT)) {
        if (rc != 0) return mdb_error(rc, fmt::format("search: mdb_cursor_get after {} records", scanned));
        if (key.mv_size != sizeof(std::uint64_t))
          return StepResult::error("wrong-result", fmt::format("search: a key of {} bytes, not 8", key.mv_size));
        std::uint64_t id = id_of(key);
        if (StepResult ok = check_value_size("search", id, value, dim); !ok.is_ok) return ok;
        ++scanned;
        std::memcpy(v.data(), value.mv_data, std::size_t{dim} * sizeof(float));
        float d = 0;
        for (std::uint32_t j = 0; j < dim; ++j) d += (v[j] - q[j]) * (v[j] - q[j]);
        nearest.push({d, id});
        if (nearest.size() > k) nearest.pop();
      }
      return StepResult::ok();
    });
    if (!o.is_ok) return o;
    std::vector<Hit> found;
    for (; !nearest.empty(); nearest.pop()) found.push_back(nearest.top());
    std::reverse(found.begin(), found.end());  // nearest first
    for (const Hit& h : found) {
      if (!records_.may_hold(h.second))
        return StepResult::error("wrong-result", fmt::format("search returned id {}, which is not a live record", h.second));
      ids.push_back(h.second);
    }
    hits += found.size();
    return StepResult::ok();
  };
  kit::OracleSearch ask{.metric = kit::Metric::l2, .model_exact = records_.exact(), .live = records_.size(), .dim = dim,
                        .queries = queries, .k = k, .min_recall = min_recall};
  StepResult r = kit::oracle_searches(ask, [this] { return kit::oracle_records(records_); }, rng_, one, context_);
  context_.log(fmt::format("{} exact searches over {} records, k {}: {} hits", queries, scanned, k, hits));
  return r;
}

StepResult Session::verify(const Args& step) {
  // The kit's verdicts: every live record there and exact (vector bit for bit,
  // file_path), every removed one gone, mdb_stat's count the model's.
  // After a crash, `acknowledged` is the model (crashgate crash-check).
  if (step.op().name == "verify" && step.has("acknowledged"))
    if (StepResult r = records_.expect(step.table("acknowledged")); !r.is_ok) return r;
  std::uint32_t dim = records_.dim();
  StepResult o = read_only("verify", [&](MDB_txn* txn) {
    kit::Lookup lookup = [&](std::uint64_t id, std::optional<kit::Found>& found) {
      std::uint64_t key = id;
      MDB_val k = key_of(key), v{};
      int rc = mdb_get(txn, dbi_, &k, &v);
      if (rc == MDB_NOTFOUND) {
        found.reset();
        return StepResult::ok();
      }
      if (rc != 0) return mdb_error(rc, fmt::format("verify: mdb_get(id {})", id));
      found = decode_value(v, dim);
      return StepResult::ok();
    };
    std::uint64_t n = 0;
    if (StepResult counted = store_count(txn, n); !counted.is_ok) return counted;
    return records_.verify(lookup, n);
  });
  if (o.is_ok)
    context_.log(records_.known() ? fmt::format("verified {} records", records_.size())
                                  : fmt::format("verified the {} records added since the import (the files' own are unknown)", records_.size()));
  return o;
}

StepResult Session::scan_all() {
  // Every record, in key order: an 8-byte key and a value of the size a record
  // of this dimension has; as many as mdb_stat counts.
  std::uint32_t dim = records_.dim();
  std::uint64_t scanned = 0, counted = 0;
  StepResult o = read_only("scan", [&](MDB_txn* txn) {
    if (StepResult c = store_count(txn, counted); !c.is_ok) return c;
    CursorGuard c;
    if (int rc = mdb_cursor_open(txn, dbi_, &c.cursor); rc != 0) return mdb_error(rc, "scan: mdb_cursor_open");
    MDB_val key{}, value{};
    for (int rc = mdb_cursor_get(c.cursor, &key, &value, MDB_FIRST); rc != MDB_NOTFOUND;
         rc = mdb_cursor_get(c.cursor, &key, &value, MDB_NEXT)) {
      if (rc != 0) return mdb_error(rc, fmt::format("scan: mdb_cursor_get after {} records", scanned));
      if (key.mv_size != sizeof(std::uint64_t))
        return StepResult::error("wrong-result", fmt::format("scan: record {} has a key of {} bytes, not 8", scanned, key.mv_size));
      if (StepResult ok = check_value_size("scan", id_of(key), value, dim); !ok.is_ok) return ok;
      ++scanned;
    }
    return StepResult::ok();
  });
  if (!o.is_ok) return o;
  if (scanned != counted)
    return StepResult::error("wrong-result", fmt::format("scan: {} records, but mdb_stat counts {}", scanned, counted));
  context_.log(fmt::format("scanned {} records", scanned));
  return StepResult::ok();
}

StepResult Session::read(const Args& step) {
  // Open the env (if the step before closed it) and read it one way; fsck
  // reads the file itself, where an open could already crash (read needs no
  // open store in the op table, so the kit's before_store_ops hook is not run).
  std::string what = step.string("what");
  if (what == "fsck") return fsck();
  StepResult o = ensure_open();
  if (!o.is_ok || what == "open") return o;
  if (what == "count") {
    std::uint64_t n = 0;
    if (StepResult c = read_only("read count", [&](MDB_txn* txn) { return store_count(txn, n); }); !c.is_ok) return c;
    context_.log(fmt::format("count {}", n));
    return StepResult::ok();
  }
  if (what == "get") {
    // Every 97th live record of the model.
    std::vector<std::uint64_t> ids = records_.sample(97);
    return read_only("read get", [&](MDB_txn* txn) {
      for (std::uint64_t id : ids) {
        std::uint64_t key = id;
        MDB_val k = key_of(key), v{};
        if (int rc = mdb_get(txn, dbi_, &k, &v); rc != 0)
          return mdb_error(rc, fmt::format("read get: mdb_get(id {}), a record added and not removed", id));
        if (StepResult c = check_value_size("read get", id, v, records_.dim()); !c.is_ok) return c;
      }
      context_.log(fmt::format("read {} records", ids.size()));
      return StepResult::ok();
    });
  }
  if (what == "search") return run_searches(5, 10, std::nullopt);
  if (what == "scan") return scan_all();
  return StepResult::error("invalid-argument", fmt::format("read: what must be open, count, get, search, scan or fsck, not '{}'", what));
}

StepResult Session::fsck() {
  if (!created_) return StepResult::error("not-found", "there is no store: no create step made one");
  struct stat st {};
  if (::lstat(data_path().c_str(), &st) != 0) {
    int err = errno;
    return mdb_error(err, "fsck: data.mdb is not there");
  }
  FsckReport report;
  if (env_) {
    // This process's own transactions write the file: hold new ones off (as
    // growing the map does) and wait for those under way, so the check sees
    // the last commit whole. The env stays open and is not read through.
    ++growers_;
    std::unique_lock alone(map_mu_);
    --growers_;
    report = check_data_file(data_path());
  } else {
    report = check_data_file(data_path());
  }
  for (const std::string& note : report.notes) context_.log(fmt::format("fsck: {}", note));
  for (const std::string& problem : report.problems) context_.log(fmt::format("fsck: {}", problem));
  context_.log(fmt::format("fsck walked {}", report.summary()));
  if (report.ok()) return StepResult::ok();
  // The first few in the step's message; every one of them is in the log.
  constexpr std::size_t kShown = 3;
  std::string shown;
  for (std::size_t i = 0; i < report.problems.size() && i < kShown; ++i) shown += (i ? "; " : "") + report.problems[i];
  std::size_t n = report.problems.size();
  std::string count = report.stopped_at_max_problems ? fmt::format("{} or more problems (it stopped there)", n)
                                                     : fmt::format("{} problem{}", n, n == 1 ? "" : "s");
  std::string rest = n > kShown ? fmt::format("; and {} more in the log", n - kShown) : "";
  return StepResult::error("corrupt", fmt::format("fsck: {}: {}{}", count, shown, rest));
}

StepResult Session::sync() {
  if (int rc = mdb_env_sync(env_, 1); rc != 0) return mdb_error(rc, "mdb_env_sync(force)");
  return StepResult::ok();
}

StepResult Session::reopen() {
  close_env();
  return ensure_open();
}

StepResult Session::sleep(const Args& step) {
  std::this_thread::sleep_for(std::chrono::milliseconds(step.duration_ms("duration", 0)));
  return StepResult::ok();
}

RecordModel Session::model() const { return records_.snapshot(); }

}  // namespace crashgate::lmdb_driver
