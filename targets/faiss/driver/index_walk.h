// Where each field of a FAISS 1.7.3 index file is, found by walking the bytes
// the way faiss/impl/index_read.cpp reads them (no FAISS call: a damaged file
// is walked as far as its sizes allow, and what is past a bad size is left out).
//
// The files this driver writes (write_index, faiss/impl/index_write.cpp):
//
//   every index   fourcc u32, then write_index_header: d i32, ntotal i64,
//                 dummy i64 (1 << 20), dummy i64, is_trained u8, metric_type
//                 i32, metric_arg f32 only when metric_type > 1
//   "IxM2"/"IxMp" IndexIDMap2 / IndexIDMap: the header, the wrapped index
//                 (written whole, fourcc first), then id_map: u64 count + i64s
//   "IxF2"/"IxFI"/"IxFl"  IndexFlat(L2/IP/other): the header, then codes as
//                 WRITEXBVECTOR: u64 count of 4-byte words + the bytes
//   "IHNf"        IndexHNSWFlat: the header, the HNSW struct (assign_probas
//                 f64s, cum_nneighbor_per_level i32s, levels i32s, offsets
//                 u64s, neighbors i32s, each a u64 count + data; then
//                 entry_point i32, max_level i32, efConstruction i32,
//                 efSearch i32, upper_beam i32), then the storage (an IndexFlat)
//   "IwFl"        IndexIVFFlat: the header, nlist u64, nprobe u64, the
//                 quantizer (an index, written whole), the direct map (type u8,
//                 array: u64 count + i64s, and for a hashtable (type 2) its
//                 (id, list-and-offset) pairs: u64 count + 16-byte pairs),
//                 then the inverted lists: "ilar", nlist u64, code_size u64,
//                 "full" (a size per list) or "sprs" (list, size pairs of the
//                 non-empty lists) as a u64 count + u64s, then each non-empty
//                 list's codes (size * code_size bytes) and ids (size i64s)
//
// Field names: the top index's header fields bare ("fourcc", "d", "ntotal",
// ...), a wrapped index's under its part ("flat.d", "hnsw.entry_point",
// "hnsw.storage.ntotal", "quantizer.codes.size", "invlists.sizes.data", ...),
// a vector as NAME.size (its u64 count) and NAME.data (all its bytes).
// Kept free of the kit and of FAISS: the fuzz target uses it too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crashgate::faiss_driver {

struct WalkField {
  std::string name;
  std::uint64_t offset = 0;
  std::uint64_t width = 0;  // bytes
};

struct Walk {
  std::vector<WalkField> fields;
  std::string stopped;  // empty: walked to the end of the last structure; else why it stopped
  std::uint64_t end = 0;  // where the walk ended
  const WalkField* find(std::string_view name) const;
};

Walk walk_index(std::string_view bytes);

// The four characters of a fourcc as FAISS writes it (faiss::fourcc: little-endian).
std::uint32_t fourcc_of(const char (&s)[5]);

}  // namespace crashgate::faiss_driver
