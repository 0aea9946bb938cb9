// vstore/failpoint.h: named fault-injection sites. Every system call of the I/O
// seam (vstore/env.h) and every logic point where a race or a crash window lives
// has a site in the table below. Sites are live only in builds configured with
// VSTORE_FAILPOINTS=ON (the test presets); in release they compile to nothing.
//
// Spec syntax (as FreeBSD fail(9) and fail-rs), `;`-separated:
//   name=[p%][cnt*]action[(arg)][->[p%][cnt*]action[(arg)]...]
// A term whose count is used up hands over to the next: `2*off->crash` lets two
// evaluations pass and crashes at the third.
//   mapped_file.grow.ftruncate=1*error(ENOSPC);hnsw.link.after_lookup=10%yield
// Actions: off, error(ERRNO), short(BYTES), delay(MS), yield, crash.
// `crash` dies at once by SIGKILL after undoing every write not yet synced: a
// power cut for everything not yet synced. Specs come from VSTORE_FAILPOINTS
// (read at first use) or configure_failpoints(); p% draws from a generator
// seeded by VSTORE_FAILPOINTS_SEED or set_failpoint_seed().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vstore/status.h"

namespace vstore {

// X(enumerator, name, is a system call, on the write path, what happens there)
// Sites on the write path are where a crash must leave a store that reopens
// with every synced record; crash-consistency tests enumerate them.
#define VSTORE_FAILPOINT_SITES(X)                                                                   \
  X(store_dir_mkdir, "store.create.mkdir", true, true, "mkdir of the store directory")             \
  X(store_lock_open, "store.lock.open", true, false, "open of DIR/LOCK")                           \
  X(store_lock_flock, "store.lock.flock", true, false, "flock of DIR/LOCK (one writer)")           \
  X(store_list_dir, "store.open.readdir", true, false, "listing DIR for orphaned generations")     \
  X(store_unlink_orphan, "store.open.unlink_orphan", true, true,                                   \
    "unlink of a file left by an interrupted compaction")                                          \
  X(manifest_read_open, "manifest.read.open", true, false, "open of DIR/MANIFEST")                 \
  X(manifest_read_pread, "manifest.read.pread", true, false, "read of DIR/MANIFEST")               \
  X(manifest_write_open, "manifest.write.open", true, true, "create of DIR/MANIFEST.tmp")          \
  X(manifest_write_pwrite, "manifest.write.pwrite", true, true, "write of DIR/MANIFEST.tmp")       \
  X(manifest_write_fsync, "manifest.write.fsync", true, true, "fsync of DIR/MANIFEST.tmp")         \
  X(manifest_write_rename, "manifest.write.rename", true, true,                                    \
    "rename of MANIFEST.tmp over MANIFEST: the commit point")                                      \
  X(manifest_write_fsync_dir, "manifest.write.fsync_dir", true, true, "fsync of DIR after rename") \
  X(mapped_file_open, "mapped_file.open.open", true, false, "open of a data file")                 \
  X(mapped_file_create, "mapped_file.create.open", true, true, "create of a data file")            \
  X(mapped_file_fstat, "mapped_file.open.fstat", true, false, "fstat of a data file")              \
  X(mapped_file_header_pwrite, "mapped_file.create.pwrite", true, true,                            \
    "write of a new data file's header")                                                           \
  X(mapped_file_map, "mapped_file.map.mmap", true, false, "mmap of a data file")                   \
  X(mapped_file_grow_ftruncate, "mapped_file.grow.ftruncate", true, true,                          \
    "ftruncate that grows a data file")                                                            \
  X(mapped_file_grow_mmap, "mapped_file.grow.mmap", true, false, "mmap of a grown data file")      \
  X(mapped_file_append_pwrite, "mapped_file.append.pwrite", true, true,                            \
    "write of new records into a data file")                                                       \
  X(mapped_file_update_pwrite, "mapped_file.update.pwrite", true, true,                            \
    "in-place write of a committed removal (tombstone)")                                           \
  X(mapped_file_sync_fsync, "mapped_file.sync.fsync", true, true, "fdatasync of a data file")      \
  X(mapped_file_fallocate, "mapped_file.create.fallocate", true, true,                             \
    "allocation of a new id-index file's blocks")                                                  \
  X(store_add_after_data, "store.add.after_data", false, true,                                     \
    "records written, ids not yet indexed or published")                                           \
  X(store_add_before_publish, "store.add.before_publish", false, true,                             \
    "records written and indexed, not yet visible to readers")                                     \
  X(store_sync_after_data, "store.sync.after_data", false, true,                                   \
    "data files synced, manifest not yet written")                                                 \
  X(store_sync_after_commit, "store.sync.after_commit", false, true,                               \
    "manifest committed, removals not yet applied in place")                                       \
  X(store_read_after_lookup, "store.read.after_lookup", false, false,                              \
    "a reader found a record's slot and is about to read it")                                      \
  X(id_index_rehash, "id_index.rehash.before_rename", false, true,                                 \
    "a grown id index is written, not yet renamed into place")                                     \
  X(id_index_rehash_rename, "id_index.rehash.rename", true, true,                                  \
    "rename of the grown id index over the old one")                                               \
  X(compact_after_copy, "compact.after_copy", false, true,                                         \
    "the new generation is written, its manifest not yet committed")                               \
  X(compact_fsync_dir, "compact.fsync_dir", true, true,                                            \
    "fsync of DIR: the new generation's names durable before the MANIFEST that names them")      \
  X(compact_after_commit, "compact.after_commit", false, true,                                     \
    "the new generation is committed, the old files not yet unlinked")                             \
  X(compact_unlink, "compact.unlink", true, true, "unlink of the old generation's files")               \
  X(hnsw_grow_fallocate, "hnsw.grow.fallocate", true, true,                                        \
    "allocation of a grown graph file's blocks (written through a mapping)")                       \
  X(hnsw_commit_pwrite, "hnsw.commit.pwrite", true, true, "write of the graph's commit state")     \
  X(hnsw_dirty_pwrite, "hnsw.dirty.pwrite", true, true,                                            \
    "write of the graph's dirty mark (set before links change, cleared after a commit)")           \
  X(hnsw_rebuild_rename, "hnsw.rebuild.rename", true, true,                                        \
    "rename of a graph rebuilt after a crash over the dirty one")                                  \
  X(hnsw_allocate_after_nodes, "hnsw.allocate.after_nodes", false, true,                           \
    "graph node records written for new records, not yet published")                              \
  X(hnsw_link_after_lookup, "hnsw.link.after_lookup", false, true,                                 \
    "a linker found a node's neighbours and is about to link them")                                \
  X(hnsw_link_mid_write, "hnsw.link.mid_write", false, true,                                       \
    "a neighbour list half rewritten: its count written, its ids not yet")                         \
  X(hnsw_search_before_expand, "hnsw.search.before_expand", false, false,                          \
    "a search took a node from its candidates and is about to read its links")                     \
  X(hnsw_compact_after_build, "hnsw.compact.after_build", false, true,                             \
    "the new generation's graph is built, not yet synced or committed")                            \
  X(store_delete_where_after_mark, "store.delete_where.after_mark", false, true,                   \
    "the records a filter matched are marked removed, not yet committed")

enum class FailSite : uint16_t {
#define VSTORE_X(e, name, syscall, write_path, what) e,
  VSTORE_FAILPOINT_SITES(VSTORE_X)
#undef VSTORE_X
  count_
};

struct FailSiteInfo {
  FailSite site;
  std::string_view name;
  bool syscall;
  bool write_path;
  std::string_view what;
};

// Every site, in table order (whether or not compiled in).
const FailSiteInfo* failpoint_table(size_t* size);
// The name of a site ("mapped_file.grow.ftruncate").
std::string_view failpoint_name(FailSite site);

constexpr bool failpoints_compiled_in() {
#ifdef VSTORE_FAILPOINTS_ENABLED
  return true;
#else
  return false;
#endif
}

// Replaces every configured failpoint with `spec` ("" turns all off).
// invalid-argument naming the term and column for a malformed spec or unknown
// site; invalid-argument when failpoints are not compiled into this build and
// the spec is not empty.
Status configure_failpoints(std::string_view spec);
// Seeds the generator behind p% terms (deterministic per seed).
void set_failpoint_seed(uint64_t seed);
// How many times `site` has fired since it was configured (for tests).
uint64_t failpoint_hits(FailSite site);

}  // namespace vstore
