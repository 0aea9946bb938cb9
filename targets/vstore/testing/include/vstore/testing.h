// vstore/testing.h: what tests and crashgate's driver may do to a store that
// its users may not. Not part of the release library: link `vstore_testing`.
// Everything here is about the files as they lie on disk (their names, their
// header layout, their checksums) or a shortcut a test needs (a huge store
// without writing it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vstore/status.h"
#include "vstore/store.h"

namespace vstore {
namespace internal {
class StoreImpl;
}

namespace testing {

// Grows the store by n never-written (zero, sparse) slots: records past 4 GiB
// without writing gigabytes.
Status append_empty_slots(Store& store, uint64_t n);

// The store's internals, for the engine's own white-box tests.
internal::StoreImpl& impl(Store& store);

// One header field of a store file.
struct HeaderField {
  std::string name;
  uint64_t offset = 0;
  uint64_t width = 0;
  std::string meaning;
};

// One kind of store file: the name tests use for it ("vectors", "upper",
// "manifest"), its name on disk, its header and where its slots begin.
struct FileLayout {
  std::string file;
  std::string pattern;            // "vectors-*.bin", "MANIFEST"
  uint64_t header_size = 0;       // the header page of a data file; MANIFEST's header
  std::string meaning;
  std::vector<HeaderField> fields;
  uint64_t slot_base = 0;         // where slot 0 begins (0: the file has no slots)
  std::string slot_size_field;    // the header field that holds the slot size
};
const std::vector<FileLayout>& file_layouts();

// The current file of that kind in a store directory (the newest generation's).
// invalid-argument for an unknown name, not-found when the store has none.
Result<std::string> current_file(const std::string& dir, std::string_view file);

// Offsets the format defines but no header field holds: the end of the
// committed records (`committed`) and slot N of the MANIFEST's slot size
// (`slot(N)`), both read from MANIFEST. not-found when MANIFEST is unreadable.
Result<uint64_t> committed_end(const std::string& dir, std::string_view file);
Result<uint64_t> manifest_slot(const std::string& dir, std::string_view file, uint64_t n);

// Makes the header checksum of a store file (and MANIFEST's list checksum)
// agree with its bytes again, so a test of a forged field tests the engine's
// check of the field, not of the checksum.
Status rechecksum_header(const std::string& path, std::string_view file);

// Leaves the store as an interrupted session would: the graph's dirty mark set.
Status mark_graph_dirty(const std::string& dir);

}  // namespace testing
}  // namespace vstore
