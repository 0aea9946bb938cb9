// Linking a node into the graph (the paper's INSERT with the neighbour-selection
// heuristic). Many linkers run at once: each list is rewritten only under its
// node's link lock, and a linker holds one lock at a time, so stripes that
// collide can never deadlock.
#include <algorithm>
#include <array>
#include <cstring>

#include "failpoint/evaluate.h"
#include "index/hnsw_graph.h"

namespace vstore::internal {

void HnswGraph::write_links(const GraphSnapshot& s, uint32_t node, uint32_t level, const uint32_t* ids, uint32_t n) {
  uint32_t cap = 0;
  uint32_t* list = list_at(s, node, level, &cap);
  if (list == nullptr) return;
  n = std::min(n, cap);
  // The count first, then the ids: the window a reader without the lock (the
  // unlocked-links regression) can fall into.
  std::atomic_ref<uint32_t>(list[0]).store(n, std::memory_order_relaxed);
  if (failpoints_compiled_in()) failpoint_status(FailSite::hnsw_link_mid_write).ignore();
  for (uint32_t i = 0; i < n; ++i) std::atomic_ref<uint32_t>(list[1 + i]).store(ids[i], std::memory_order_relaxed);
}

void HnswGraph::select_neighbours(const GraphSnapshot& s, std::vector<Neighbour>* candidates, uint32_t m) const {
  if (candidates->size() <= m) return;
  std::vector<Neighbour> kept;
  kept.reserve(m);
  for (const Neighbour& c : *candidates) {
    if (kept.size() >= m) break;
    const float* cv = vector_of(s, c.node);
    float c_inv = distance_.needs_norms() ? inv_norm_of(s, c.node) : 0.0f;
    bool diverse = true;
    for (const Neighbour& k : kept) {
      // Nearer to a kept neighbour than to the base: reachable through it.
      float d = distance_(cv, c_inv, vector_of(s, k.node), distance_.needs_norms() ? inv_norm_of(s, k.node) : 0.0f);
      if (d < c.distance) {
        diverse = false;
        break;
      }
    }
    if (diverse) kept.push_back(c);
  }
  *candidates = std::move(kept);
}

void HnswGraph::add_link(const GraphSnapshot& s, uint32_t node, uint32_t level, uint32_t new_node, float distance) {
  locks_.lock(node);
  uint32_t cap = 0;
  uint32_t* list = list_at(s, node, level, &cap);
  if (list != nullptr) {
    uint32_t n = std::min(std::atomic_ref<uint32_t>(list[0]).load(std::memory_order_relaxed), cap);
    bool present = false;
    for (uint32_t i = 0; i < n && !present; ++i) present = std::atomic_ref<uint32_t>(list[1 + i]).load(std::memory_order_relaxed) == new_node;
    if (!present && n < cap) {
      // Append: the id, then the count that makes it visible.
      std::atomic_ref<uint32_t>(list[1 + n]).store(new_node, std::memory_order_relaxed);
      std::atomic_ref<uint32_t>(list[0]).store(n + 1, std::memory_order_relaxed);
    } else if (!present) {
      // Full: keep the best diverse set of the old links and the new one.
      // A link to a node published after this snapshot was taken (a linker
      // with a newer one made it) cannot be weighed here and stays: dropping
      // it could strand that node.
      std::vector<Neighbour> candidates;
      candidates.reserve(n + 1);
      uint32_t ids[2 * kMaxM];
      uint32_t kept = 0;
      const uint64_t published = published_.load(std::memory_order_acquire);
      const float* base = vector_of(s, node);
      float base_inv = distance_.needs_norms() ? inv_norm_of(s, node) : 0.0f;
      for (uint32_t i = 0; i < n; ++i) {
        uint32_t id = std::atomic_ref<uint32_t>(list[1 + i]).load(std::memory_order_relaxed);
        if (id == node || id >= std::max<uint64_t>(s.count, published)) continue;  // a link left by a crashed session, or corrupt
        if (id >= s.count)
          ids[kept++] = id;
        else
          candidates.push_back({distance_(base, base_inv, vector_of(s, id), distance_.needs_norms() ? inv_norm_of(s, id) : 0.0f), id});
      }
      candidates.push_back({distance, new_node});
      std::sort(candidates.begin(), candidates.end());
      select_neighbours(s, &candidates, cap - std::min(kept, cap));
      for (const Neighbour& c : candidates) ids[kept++] = c.node;
      write_links(s, node, level, ids, kept);
    }
  }
  locks_.unlock(node);
}

bool HnswGraph::link(const GraphSnapshot& s, uint32_t slot) {
  if (slot >= s.count) return false;
  const float* q = vector_of(s, slot);
  float q_inv = distance_.needs_norms() ? inv_norm_of(s, slot) : 0.0f;
  uint32_t level = level_of(s, slot);
  uint64_t e = entry_.load(std::memory_order_acquire);
  if (static_cast<uint32_t>(e) == kNoEntry) {
    std::lock_guard lock(entry_mu_);
    e = entry_.load(std::memory_order_acquire);
    if (static_cast<uint32_t>(e) == kNoEntry) {
      entry_.store(uint64_t{level} << 32 | slot, std::memory_order_release);
      return true;
    }
  }
  uint32_t entry = static_cast<uint32_t>(e), top = static_cast<uint32_t>(e >> 32);
  if (entry >= s.count) return false;
  Neighbour cur{distance_to(s, q, q_inv, entry), entry};
  if (level < top) cur = descend(s, q, q_inv, cur, top, level);
  // Every level's neighbours are chosen first, then the node's own lists are
  // written, and only then do links to it appear. Were a level's backlinks
  // written before the lists below it, a concurrent linker could reach the
  // node there, descend into its still-empty lower list and link only to it;
  // and the append that linker made to the node's list would then be
  // overwritten. Both stranded nodes where two writers linked at once.
  const uint32_t levels = std::min(level, top) + 1;
  std::array<std::vector<Neighbour>, kMaxLevel + 1> chosen;
  for (int l = static_cast<int>(levels) - 1; l >= 0; --l) {
    std::vector<Neighbour>& found = chosen[l];
    search_layer(s, q, q_inv, cur, params_.ef_construction, static_cast<uint32_t>(l), nullptr, &found);
    std::erase_if(found, [slot](const Neighbour& n) { return n.node == slot; });
    if (found.empty()) continue;
    std::sort(found.begin(), found.end());
    cur = found.front();
    select_neighbours(s, &found, params_.m);
  }
  if (failpoints_compiled_in()) failpoint_status(FailSite::hnsw_link_after_lookup).ignore();
  uint32_t ids[2 * kMaxM];
  locks_.lock(slot);
  for (uint32_t l = 0; l < levels; ++l) {
    for (size_t i = 0; i < chosen[l].size(); ++i) ids[i] = chosen[l][i].node;
    write_links(s, slot, l, ids, static_cast<uint32_t>(chosen[l].size()));
  }
  locks_.unlock(slot);
  for (uint32_t l = 0; l < levels; ++l)
    for (const Neighbour& n : chosen[l]) add_link(s, n.node, l, slot, n.distance);
  if (level > top) {
    std::lock_guard lock(entry_mu_);
    if (level > (entry_.load(std::memory_order_acquire) >> 32)) entry_.store(uint64_t{level} << 32 | slot, std::memory_order_release);
  }
  return true;
}

}  // namespace vstore::internal
