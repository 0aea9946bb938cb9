// A structural check of an LMDB 0.9.24 data.mdb, written for crashgate: it
// reads the file with pread and never through LMDB, so it says what is
// damaged in an env that LMDB itself refuses or crashes on (`read what =
// fsck`; fsck.cc says what it checks). Every field is treated as hostile: it
// never reads outside a page it holds, never follows a page twice, and stops
// after a bounded number of problems and pages. It needs nothing of LMDB, so
// the test suite runs it in-process (library crashgate_lmdb_fsck).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace crashgate::lmdb_driver {

struct FsckLimits {
  std::size_t max_problems = 20;       // the walk stops at this many
  std::uint64_t max_pages = 1'000'000;  // pages read (tree pages and overflow pages); past it the walk stops, said in a note
};

// One B-tree as walked, beside what its MDB_db record says.
struct FsckTree {
  std::string name;  // "main DB", "free DB"
  bool empty = true;  // md_root is P_INVALID
  std::uint64_t branch_pages = 0, leaf_pages = 0, overflow_pages = 0, entries = 0;
  std::uint64_t depth = 0;  // the deepest leaf's depth (1: the root is a leaf)
};

struct FsckReport {
  std::vector<std::string> problems;  // one plain sentence each, at most FsckLimits::max_problems
  bool stopped_at_max_problems = false;
  std::vector<std::string> notes;  // what was read and how: which meta page, what was not walked
  int meta = -1;                   // the meta page used (0 or 1), -1 when neither is valid
  std::uint64_t file_size = 0, page_size = 0, last_pg = 0, txnid = 0;
  std::uint64_t pages_read = 0;      // tree and overflow pages read
  std::uint64_t free_listed = 0;     // page numbers the free DB's records list
  FsckTree main{"main DB"}, free{"free DB"};
  bool ok() const { return problems.empty(); }
  // What was walked, in one line: the meta page, each tree's pages and entries.
  std::string summary() const;
};

// Checks the data.mdb at `path` (see fsck.cc). Only reads it.
FsckReport check_data_file(const std::string& path, const FsckLimits& limits = {});

}  // namespace crashgate::lmdb_driver
