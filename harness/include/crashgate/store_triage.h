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

// Runs `read WHAT` for each of the driver's ways on its own copy of `dir`
// (an `import` step, then the read), observed as every cell is.
Checked<std::vector<StoreRead>> run_store_reads(const std::string& dir, const EngineLayout& engine,
                                                const StoreTriageOptions& options, const RunContext& context = {});

// The layout of every target whose driver is built for `build` under
// `build_root` (a driver that cannot list its layout is left out, its error
// added to `errors`); `only`, when not empty, names the one target wanted.
std::vector<EngineLayout> built_engine_layouts(const std::string& build_root, const std::string& build,
                                               const std::string& only, std::vector<std::string>& errors);

}  // namespace crashgate
