// Reading the graph: neighbour lists under their seqlocks, the greedy descent
// through the upper levels, and the best-first search of one level. Every id a
// list yields is range-checked against the snapshot before it is touched.
#include <algorithm>
#include <cstring>
#include <limits>

#include "failpoint/evaluate.h"
#include "index/hnsw_graph.h"
#include "vstore/regression.h"

namespace vstore::internal {

namespace {

// Which nodes this thread's current search has visited: a mark per node that
// matches the epoch, so clearing is one increment.
class VisitedMarks {
 public:
  void reset(uint64_t nodes) {
    if (marks_.size() < nodes) {
      marks_.assign(nodes + nodes / 4 + 1024, 0);
      epoch_ = 0;
    }
    if (++epoch_ == 0) {
      std::fill(marks_.begin(), marks_.end(), 0);
      epoch_ = 1;
    }
  }
  // The toctou-neighbor regression: exactly `nodes` marks, no slack.
  void reset_exactly(uint64_t nodes) {
    marks_ = std::vector<uint16_t>(nodes);
    epoch_ = 1;
  }
  // Marks node; true if it was marked already.
  bool test_and_set(uint32_t node) {
    uint16_t& m = marks_[node];
    if (m == epoch_) return true;
    m = epoch_;
    return false;
  }
  void prefetch(uint32_t node) const { __builtin_prefetch(marks_.data() + node); }

 private:
  std::vector<uint16_t> marks_;
  uint16_t epoch_ = 0;
};

thread_local VisitedMarks t_visited;

}  // namespace

bool HnswGraph::readable(const GraphSnapshot& s, uint64_t node) const {
  // 000: ids from the file are trusted.
  if (regressions_compiled_in() && s.trust_ids) return true;
  // 004 #3: validity is checked against the graph as it is now, then the node
  // is read through the snapshot's mappings, which may not hold it.
  if (regressions_compiled_in() && s.check_ids_against_now) return node < published_.load(std::memory_order_acquire);
  return node < s.count;
}

const float* HnswGraph::vector_of(const GraphSnapshot& s, uint32_t node) const {
  return reinterpret_cast<const float*>(s.vectors + kDataStart + node * s.slot_size + sizeof(SlotHeader));
}

float HnswGraph::inv_norm_of(const GraphSnapshot& s, uint32_t node) const {
  float v;
  std::memcpy(&v, s.nodes + kDataStart + node * params_.node_size + offsetof(NodeHead, inv_norm), sizeof v);
  return v;
}

float HnswGraph::distance_to(const GraphSnapshot& s, const float* q, float q_inv, uint32_t node) const {
  return distance_(q, q_inv, vector_of(s, node), distance_.needs_norms() ? inv_norm_of(s, node) : 0.0f);
}

uint32_t HnswGraph::level_of(const GraphSnapshot& s, uint32_t node) const {
  uint32_t level;
  std::memcpy(&level, s.nodes + kDataStart + node * params_.node_size, sizeof level);
  return level > kMaxLevel ? 0 : level;
}

uint32_t* HnswGraph::list_at(const GraphSnapshot& s, uint32_t node, uint32_t level, uint32_t* cap) const {
  uint8_t* head = s.nodes + kDataStart + node * params_.node_size;
  if (level == 0) {
    *cap = params_.m0;
    return reinterpret_cast<uint32_t*>(head + offsetof(NodeHead, count0));
  }
  if (level > level_of(s, node)) return nullptr;
  uint32_t first;
  std::memcpy(&first, head + offsetof(NodeHead, upper_first), sizeof first);
  if (first >= s.upper_count || level - 1 >= s.upper_count - first) return nullptr;  // a block not committed or published
  *cap = params_.m;
  return reinterpret_cast<uint32_t*>(s.upper + kDataStart + (uint64_t{first} + level - 1) * params_.upper_block_size);
}

uint32_t HnswGraph::read_links(const GraphSnapshot& s, uint32_t node, uint32_t level, uint32_t* out) const {
  uint32_t cap = 0;
  uint32_t* list = list_at(s, node, level, &cap);
  if (list == nullptr) return 0;
  if (regressions_compiled_in() && s.unlocked_links) {
    // A plain copy while linkers rewrite the list in place.
    uint32_t raw = *reinterpret_cast<volatile uint32_t*>(list);
    uint32_t n = std::min(raw, cap);
    std::memcpy(out, list + 1, n * sizeof(uint32_t));
    return n;
  }
  for (;;) {
    uint32_t begun = locks_.read_begin(node);
    uint32_t n = std::min(std::atomic_ref<uint32_t>(list[0]).load(std::memory_order_relaxed), cap);
    for (uint32_t i = 0; i < n; ++i) out[i] = std::atomic_ref<uint32_t>(list[1 + i]).load(std::memory_order_relaxed);
    if (!locks_.read_retry(node, begun)) return n;
  }
}

std::vector<uint32_t> HnswGraph::links_for_testing(const GraphSnapshot& s, uint32_t node, uint32_t level) const {
  std::vector<uint32_t> out(2 * kMaxM);
  if (node >= s.count) return {};
  out.resize(read_links(s, node, level, out.data()));
  return out;
}

Neighbour HnswGraph::descend(const GraphSnapshot& s, const float* q, float q_inv, Neighbour cur, uint32_t top, uint32_t bottom) const {
  uint32_t links[2 * kMaxM];
  for (uint32_t level = top; level > bottom; --level) {
    for (bool moved = true; moved;) {
      moved = false;
      uint32_t n = read_links(s, cur.node, level, links);
      for (uint32_t i = 0; i < n; ++i) {
        if (!readable(s, links[i])) continue;
        float d = distance_to(s, q, q_inv, links[i]);
        if (d < cur.distance) {
          cur = {d, links[i]};
          moved = true;
        }
      }
    }
  }
  return cur;
}

void HnswGraph::search_layer(const GraphSnapshot& s, const float* q, float q_inv, Neighbour start, size_t ef, uint32_t level,
                             const std::function<bool(uint32_t)>* eligible, std::vector<Neighbour>* top) const {
  VisitedMarks& visited = t_visited;
  // toctou-neighbor: sized for the snapshot, indexed by ids checked against now.
  if (regressions_compiled_in() && s.check_ids_against_now) visited.reset_exactly(s.count);
  else visited.reset(s.count);
  std::vector<Neighbour> frontier;  // a min-heap: the nearest unexpanded first
  frontier.reserve(ef * 2);
  top->clear();
  visited.test_and_set(start.node);
  frontier.push_back(start);
  if (eligible == nullptr || (*eligible)(start.node)) top->push_back(start);
  float bound = top->empty() ? std::numeric_limits<float>::infinity() : start.distance;
  uint32_t links[2 * kMaxM];
  while (!frontier.empty()) {
    Neighbour c = frontier.front();
    if (c.distance > bound && top->size() >= ef) break;
    std::pop_heap(frontier.begin(), frontier.end(), std::greater<>());
    frontier.pop_back();
    if (failpoints_compiled_in()) failpoint_status(FailSite::hnsw_search_before_expand).ignore();
    uint32_t n = read_links(s, c.node, level, links);
    for (uint32_t i = 0; i < n; ++i) {
      if (readable(s, links[i])) {
        visited.prefetch(links[i]);
        __builtin_prefetch(vector_of(s, links[i]));
      }
    }
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t id = links[i];
      if (!readable(s, id) || visited.test_and_set(id)) continue;
      if (i + 1 < n && readable(s, links[i + 1])) __builtin_prefetch(reinterpret_cast<const char*>(vector_of(s, links[i + 1])) + 64);
      float d = distance_to(s, q, q_inv, id);
      if (top->size() < ef || d < bound) {
        frontier.push_back({d, id});
        std::push_heap(frontier.begin(), frontier.end(), std::greater<>());
        if (eligible == nullptr || (*eligible)(id)) {
          top->push_back({d, id});
          std::push_heap(top->begin(), top->end());
          if (top->size() > ef) {
            std::pop_heap(top->begin(), top->end());
            top->pop_back();
          }
        }
        if (!top->empty()) bound = top->front().distance;
      }
    }
  }
}

bool HnswGraph::search(const GraphSnapshot& s, const float* q, size_t k, size_t ef, const std::function<bool(uint32_t)>& eligible,
                       std::vector<Neighbour>* out) const {
  out->clear();
  uint64_t e = entry_.load(std::memory_order_acquire);
  uint32_t entry = static_cast<uint32_t>(e);
  if (entry == kNoEntry || k == 0) return true;
  if (entry >= s.count) return false;  // raised by a node newer than the snapshot: take another
  float q_inv = distance_.needs_norms() ? distance_.inverse_norm(q) : 0.0f;
  Neighbour cur{distance_to(s, q, q_inv, entry), entry};
  cur = descend(s, q, q_inv, cur, static_cast<uint32_t>(e >> 32), 0);
  search_layer(s, q, q_inv, cur, std::max(ef, k), 0, &eligible, out);
  std::sort(out->begin(), out->end());
  if (out->size() > k) out->resize(k);
  return true;
}

}  // namespace vstore::internal
