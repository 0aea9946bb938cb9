#include "index/graph_format.h"

#include <cstddef>
#include <cstring>

#include <fmt/format.h>

namespace vstore::internal {

Status check_index_options(const IndexOptions& o) {
  if (o.m < kMinM || o.m > kMaxM) return Status::Invalid(fmt::format("index M {} is out of range ({} to {})", o.m, kMinM, kMaxM));
  if (o.ef_construction < 1 || o.ef_construction > 100000)
    return Status::Invalid(fmt::format("index ef_construction {} is out of range (1 to 100000)", o.ef_construction));
  return Status::Ok();
}

GraphParams make_graph_params(const IndexOptions& o) {
  GraphParams p;
  std::memset(&p, 0, sizeof p);
  p.m = o.m;
  p.m0 = 2 * o.m;
  p.ef_construction = o.ef_construction;
  p.max_level = kMaxLevel;
  p.node_size = sizeof(NodeHead) + 4ull * p.m0;
  p.upper_block_size = 4 + 4ull * p.m;
  p.checksum = checksum64(&p, offsetof(GraphParams, checksum));
  return p;
}

Status check_graph_params(const GraphParams& p, const char* name) {
  uint64_t sum = checksum64(&p, offsetof(GraphParams, checksum));
  auto bad = [&](const char* field, size_t off, std::string what) {
    return Status::Corrupt(fmt::format("{}: offset {}: index {} {}", name, kParamsOffset + off, field, what));
  };
  if (sum != p.checksum) return bad("parameters' checksum", offsetof(GraphParams, checksum), fmt::format("is {:#018x}, its bytes give {:#018x}", p.checksum, sum));
  if (p.m < kMinM || p.m > kMaxM) return bad("M", offsetof(GraphParams, m), fmt::format("is {}, expected {} to {}", p.m, kMinM, kMaxM));
  if (p.m0 != 2 * p.m) return bad("M0", offsetof(GraphParams, m0), fmt::format("is {}, expected 2 * M = {}", p.m0, 2 * p.m));
  if (p.ef_construction < 1) return bad("ef_construction", offsetof(GraphParams, ef_construction), "is 0");
  if (p.max_level != kMaxLevel) return bad("max_level", offsetof(GraphParams, max_level), fmt::format("is {}, expected {}", p.max_level, kMaxLevel));
  if (p.node_size != sizeof(NodeHead) + 4ull * p.m0)
    return bad("node size", offsetof(GraphParams, node_size), fmt::format("is {}, M0 {} needs {}", p.node_size, p.m0, sizeof(NodeHead) + 4ull * p.m0));
  if (p.upper_block_size != 4 + 4ull * p.m)
    return bad("upper block size", offsetof(GraphParams, upper_block_size), fmt::format("is {}, M {} needs {}", p.upper_block_size, p.m, 4 + 4ull * p.m));
  return Status::Ok();
}

GraphState make_graph_state(uint64_t commit_seq, uint64_t nodes, uint64_t upper_blocks, uint32_t entry, uint32_t max_level) {
  GraphState s;
  std::memset(&s, 0, sizeof s);
  s.commit_seq = commit_seq;
  s.node_count = nodes;
  s.upper_blocks = upper_blocks;
  s.entry = entry;
  s.max_level = max_level;
  s.checksum = checksum64(&s, offsetof(GraphState, checksum));
  return s;
}

uint64_t graph_state_offset(uint64_t commit_seq) { return kStateOffset + (commit_seq % 2) * sizeof(GraphState); }

bool graph_state_checksum_ok(const GraphState& s) { return checksum64(&s, offsetof(GraphState, checksum)) == s.checksum; }

}  // namespace vstore::internal
