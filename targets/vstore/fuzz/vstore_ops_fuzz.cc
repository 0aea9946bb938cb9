// vstore_ops: the input is a sequence of operations on one store (add, remove,
// search, exact search, delete_where, compact, sync, reopen, crash-and-reopen),
// each checked against an in-memory model: every call must succeed or fail as
// the model says, and what the store holds must be what the model holds.
//
// Crash-and-reopen is an in-process power cut (power_cut_env.h): the store is
// abandoned with every write refused, what was never synced is undone, and the
// store reopens. Records committed before the cut must all be there, unchanged;
// records added since must not; a record removed since may be either (its
// tombstone is written in place), and the model adopts what the store says.
//
// Encoding: one op byte (op % 10), then the op's own bytes; ids are small (% 24)
// so that adds collide with live records and removes hit.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include "power_cut_env.h"
#include "store_edits.h"
#include "vstore/filter.h"
#include "vstore/store.h"

namespace {

namespace fs = std::filesystem;

constexpr uint32_t kDim = 4;
constexpr int kMaxOps = 48;
constexpr const char* kTags[] = {"a", "b", "c", "d"};

struct Item {
  std::vector<float> vector;
  std::string tag;
  friend bool operator==(const Item&, const Item&) = default;
};

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

[[noreturn]] void mismatch(const char* what) {
  // libFuzzer prints the abort's stack; the message says which promise broke.
  fprintf(stderr, "vstore_ops: %s\n", what);
  std::abort();
}

void require(bool ok, const char* what) {
  if (!ok) mismatch(what);
}

void require_ok(const vstore::Status& st, const char* what) {
  if (!st.ok()) {
    fprintf(stderr, "vstore_ops: %s: %s\n", what, st.to_string().c_str());
    std::abort();
  }
}

std::vector<float> vector_from(uint8_t b) {
  // Small integers: every l2 distance is exact in float, so the model's order is the store's.
  return {float(b % 5), float((b / 5) % 5), float(b % 3), float(b >> 6)};
}

float l2(const std::vector<float>& a, const float* b) {
  float d = 0;
  for (uint32_t i = 0; i < kDim; ++i) d += (a[i] - b[i]) * (a[i] - b[i]);
  return d;
}

class OpsRun {
 public:
  explicit OpsRun(std::string dir) : dir_(std::move(dir)), env_(vstore::default_env()) {}

  void run(Input& in) {
    vstore::CreateOptions o;
    o.dim = kDim;
    o.index.m = 4;
    o.index.ef_construction = 16;
    auto s = vstore::Store::create(dir_, o, &env_);
    require_ok(s.status(), "create failed");
    store_ = std::move(s).value();
    for (int n = 0; n < kMaxOps && !in.done(); ++n) step(in);
    store_.reset();
    env_.reset();
  }

 private:
  void step(Input& in) {
    switch (in.byte() % 10) {
      case 0:
      case 1: add(in); break;
      case 2: remove(in); break;
      case 3: search(in); break;
      case 4: exact_search(in); break;
      case 5: delete_where(in); break;
      case 6:
        require_ok(store_->compact(), "compact failed");
        commit();
        break;
      case 7:
        require_ok(store_->sync(), "sync failed");
        commit();
        break;
      case 8: reopen(); break;
      case 9: crash_and_reopen(); break;
    }
    require(store_->count() == live_.size(), "count() is not the model's");
  }

  void add(Input& in) {
    int n = 1 + in.byte() % 4;
    std::vector<vstore::Record> batch;
    std::set<uint64_t> ids;
    bool valid = true;
    for (int i = 0; i < n; ++i) {
      vstore::Record r;
      r.id = in.byte() % 24;
      uint8_t b = in.byte();
      r.vector = vector_from(b);
      r.attributes.push_back({"file_path", "f" + std::to_string(r.id)});
      r.attributes.push_back({"tag", kTags[b % 4]});
      valid &= ids.insert(r.id).second && !live_.count(r.id);
      batch.push_back(std::move(r));
    }
    vstore::Status st = store_->add(batch);
    require(st.ok() == valid, valid ? "add of new ids failed" : "add of a duplicate id succeeded");
    if (!valid) {
      require(st.code() == vstore::Code::invalid_argument, "a duplicate id is not invalid-argument");
      return;
    }
    for (const vstore::Record& r : batch) {
      live_[r.id] = Item{r.vector, std::string(*r.attribute("tag"))};
      touched_.insert(r.id);
    }
  }

  void remove(Input& in) {
    int n = 1 + in.byte() % 3;
    std::set<uint64_t> ids;
    for (int i = 0; i < n; ++i) ids.insert(in.byte() % 24);
    std::vector<uint64_t> list(ids.begin(), ids.end());
    uint64_t expected = 0;
    for (uint64_t id : list) expected += live_.erase(id);
    vstore::Result<uint64_t> got = store_->remove(list);
    require(got.ok() && *got == expected, "remove did not remove what was live");
    touched_.insert(list.begin(), list.end());
  }

  void search(Input& in) {
    std::vector<float> q = vector_from(in.byte());
    size_t k = 1 + in.byte() % 8;
    auto hits = store_->search(q, {.k = k, .ef = 16});
    require(hits.ok(), "search failed");
    require(hits->size() <= k, "search returned more than k hits");
    std::set<uint64_t> seen;
    for (size_t i = 0; i < hits->size(); ++i) {
      const vstore::SearchHit& h = (*hits)[i];
      auto it = live_.find(h.id);
      require(it != live_.end(), "search returned a record that is not live");
      require(seen.insert(h.id).second, "search returned a record twice");
      require(h.distance == l2(it->second.vector, q.data()), "search's distance is wrong");
      require(i == 0 || (*hits)[i - 1].distance <= h.distance, "search's hits are not nearest first");
    }
  }

  void exact_search(Input& in) {
    std::vector<float> q = vector_from(in.byte());
    size_t k = 1 + in.byte() % 8;
    auto hits = store_->exact_search(q, k);
    require(hits.ok(), "exact_search failed");
    std::vector<float> want;
    for (const auto& [id, item] : live_) want.push_back(l2(item.vector, q.data()));
    std::sort(want.begin(), want.end());
    want.resize(std::min(want.size(), k));
    require(hits->size() == want.size(), "exact_search returned the wrong number of hits");
    for (size_t i = 0; i < want.size(); ++i) require((*hits)[i].distance == want[i], "exact_search is not the k nearest");
  }

  void delete_where(Input& in) {
    uint8_t b = in.byte();
    std::string a = kTags[b % 4], c = kTags[(b / 4) % 4];
    std::string text;
    switch ((b / 16) % 3) {
      case 0: text = "tag = '" + a + "'"; break;
      case 1: text = "tag != '" + a + "' AND tag != '" + c + "'"; break;
      default: text = "tag IN ('" + a + "', '" + c + "')"; break;
    }
    auto f = vstore::Filter::parse(text);
    require(f.ok(), "a well-formed filter did not parse");
    std::vector<uint64_t> gone;
    for (const auto& [id, item] : live_) {
      bool m = (b / 16) % 3 == 0 ? item.tag == a : (b / 16) % 3 == 1 ? item.tag != a && item.tag != c : item.tag == a || item.tag == c;
      if (m) gone.push_back(id);
    }
    vstore::Result<uint64_t> got = store_->delete_where(*f);
    require(got.ok() && *got == gone.size(), "delete_where did not remove what matched");
    for (uint64_t id : gone) live_.erase(id);
    // delete_where commits its removals; when nothing matched it commits nothing
    // (store_search.cc), so earlier unsynced adds stay uncommitted.
    if (!gone.empty()) commit();
  }

  void commit() {
    durable_ = live_;
    touched_.clear();
  }

  void reopen() {
    require_ok(store_->close(), "close failed");
    store_.reset();
    commit();
    open_and_check(false);
  }

  void crash_and_reopen() {
    env_.fail_writes();
    store_.reset();  // close() fails: nothing more reaches the files
    env_.power_cut();
    open_and_check(true);
  }

  void open_and_check(bool after_crash) {
    auto s = vstore::Store::open(dir_, {}, &env_);
    if (!s.ok()) require_ok(s.status(), after_crash ? "the store does not open after a power cut" : "the store does not reopen");
    store_ = std::move(s).value();
    std::map<uint64_t, Item> now;
    for (uint64_t id = 0; id < 24; ++id) {
      vstore::Result<vstore::Record> r = store_->get(id);
      if (!r.ok()) {
        require(r.status().code() == vstore::Code::not_found, "get failed on a reopened store");
        require(!durable_.count(id) || touched_.count(id), "a committed record is lost");
        continue;
      }
      auto d = durable_.find(id);
      require(d != durable_.end(), "a record that was never committed survived");
      Item item{r->vector, std::string(r->attribute("tag").value_or(""))};
      require(item == d->second, "a committed record changed");
      now[id] = std::move(item);
    }
    live_ = now;
    commit();
  }

  std::string dir_;
  vstore_fuzz::PowerCutEnv env_;
  std::unique_ptr<vstore::Store> store_;
  std::map<uint64_t, Item> live_;     // what the store must hold now
  std::map<uint64_t, Item> durable_;  // what it held at the last commit
  std::set<uint64_t> touched_;        // ids added or removed since then
};

const std::string& scratch_dir() {
  static const std::string* dir = [] {
    const char* shm = fs::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    vstore_fuzz::remove_stale_scratch(shm, "vstore-ops-fuzz");
    auto* d = new std::string(std::string(shm) + "/vstore-ops-fuzz-" + std::to_string(::getpid()));
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(scratch_dir(), ec);
    });
    return d;
  }();
  return *dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& dir = scratch_dir();
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  Input in(data, size);
  OpsRun(dir + "/store").run(in);
  return 0;
}
