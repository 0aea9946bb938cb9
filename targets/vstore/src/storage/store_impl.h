// Internal: the state behind vstore::Store, shared by the files that implement
// opening (store_open.cc), writing (store_write.cc), reading (store_read.cc),
// compaction (compaction.cc) and checking (fsck.cc).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "index/hnsw_graph.h"
#include "storage/format.h"
#include "storage/id_index.h"
#include "storage/manifest.h"
#include "storage/mapped_file.h"
#include "storage/writer_first_mutex.h"
#include "vstore/store.h"

namespace vstore::internal {

// One live record as found in the mapped files (valid while its guards live).
struct SlotRef {
  uint64_t slot;
  uint64_t id;
  const float* vector;
  const uint8_t* attrs;
  uint32_t attrs_len;
};

class StoreImpl {
 public:
  static Result<std::unique_ptr<StoreImpl>> create(Env* env, const std::string& dir, const CreateOptions& options);
  static Result<std::unique_ptr<StoreImpl>> open(Env* env, const std::string& dir, const OpenOptions& options);
  ~StoreImpl();

  Status add(std::span<const Record> records);
  Result<Record> get(uint64_t id) const;
  Result<RecordView> view(uint64_t id) const;
  bool contains(uint64_t id) const;
  Result<uint64_t> remove(std::span<const uint64_t> ids);
  Result<std::vector<SearchHit>> search(std::span<const float> query, const SearchOptions& options) const;
  Result<std::vector<SearchHit>> exact_search(std::span<const float> query, size_t k) const;
  Result<uint64_t> delete_where(const Filter& filter);
  uint64_t count() const;
  Status sync();
  Status compact();
  Status close();
  StoreStats stats() const;

  // Calls fn for every live record, in slot order, under one set of guards;
  // stops early when fn returns false. corrupt if a live slot fails its checks.
  Status for_each_live(const std::function<bool(const SlotRef&)>& fn) const;

  // The index (nullptr when the store has none); for tests of its internals.
  HnswGraph* graph_for_testing() const { return graph_.get(); }
  // A snapshot of the index over the visible records (caller holds state_mu_ shared).
  GraphSnapshot graph_snapshot() const;
  WriterFirstMutex& state_mutex_for_testing() const { return state_mu_; }

  // Test hook: appends n never-written (zero, sparse) slots, so tests can put
  // records past 4 GiB without writing gigabytes.
  Status append_empty_slots_for_testing(uint64_t n);

  // Fixed for the store's life: readers use these, never manifest_.
  uint32_t dim() const { return dim_; }
  Metric metric() const { return metric_; }
  const std::string& dir() const { return dir_; }
  uint64_t slot_size() const { return slot_size_; }

 private:
  StoreImpl(Env* env, std::string dir, bool read_only) : env_(env), dir_(std::move(dir)), read_only_(read_only) {}
  // Sets the fixed shape (dim, metric, slot size) from a manifest.
  void adopt_shape(const Manifest& m);
  // Replaces the committed manifest (writer only).
  void commit_manifest(const Manifest& m);

  // store_open.cc
  Status lock_directory();
  Status open_files(const Manifest& m);
  Status open_graph(const Manifest& m);
  Status reapply_pending_removes(const std::vector<uint64_t>& slots);
  void remove_orphans();

  // store_read.cc. Guards held together so one record is read from one generation.
  struct ReadGuards {
    IdIndex::Snapshot ids;
    MapGuard vectors;
    MapGuard attrs;
    uint64_t visible = 0;
  };
  ReadGuards acquire_guards() const;  // caller holds state_mu_ (shared or exclusive)
  // for_each_live's walk over the guards' live slots; caller holds state_mu_.
  Status visit_live(const ReadGuards& g, const std::function<bool(const SlotRef&)>& fn) const;
  // Reads and verifies the slot; not-found when it is not a live record of `id`
  // (pass UINT64_MAX... via check_id=false to accept any id).
  Status read_slot(const ReadGuards& g, uint64_t slot, SlotRef* out, bool verify_checksum) const;
  // The live slot holding id, or not-found.
  Result<uint64_t> find_live(const ReadGuards& g, uint64_t id) const;
  // Whether committed slot `slot` is all zeros where its header is (never written).
  bool slot_is_empty(const ReadGuards& g, uint64_t slot) const;
  // find_live, then the slot read and verified (checksum included).
  Result<SlotRef> locate(const ReadGuards& g, uint64_t id) const;
  bool pending_removed(uint64_t slot) const { return !pending_set_.empty() && pending_set_.count(slot) != 0; }

  // store_write.cc
  Status sync_locked();
  Status add_locked(std::span<const Record> records, uint64_t* first_slot, uint64_t* end_slot);
  Status add_chunk(std::span<const Record> records);
  Status apply_tombstones(const std::vector<uint64_t>& slots);
  // Whether a bucket id -> slot may be reused: slots below `written` hold data.
  bool durably_gone(uint64_t id, uint64_t slot, uint64_t written) const;
  Status check_writable() const;
  // Links nodes [first, end) into the index, without the write lock.
  void link_nodes(uint64_t first, uint64_t end);
  // Marks the slots removed (pending until the next commit).
  void mark_removed(const std::vector<uint64_t>& slots);

  // store_search.cc
  Result<std::vector<SearchHit>> exact_search_locked(std::span<const float> query, size_t k) const;

  // compaction.cc
  Status compact_into_new_generation();
  Status compact_in_place();  // regression in-place-compaction only
  // The index of a freshly written generation: every slot linked, committed as commit_seq.
  Result<std::unique_ptr<HnswGraph>> build_graph(const StoreIdentity& id, const IndexOptions& options, MappedFile* vectors, uint64_t count,
                                                 uint64_t commit_seq, const std::string& suffix = "");

  Env* env_;
  std::string dir_;
  bool read_only_;
  bool closed_ = false;
  FileHandle lock_;

  // Serialises add, remove, sync, compact and close.
  mutable std::mutex write_mu_;
  // Readers hold it shared while they read; the writer takes it exclusively to
  // change the pending-removal set or swap files at compaction.
  mutable WriterFirstMutex state_mu_;

  uint32_t dim_ = 0;
  Metric metric_ = Metric::l2;
  uint64_t slot_size_ = 0;
  // The last committed manifest: the writer reads it under write_mu_ and
  // replaces it under write_mu_ and state_mu_ (exclusive); others read it shared.
  Manifest manifest_;
  std::unique_ptr<MappedFile> vectors_, attrs_;
  std::unique_ptr<IdIndex> ids_;
  std::unique_ptr<HnswGraph> graph_;  // swapped only at compaction, with no linking in flight
  std::atomic<uint64_t> visible_slots_{0};  // readers see slots below this
  std::atomic<uint64_t> live_count_{0};
  uint64_t attrs_end_ = 0;                  // payload bytes used in attrs, committed or not
  std::unordered_set<uint64_t> pending_set_;  // removed, tombstone not yet on disk
  std::vector<uint64_t> pending_order_;       // the same, in removal order (writer)
};

}  // namespace vstore::internal
