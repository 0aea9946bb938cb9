// hnswlib's index file as crashgate sees it (--list layout, offset
// expressions, `from = "layout"` params), for hnswlib 0.6.2 on x86-64 Linux.
//
// saveIndex (hnswalg.h) writes, with writeBinaryPOD (the raw bytes of each
// member, little-endian; size_t 8 bytes, int 4, tableint = unsigned int 4,
// double 8), in this order:
//
//    0  offsetLevel0_          size_t  offset of the level-0 links in an element's block (0)
//    8  max_elements_          size_t  capacity in elements
//   16  cur_element_count      size_t  elements stored, those marked deleted included
//   24  size_data_per_element_ size_t  bytes of a level-0 block: 4 + maxM0_ * 4 + dim * 4 + 8
//   32  label_offset_          size_t  offset of the label in a block (after the vector)
//   40  offsetData_            size_t  offset of the vector in a block (4 + maxM0_ * 4)
//   48  maxlevel_              int     the graph's top level
//   52  enterpoint_node_       tableint internal id of the entry point
//   56  maxM_                  size_t  links per node above level 0 (M)
//   64  maxM0_                 size_t  links per node at level 0 (2 M)
//   72  M_                     size_t  the M it was built with
//   80  mult_                  double  the level multiplier, 1 / ln(M)
//   88  ef_construction_       size_t  the build beam width
//
// then data_level0_memory_, cur_element_count blocks of size_data_per_element_
// bytes from offset 96: element i's block is slot(i) (slot_base 96, the slot
// size read from size_data_per_element). A block is: the level-0 link count
// (a linklistsizeint, u32: its low 2 bytes the count, byte 2 the DELETE_MARK
// 0x01 that markDelete sets), maxM0_ links (tableint, internal ids), the
// vector (dim floats), the label (labeltype = size_t: the record's id).
// Then the link-list section: per element, a u32 byte count (0 at level 0,
// else level * (4 + maxM_ * 4)) and that many bytes of upper-level link lists.
//
// The kit's layout holds fields of the header only (a field past
// header_size is a declaration error), so the header's 13 fields are the
// fields, and what follows it is reached with slot(N) and terms of the
// driver's own, read from the file's header when the expression is
// evaluated (a block's fields move with M and the dimension):
//
//   slot(N)        element N's level-0 block: + 0 its link count (u16),
//                  + 2 its DELETE_MARK byte, + 4 its links (u32 each)
//   vector(N)      element N's vector: slot(N) + offsetData
//   label(N)       element N's label (8 bytes): slot(N) + label_offset
//   links          where the link-list section begins: 96 + cur_element_count * size_data_per_element
//   linklist(N)    element N's u32 byte count in it (found by walking the counts before it)
//   upper(K)       the level-1 link list of the K-th element (K from 0, in
//                  internal-id order) that has upper levels: + 0 its count
//                  (u16 of a u32), + 4 its links (u32 each, maxM of them)
//   top            the entry point's link list at maxlevel, the first list
//                  every search reads (undefined when maxlevel is 0)
//
// A level-L list (L >= 1) of an element is at linklist(N) + 4 + (L - 1) *
// (4 + maxM * 4); searchKnn reads the entry point's lists from maxlevel down
// to level 1, and addPoint and markDelete's repairs read and rewrite them.
//
// Checked against a real index: tests/harness/hnswlib_driver_test.cc creates
// one, reads every header field at these offsets and compares it with what
// the driver created (and element 0's vector, label and link count).
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "session.h"

namespace crashgate::hnswlib_driver {

namespace {

constexpr std::uint64_t kHeaderSize = 96;

std::optional<std::uint64_t> read_le_at(std::ifstream& in, std::uint64_t offset, std::uint64_t width) {
  unsigned char buf[8] = {};
  in.clear();
  in.seekg(static_cast<std::streamoff>(offset));
  if (!in.read(reinterpret_cast<char*>(buf), static_cast<std::streamsize>(width))) return std::nullopt;
  std::uint64_t v = 0;
  for (std::uint64_t i = 0; i < width; ++i) v |= std::uint64_t{buf[i]} << (8 * i);
  return v;
}

}  // namespace

std::vector<kit::LayoutFile> hnswlib_layout() {
  kit::LayoutFile index;
  index.file = "index";
  index.pattern = kIndexFile;
  index.header_size = kHeaderSize;
  index.meaning = "hnswlib's saveIndex file: a 96-byte header, cur_element_count level-0 blocks of size_data_per_element "
                  "bytes (slot(N): element N's link count, links, vector, label), then per element a u32 byte count and its "
                  "upper-level link lists; terms of its own: vector(N), label(N) (element N's), links (the link lists' start), linklist(N), "
                  "upper(K) (the level-1 list of the K-th element with upper levels), top (the entry point's list at maxlevel)";
  index.fields = {
      {"offsetLevel0", 0, 8, "offsetLevel0_ (size_t): the level-0 links' offset in a block, 0"},
      {"max_elements", 8, 8, "max_elements_ (size_t): capacity in elements"},
      {"cur_element_count", 16, 8, "cur_element_count (size_t): elements stored, removed ones included"},
      {"size_data_per_element", 24, 8, "size_data_per_element_ (size_t): bytes of a level-0 block (links, vector, label)"},
      {"label_offset", 32, 8, "label_offset_ (size_t): the label's offset in a block"},
      {"offsetData", 40, 8, "offsetData_ (size_t): the vector's offset in a block"},
      {"maxlevel", 48, 4, "maxlevel_ (int): the graph's top level"},
      {"enterpoint_node", 52, 4, "enterpoint_node_ (tableint): internal id of the entry point"},
      {"maxM", 56, 8, "maxM_ (size_t): links per node above level 0"},
      {"maxM0", 64, 8, "maxM0_ (size_t): links per node at level 0 (2 M)"},
      {"M", 72, 8, "M_ (size_t): the M it was built with"},
      {"mult", 80, 8, "mult_ (double): the level multiplier, 1 / ln(M)"},
      {"ef_construction", 88, 8, "ef_construction_ (size_t): the build beam width"},
  };
  index.slot_base = kHeaderSize;
  index.slot_size_field = "size_data_per_element";
  return {index};
}

const kit::LayoutFile* layout_of(std::string_view file) {
  static const std::vector<kit::LayoutFile> layout = hnswlib_layout();
  for (const auto& f : layout)
    if (f.file == file) return &f;
  return nullptr;
}

kit::ExtraTerm extra_terms(const std::string& path) {
  return [path](const std::string& name, const std::optional<std::string>& arg) -> std::optional<std::uint64_t> {
    if (name != "links" && name != "vector" && name != "label" && name != "linklist" && name != "upper" && name != "top")
      return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::optional<std::uint64_t> count = read_le_at(in, 16, 8), size = read_le_at(in, 24, 8);
    if (!count || !size) return std::nullopt;
    std::uint64_t links = kHeaderSize + *count * *size;
    if (name == "links") return arg ? std::nullopt : std::optional<std::uint64_t>(links);
    if (name == "top") {
      // The entry point's list at maxlevel: walk to the entry point's byte count.
      std::optional<std::uint64_t> maxlevel = read_le_at(in, 48, 4), ep = read_le_at(in, 52, 4), max_m = read_le_at(in, 56, 8);
      if (arg || !maxlevel || !ep || !max_m || *maxlevel == 0 || *maxlevel > 0x7fffffff || *ep >= *count) return std::nullopt;
      std::uint64_t at = links;
      for (std::uint64_t i = 0; i < *ep; ++i) {
        std::optional<std::uint64_t> bytes = read_le_at(in, at, 4);
        if (!bytes) return std::nullopt;
        at += 4 + *bytes;
      }
      return at + 4 + (*maxlevel - 1) * (4 + *max_m * 4);
    }
    std::optional<std::uint64_t> n = kit::term_number(arg);
    if (!n) return std::nullopt;
    if (name == "vector" || name == "label") {
      std::optional<std::uint64_t> within = read_le_at(in, name == "vector" ? 40 : 32, 8);
      if (!within) return std::nullopt;
      return kHeaderSize + *n * *size + *within;
    }
    // linklist(N): walk the byte counts of the elements before N. upper(K):
    // walk until the K-th element whose byte count is not 0.
    std::uint64_t at = links, with_upper = 0;
    for (std::uint64_t i = 0; name == "upper" || i < *n; ++i) {
      std::optional<std::uint64_t> bytes = read_le_at(in, at, 4);
      if (!bytes || (name == "upper" && i >= *count)) return std::nullopt;
      if (name == "upper" && *bytes != 0 && with_upper++ == *n) return at + 4;
      at += 4 + *bytes;
    }
    return at;
  };
}

}  // namespace crashgate::hnswlib_driver
