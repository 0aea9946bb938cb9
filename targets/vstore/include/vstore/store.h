// vstore/store.h: a memory-mapped vector store. Records (u64 id, float32 vector
// of the store's dimension, string attributes) live in files under one
// directory; reads go through bounds-checked mappings, writes through the I/O
// seam (vstore/env.h). Every call returns a Status or Result; no input, file or
// schedule makes the store crash.
//
// Thread rule: a Store is safe to use from many threads at once. Mutations
// (add, remove, sync, compact) are serialised; readers (get, view, contains,
// count, stats) run alongside them and never see a torn or half-added record.
// One process at a time may open a store for writing (a second writer gets
// busy at once); any number may open it read-only, and each reader keeps
// reading the generation it opened until it reopens: it sees the records that
// were committed when it opened (count() stays that snapshot's), though a
// removal the writer commits later can become visible to it, as tombstones
// are written in place. Compaction never takes a record from under a reader.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vstore/env.h"
#include "vstore/record.h"
#include "vstore/search.h"
#include "vstore/status.h"

namespace vstore {

class Filter;

namespace internal {
class StoreImpl;
class MapGuard;
}  // namespace internal
struct TestingAccess;

struct CreateOptions {
  uint32_t dim = 0;  // 1 to 65,536
  Metric metric = Metric::l2;
  IndexOptions index;  // the HNSW index's shape, fixed for the store's life
};

struct OpenOptions {
  bool read_only = false;  // no lock taken; never writes
};

struct StoreStats {
  uint32_t dim = 0;
  Metric metric = Metric::l2;
  uint64_t generation = 0;   // bumped by every compaction
  uint64_t commit_seq = 0;   // bumped by every sync
  uint64_t live = 0;         // what count() returns
  uint64_t slots = 0;        // slots written, live or removed (compaction reclaims the removed)
  uint64_t committed_slots = 0;
  uint64_t vectors_file_bytes = 0;
  uint64_t attrs_bytes = 0;
  uint64_t attrs_file_bytes = 0;
  uint64_t id_table_buckets = 0;
};

struct FsckReport {
  uint64_t records_checked = 0;
  // One line per problem: "FILE: offset N: what is wrong, and what was expected".
  std::vector<std::string> problems;
  // The first failure that was not corruption: fsck could not read what it
  // checks (no store there, an I/O error, out of descriptors or memory), so
  // its code, not corrupt, is the answer. Its message is in `problems` too.
  Status unreadable;
  bool ok() const { return problems.empty(); }
};

// One live record during Store::scan: valid only inside the callback.
class RecordRef {
 public:
  RecordRef(uint64_t id, std::span<const float> vector, const uint8_t* attrs, uint32_t attrs_len)
      : id_(id), vector_(vector), attrs_(attrs), attrs_len_(attrs_len) {}
  uint64_t id() const { return id_; }
  std::span<const float> vector() const { return vector_; }
  // The attribute's value, found in the stored bytes without copying; nullopt
  // when absent (or when the stored attributes are malformed).
  std::optional<std::string_view> attribute(std::string_view key) const;
  Result<std::vector<Attribute>> attributes() const;

 private:
  uint64_t id_;
  std::span<const float> vector_;
  const uint8_t* attrs_;
  uint32_t attrs_len_;
};

// A zero-copy view of one record; the mapping it points into stays mapped for
// as long as the view lives, whatever the store does meanwhile.
class RecordView {
 public:
  RecordView(RecordView&&) noexcept;
  RecordView& operator=(RecordView&&) noexcept;
  ~RecordView();
  uint64_t id() const { return id_; }
  std::span<const float> vector() const { return {vector_, dim_}; }
  // The record's attributes, decoded.
  Result<std::vector<Attribute>> attributes() const;

 private:
  friend class internal::StoreImpl;
  RecordView();
  std::unique_ptr<internal::MapGuard> vectors_guard_, attrs_guard_;
  uint64_t id_ = 0;
  const float* vector_ = nullptr;
  size_t dim_ = 0;
  const uint8_t* attrs_ = nullptr;
  uint32_t attrs_len_ = 0;
};

class Store {
 public:
  // Creates a store in `dir`, which must not exist or be empty.
  static Result<std::unique_ptr<Store>> create(const std::string& dir, const CreateOptions& options, Env* env = default_env());
  // Opens an existing store. O(1) in the number of records: every header field
  // is validated against the files' real sizes and against each other first.
  static Result<std::unique_ptr<Store>> open(const std::string& dir, const OpenOptions& options = {}, Env* env = default_env());
  // Verifies everything, checksums included; reports every problem found.
  static FsckReport fsck(const std::string& dir, Env* env = default_env());

  ~Store();  // close(), errors dropped
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Adds records, all or none: invalid-argument for a wrong dimension, a
  // duplicate id (in the batch or already live) or oversized attributes.
  Status add(std::span<const Record> records);
  Status add(std::initializer_list<Record> records) { return add(std::span<const Record>(records.begin(), records.size())); }
  // A copy of the record; not-found when absent.
  Result<Record> get(uint64_t id) const;
  // A zero-copy view of the record; not-found when absent.
  Result<RecordView> view(uint64_t id) const;
  bool contains(uint64_t id) const;
  // The k live records nearest to `query` by the store's metric, nearest first,
  // through the HNSW index (approximate; exact when the store has no index).
  // invalid-argument for a wrong dimension. Runs alongside every other call.
  Result<std::vector<SearchHit>> search(std::span<const float> query, const SearchOptions& options = {}) const;
  // The exact k nearest, by scanning every record (the reference for recall).
  Result<std::vector<SearchHit>> exact_search(std::span<const float> query, size_t k) const;
  // Removes every live record the filter matches and commits (syncs): after a
  // crash either all of them are gone from the store and its index, or none.
  // Returns how many were removed. When none match it changes nothing and does
  // not sync (records added since the last commit stay uncommitted).
  Result<uint64_t> delete_where(const Filter& filter);
  // Removes the records with these ids; returns how many were live.
  Result<uint64_t> remove(std::span<const uint64_t> ids);
  Result<uint64_t> remove(std::initializer_list<uint64_t> ids) { return remove(std::span<const uint64_t>(ids.begin(), ids.size())); }
  // Calls fn for every live record in storage order until it returns false;
  // corrupt if a record fails its checks. fn must not call back into the store.
  Status scan(const std::function<bool(const RecordRef&)>& fn) const;
  // Live records. O(1).
  uint64_t count() const;
  // Makes every add and remove so far durable: after it returns, a crash at
  // any moment leaves a store that opens with all of them intact.
  Status sync();
  // Rewrites the live records into a new generation of files and commits it
  // atomically; never shrinks or rewrites a file that a mapping may still read.
  Status compact();
  // sync(), then releases the files and the lock. Later calls fail.
  Status close();

  StoreStats stats() const;
  uint32_t dim() const;
  Metric metric() const;
  const std::string& dir() const;

 private:
  friend struct TestingAccess;  // vstore/testing.h (the vstore_testing library), for tests only
  explicit Store(std::unique_ptr<internal::StoreImpl> impl);
  std::unique_ptr<internal::StoreImpl> impl_;
};

}  // namespace vstore
