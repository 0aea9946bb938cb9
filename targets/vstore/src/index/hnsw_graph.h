// Internal: the HNSW graph of one store generation (Malkov & Yashunin,
// "Efficient and robust approximate nearest neighbor search using Hierarchical
// Navigable Small World graphs"), kept in the generation's graph files
// (index/graph_format.h) and read in place: opening takes O(1).
//
// Node ids are the store's slot numbers; a node's vector is its slot's vector
// in vectors-G.bin, so the index stores links only.
//
// Thread rule: allocate, publish and commit come from the store's one writer
// (under its write lock). link and search run from any number of threads at
// once, alongside the writer, each through a GraphSnapshot it took; a snapshot
// keeps every mapping it reads alive, and nothing beyond its counts is read.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "index/distance.h"
#include "index/graph_format.h"
#include "index/link_locks.h"
#include "storage/mapped_file.h"
#include "vstore/search.h"

namespace vstore::internal {

// What one operation may read: mappings held, counts fixed at acquisition.
struct GraphSnapshot {
  MapGuard vectors_guard, nodes_guard, upper_guard;
  const uint8_t* vectors = nullptr;  // the vectors file's first byte
  uint64_t slot_size = 0;
  uint8_t* nodes = nullptr;          // the graph file's first byte
  uint8_t* upper = nullptr;          // the upper file's first byte
  uint64_t count = 0;                // node ids below this may be read
  uint64_t upper_count = 0;          // upper blocks below this may be read
  // Regression switches read once per snapshot (regression_enabled is not free
  // in builds that have them): ids unchecked, ids checked against now.
  bool trust_ids = false, check_ids_against_now = false, unlocked_links = false;
};

struct Neighbour {
  float distance;
  uint32_t node;
  bool operator<(const Neighbour& o) const { return distance < o.distance; }
  bool operator>(const Neighbour& o) const { return distance > o.distance; }
};

class HnswGraph {
 public:
  struct Shape {
    uint32_t dim;
    Metric metric;
    uint64_t slot_size;
  };
  // `suffix` (".tmp") builds files to be renamed into place later.
  static Result<std::unique_ptr<HnswGraph>> create(Env* env, const std::string& dir, const StoreIdentity& id, const Shape& shape,
                                                   const IndexOptions& options, uint64_t commit_seq, const std::string& suffix = "");
  // What open needs to know first: the graph file's parameters, and whether a
  // crash may have left its committed links changed (see graph_format.h).
  struct Peek {
    IndexOptions options;
    bool dirty = false;
  };
  // The generation's node file, opened once for both peek and open.
  static Result<std::unique_ptr<MappedFile>> open_nodes_file(Env* env, const std::string& dir, const StoreIdentity& id, bool writable);
  static Result<Peek> peek(const MappedFile& nodes_file, const StoreIdentity& id);
  // Renames files made with a suffix over the generation's graph files: the
  // upper file first, so that until the graph file moves the old, dirty one rules.
  Status rename_into_place(const std::string& dir, uint64_t generation);
  // Writer: clears the dirty mark once MANIFEST commits (failure only costs a rebuild).
  Status mark_clean();
  // Opens the graph MANIFEST commits: validates the headers, the parameters and
  // the state of `commit_seq` against `nodes` (MANIFEST's slot count) and the
  // files' sizes. O(1).
  static Result<std::unique_ptr<HnswGraph>> open(Env* env, const std::string& dir, const StoreIdentity& id, const Shape& shape,
                                                 uint64_t commit_seq, uint64_t nodes, uint64_t graph_bytes, bool writable);
  // As above, with the node file already open (writable if the graph is to be).
  static Result<std::unique_ptr<HnswGraph>> open(std::unique_ptr<MappedFile> nodes_file, Env* env, const std::string& dir, const StoreIdentity& id,
                                                 const Shape& shape, uint64_t commit_seq, uint64_t nodes, uint64_t graph_bytes, bool writable);
  ~HnswGraph();

  // Writer: node records for slots [first, first + n), levels drawn, no links
  // yet; vector_of(i) is the vector of slot first + i. Not visible until publish.
  Status allocate(uint64_t first, uint64_t n, const std::function<const float*(uint64_t)>& vector_of);
  // Writer: nodes below `nodes` may now be read (call before the store publishes them).
  void publish(uint64_t nodes);
  // Writer: makes the graph of the first `nodes` nodes durable as commit_seq's
  // state (pwrite, fsync); MANIFEST's rename then commits it.
  Status commit(uint64_t commit_seq, uint64_t nodes);

  // A snapshot of the nodes below `visible`, whose vectors `vectors` maps.
  GraphSnapshot snapshot(uint64_t visible, MapGuard vectors) const;
  // Links node `slot` (allocated and published) into the graph.
  // false when the snapshot is older than the entry point: take a new one and call again.
  bool link(const GraphSnapshot& s, uint32_t slot);
  // The k nearest nodes to q for which eligible(node) holds, nearest first.
  // false when the snapshot is older than the entry point: take a new one.
  bool search(const GraphSnapshot& s, const float* q, size_t k, size_t ef, const std::function<bool(uint32_t)>& eligible,
              std::vector<Neighbour>* out) const;

  // Linking in flight (counted from the writer's allocate to the linker's end):
  // sync and compaction wait for none, so a commit never holds half-linked nodes.
  void linking_started(uint64_t n);
  void linking_done(uint64_t n);
  void wait_until_linked();

  // fsck's full walk of the committed nodes: every level, block index and
  // count in range, no node linked to itself. (Links to slots beyond the
  // commit are what a crash leaves behind; readers skip them, so they are not
  // problems.) Appends one line per problem.
  void check_all(std::vector<std::string>* problems) const;

  // A node's links at `level` as a search reads them (tests of the unlocked-links switch).
  std::vector<uint32_t> links_for_testing(const GraphSnapshot& s, uint32_t slot, uint32_t level) const;

  const GraphParams& params() const { return params_; }
  uint64_t node_bytes(uint64_t nodes) const { return kDataStart + nodes * params_.node_size; }
  uint32_t entry() const { return static_cast<uint32_t>(entry_.load(std::memory_order_acquire)); }
  uint32_t max_level() const { return static_cast<uint32_t>(entry_.load(std::memory_order_acquire) >> 32); }
  const std::string& name() const;

 private:
  HnswGraph(const Shape& shape, const GraphParams& params);
  // Copies node's links at level into out (capacity m0); returns how many.
  uint32_t read_links(const GraphSnapshot& s, uint32_t node, uint32_t level, uint32_t* out) const;
  // Caller holds node's link lock.
  void write_links(const GraphSnapshot& s, uint32_t node, uint32_t level, const uint32_t* ids, uint32_t n);
  // Where node's list at level lives (count word, then ids), or nullptr.
  uint32_t* list_at(const GraphSnapshot& s, uint32_t node, uint32_t level, uint32_t* cap) const;
  uint32_t level_of(const GraphSnapshot& s, uint32_t node) const;
  bool readable(const GraphSnapshot& s, uint64_t node) const;
  const float* vector_of(const GraphSnapshot& s, uint32_t node) const;
  float inv_norm_of(const GraphSnapshot& s, uint32_t node) const;
  float distance_to(const GraphSnapshot& s, const float* q, float q_inv, uint32_t node) const;
  // Greedy descent from `cur` through levels top..bottom+1.
  Neighbour descend(const GraphSnapshot& s, const float* q, float q_inv, Neighbour cur, uint32_t top, uint32_t bottom) const;
  // The ef nearest reachable from `start` at `level` (a max-heap in out).
  void search_layer(const GraphSnapshot& s, const float* q, float q_inv, Neighbour start, size_t ef, uint32_t level,
                    const std::function<bool(uint32_t)>* eligible, std::vector<Neighbour>* out) const;
  // The paper's neighbour-selection heuristic: keeps up to m of `candidates`
  // (sorted nearest first), skipping those nearer to a kept one than to the base.
  void select_neighbours(const GraphSnapshot& s, std::vector<Neighbour>* candidates, uint32_t m) const;
  void add_link(const GraphSnapshot& s, uint32_t node, uint32_t level, uint32_t new_node, float distance);
  Status grow_files(uint64_t nodes, uint64_t upper_blocks);
  Status mark_dirty();

  Shape shape_;
  GraphParams params_;
  Distance distance_;
  double level_scale_;
  std::unique_ptr<MappedFile> nodes_file_, upper_file_;
  mutable LinkLocks locks_;

  std::mutex entry_mu_;               // raising the entry point
  std::atomic<uint64_t> entry_;       // max_level << 32 | entry node
  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> upper_published_{0};
  uint64_t upper_used_ = 0;           // writer
  bool dirty_ = false;                // writer: the mark is set on disk
  std::mt19937_64 rng_{100};          // writer: levels, deterministic per store

  std::mutex linking_mu_;
  std::condition_variable linking_cv_;
  uint64_t linking_ = 0;
};

}  // namespace vstore::internal
