// The scenario step vocabulary: one table drives validation, `crashgate ops`
// and the docs (reports/driver-protocol.md lists the same rows).
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace crashgate {

// X(name, required keys, optional keys, what a driver does)
// Keys are space-separated. Every step may also have "name" and "expect" ("ok", "error" or "error:CODE").
#define CRASHGATE_SCENARIO_OPS(X)                                                                         \
  X("create", "", "dim vectors metric seed store hnsw m ef_construction",                              \
    "create a store with `vectors` random vectors of `dim` (hnsw = false: no index; m, ef_construction)") \
  X("add", "", "vectors ids metadata seed", "add vectors (with metadata) to the open store")             \
  X("search", "", "queries k ef filter", "run `queries` k-NN searches, optionally filtered")              \
  X("remove", "", "ids count", "remove vectors by id (or `count` random ones)")                          \
  X("count", "", "equals", "count the vectors; `equals` checks the result")                              \
  X("delete", "filter", "clauses shape field",                                                             \
    "delete_where(filter); `clauses` copies OR-ed, or shaped: nested, not, in, and-or")    \
  X("compact", "", "", "compact the store (rewrites and remaps files)")                                  \
  X("sync", "", "", "flush everything to disk")                                                          \
  X("reopen", "", "", "close and open the store again")                                                  \
  X("get", "ids", "", "read the records with these ids (any error ends the step)")                        \
  X("verify", "", "", "every record added and not removed is there and exact; nothing torn; count agrees") \
  X("truncate", "file to", "while_open", "truncate a store file (`vectors`, `index`, ...) to an offset expression") \
  X("corrupt", "file at", "bytes value while_open rechecksum", "overwrite `bytes` bytes of a store file at an offset expression") \
  X("replace", "file with", "", "replace a store file by a directory, an empty file, a fifo, or a foreign store's file") \
  X("read", "what", "", "read the store one way: open, count, get, search, scan or fsck")                  \
  X("append-empty-slots", "slots", "", "grow the store by `slots` empty slots on a sparse file (a huge store, unwritten)") \
  X("fsck", "", "", "close the store and check every file (vstore fsck); problems are a corrupt error")    \
  X("failpoints", "spec", "", "set failpoints (fail(9) syntax, e.g. name=1*error(ENOSPC))")              \
  X("spawn-workload", "workload", "threads duration stack", "start concurrent threads running `workload`") \
  X("second-process", "action", "args", "run `action` in a second process on the same store")            \
  X("join", "", "", "wait for spawned workloads and second processes; an error if any failed")             \
  X("sleep", "duration", "", "sleep (e.g. \"100ms\")")

struct OpSpec {
  std::string_view name;
  std::string_view required;
  std::string_view optional;
  std::string_view summary;
};

std::span<const OpSpec> scenario_ops();
const OpSpec* find_op(std::string_view name);
std::vector<std::string_view> op_keys(std::string_view space_separated);
inline constexpr std::string_view kCommonStepKeys = "name expect";

}  // namespace crashgate
