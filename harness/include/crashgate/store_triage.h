// A damaged data directory from the field (`crashgate triage DIR`): which
// engine wrote it (by each driver's layout table), what its files look like
// against that layout, and which of the driver's read ops crash on it, each
// run on a fresh copy in its own observed process. The directory given is
// only ever read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/checked.h"
#include "crashgate/outcome.h"
#include "crashgate/runner.h"
#include "crashgate/scenario.h"

namespace crashgate {

// One engine a driver is built for, with its layout (`DRIVER --list layout` rows).
struct EngineLayout {
  std::string target;                   // "lmdb"
  std::string driver;                   // the driver binary
  std::vector<nlohmann::json> files;    // rows: file, pattern, header_size, fields, slot_*
};

// The engine whose layout names the most of the directory's files (a layout
// file counts when some file on disk fits its pattern); fails, naming the
// directory and the engines tried, when no layout names any file, or when two
// engines fit equally well (then --target must say).
struct Recognised {
  std::string target;
  std::string why;  // "its files fit lmdb's layout: data.mdb (data), lock.mdb (lock)"
};
Checked<Recognised> recognise_engine(const std::string& dir, const std::vector<EngineLayout>& engines);

struct StoreFile {
  std::string name;                    // on disk, relative to the directory
  std::uint64_t size = 0;
  std::string layout_file;             // the layout's name for it ("data"), "" when none fits
  std::vector<std::string> problems;   // in plain words: "data.mdb is 0 bytes; its header alone is 8,192"
  std::vector<std::pair<std::string, std::string>> fields;  // header fields as read: name, value
};

struct StoreInspection {
  std::vector<StoreFile> files;
  std::vector<std::string> problems;   // the directory's: "no file fits data.mdb (lmdb's data)"
};
// Reads every regular file of `dir` (read-only) against `layout`.
Checked<StoreInspection> inspect_store(const std::string& dir, const EngineLayout& layout);

struct StoreRead {
  std::string what;   // the read op's way: open, count, get, search, scan, fsck
  Outcome outcome;    // observed and triaged
};

struct StoreTriageOptions {
  std::string work_root;     // where the copies and the cells' work directories go
  std::string build = "release";
  unsigned jobs = 0;         // 0: one per CPU
  std::vector<std::string> reads;  // the driver's read ways to run; empty: all it lists
};

// The cell that reads a copy of a store one way: an `import` of `from`, then `read WHAT`.
Cell store_read_cell(const std::string& target, const std::string& build, const std::string& what,
                     const std::string& from);

// Runs `read WHAT` for each of the driver's ways on its own copy of `dir`
// (an `import` step, then the read), observed as every cell is.
Checked<std::vector<StoreRead>> run_store_reads(const std::string& dir, const EngineLayout& engine,
                                                const StoreTriageOptions& options, const RunContext& context = {});

// The layout of every target whose driver is built for `build` under
// `build_root` (a driver that cannot list its layout is left out, its error
// added to `errors`); `only`, when not empty, names the one target wanted.
std::vector<EngineLayout> built_engine_layouts(const std::string& build_root, const std::string& build,
                                               const std::string& only, std::vector<std::string>& errors);

// The smallest copy of a data directory that still crashes one read the same
// way (the same crash signature), as libFuzzer minimizes a crashing input:
// whole files dropped, then each file cut shorter, then regions of it zeroed,
// each change kept only when the read still crashes with `signature`.
struct StoreMinimizeOptions {
  std::string work_root;   // the trials' copies and cells
  std::string build = "release";
  int max_trials = 300;    // reads run at most; the best copy so far is kept when they run out
  std::uint64_t cut_granule = 4096;  // the smallest cut, in bytes (engines map and read whole pages)
  std::uint64_t zero_granule = 64;   // the smallest zeroed region, in bytes
};
struct StoreMinimized {
  std::string dir;                    // the minimized copy (under work_root)
  std::uint64_t bytes_before = 0, bytes_after = 0;
  std::uint64_t nonzero_after = 0;    // bytes of the copy that are not zero
  int files_before = 0, files_after = 0;
  int trials = 0;
  bool out_of_trials = false;
  std::vector<std::string> changes;   // "dropped lock.mdb", "cut data.mdb to 12,288 bytes", "zeroed 8,192 bytes of data.mdb at 16,384"
};
// Fails when the read does not crash with `signature` on the whole copy to begin with.
Checked<StoreMinimized> minimize_store(const std::string& dir, const EngineLayout& engine, const std::string& what,
                                       const std::string& signature, const StoreMinimizeOptions& options,
                                       const RunContext& context = {});

}  // namespace crashgate
