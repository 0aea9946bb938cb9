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
  uint64_t graph_bytes = 0;  // committed bytes of the graph file's payload (0: no index)
  // Slots removed by the commit whose tombstones may not yet be on disk; a writer
  // reapplies them at open (idempotently), a reader treats them as removed.
  std::vector<uint64_t> pending_removes;
};

constexpr const char* kManifestName = "MANIFEST";

// Reads and validates DIR/MANIFEST on its own (fields against each other and the
// file's size). corrupt names the field's offset and what was expected.
Result<Manifest> read_manifest(Env* env, const std::string& dir);
Status write_manifest(Env* env, const std::string& dir, const Manifest& m);

}  // namespace vstore::internal
