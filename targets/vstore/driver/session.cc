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

#include "cell_values.h"
#include "index/graph_format.h"
#include "storage/format.h"
#include "storage/manifest.h"
#include "storage/store_impl.h"
#include "store_files.h"
#include "vstore/failpoint.h"
#include "vstore/filter.h"
#include "vstore/search.h"

namespace crashgate::vstore_driver {

using nlohmann::json;
using vstore::Code;
using vstore::Record;
using vstore::Status;

StepOutcome StepOutcome::From(const Status& st) {
  if (st.ok()) return Ok();
  return Error(std::string(vstore::code_name(st.code())), st.message());
}

Record record_for(uint64_t id, uint32_t dim, uint64_t seed) {
  Record r;
  r.id = id;
  r.vector.resize(dim);
  uint64_t x = (id + 1) * 0x9E3779B97F4A7C15ull ^ seed;
  // Past 1,024 dimensions the first 1,024 values repeat: as distinct per
  // record, and a 4 GiB store is generated in seconds, not minutes.
  for (uint32_t i = 0; i < dim; ++i) {
    if (i >= 1024) {
      r.vector[i] = r.vector[i % 1024];
      continue;
    }
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    r.vector[i] = static_cast<float>(static_cast<int64_t>(x % 2001) - 1000) / 1000.0f;
  }
  r.attributes.push_back({"file_path", fmt::format("src/mcp_vector_search/module_{:06}/file_{:08}.py", id / 1000, id)});
  return r;
}

bool parse_duration_ms(const json& v, uint64_t* ms) {
  if (v.is_number_unsigned() || v.is_number_integer()) {
    if (v.get<int64_t>() < 0) return false;
    *ms = v.get<uint64_t>();
    return true;
  }
  if (!v.is_string()) return false;
  std::string s = v.get<std::string>();
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  if (digits == 0) return false;
  uint64_t n = std::stoull(s.substr(0, digits));
  std::string unit = s.substr(digits);
  if (unit == "ms" || unit.empty()) *ms = n;
  else if (unit == "s") *ms = n * 1000;
  else if (unit == "m") *ms = n * 60000;
  else return false;
  return true;
}

namespace {


}  // namespace

Session::Session(std::string work_dir, uint64_t seed, size_t worker_stack, EventPipe* events)
    : work_dir_(std::move(work_dir)), store_dir_(work_dir_ + "/store"), seed_(seed), worker_stack_(worker_stack), events_(events), rng_(seed) {}

Session::~Session() { (void)join(); }

StepOutcome Session::run(const json& step) {
  // A malformed value in a cell (a string where a list of ids belongs, a
  // number too large) is the cell's fault: an invalid-argument step error,
  // never an exception that would look like the engine crashing.
  try {
    return dispatch(step);
  } catch (const std::exception& e) {
    return StepOutcome::Error("invalid-argument", fmt::format("step {}: malformed value: {}", get_string(step, "op"), e.what()));
  }
}

StepOutcome Session::dispatch(const json& step) {
  std::string op = get_string(step, "op");
  // Ops that work on the store open it first when a damage step or reopen closed it.
  static const std::set<std::string> kNeedStore = {"add", "remove", "count", "get", "verify", "delete", "append-empty-slots",
                                                   "search", "sync", "compact", "spawn-workload"};
  if (kNeedStore.count(op)) {
    StepOutcome o = ensure_open();
    if (!o.ok) return o;
  }
  if (op == "create") return create(step);
  if (op == "add") return add(step);
  if (op == "remove") return remove(step);
  if (op == "count") return count(step);
  if (op == "get") return get(step);
  if (op == "verify") return verify(step);
  if (op == "delete") return delete_where(step);
  if (op == "truncate") return truncate(step);
  if (op == "corrupt") return corrupt(step);
  if (op == "spawn-workload") return spawn_workload(step);
  if (op == "second-process") return second_process(step);
  if (op == "sleep") return sleep(step);
  if (op == "replace") return replace(step);
  if (op == "fsck") return fsck();
  if (op == "read") return read(step);
  if (op == "append-empty-slots") {
    // A huge store without writing it: empty slots on a sparse file (test hook of the engine).
    uint64_t slots = get_u64(step, "slots", 0);
    StepOutcome o = StepOutcome::From(store_->impl().append_empty_slots_for_testing(slots));
    if (o.ok) events_->log(fmt::format("appended {} empty slots", slots));
    return o;
  }
  if (op == "join") return join();
  if (op == "failpoints") return StepOutcome::From(vstore::configure_failpoints(get_string(step, "spec")));
  if (op == "sync" || op == "compact") return StepOutcome::From(op == "sync" ? store_->sync() : store_->compact());
  if (op == "reopen") {
    close_store();
    return ensure_open();
  }
  if (op == "search") return search(step);
  return StepOutcome::Error("invalid-argument", fmt::format("the vstore driver does not know op '{}'", op));
}

void Session::forget(const std::vector<uint64_t>& ids) {
  std::lock_guard lock(model_mu_);
  for (uint64_t id : ids) live_.erase(id);
}

StepOutcome Session::ensure_open() {
  if (store_) return StepOutcome::Ok();
  vstore::Result<std::unique_ptr<vstore::Store>> s = vstore::Store::open(store_dir_);
  if (!s.ok()) return StepOutcome::From(s.status());
  store_ = std::move(s).value();
  dim_ = store_->dim();
  return StepOutcome::Ok();
}

void Session::close_store() {
  if (!store_) return;
  store_->close().ignore();
  store_.reset();
}

StepOutcome Session::create(const json& step) {
  vstore::CreateOptions o;
  o.dim = static_cast<uint32_t>(get_u64(step, "dim", 64));
  std::string metric = get_string(step, "metric", "l2");
  if (!vstore::parse_metric(metric, &o.metric)) return StepOutcome::Error("invalid-argument", fmt::format("unknown metric '{}'", metric));
  o.index.enabled = get_bool(step, "hnsw", true);  // not "index": every step has its own index
  o.index.m = static_cast<uint32_t>(get_u64(step, "m", o.index.m));
  o.index.ef_construction = static_cast<uint32_t>(get_u64(step, "ef_construction", o.index.ef_construction));
  if (step.contains("store")) store_dir_ = work_dir_ + "/" + get_string(step, "store");
  vstore::Result<std::unique_ptr<vstore::Store>> s = vstore::Store::create(store_dir_, o);
  if (!s.ok()) return StepOutcome::From(s.status());
  store_ = std::move(s).value();
  dim_ = o.dim;
  json add_step = {{"vectors", get_u64(step, "vectors", 0)}};
  StepOutcome added = add(add_step);
  if (!added.ok) return added;
  return StepOutcome::From(store_->sync());
}

StepOutcome Session::add(const json& step) {
  std::vector<uint64_t> ids;
  if (auto it = step.find("ids"); it != step.end() && it->is_array()) {
    for (const json& v : *it) ids.push_back(v.get<uint64_t>());
  } else {
    uint64_t n = get_u64(step, "vectors", 100);
    uint64_t first = next_id_.fetch_add(n);
    for (uint64_t i = 0; i < n; ++i) ids.push_back(first + i);
  }
  uint64_t seed = get_u64(step, "seed", seed_);
  std::vector<Record> batch;
  for (uint64_t id : ids) {
    Record r = record_for(id, dim_, seed);
    if (auto meta = step.find("metadata"); meta != step.end() && meta->is_object())
      for (auto& [k, v] : meta->items()) r.attributes.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
    batch.push_back(std::move(r));
    if (batch.size() == 10000 || id == ids.back()) {
      Status st = store_->add(batch);
      if (!st.ok()) return StepOutcome::From(st);
      std::lock_guard lock(model_mu_);
      for (const Record& added : batch) live_.insert(added.id);
      batch.clear();
    }
  }
  uint64_t max_id = ids.empty() ? 0 : *std::max_element(ids.begin(), ids.end());
  uint64_t want = max_id + 1;
  for (uint64_t cur = next_id_.load(); cur < want && !next_id_.compare_exchange_weak(cur, want);) {
  }
  return StepOutcome::Ok();
}

StepOutcome Session::remove(const json& step) {
  std::vector<uint64_t> ids;
  if (auto it = step.find("ids"); it != step.end() && it->is_array()) {
    for (const json& v : *it) ids.push_back(v.get<uint64_t>());
  } else {
    std::lock_guard lock(model_mu_);
    std::vector<uint64_t> live(live_.begin(), live_.end());
    std::shuffle(live.begin(), live.end(), rng_);
    live.resize(std::min<size_t>(live.size(), get_u64(step, "count", 1)));
    ids = live;
  }
  vstore::Result<uint64_t> n = store_->remove(ids);
  if (!n.ok()) return StepOutcome::From(n.status());
  forget(ids);
  return StepOutcome::Ok();
}

StepOutcome Session::count(const json& step) {
  uint64_t n = store_->count();
  events_->log(fmt::format("count = {}", n));
  if (step.contains("equals") && n != get_u64(step, "equals", 0))
    return StepOutcome::Error("wrong-result", fmt::format("count() is {}, expected {}", n, get_u64(step, "equals", 0)));
  return StepOutcome::Ok();
}

StepOutcome Session::get(const json& step) {
  std::vector<uint64_t> ids;
  if (auto it = step.find("ids"); it != step.end() && it->is_array())
    for (const json& v : *it) ids.push_back(v.get<uint64_t>());
  for (uint64_t id : ids) {
    vstore::Result<Record> r = store_->get(id);
    if (!r.ok()) return StepOutcome::From(r.status());
  }
  return StepOutcome::Ok();
}

StepOutcome Session::verify(const json&) {
  // Every record the driver knows to be live is there and exact; every record
  // there at all is exactly what was added (none torn, none foreign); count()
  // agrees with what a scan finds.
  std::set<uint64_t> live, removed;
  {
    std::lock_guard lock(model_mu_);
    live = live_;
    removed = removed_;
  }
  uint64_t scanned = 0;
  std::string bad;
  Status st = store_->scan([&](const vstore::RecordRef& r) {
    ++scanned;
    if (removed.count(r.id())) {
      bad = fmt::format("record {} was removed, durably, and is back", r.id());
      return false;
    }
    std::vector<float> v(r.vector().begin(), r.vector().end());
    if (v != record_for(r.id(), dim_, seed_).vector) {
      bad = fmt::format("record {} comes back different from what was added", r.id());
      return false;
    }
    return true;
  });
  if (!st.ok()) return StepOutcome::From(st);
  if (!bad.empty()) return StepOutcome::Error("wrong-result", bad);
  for (uint64_t id : live) {
    vstore::Result<Record> r = store_->get(id);
    if (!r.ok()) {
      if (r.status().code() == Code::not_found) return StepOutcome::Error("wrong-result", fmt::format("record {} was added (and synced) and never removed, but is missing", id));
      return StepOutcome::From(r.status());
    }
  }
  if (store_->count() != scanned)
    return StepOutcome::Error("wrong-result", fmt::format("count() is {} but a scan finds {} records", store_->count(), scanned));
  return StepOutcome::Ok();
}

StepOutcome Session::delete_where(const json& step) {
  std::string tmpl = get_string(step, "filter");
  uint64_t clauses = get_u64(step, "clauses", 1);
  std::string shape = get_string(step, "shape", "or");
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
  } else if (shape == "in") {
    // One IN list of `clauses` values: `filter` is the field name, values as %i/%m name the driver's paths.
    std::string field = get_string(step, "field", "file_path");
    text = field + " IN (";
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
  } else if (shape != "or") {
    return StepOutcome::Error("invalid-argument", fmt::format("delete: shape must be or, nested, not, in or and-or, not '{}'", shape));
  } else if (clauses <= 1 && tmpl.find('%') == std::string::npos) {
    text = tmpl;
  } else {
    // `clauses` copies OR-ed, %i replaced by the copy's number (8 digits) and
    // %m by number / 1000 (6 digits), as the driver names its records'
    // file_path: the field's 31,985-clause `file_path = '...' OR ...` delete.
    for (uint64_t i = 0; i < std::max<uint64_t>(clauses, 1); ++i) {
      if (i) text += " OR ";
      std::string c = tmpl;
      for (size_t p; (p = c.find("%i")) != std::string::npos;) c.replace(p, 2, fmt::format("{:08}", i));
      for (size_t p; (p = c.find("%m")) != std::string::npos;) c.replace(p, 2, fmt::format("{:06}", i / 1000));
      text += c;
    }
  }
  events_->log(fmt::format("delete: {} clauses, {} bytes", clauses, text.size()));
  vstore::Result<vstore::Filter> filter = vstore::Filter::parse(text);
  if (!filter.ok()) return StepOutcome::From(filter.status());
  std::vector<uint64_t> doomed;
  Status st = store_->scan([&](const vstore::RecordRef& r) {
    if (filter->matches([&](std::string_view key) { return r.attribute(key); })) doomed.push_back(r.id());
    return true;
  });
  if (!st.ok()) return StepOutcome::From(st);
  // The engine's own delete_where: atomic with respect to a crash, index included.
  vstore::Result<uint64_t> n = store_->delete_where(*filter);
  if (!n.ok()) return StepOutcome::From(n.status());
  events_->log(fmt::format("delete removed {}", *n));
  if (*n != doomed.size())
    return StepOutcome::Error("wrong-result", fmt::format("delete_where removed {}, but {} records match", *n, doomed.size()));
  forget(doomed);
  return StepOutcome::Ok();
}

StepOutcome Session::search(const json& step) {
  // k-NN queries from the cell's seed; every hit must be a live record the
  // driver added, nearest first, and no more than k of them.
  uint64_t queries = get_u64(step, "queries", 10);
  vstore::SearchOptions options;
  options.k = get_u64(step, "k", 10);
  options.ef = get_u64(step, "ef", 64);
  std::optional<vstore::Filter> filter;
  if (step.contains("filter")) {
    vstore::Result<vstore::Filter> f = vstore::Filter::parse(get_string(step, "filter"));
    if (!f.ok()) return StepOutcome::From(f.status());
    filter = std::move(f).value();
  }
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::vector<float> q(dim_);
  uint64_t kept = 0;  // hits that pass the filter (a post-filtered search)
  for (uint64_t i = 0; i < queries; ++i) {
    for (float& v : q) v = value(rng_);
    vstore::Result<std::vector<vstore::SearchHit>> hits = store_->search(q, options);
    if (!hits.ok()) return StepOutcome::From(hits.status());
    if (hits->size() > options.k) return StepOutcome::Error("wrong-result", fmt::format("search returned {} hits for k = {}", hits->size(), options.k));
    for (size_t h = 0; h < hits->size(); ++h) {
      if (h > 0 && (*hits)[h].distance < (*hits)[h - 1].distance)
        return StepOutcome::Error("wrong-result", "search hits are not ordered nearest first");
      vstore::Result<Record> r = store_->get((*hits)[h].id);
      if (!r.ok() && workers_.empty())
        return StepOutcome::Error("wrong-result", fmt::format("search returned id {}, which is not a live record ({})", (*hits)[h].id, r.status().to_string()));
      if (r.ok() && (!filter || filter->matches(*r))) ++kept;
    }
  }
  events_->log(fmt::format("{} searches, k {}, ef {}: {} hits kept{}", queries, options.k, options.ef, kept, filter ? " by the filter" : ""));
  return StepOutcome::Ok();
}

vstore::Result<Session::DamageTarget> Session::damage_target(const json& step, const char* offset_key) {
  // Damage from outside: the store is closed first unless `while_open` says an
  // outside process cuts a file this process still maps.
  if (!get_bool(step, "while_open", false)) close_store();
  std::string logical = get_string(step, "file");
  DamageTarget t;
  VSTORE_ASSIGN_OR_RETURN(t.path, store_file(store_dir_, logical));
  VSTORE_ASSIGN_OR_RETURN(t.offset, evaluate_offset(store_dir_, logical, get_string(step, offset_key)));
  return t;
}

StepOutcome Session::truncate(const json& step) {
  vstore::Result<DamageTarget> target = damage_target(step, "to");
  if (!target.ok()) return StepOutcome::From(target.status());
  const std::string* path = &target->path;
  const uint64_t* to = &target->offset;
  std::error_code ec;
  std::filesystem::resize_file(*path, *to, ec);
  if (ec) return StepOutcome::Error("io", fmt::format("truncate {} to {}: {}", *path, *to, ec.message()));
  events_->log(fmt::format("truncated {} to {} bytes", *path, *to));
  return StepOutcome::Ok();
}

StepOutcome Session::corrupt(const json& step) {
  vstore::Result<DamageTarget> target = damage_target(step, "at");
  if (!target.ok()) return StepOutcome::From(target.status());
  const std::string* path = &target->path;
  const uint64_t* at = &target->offset;
  uint64_t bytes = get_u64(step, "bytes", 1);
  std::fstream f(*path, std::ios::in | std::ios::out | std::ios::binary);
  if (!f) return StepOutcome::Error("io", fmt::format("open {}", *path));
  std::vector<char> buf(bytes, 0);
  f.seekg(static_cast<std::streamoff>(*at));
  f.read(buf.data(), static_cast<std::streamsize>(bytes));
  f.clear();
  // value: a byte (0-255) written over each byte, "flip" (default) to invert
  // them, or "u32le:N" / "u64le:N" for a little-endian number (bytes 4 or 8).
  std::string value = get_string(step, "value", "flip");
  if (value.rfind("u32le:", 0) == 0 || value.rfind("u64le:", 0) == 0) {
    size_t width = value[1] == '3' ? 4 : 8;
    if (bytes != width) return StepOutcome::Error("invalid-argument", fmt::format("corrupt: value {} needs bytes = {}", value, width));
    uint64_t n = std::stoull(value.substr(6));
    for (size_t i = 0; i < width; ++i) buf[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  } else {
    for (char& c : buf) c = value == "flip" ? static_cast<char>(~c) : static_cast<char>(std::stoi(value));
  }
  f.seekp(static_cast<std::streamoff>(*at));
  f.write(buf.data(), static_cast<std::streamsize>(bytes));
  if (!f) return StepOutcome::Error("io", fmt::format("write {}", *path));
  f.close();
  // rechecksum: make the header's checksums agree again, so that what is
  // tested is the engine's check of the field itself, not of the checksum.
  if (get_bool(step, "rechecksum", false)) {
    StepOutcome fixed = rechecksum_header(*path, get_string(step, "file"));
    if (!fixed.ok) return fixed;
  }
  events_->log(fmt::format("corrupted {} bytes of {} at {}", bytes, *path, *at));
  return StepOutcome::Ok();
}

StepOutcome rechecksum_header(const std::string& path, const std::string& logical) {
  using namespace vstore::internal;
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  bool manifest = logical == "manifest" || logical == "MANIFEST";
  size_t header = manifest ? sizeof(ManifestHeader) : sizeof(FileHeader);
  std::vector<char> h(header);
  if (!f.read(h.data(), static_cast<std::streamsize>(header))) return StepOutcome::Error("io", fmt::format("rechecksum: cannot read {}'s header", path));
  size_t at = manifest ? offsetof(ManifestHeader, checksum) : offsetof(FileHeader, checksum);
  uint64_t sum = checksum64(h.data(), at);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(reinterpret_cast<const char*>(&sum), 8);
  if (manifest) {
    // The pending-removal list after the header is checksummed seeded by the header's checksum.
    uint64_t pending = 0;
    std::memcpy(&pending, h.data() + offsetof(ManifestHeader, pending_removes), 8);
    uint64_t size = std::filesystem::file_size(path);
    if (pending < (size - header) / 8) {
      std::vector<char> list(8 * pending);
      f.seekg(static_cast<std::streamoff>(header));
      f.read(list.data(), static_cast<std::streamsize>(list.size()));
      uint64_t list_sum = checksum64(list.data(), list.size(), sum);
      f.seekp(static_cast<std::streamoff>(header + list.size()));
      f.write(reinterpret_cast<const char*>(&list_sum), 8);
    }
  }
  if (!f) return StepOutcome::Error("io", fmt::format("rechecksum: cannot write {}", path));
  return StepOutcome::Ok();
}

StepOutcome Session::read(const json& step) {
  // One way of reading the store, named by `what`: open alone, count, get (a
  // few ids the model holds), search, scan, or fsck.
  std::string what = get_string(step, "what");
  if (what == "fsck") return fsck();
  StepOutcome o = ensure_open();
  if (!o.ok || what == "open") return o;
  if (what == "count") {
    events_->log(fmt::format("count {}", store_->count()));
    return StepOutcome::Ok();
  }
  if (what == "get") {
    std::vector<uint64_t> ids;
    {
      std::lock_guard lock(model_mu_);
      size_t i = 0;
      for (uint64_t id : live_)
        if (i++ % 97 == 0) ids.push_back(id);
    }
    for (uint64_t id : ids)
      if (vstore::Result<Record> r = store_->get(id); !r.ok()) return StepOutcome::From(r.status());
    return StepOutcome::Ok();
  }
  if (what == "search") return search(json{{"queries", 5}});
  if (what == "scan") {
    uint64_t n = 0;
    vstore::Status st = store_->scan([&](const vstore::RecordRef&) {
      ++n;
      return true;
    });
    return StepOutcome::From(st);
  }
  return StepOutcome::Error("invalid-argument", fmt::format("read: what must be open, count, get, search, scan or fsck, not '{}'", what));
}

StepOutcome Session::replace(const json& step) {
  // `with`: directory, empty, fifo, or foreign (the same file of a store of another dimension).
  close_store();
  std::string logical = get_string(step, "file");
  std::string with = get_string(step, "with");
  vstore::Result<std::string> path = store_file(store_dir_, logical);
  if (!path.ok()) return StepOutcome::From(path.status());
  std::error_code ec;
  if (with == "foreign") {
    std::string other = work_dir_ + "/foreign";
    if (!std::filesystem::exists(other)) {
      vstore::CreateOptions o;
      o.dim = dim_ * 2 + 8;
      vstore::Result<std::unique_ptr<vstore::Store>> s = vstore::Store::create(other, o);
      if (!s.ok()) return StepOutcome::From(s.status());
      std::vector<Record> few;
      for (uint64_t id = 0; id < 50; ++id) few.push_back(record_for(id, o.dim, seed_));
      if (vstore::Status st = (*s)->add(few); !st.ok()) return StepOutcome::From(st);
      if (vstore::Status st = (*s)->close(); !st.ok()) return StepOutcome::From(st);
    }
    vstore::Result<std::string> theirs = store_file(other, logical);
    if (!theirs.ok()) return StepOutcome::From(theirs.status());
    std::filesystem::copy_file(*theirs, *path, std::filesystem::copy_options::overwrite_existing, ec);
  } else {
    std::filesystem::remove(*path, ec);
    if (with == "directory") std::filesystem::create_directory(*path, ec);
    else if (with == "empty") std::ofstream(*path).flush();
    else if (with == "fifo") {
      if (::mkfifo(path->c_str(), 0644) != 0) ec = std::error_code(errno, std::generic_category());
    } else return StepOutcome::Error("invalid-argument", fmt::format("replace: with must be directory, empty, fifo or foreign, not '{}'", with));
  }
  if (ec) return StepOutcome::Error("io", fmt::format("replace {} with {}: {}", *path, with, ec.message()));
  events_->log(fmt::format("replaced {} with {}", *path, with));
  return StepOutcome::Ok();
}

StepOutcome Session::fsck() {
  // The store's own check, closed: every problem is a corrupt error.
  close_store();
  vstore::FsckReport report = vstore::Store::fsck(store_dir_);
  events_->log(fmt::format("fsck checked {} records: {} problems", report.records_checked, report.problems.size()));
  if (report.ok()) return StepOutcome::Ok();
  return StepOutcome::Error("corrupt", fmt::format("fsck: {} problems; the first: {}", report.problems.size(), report.problems.front()));
}

StepOutcome Session::sleep(const json& step) {
  uint64_t ms = 0;
  if (!parse_duration_ms(step.value("duration", json()), &ms)) return StepOutcome::Error("invalid-argument", "sleep: duration must be like 100ms or 2s");
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return StepOutcome::Ok();
}

}  // namespace crashgate::vstore_driver
