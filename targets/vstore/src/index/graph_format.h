// Internal: the on-disk format of the HNSW index, two files per generation:
//
//   DIR/graph-GGGGGG.bin        header page, then one node record per slot
//   DIR/graph-upper-GGGGGG.bin  header page, then link blocks of levels >= 1
//
// graph page:  FileHeader (kind graph, record_size = node size) at 0,
//              GraphParams at kParamsOffset (own checksum),
//              GraphState[2] at kStateOffset (own checksums; see below).
// node record: NodeHead {level, upper_first, inv_norm, count0}, then 2*M u32 ids
//              (slot numbers) of its level-0 neighbours.
// upper block: {count, M u32 ids}; a node of level L owns the L blocks
//              upper_first .. upper_first + L - 1 (level l uses block upper_first + l - 1).
//
// Links are written in place through a shared mapping while readers search,
// and a crash keeps whatever reached the page cache, so the graph is verified
// data, never trusted: every count is capped, every neighbour id is checked
// against the slots the reader may see (a link to a slot that a crashed session
// wrote and never committed is skipped), every level and block index is range-
// checked at the read. What must be exact is committed like MANIFEST: sync
// writes a GraphState {commit_seq, node count, upper blocks, entry point} by
// pwrite into the slot commit_seq % 2 and fsyncs it before MANIFEST is renamed;
// open takes the state whose commit_seq is MANIFEST's.
//
// Links of committed nodes change in place between commits, and a crash keeps
// those changes (a committed node may then have traded real neighbours for
// nodes that were never committed). So before the first change after a commit
// the writer sets a dirty mark (pwrite + fsync) at kDirtyOffset, and clears it
// once the next MANIFEST is renamed. A writer that opens a dirty graph rebuilds
// it from the vectors (new files renamed over the old); a reader searches
// exactly instead.
#pragma once

#include <cstdint>

#include "storage/format.h"
#include "vstore/search.h"
#include "vstore/status.h"

namespace vstore::internal {

constexpr uint32_t kNoEntry = UINT32_MAX;
constexpr uint32_t kMaxLevel = 15;
constexpr uint32_t kMinM = 2, kMaxM = 64;
constexpr uint64_t kMaxGraphNodes = UINT32_MAX - 1;  // node ids are u32
constexpr uint64_t kParamsOffset = 128;
constexpr uint64_t kStateOffset = 256;
constexpr uint64_t kDirtyOffset = 384;
constexpr uint32_t kGraphClean = 0;  // anything else is dirty

struct GraphParams {
  uint32_t m;                // links per upper level
  uint32_t m0;               // links at level 0 (2 * m)
  uint32_t ef_construction;
  uint32_t max_level;        // kMaxLevel
  uint64_t node_size;        // sizeof(NodeHead) + 4 * m0
  uint64_t upper_block_size; // 4 + 4 * m
  uint64_t reserved[3];
  uint64_t checksum;
};
static_assert(sizeof(GraphParams) == 64);

struct GraphState {
  uint64_t commit_seq;
  uint64_t node_count;    // == MANIFEST slot_count
  uint64_t upper_blocks;  // committed blocks of the upper file
  uint32_t entry;         // kNoEntry when the graph is empty
  uint32_t max_level;     // the entry's level
  uint64_t reserved[3];
  uint64_t checksum;
};
static_assert(sizeof(GraphState) == 64);

struct NodeHead {
  uint32_t level;
  uint32_t upper_first;
  float inv_norm;  // 1/|v| for cosine, else 0
  uint32_t count0;
};
static_assert(sizeof(NodeHead) == 16);

GraphParams make_graph_params(const IndexOptions& o);
// corrupt naming the field when the options are not what this build can use.
Status check_index_options(const IndexOptions& o);
// Validates params read from `name` (checksum, ranges, derived sizes).
Status check_graph_params(const GraphParams& p, const char* name);
GraphState make_graph_state(uint64_t commit_seq, uint64_t nodes, uint64_t upper_blocks, uint32_t entry, uint32_t max_level);
uint64_t graph_state_offset(uint64_t commit_seq);
bool graph_state_checksum_ok(const GraphState& s);

}  // namespace vstore::internal
