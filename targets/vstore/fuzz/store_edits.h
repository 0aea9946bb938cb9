// The structure-aware input of vstore_open and vstore_graph: a small valid
// store, built once per process, and an edit list that damages copies of its
// files, so that the fuzzer starts past every header and checksum and spends
// its time on what lies behind them. Each edit is
//   [file: u8][op: u8][offset: u32 little-endian][length: u8][length bytes]
// file % (number of editable files) picks the file; op % 4 == 3 truncates it
// to offset % (size + 1), any other op overwrites bytes at offset % size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace vstore_fuzz {

struct StoreFiles {
  std::string work;                // the directory each input's store is written to
  std::vector<std::string> names;  // editable files first, then the rest
  std::vector<std::string> bytes;
  std::size_t editable = 0;
};

// Builds a store with `build(dir)` under /dev/shm (once per process) and
// reads its files: those whose names start with `editable_prefixes` first, in
// that order, then every other file.
StoreFiles make_store_files(const std::string& tag, const std::function<void(const std::string& dir)>& build,
                            const std::vector<std::string>& editable_prefixes);

// Removes PARENT/TAG-PID directories whose process is gone (left by crashes).
void remove_stale_scratch(const std::string& parent, const std::string& tag);

// The files after the input's edits (valid until the next call).
const std::vector<std::string>& apply_edits(const StoreFiles& t, const uint8_t* data, std::size_t size);

// Replaces the work directory's content with `files` (names from t).
void write_store(const StoreFiles& t, const std::vector<std::string>& files);

}  // namespace vstore_fuzz
