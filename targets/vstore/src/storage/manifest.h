// Internal: DIR/MANIFEST, the store's commit record. sync() and compact() write
// a new one to MANIFEST.tmp, make it durable and rename it over MANIFEST: the
// rename is the commit point. Everything MANIFEST says is checked against the
// data files' real sizes before the store touches them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/format.h"
#include "vstore/env.h"
#include "vstore/status.h"

namespace vstore::internal {

struct Manifest {
  StoreIdentity identity{};
  uint64_t commit_seq = 0;
  uint64_t slot_size = 0;
  uint64_t slot_count = 0;   // committed slots in the vectors file, live or not
  uint64_t live_count = 0;   // committed live records (after the pending removals)
  uint64_t attrs_bytes = 0;  // committed bytes of the attrs file's payload
  uint64_t graph_bytes = 0;  // committed bytes of graph-G.bin: header page + slot_count node records (0: no index)
  // Slots removed by the commit whose tombstones may not yet be on disk; a writer
  // reapplies them at open (idempotently), a reader treats them as removed.
  std::vector<uint64_t> pending_removes;
};

constexpr const char* kManifestName = "MANIFEST";

// MANIFEST's bytes: this header, then `pending_removes` u64 slot numbers, then
// a u64 checksum of that list seeded with the header's checksum.
struct ManifestHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_size;
  uint8_t store_uuid[16];
  uint64_t generation;
  uint64_t commit_seq;
  uint32_t dim;
  uint32_t metric;
  uint64_t slot_size;
  uint64_t slot_count;
  uint64_t live_count;
  uint64_t attrs_bytes;
  uint64_t graph_bytes;
  uint64_t pending_removes;
  uint64_t reserved[8];
  uint64_t checksum;  // of every byte before it
};
static_assert(sizeof(ManifestHeader) == 176);

// Reads and validates DIR/MANIFEST on its own (fields against each other and the
// file's size). corrupt names the field's offset and what was expected.
Result<Manifest> read_manifest(Env* env, const std::string& dir);
Status write_manifest(Env* env, const std::string& dir, const Manifest& m);

}  // namespace vstore::internal
