// fsck's walk over every committed node of the graph.
#include <cstring>

#include <fmt/format.h>

#include "index/hnsw_graph.h"

namespace vstore::internal {

void HnswGraph::check_all(std::vector<std::string>* problems) const {
  MapGuard ng = nodes_file_->acquire(), ug = upper_file_->acquire();
  const uint64_t nodes = published_.load(std::memory_order_acquire);
  const uint64_t blocks = upper_published_.load(std::memory_order_acquire);
  const std::string& name = nodes_file_->name();
  constexpr size_t kMaxReported = 100;  // one broken file should not print a million lines
  auto problem = [&](std::string text) {
    if (problems->size() < kMaxReported) problems->push_back(std::move(text));
  };
  // A clean graph links committed nodes only: the writer marks it dirty (and syncs the mark)
  // before it links a node past the last commit. A dirty one (a crash mid-change, or a writer
  // still at work) may hold links to nodes the commit never got; its writer rebuilds it at open.
  const uint8_t* mark_bytes = ng.bytes(kDirtyOffset, sizeof(uint32_t));
  uint32_t mark = kGraphClean;
  if (mark_bytes != nullptr) std::memcpy(&mark, mark_bytes, sizeof mark);
  const bool links_checked = mark == kGraphClean;
  auto check_list = [&](const uint8_t* list, uint32_t cap, uint64_t node, uint32_t level, const std::string& file, uint64_t offset) {
    uint32_t n;
    std::memcpy(&n, list, 4);
    if (n > cap) return problem(fmt::format("{}: offset {}: node {} level {}: {} links, at most {} fit", file, offset, node, level, n, cap));
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t id;
      std::memcpy(&id, list + 4 + 4 * i, 4);
      if (id == node) problem(fmt::format("{}: offset {}: node {} level {} links to itself", file, offset + 4 + 4 * i, node, level));
      else if (links_checked && id >= nodes)
        problem(fmt::format("{}: offset {}: node {} level {} links to node {}, past the last of the {} committed", file,
                            offset + 4 + 4 * i, node, level, id, nodes));
    }
  };
  for (uint64_t node = 0; node < nodes; ++node) {
    uint64_t offset = kDataStart + node * params_.node_size;
    const uint8_t* p = ng.bytes(offset, params_.node_size);
    if (p == nullptr) return problem(ng.check(offset, params_.node_size, "node record").message());
    NodeHead head;
    std::memcpy(&head, p, sizeof head);
    if (head.level > kMaxLevel) {
      problem(fmt::format("{}: offset {}: node {} has level {}, at most {}", name, offset, node, head.level, kMaxLevel));
      continue;
    }
    check_list(p + offsetof(NodeHead, count0), params_.m0, node, 0, name, offset + offsetof(NodeHead, count0));
    if (head.level == 0) continue;
    if (head.upper_first > blocks || head.level > blocks - head.upper_first) {
      problem(fmt::format("{}: offset {}: node {} owns upper blocks {} to {}, beyond the {} committed", name, offset + 4, node, head.upper_first,
                          uint64_t{head.upper_first} + head.level - 1, blocks));
      continue;
    }
    for (uint32_t l = 1; l <= head.level; ++l) {
      uint64_t b = kDataStart + (uint64_t{head.upper_first} + l - 1) * params_.upper_block_size;
      const uint8_t* list = ug.bytes(b, params_.upper_block_size);
      if (list == nullptr) return problem(ug.check(b, params_.upper_block_size, "upper block").message());
      check_list(list, params_.m, node, l, upper_file_->name(), b);
    }
  }
}

}  // namespace vstore::internal
