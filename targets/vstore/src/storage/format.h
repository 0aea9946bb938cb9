// Internal: the on-disk format of a vstore directory.
//
//   DIR/LOCK                 flock'd by the one writer
//   DIR/MANIFEST             the commit record, replaced atomically (tmp + rename)
//   DIR/vectors-GGGGGG.bin   page-sized FileHeader, then fixed-size slots
//   DIR/attrs-GGGGGG.bin     page-sized FileHeader, then attribute blobs
//   DIR/ids-GGGGGG.bin       page-sized FileHeader, then an open-addressing id -> slot table
//   DIR/graph-GGGGGG.bin, DIR/graph-upper-GGGGGG.bin   the HNSW index (index/graph_format.h)
//
// G is the generation: compaction writes a new generation and commits it by
// replacing MANIFEST, so the files of a generation are never rewritten or
// shrunk while anything may map them. All integers are little-endian.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "vstore/record.h"
#include "vstore/status.h"

namespace vstore::internal {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the format is little-endian and read in place");

constexpr uint32_t kFormatVersion = 1;
constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kDataStart = kPageSize;  // every data file's payload starts after its header page
constexpr uint32_t kMaxDim = 65536;
constexpr uint32_t kMaxAttributes = 1024;
constexpr uint32_t kMaxAttributeKey = 4096;
constexpr uint32_t kMaxAttributeBlob = 16u << 20;

enum class FileKind : uint32_t { vectors = 1, attrs = 2, ids = 3, graph = 4, graph_upper = 5 };
// Every kind, each one data file per generation.
inline constexpr FileKind kDataFileKinds[] = {FileKind::vectors, FileKind::attrs, FileKind::ids, FileKind::graph, FileKind::graph_upper};
std::string_view file_kind_name(FileKind kind);  // "vectors"
// "vectors-000001.bin"
std::string data_file_name(FileKind kind, uint64_t generation);

struct StoreIdentity {
  uint8_t uuid[16];
  uint64_t generation;
  uint32_t dim;
  uint32_t metric;
};

// At offset 0 of every data file.
struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t kind;
  uint8_t store_uuid[16];
  uint64_t generation;
  uint32_t dim;
  uint32_t metric;
  uint64_t record_size;  // vectors: slot size; ids: bucket size; attrs: 0
  uint64_t capacity;     // ids: bucket count; others: 0
  uint64_t reserved[6];
  uint64_t checksum;  // XXH3 of every byte before it
};
static_assert(sizeof(FileHeader) == 120);

FileHeader make_file_header(FileKind kind, const StoreIdentity& id, uint64_t record_size, uint64_t capacity);
// Validates a data file's header against the store it should belong to; corrupt
// with the file name, the field's offset and what was expected.
Status check_file_header(const uint8_t* bytes, uint64_t file_size, std::string_view name, FileKind kind,
                         const StoreIdentity& expected, FileHeader* out);

// Slot states. Not covered by the slot checksum, so a removal is one aligned
// 4-byte write; anything else in the state word is corruption.
constexpr uint32_t kSlotEmpty = 0;             // never written (zero-filled, preallocated)
constexpr uint32_t kSlotLive = 0x4556494C;     // "LIVE"
constexpr uint32_t kSlotDead = 0x44414544;     // "DEAD"

struct SlotHeader {
  uint32_t state;
  uint32_t attr_len;
  uint64_t id;
  uint64_t attr_offset;  // into the attrs file's payload (after its header page)
  uint64_t checksum;     // slot_checksum() of the fields above but state, the vector and the attributes
};
static_assert(sizeof(SlotHeader) == 32);

// 32 + 4 * dim, rounded up to 16 bytes so vectors stay aligned.
inline uint64_t slot_size_for(uint32_t dim) { return (sizeof(SlotHeader) + 4ull * dim + 15) & ~uint64_t{15}; }

uint64_t slot_checksum(uint64_t id, uint64_t attr_offset, uint32_t attr_len, const void* vector, size_t vector_bytes,
                       const void* attrs, size_t attr_bytes);

// Attribute blob: u32 count, then per attribute u32 key_len, u32 value_len, key, value.
std::string encode_attributes(const std::vector<Attribute>& attrs);
// Appends the blob to *out (no temporary); returns its length.
uint32_t append_attributes(const std::vector<Attribute>& attrs, std::string* out);
// invalid-argument when a record's attributes exceed the format's limits.
Status check_attributes(const std::vector<Attribute>& attrs);
// corrupt (naming `where`) when the blob is malformed.
Status decode_attributes(const uint8_t* blob, uint32_t len, std::vector<Attribute>* out, std::string_view where);

// The value of `key` in a blob, without copying; nullopt when absent or malformed.
std::optional<std::string_view> find_attribute(const uint8_t* blob, uint32_t len, std::string_view key);

// Generic 64-bit checksum used by every structure of the format.
uint64_t checksum64(const void* data, size_t n, uint64_t seed = 0);

}  // namespace vstore::internal
