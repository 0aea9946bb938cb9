// The states a power cut may leave, built from a recording (fs_recording.h).
//
// At a crash point (just after a recorded call) each recorded operation is
// either durable (a later persistence point, up to the crash point, covers it)
// or pending. What a model lets a power cut do with the pending ones gives the
// states:
//   none       every pending operation lost
//   all        every one kept (what SIGKILL leaves: the page cache survives)
//   prefix     the first N kept, the rest lost (N = 1 .. pending - 1)
//   drop       all kept but one (ALICE's heuristic)
//   torn       all kept, one write cut after its first half, at a 512-byte
//              sector boundary (SQLite's crash VFS tears at sector size)
//   dir-undone every pending content change kept, every pending directory
//              operation (create, rename, link, unlink, mkdir, rmdir) undone
//
// Models:
//   posix         only what fsync/fdatasync (of the file, or of the directory
//                 for its entries), msync (of a mapped page), sync and syncfs
//                 promise, and a write through an O_DSYNC or O_SYNC fd on return
//   ext4-ordered  posix, and a file's data reaches the disk before a rename
//                 or an unlink of it does (ext4's data=ordered with
//                 auto_da_alloc: the replace-by-rename idiom keeps the new
//                 contents whenever the rename is durable); and the fsync of a
//                 new file makes its directory entry durable too (the journal
//                 commit it forces holds the create)
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crashgate/checked.h"
#include "crashgate/fs_recording.h"

namespace crashgate {

enum class PersistenceModel { posix, ext4_ordered };
std::optional<PersistenceModel> parse_persistence_model(std::string_view name);
std::string_view to_string(PersistenceModel model);

// A recording as the crash states read it.
struct Recording {
  std::string path;                  // the recording directory
  std::string dir;                   // the directory it recorded (record.json's "dir")
  std::vector<FsCall> calls;
  std::set<std::string> initial;     // the paths initial/ holds, as paths under `dir` (`dir` itself included)
};
Checked<Recording> load_recording(const std::string& recording_dir);

struct CrashState {
  std::uint64_t point = 0;               // the crash comes right after call `point` (its seq)
  std::string kind;                      // none, all, prefix, drop, torn, dir-undone
  PersistenceModel model = PersistenceModel::posix;
  std::vector<std::uint64_t> pending;    // the pending operations' seqs at the point
  std::vector<std::uint64_t> kept;       // those this state keeps
  std::optional<std::uint64_t> torn;     // torn: the write cut (its seq)
  std::uint64_t torn_bytes = 0;          // torn: how many of its bytes land
  std::string describe() const;          // "after #12: drop #9"
};

struct CrashStateOptions {
  PersistenceModel model = PersistenceModel::posix;
  std::vector<std::uint64_t> points;  // crash points to use; empty: after every call
};

// Every state at each crash point, in point order, each distinct set of kept
// operations once per point.
std::vector<CrashState> crash_states(const Recording& recording, const CrashStateOptions& options);

// Writes the state's files into `target` (which must be empty or absent): the
// recording's initial/ with every operation durable at the point and the
// state's kept ones applied, in log order. Paths under the recorded directory
// land under `target`.
CheckedDone materialize_crash_state(const Recording& recording, const CrashState& state, const std::string& target);

}  // namespace crashgate
