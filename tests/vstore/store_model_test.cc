// Model-based property test: random sequences of add, remove, get, count,
// sync, compact and reopen against an in-memory model.
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>
#include <rapidcheck/gtest.h>

#include "vstore/store.h"
#include "vstore/support/scratch.h"

namespace vstore {
namespace {

constexpr uint32_t kDim = 3;

struct Model {
  std::map<uint64_t, Record> live;
};

struct Sut {
  testing::ScratchDir dir;
  std::unique_ptr<Store> store;
  Sut() {
    CreateOptions o;
    o.dim = kDim;
    store = std::move(Store::create(dir / "s", o)).value();
  }
};

Record record_for(uint64_t id, uint64_t salt) { return testing::make_record(id, kDim, salt); }

struct Add : rc::state::Command<Model, Sut> {
  std::vector<uint64_t> ids = *rc::gen::container<std::vector<uint64_t>>(rc::gen::inRange<uint64_t>(0, 60));
  uint64_t salt = *rc::gen::inRange<uint64_t>(0, 4);
  bool valid(const Model& m) const {
    std::set<uint64_t> seen;
    for (uint64_t id : ids)
      if (m.live.count(id) || !seen.insert(id).second) return false;
    return true;
  }
  void apply(Model& m) const override {
    if (!valid(m)) return;
    for (uint64_t id : ids) m.live[id] = record_for(id, salt);
  }
  void run(const Model& m, Sut& s) const override {
    std::vector<Record> batch;
    for (uint64_t id : ids) batch.push_back(record_for(id, salt));
    Status st = s.store->add(batch);
    if (valid(m)) RC_ASSERT(st.ok());
    else RC_ASSERT(st.code() == Code::invalid_argument);
  }
  void show(std::ostream& os) const override { os << "add " << ids.size() << " ids, salt " << salt; }
};

struct Remove : rc::state::Command<Model, Sut> {
  std::vector<uint64_t> ids = *rc::gen::container<std::vector<uint64_t>>(rc::gen::inRange<uint64_t>(0, 60));
  void apply(Model& m) const override {
    for (uint64_t id : ids) m.live.erase(id);
  }
  void run(const Model& m, Sut& s) const override {
    std::set<uint64_t> present;
    for (uint64_t id : ids)
      if (m.live.count(id)) present.insert(id);
    Result<uint64_t> n = s.store->remove(ids);
    RC_ASSERT(n.ok());
    RC_ASSERT(*n == present.size());
  }
  void show(std::ostream& os) const override { os << "remove " << ids.size() << " ids"; }
};

struct Get : rc::state::Command<Model, Sut> {
  uint64_t id = *rc::gen::inRange<uint64_t>(0, 60);
  void run(const Model& m, Sut& s) const override {
    Result<Record> r = s.store->get(id);
    auto it = m.live.find(id);
    if (it == m.live.end()) {
      RC_ASSERT(r.status().code() == Code::not_found);
    } else {
      RC_ASSERT(r.ok());
      RC_ASSERT(*r == it->second);
    }
  }
  void show(std::ostream& os) const override { os << "get " << id; }
};

struct Count : rc::state::Command<Model, Sut> {
  void run(const Model& m, Sut& s) const override { RC_ASSERT(s.store->count() == m.live.size()); }
  void show(std::ostream& os) const override { os << "count"; }
};

struct Sync : rc::state::Command<Model, Sut> {
  void run(const Model&, Sut& s) const override { RC_ASSERT(s.store->sync().ok()); }
  void show(std::ostream& os) const override { os << "sync"; }
};

struct Compact : rc::state::Command<Model, Sut> {
  void run(const Model& m, Sut& s) const override {
    RC_ASSERT(s.store->compact().ok());
    RC_ASSERT(s.store->stats().slots == m.live.size());
  }
  void show(std::ostream& os) const override { os << "compact"; }
};

struct Reopen : rc::state::Command<Model, Sut> {
  void run(const Model& m, Sut& s) const override {
    RC_ASSERT(s.store->close().ok());
    s.store.reset();
    Result<std::unique_ptr<Store>> r = Store::open(s.dir / "s");
    RC_ASSERT(r.ok());
    s.store = std::move(r).value();
    RC_ASSERT(s.store->count() == m.live.size());
  }
  void show(std::ostream& os) const override { os << "reopen"; }
};

RC_GTEST_PROP(StoreModel, BehavesLikeAMapThroughAddRemoveSyncCompactAndReopen, ()) {
  Model initial;
  Sut sut;
  rc::state::check(initial, sut,
                   rc::state::gen::execOneOfWithArgs<Add, Remove, Get, Get, Count, Sync, Compact, Reopen>());
  // Whatever the sequence, the final store passes fsck and matches the model.
  RC_ASSERT(sut.store->close().ok());
  FsckReport report = Store::fsck(sut.dir / "s");
  RC_ASSERT(report.ok());
}

}  // namespace
}  // namespace vstore
