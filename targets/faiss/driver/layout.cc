// FAISS 1.7.3's index files as crashgate sees them (--list layout, offset
// expressions, `from = "layout"` params), for the files this driver writes
// (index_walk.h has the format). One file on disk, index.faiss; three file
// kinds, one per index type, since their layouts differ past the first header:
//
//   flat  IndexIDMap2 "IxM2" (its header, 0-36), IndexFlatL2 "IxF2" at 37
//         (its header, 37-73), codes at 74 (u64 count of floats) and 82 (the
//         vectors, ntotal * d floats), then id_map (u64 count + i64 ids)
//   hnsw  IndexIDMap2 "IxM2" (0-36), IndexHNSWFlat "IHNf" at 37 (its header,
//         37-73), the HNSW struct from 74: assign_probas (count at 74, 8
//         doubles at 82 for m = 16: one per level whose probability
//         16^-l * 15/16 is 1e-9 or more), cum_nneighbor_per_level (count at
//         146, 9 ints at 154), levels (count at 190, ntotal ints at 198); from
//         there on everything depends on ntotal and the graph (offsets,
//         neighbors, entry_point, max_level, efConstruction, efSearch,
//         upper_beam, the storage IndexFlatL2), then id_map
//   ivf   IndexIVFFlat "IwFl" (its header, 0-36), nlist at 37, nprobe at 45,
//         the quantizer IndexFlatL2 "IxF2" at 53 (its header, 53-89, codes count
//         at 90, nlist * d centroids at 98); from there on (direct map,
//         inverted lists "ilar": nlist, code_size, "full"/"sprs", sizes, data)
//         everything depends on d and the records
//
// The fields listed are those at a fixed offset in every file the driver
// creates (with create's default m = 16 for hnsw: another m moves hnsw's past
// 82). The rest are reached with the engine's offset term at(FIELD), which
// walks the file on disk now (index_walk.h names every field): e.g.
// at(hnsw.entry_point), at(id_map.size), at(invlists.sizes.data),
// at(direct_map.type). `header` is where the first vector data starts (the
// vectors, levels[0], the centroids), past every listed field. Two more terms
// reach the graph above level 0, where HNSW::search descends before it
// searches level 0: upper(K), the level-1 neighbours of the K-th node (in id
// order) whose level count is 2 or more, and top, the entry point's
// neighbours at max_level; each is m int32 ids, -1 past the last.
// Checked against real files by tests/harness/faiss_driver_test.cc.
#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "index_walk.h"
#include "session.h"

namespace crashgate::faiss_driver {

namespace {

// An index header (write_index_header) at `base`, its fields named PREFIX*.
void header_fields(std::vector<kit::LayoutField>& out, const std::string& prefix, std::uint64_t base, const std::string& what,
                   const char* fourcc) {
  out.push_back({prefix + "fourcc", base, 4, fmt::format("{}'s fourcc, \"{}\"", what, fourcc)});
  out.push_back({prefix + "d", base + 4, 4, what + "'s d (int): the vectors' dimension"});
  out.push_back({prefix + "ntotal", base + 8, 8, what + "'s ntotal (int64): how many vectors"});
  out.push_back({prefix + "dummy1", base + 16, 8, what + "'s first dummy (int64, 1 << 20; read and ignored)"});
  out.push_back({prefix + "dummy2", base + 24, 8, what + "'s second dummy (int64, 1 << 20; read and ignored)"});
  out.push_back({prefix + "is_trained", base + 32, 1, what + "'s is_trained (bool)"});
  out.push_back({prefix + "metric_type", base + 33, 4, what + "'s metric_type (int): 1 METRIC_L2; past 1 a float metric_arg follows"});
}

}  // namespace

std::vector<kit::LayoutFile> faiss_layout() {
  kit::LayoutFile flat;
  flat.file = "flat";
  flat.pattern = "index.faiss";
  flat.header_size = 82;
  flat.meaning = "a flat-l2 store's index.faiss: IndexIDMap2(IndexFlatL2) as write_index writes it; the vectors from 82, then "
                 "the id map (at(id_map.size)); at(FIELD) reaches any field of the file";
  header_fields(flat.fields, "", 0, "IndexIDMap2", "IxM2");
  header_fields(flat.fields, "flat.", 37, "IndexFlatL2", "IxF2");
  flat.fields.push_back({"flat.codes.size", 74, 8, "IndexFlatL2's codes: the count of 4-byte words (ntotal * d)"});

  kit::LayoutFile hnsw;
  hnsw.file = "hnsw";
  hnsw.pattern = "index.faiss";
  hnsw.header_size = 198;
  hnsw.meaning = "a hnsw-l2 store's index.faiss: IndexIDMap2(IndexHNSWFlat(m)) as write_index writes it; offsets past 82 for "
                 "m = 16 (create's default); the graph, the HNSW scalars (at(hnsw.entry_point), ...), the storage "
                 "(at(hnsw.storage.codes.data)) and the id map follow at offsets of the data; upper(K) is the level-1 neighbour "
                 "list of the K-th node above level 0, top the entry point's list at max_level";
  header_fields(hnsw.fields, "", 0, "IndexIDMap2", "IxM2");
  header_fields(hnsw.fields, "hnsw.", 37, "IndexHNSWFlat", "IHNf");
  hnsw.fields.push_back({"hnsw.assign_probas.size", 74, 8, "HNSW assign_probas: the count of levels' probabilities (8 for m = 16)"});
  hnsw.fields.push_back({"hnsw.assign_probas.data", 82, 8, "HNSW assign_probas: level 0's probability (double)"});
  hnsw.fields.push_back({"hnsw.cum_nneighbor_per_level.size", 146, 8, "HNSW cum_nneighbor_per_level: the count (levels + 1)"});
  hnsw.fields.push_back({"hnsw.cum_nneighbor_per_level.data", 154, 4, "HNSW cum_nneighbor_per_level[0] (int, 0)"});
  hnsw.fields.push_back({"hnsw.levels.size", 190, 8, "HNSW levels: the count (ntotal)"});

  kit::LayoutFile ivf;
  ivf.file = "ivf";
  ivf.pattern = "index.faiss";
  ivf.header_size = 98;
  ivf.meaning = "an ivf-l2 store's index.faiss: IndexIVFFlat (nlist 16) as write_index writes it; the centroids from 98, then "
                "the direct map (at(direct_map.type)) and the inverted lists (at(invlists.fourcc), at(invlists.sizes.data), "
                "at(invlists.data)) at offsets of the data";
  header_fields(ivf.fields, "", 0, "IndexIVFFlat", "IwFl");
  ivf.fields.push_back({"nlist", 37, 8, "IndexIVF nlist (size_t): the inverted lists (16)"});
  ivf.fields.push_back({"nprobe", 45, 8, "IndexIVF nprobe (size_t): lists a search visits"});
  header_fields(ivf.fields, "quantizer.", 53, "the quantizer IndexFlatL2", "IxF2");
  ivf.fields.push_back({"quantizer.codes.size", 90, 8, "the quantizer's codes: the count of 4-byte words (nlist * d)"});
  return {flat, hnsw, ivf};
}

const kit::LayoutFile* layout_of(std::string_view file) {
  static const std::vector<kit::LayoutFile> layout = faiss_layout();
  for (const auto& f : layout)
    if (f.file == file) return &f;
  return nullptr;
}

namespace {

// The little-endian value of `width` bytes at `at`, when the file holds them.
std::optional<std::uint64_t> value_at(const std::string& bytes, std::uint64_t at, std::uint64_t width) {
  if (at > bytes.size() || bytes.size() - at < width) return std::nullopt;
  std::uint64_t v = 0;
  for (std::uint64_t i = 0; i < width; ++i) v |= std::uint64_t{static_cast<unsigned char>(bytes[at + i])} << (8 * i);
  return v;
}

// Where node `node`'s neighbours at `level` begin in hnsw.neighbors.data:
// offsets[node] + cum_nneighbor_per_level[level] (HNSW::neighbor_range).
std::optional<std::uint64_t> neighbours_at(const std::string& bytes, const Walk& w, std::uint64_t node, std::uint64_t level) {
  const WalkField *offsets = w.find("hnsw.offsets.data"), *cum = w.find("hnsw.cum_nneighbor_per_level.data"),
                  *neighbors = w.find("hnsw.neighbors.data");
  if (!offsets || !cum || !neighbors || (node + 1) * 8 > offsets->width || (level + 1) * 4 > cum->width) return std::nullopt;
  std::optional<std::uint64_t> first = value_at(bytes, offsets->offset + node * 8, 8), skip = value_at(bytes, cum->offset + level * 4, 4);
  if (!first || !skip || *first > (std::uint64_t{1} << 40) || *skip > (std::uint64_t{1} << 20)) return std::nullopt;
  std::uint64_t at = neighbors->offset + 4 * (*first + *skip);
  if (at >= neighbors->offset + neighbors->width) return std::nullopt;
  return at;
}

}  // namespace

kit::ExtraTerm walk_terms(const std::string& path) {
  // at(FIELD): where FIELD is in the file now (walked from its first byte); end_of(FIELD): just past it.
  // upper(K): the level-1 neighbours of the K-th node (in id order) above level 0; top: the entry
  // point's neighbours at max_level, the first list a search reads.
  return [path](const std::string& name, const std::optional<std::string>& arg) -> std::optional<std::uint64_t> {
    bool field_term = (name == "at" || name == "end_of") && arg;
    bool graph_term = (name == "upper" && arg) || (name == "top" && !arg);
    if (!field_term && !graph_term) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Walk w = walk_index(bytes);
    if (field_term) {
      const WalkField* f = w.find(*arg);
      if (!f) return std::nullopt;  // the kit then says the term is unknown
      return name == "at" ? f->offset : f->offset + f->width;
    }
    if (name == "top") {
      const WalkField *ep = w.find("hnsw.entry_point"), *max_level = w.find("hnsw.max_level");
      if (!ep || !max_level) return std::nullopt;
      std::optional<std::uint64_t> node = value_at(bytes, ep->offset, 4), level = value_at(bytes, max_level->offset, 4);
      if (!node || !level || *level == 0 || *level >= 0x80000000u) return std::nullopt;
      return neighbours_at(bytes, w, *node, *level);
    }
    std::optional<std::uint64_t> k = kit::term_number(arg);
    const WalkField* levels = w.find("hnsw.levels.data");
    if (!k || !levels) return std::nullopt;
    // levels[i] is node i's level count: 2 or more puts it above level 0.
    std::uint64_t seen = 0;
    for (std::uint64_t i = 0; (i + 1) * 4 <= levels->width; ++i) {
      std::optional<std::uint64_t> count = value_at(bytes, levels->offset + i * 4, 4);
      if (count && *count >= 2 && *count < 0x80000000u && seen++ == *k) return neighbours_at(bytes, w, i, 1);
    }
    return std::nullopt;
  };
}

}  // namespace crashgate::faiss_driver
