// `read what = fsck` for LMDB: a structural check of data.mdb, ours, read
// with pread and never through LMDB (mdb_env_open itself crashes on some
// damage: LMDB-1, LMDB-4), for LMDB 0.9.24 on 64-bit Linux (layout.cc has the
// meta page; the page and node formats are mdb.c's MDB_page and MDB_node).
//
// What it checks, each problem one sentence naming the page and the field,
// the value found and what was expected:
//   - the file: there, a regular file, at least two pages;
//   - both meta pages, as mdb_env_read_header reads them (page 1 at page 0's
//     mm_psize): P_META in mp_flags, mm_magic 0xBEEFC0DE, mm_version 1,
//     mp_pgno 0 and 1, mm_psize a power of two from 512 to 32,768 (LMDB's
//     MAX_PAGESIZE); then the meta LMDB uses, the valid one with the larger
//     mm_txnid (page 0 on a tie), and the file's length against its
//     mm_last_pg + 1 pages (a file shorter than that is damage, unless every
//     page it lacks is on the free list, as mdb.c's comment on mm_last_pg allows);
//   - the main DB's and the free DB's trees from md_root (P_INVALID: empty,
//     and then every count of its MDB_db is 0): every page number past the
//     meta pages, at most mm_last_pg and inside the file, and reached once; the
//     page's mp_pgno its own number; mp_flags a branch's (0x01) or a leaf's
//     (0x02); 16 <= mp_lower <= mp_upper <= page size, mp_lower even past the
//     header, and its entry count (mp_lower - 16) / 2 no more than fit; each
//     node's offset even and in [mp_upper, page size), its header, key and
//     in-page value inside the page and no two nodes overlapping; a leaf node's
//     flags LMDB's (F_BIGDATA alone, or F_SUBDATA/F_DUPDATA); every leaf at
//     md_depth and no tree deeper than LMDB's 32-level cursor stack; each
//     F_BIGDATA value's overflow pages in range, P_OVERFLOW with mp_pages
//     enough for the value; then the pages and entries walked against
//     md_branch_pages, md_leaf_pages, md_overflow_pages and md_entries;
//   - the free DB's records: an 8-byte transaction id and a page list (a
//     count, then the pages), every page listed past the meta pages, at most
//     mm_last_pg, and in no tree nor listed twice; and, when everything above
//     was sound, every page up to mm_last_pg in a tree or on the free list
//     (mdb.c: "each non-metapage up to mm_last_pg is reachable exactly once").
// Named databases (F_SUBDATA nodes) and sorted duplicates (MDB_DUPSORT) are
// counted but not walked; a note says so and the page accounting is skipped.
//
// Every field is hostile: each read is checked against the page it was read
// into, a page number is bounded before it becomes an offset, pages are
// tracked so none is followed twice (no cycle loops), the walk is an explicit
// stack (the driver's worker stack may be small), and it stops after
// max_problems problems or max_pages pages read.
#include "lmdb_fsck.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "crashgate/limits.h"

namespace crashgate::lmdb_driver {

namespace {

// mdb.c's constants (LMDB_0.9.24, 64-bit: pgno_t and size_t are 8 bytes).
constexpr std::uint64_t kFsckPageHeader = 16;     // PAGEHDRSZ
constexpr std::uint64_t kFsckMetaBytes = 16 + 136;  // PAGEHDRSZ + sizeof(MDB_meta): what mdb_env_read_header reads
constexpr std::uint64_t kFsckNodeHeader = 8;      // NODESIZE
constexpr std::uint64_t kFsckDbBytes = 48;        // sizeof(MDB_db)
constexpr std::uint32_t kFsckMagic = 0xBEEFC0DE;  // MDB_MAGIC
constexpr std::uint32_t kFsckDataVersion = 1;     // MDB_DATA_VERSION
constexpr std::uint16_t kFsckBranch = 0x01, kFsckLeaf = 0x02, kFsckOverflow = 0x04, kFsckMeta = 0x08;  // P_*
constexpr std::uint16_t kFsckBigData = 0x01, kFsckSubData = 0x02, kFsckDupData = 0x04;               // F_*
constexpr std::uint16_t kFsckDupSort = 0x04;                                                          // MDB_DUPSORT
constexpr std::uint64_t kFsckNoPage = ~std::uint64_t{0};  // P_INVALID
constexpr std::uint64_t kFsckMinPageSize = 512, kFsckMaxPageSize = 0x8000;  // ours; MAX_PAGESIZE
constexpr std::uint64_t kFsckCursorStack = 32;    // CURSOR_STACK: no cursor descends deeper
constexpr std::uint64_t kFsckTrackedPages = std::uint64_t{1} << 27;  // pages whose use is tracked: a 16 MiB bitmap
constexpr std::uint64_t kFsckFreeListBytes = std::uint64_t{64} << 20;  // the free DB's page lists read, at most

std::string num(std::uint64_t n) { return format_thousands(n); }
// "1 page", "2 pages": a count and its noun.
std::string count_of(std::uint64_t n, std::string_view noun) {
  if (n == 1) return fmt::format("1 {}", noun);
  if (noun.ends_with("y")) return fmt::format("{} {}ies", num(n), noun.substr(0, noun.size() - 1));
  return fmt::format("{} {}s", num(n), noun);
}

std::uint64_t little_endian_at(const std::vector<unsigned char>& bytes, std::uint64_t offset, unsigned width) {
  // Callers check the range; out of it, 0 (never a read past the buffer).
  if (offset > bytes.size() || width > bytes.size() - offset) return 0;
  std::uint64_t v = 0;
  for (unsigned i = width; i-- > 0;) v = (v << 8) | bytes[offset + i];
  return v;
}

bool is_sane_page_size(std::uint64_t psize) {
  return psize >= kFsckMinPageSize && psize <= kFsckMaxPageSize && (psize & (psize - 1)) == 0;
}

struct FsckDb {
  std::uint64_t pad = 0, flags = 0, depth = 0, branch = 0, leaf = 0, overflow = 0, entries = 0, root = kFsckNoPage;
};

struct FsckMeta {
  bool present = false;  // its 152 bytes are in the file
  bool valid = false;
  std::uint64_t offset = 0, pgno = 0, flags = 0, magic = 0, version = 0, psize = 0, last_pg = 0, txnid = 0;
  FsckDb dbs[2];
};

FsckDb db_at(const std::vector<unsigned char>& b, std::uint64_t at) {
  FsckDb d;
  d.pad = little_endian_at(b, at + 0, 4);
  d.flags = little_endian_at(b, at + 4, 2);
  d.depth = little_endian_at(b, at + 6, 2);
  d.branch = little_endian_at(b, at + 8, 8);
  d.leaf = little_endian_at(b, at + 16, 8);
  d.overflow = little_endian_at(b, at + 24, 8);
  d.entries = little_endian_at(b, at + 32, 8);
  d.root = little_endian_at(b, at + 40, 8);
  return d;
}

// One free DB record's page list, read during the walk and checked after it.
struct FreeRecord {
  std::uint64_t txnid = 0;
  std::string where;  // "page 7's node 2"
  std::vector<unsigned char> value;
};

class Checker {
 public:
  Checker(const FsckLimits& limits, FsckReport& report) : limits_(limits), r_(report) {}
  ~Checker() {
    if (fd_ >= 0) ::close(fd_);
  }
  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;

  void run(const std::string& path);

 private:
  // Adds a problem; false once there are max_problems (the walk then stops).
  bool problem(std::string sentence) {
    if (full()) return false;
    r_.problems.push_back(std::move(sentence));
    ++tree_problems_;
    if (r_.problems.size() >= limits_.max_problems) r_.stopped_at_max_problems = true;
    return !full();
  }
  bool full() const { return r_.problems.size() >= limits_.max_problems; }
  bool out_of_pages() const { return r_.pages_read >= limits_.max_pages; }

  // Exactly `len` bytes at `offset`, or false.
  bool read_at(std::uint64_t offset, std::uint64_t len, std::vector<unsigned char>& out) {
    out.assign(len, 0);
    std::uint64_t got = 0;
    while (got < len) {
      ssize_t n = ::pread(fd_, out.data() + got, len - got, static_cast<off_t>(offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      got += static_cast<std::uint64_t>(n);
    }
    return true;
  }

  FsckMeta read_meta(std::uint64_t offset);
  void check_meta(int index, FsckMeta& m);
  std::uint64_t meta1_offset(const FsckMeta& m0);

  bool seen(std::uint64_t pgno) const { return pgno < used_.size() && used_[pgno]; }
  void mark(std::uint64_t pgno) {
    if (pgno < used_.size()) used_[pgno] = true;
  }
  // What is wrong with following page number `pgno`, or "" when it may be read.
  std::string wrong_reference(std::uint64_t pgno) const;
  // Follows it: counted, marked as reached; false past the page cap.
  bool follow(std::uint64_t pgno);
  // A page number met in `who` ("page 3 (main DB branch, depth 1): node 2"): true when it may be read.
  bool reference(const std::string& who, std::uint64_t pgno);

  void check_empty_db(const FsckTree& tree, const FsckDb& db);
  void walk(FsckTree& tree, const FsckDb& db, bool free_db);
  void check_overflow(FsckTree& tree, const std::string& who, std::uint64_t opg, std::uint64_t dsize, bool free_db,
                      std::uint64_t txnid, const std::string& where);
  void check_free_lists();
  void check_length();
  void check_accounting();

  const FsckLimits& limits_;
  FsckReport& r_;
  int fd_ = -1;
  FsckMeta metas_[2];
  std::uint64_t psize_ = 0, last_pg_ = 0, file_pages_ = 0;
  std::vector<bool> used_;  // pages a tree or the free list holds, up to kFsckTrackedPages
  std::uint64_t tree_problems_ = 0;
  bool walk_cut_short_ = false;   // a page cap or a problem in a tree: pages may be unreached
  bool not_walked_ = false;       // named DBs or duplicates: their pages are not walked
  std::vector<FreeRecord> free_records_;
  std::uint64_t free_bytes_ = 0;
  bool free_lists_cut_ = false;     // some were past kFsckFreeListBytes
  std::uint64_t free_missing_ = 0;  // pages past the file's end that the free list holds
  std::string length_problem_;      // said unless the free list holds every missing page
};

FsckMeta Checker::read_meta(std::uint64_t offset) {
  FsckMeta m;
  m.offset = offset;
  std::vector<unsigned char> b;
  if (offset > r_.file_size || r_.file_size - offset < kFsckMetaBytes || !read_at(offset, kFsckMetaBytes, b)) return m;
  m.present = true;
  m.pgno = little_endian_at(b, 0, 8);
  m.flags = little_endian_at(b, 10, 2);
  m.magic = little_endian_at(b, 16, 4);
  m.version = little_endian_at(b, 20, 4);
  m.dbs[0] = db_at(b, 40);
  m.dbs[1] = db_at(b, 88);
  m.psize = m.dbs[0].pad;  // mm_psize is mm_dbs[FREE_DBI].md_pad
  m.last_pg = little_endian_at(b, 136, 8);
  m.txnid = little_endian_at(b, 144, 8);
  return m;
}

void Checker::check_meta(int index, FsckMeta& m) {
  if (!m.present) {
    problem(fmt::format("meta page {}: data.mdb is {} bytes and ends before its {}-byte header at offset {}", index,
                        num(r_.file_size), kFsckMetaBytes, num(m.offset)));
    return;
  }
  std::vector<std::string> wrong;
  if (!(m.flags & kFsckMeta)) wrong.push_back(fmt::format("mp_flags 0x{:x} lacks P_META (0x08)", m.flags));
  if (m.magic != kFsckMagic) wrong.push_back(fmt::format("mm_magic 0x{:08X}, not LMDB's 0xBEEFC0DE", m.magic));
  if (m.version != kFsckDataVersion) wrong.push_back(fmt::format("mm_version {}, not 1", num(m.version)));
  if (m.pgno != static_cast<std::uint64_t>(index)) wrong.push_back(fmt::format("mp_pgno says {}, not {}", num(m.pgno), index));
  if (!is_sane_page_size(m.psize))
    wrong.push_back(fmt::format("mm_psize {} is not a power of two from {} to {}", num(m.psize), num(kFsckMinPageSize),
                                num(kFsckMaxPageSize)));
  for (const auto& w : wrong) problem(fmt::format("meta page {}: {}", index, w));
  m.valid = wrong.empty();
}

std::uint64_t Checker::meta1_offset(const FsckMeta& m0) {
  // mdb_env_read_header reads meta page 1 at meta page 0's mm_psize.
  if (m0.present && is_sane_page_size(m0.psize)) return m0.psize;
  // That size is unusable: look for meta page 1 at each page size LMDB could have used.
  for (std::uint64_t psize = kFsckMinPageSize; psize <= kFsckMaxPageSize; psize *= 2) {
    FsckMeta m = read_meta(psize);
    if (m.present && (m.flags & kFsckMeta) && m.magic == kFsckMagic && m.pgno == 1) {
      r_.notes.push_back(fmt::format("meta page 0's mm_psize is unusable: meta page 1 found at offset {}", num(psize)));
      return psize;
    }
  }
  r_.notes.push_back("meta page 0's mm_psize is unusable and no meta page 1 was found: read it at offset 4,096");
  return 4096;
}

std::string Checker::wrong_reference(std::uint64_t pgno) const {
  if (pgno < 2) return "a meta page";
  if (pgno > last_pg_)
    return fmt::format("past mm_last_pg {}{}", num(last_pg_),
                       pgno >= file_pages_ ? fmt::format(" and past the end of data.mdb ({})", count_of(file_pages_, "page")) : "");
  if (pgno >= file_pages_) return fmt::format("past the end of data.mdb ({})", count_of(file_pages_, "page"));
  if (seen(pgno)) return "which the walk reached already (a cycle, or a page in two places)";
  return "";
}

bool Checker::follow(std::uint64_t pgno) {
  if (out_of_pages()) {
    walk_cut_short_ = true;
    return false;
  }
  mark(pgno);
  ++r_.pages_read;
  return true;
}

bool Checker::reference(const std::string& who, std::uint64_t pgno) {
  if (std::string wrong = wrong_reference(pgno); !wrong.empty()) {
    problem(fmt::format("{} points to page {}, {}", who, num(pgno), wrong));
    return false;
  }
  return follow(pgno);
}

void Checker::check_empty_db(const FsckTree& tree, const FsckDb& db) {
  const char* field = db.depth ? "md_depth" : db.branch ? "md_branch_pages" : db.leaf ? "md_leaf_pages" : db.overflow ? "md_overflow_pages" : db.entries ? "md_entries" : nullptr;
  std::uint64_t value = db.depth ? db.depth : db.branch ? db.branch : db.leaf ? db.leaf : db.overflow ? db.overflow : db.entries;
  if (field)
    problem(fmt::format("meta page {}: the {}'s md_root is P_INVALID (an empty tree), but its {} says {}", r_.meta, tree.name,
                        field, num(value)));
}

void Checker::check_overflow(FsckTree& tree, const std::string& who, std::uint64_t opg, std::uint64_t dsize, bool free_db,
                             std::uint64_t txnid, const std::string& where) {
  if (!reference(who + "'s value", opg)) return;
  std::string label = fmt::format("page {} ({} overflow, the value of {})", num(opg), tree.name, where);
  std::vector<unsigned char> h;
  if (!read_at(opg * psize_, kFsckPageHeader, h)) {
    problem(fmt::format("{}: cannot be read", label));
    return;
  }
  std::uint64_t pgno = little_endian_at(h, 0, 8), flags = little_endian_at(h, 10, 2), pages = little_endian_at(h, 12, 4);
  if (pgno != opg && !problem(fmt::format("{}: mp_pgno says {}, not {}", label, num(pgno), num(opg)))) return;
  if (flags != kFsckOverflow) {
    problem(fmt::format("{}: mp_flags 0x{:x}, not an overflow page's P_OVERFLOW (0x04)", label, flags));
    return;
  }
  std::uint64_t needed = (kFsckPageHeader - 1 + dsize) / psize_ + 1;  // OVPAGES
  if (pages < needed) {
    problem(fmt::format("{}: mp_pages {}, but a value of {} bytes needs {} of {} bytes", label, num(pages), num(dsize),
                        count_of(needed, "page"), num(psize_)));
    return;
  }
  if (pages - 1 > last_pg_ - opg) {
    problem(fmt::format("{}: mp_pages {} runs to page {}, past mm_last_pg {}", label, num(pages), num(opg + pages - 1), num(last_pg_)));
    return;
  }
  if (pages > file_pages_ - opg) {
    problem(fmt::format("{}: mp_pages {} runs to page {}, past the end of data.mdb ({})", label, num(pages), num(opg + pages - 1),
                        count_of(file_pages_, "page")));
    return;
  }
  for (std::uint64_t p = opg + 1; p < opg + pages && p < used_.size(); ++p) {
    if (used_[p]) {
      problem(fmt::format("{}: its page {} (of mp_pages {}) is one the walk reached already", label, num(p), num(pages)));
      return;
    }
    used_[p] = true;
  }
  tree.overflow_pages += pages;
  if (!free_db) return;
  // The free DB's page list, read after the page header (bounded: the pages are in the file).
  if (free_bytes_ + dsize > kFsckFreeListBytes || out_of_pages()) {
    walk_cut_short_ = free_lists_cut_ = true;
    return;
  }
  FreeRecord rec{txnid, where, {}};
  if (!read_at(opg * psize_ + kFsckPageHeader, dsize, rec.value)) {
    problem(fmt::format("{}: its {} bytes cannot be read", label, num(dsize)));
    return;
  }
  r_.pages_read += pages - 1;
  free_bytes_ += dsize;
  free_records_.push_back(std::move(rec));
}

void Checker::walk(FsckTree& tree, const FsckDb& db, bool free_db) {
  tree.empty = db.root == kFsckNoPage;
  if (tree.empty) {
    check_empty_db(tree, db);
    return;
  }
  tree_problems_ = 0;
  bool depth_said = false;
  // The free DB's md_flags is the env's mm_flags: only the main DB can keep duplicates.
  bool dupsort = !free_db && (db.flags & kFsckDupSort) != 0;
  struct Visit {
    std::uint64_t pgno, depth;
  };
  std::vector<Visit> stack;
  if (reference(fmt::format("meta page {}: the {}'s md_root", r_.meta, tree.name), db.root)) stack.push_back({db.root, 1});
  std::vector<unsigned char> page;
  while (!stack.empty() && !full()) {
    Visit v = stack.back();
    stack.pop_back();
    std::string at = fmt::format("page {} ({}, depth {})", num(v.pgno), tree.name, v.depth);
    if (!read_at(v.pgno * psize_, psize_, page)) {
      problem(fmt::format("{}: cannot be read", at));
      continue;
    }
    std::uint64_t pgno = little_endian_at(page, 0, 8), flags = little_endian_at(page, 10, 2);
    std::uint64_t lower = little_endian_at(page, 12, 2), upper = little_endian_at(page, 14, 2);
    bool leaf = flags == kFsckLeaf;
    if (flags == kFsckBranch || flags == kFsckLeaf)
      at = fmt::format("page {} ({} {}, depth {})", num(v.pgno), tree.name, leaf ? "leaf" : "branch", v.depth);
    if (pgno != v.pgno && !problem(fmt::format("{}: mp_pgno says {}, not {}", at, num(pgno), num(v.pgno)))) break;
    if (flags != kFsckBranch && flags != kFsckLeaf) {
      problem(fmt::format("{}: mp_flags 0x{:x} is neither a branch page's (0x01) nor a leaf page's (0x02)", at, flags));
      continue;
    }
    (leaf ? tree.leaf_pages : tree.branch_pages) += 1;
    // The header: PAGEHDRSZ <= mp_lower <= mp_upper <= page size; NUMKEYS = (mp_lower - PAGEHDRSZ) / 2.
    std::uint64_t fit = (psize_ - kFsckPageHeader) / 2;
    std::vector<std::string> wrong;
    if (lower < kFsckPageHeader)
      wrong.push_back(fmt::format("mp_lower {} is inside the {}-byte page header", num(lower), kFsckPageHeader));
    else if ((lower - kFsckPageHeader) / 2 > fit)
      wrong.push_back(fmt::format("entry count {} in a {}-byte page (mp_lower {}; at most {} fit)", num((lower - kFsckPageHeader) / 2),
                                  num(psize_), num(lower), num(fit)));
    else if ((lower - kFsckPageHeader) % 2 != 0)
      wrong.push_back(fmt::format("mp_lower {} is odd: 16 bytes of header and 2 bytes an entry make it even", num(lower)));
    if (upper > psize_) wrong.push_back(fmt::format("mp_upper {} is past the end of the {}-byte page", num(upper), num(psize_)));
    if (wrong.empty() && lower > upper)
      wrong.push_back(fmt::format("mp_lower {} is above mp_upper {} (the free space between them is negative)", num(lower), num(upper)));
    for (const auto& w : wrong) problem(fmt::format("{}: {}", at, w));
    if (!wrong.empty() || full()) continue;
    if (leaf && v.depth != db.depth && !depth_said) {
      depth_said = true;
      if (!problem(fmt::format("{}: a leaf at depth {}, but the {}'s md_depth says {}", at, v.depth, tree.name, num(db.depth)))) break;
    }
    tree.depth = std::max(tree.depth, v.depth);
    std::uint64_t n = (lower - kFsckPageHeader) / 2;
    if (!leaf && n == 0) {
      problem(fmt::format("{}: a branch page with no entries (mp_lower {})", at, num(lower)));
      continue;
    }
    // The nodes: where each is, and that it lies in the page.
    struct Node {
      std::uint64_t index, begin, end, flags, ksize, dsize;
    };
    std::vector<Node> nodes;
    std::string first_bad;
    std::uint64_t bad = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
      std::uint64_t off = little_endian_at(page, kFsckPageHeader + 2 * i, 2);
      std::string why;
      if (off % 2 != 0) {
        why = fmt::format("node {}'s offset {} is odd (nodes are 2-byte aligned)", num(i), num(off));
      } else if (off < upper || off >= psize_) {
        why = fmt::format("node {}'s offset {} is outside the nodes' area from mp_upper {} to the page's end at {}", num(i), num(off),
                          num(upper), num(psize_));
      } else if (off + kFsckNodeHeader > psize_) {
        why = fmt::format("node {}'s 8-byte header at offset {} runs past the page's end", num(i), num(off));
      } else {
        std::uint64_t lo = little_endian_at(page, off, 2), hi = little_endian_at(page, off + 2, 2);
        std::uint64_t nflags = little_endian_at(page, off + 4, 2), ksize = little_endian_at(page, off + 6, 2);
        std::uint64_t dsize = lo | (hi << 16);
        std::uint64_t in_page = leaf ? ((nflags & kFsckBigData) ? 8 : dsize) : 0;
        if (off + kFsckNodeHeader + ksize > psize_) {
          why = fmt::format("node {}'s key of {} bytes at offset {} runs past the page's end", num(i), num(ksize), num(off));
        } else if (leaf && (nflags & ~std::uint64_t{kFsckBigData | kFsckSubData | kFsckDupData}) != 0) {
          why = fmt::format("node {}'s mn_flags 0x{:x} has bits no leaf node has (F_BIGDATA 0x01, F_SUBDATA 0x02, F_DUPDATA 0x04)",
                            num(i), nflags);
        } else if (leaf && (nflags & kFsckBigData) && (nflags & (kFsckSubData | kFsckDupData))) {
          why = fmt::format("node {}'s mn_flags 0x{:x} put a sub-database or duplicates on overflow pages (F_BIGDATA with F_SUBDATA "
                            "or F_DUPDATA)",
                            num(i), nflags);
        } else if (off + kFsckNodeHeader + ksize + in_page > psize_) {
          why = fmt::format("node {}'s value of {} bytes (after a key of {} at offset {}) runs past the page's end", num(i),
                            num(in_page), num(ksize), num(off));
        } else if (leaf && (nflags & kFsckSubData) && dsize != kFsckDbBytes) {
          why = fmt::format("node {} is a sub-database (F_SUBDATA) of {} bytes, not an MDB_db's 48", num(i), num(dsize));
        } else {
          nodes.push_back({i, off, off + kFsckNodeHeader + ksize + in_page, nflags, ksize, dsize});
        }
      }
      if (!why.empty() && bad++ == 0) first_bad = why;
    }
    if (bad) {
      problem(fmt::format("{}: {}{}", at, first_bad,
                          bad > 1 ? fmt::format(" (and {} more of its {} nodes)", num(bad - 1), num(n)) : ""));
      continue;
    }
    std::vector<Node> by_offset = nodes;
    std::sort(by_offset.begin(), by_offset.end(), [](const Node& a, const Node& b) { return a.begin < b.begin; });
    bool overlap = false;
    for (std::size_t i = 1; i < by_offset.size() && !overlap; ++i)
      if (by_offset[i].begin < by_offset[i - 1].end) {
        overlap = true;
        const Node &a = by_offset[i - 1], &b = by_offset[i];
        problem(fmt::format("{}: node {} (bytes {} to {}) and node {} (from {}) overlap", at, num(a.index), num(a.begin),
                            num(a.end), num(b.index), num(b.begin)));
      }
    if (overlap) continue;
    if (!leaf) {
      if (v.depth >= kFsckCursorStack) {
        problem(fmt::format("{}: its children would be at depth {}, deeper than LMDB's {}-level cursor stack", at, v.depth + 1,
                            kFsckCursorStack));
        continue;
      }
      // The children, left to right; those that cannot be followed said in one
      // sentence (a file cut short loses many of one page's children at once).
      std::vector<std::uint64_t> children;
      std::string first_wrong;
      std::uint64_t wrong_count = 0, first_wrong_node = 0, first_wrong_page = 0;
      for (const Node& node : nodes) {
        std::uint64_t lo = little_endian_at(page, node.begin, 2), hi = little_endian_at(page, node.begin + 2, 2);
        std::uint64_t child = lo | (hi << 16) | (node.flags << 32);  // NODEPGNO: mn_lo, mn_hi, mn_flags
        std::string wrong = wrong_reference(child);
        if (wrong.empty()) {
          if (!follow(child)) break;  // the page cap
          children.push_back(child);
        } else if (wrong_count++ == 0) {
          first_wrong = wrong;
          first_wrong_node = node.index;
          first_wrong_page = child;
        }
      }
      if (wrong_count > 0)
        problem(fmt::format("{}: node {} points to page {}, {}{}", at, num(first_wrong_node), num(first_wrong_page), first_wrong,
                            wrong_count > 1 ? fmt::format(", and {} more of its {} children cannot be followed either",
                                                          num(wrong_count - 1), num(nodes.size()))
                                            : ""));
      for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back({*it, v.depth + 1});  // leftmost on top
      continue;
    }
    for (const Node& node : nodes) {
      if (full()) break;
      std::string who = fmt::format("{}: node {}", at, num(node.index));
      std::string where = fmt::format("page {}'s node {}", num(v.pgno), num(node.index));
      std::uint64_t data = node.begin + kFsckNodeHeader + node.ksize;
      std::uint64_t txnid = 0;
      if (free_db) {
        if (node.ksize != 8) {
          problem(fmt::format("{}: a free DB key of {} bytes, not an 8-byte transaction id", who, num(node.ksize)));
          continue;
        }
        txnid = little_endian_at(page, node.begin + kFsckNodeHeader, 8);
      }
      if (node.flags & kFsckSubData) {
        not_walked_ = true;  // a named database (or a duplicate sub-database): its own tree
      } else if (node.flags & kFsckDupData) {
        not_walked_ = true;  // a sub-page of sorted duplicates
      }
      if (!dupsort || !(node.flags & kFsckDupData)) ++tree.entries;
      if (node.flags & kFsckBigData) {
        check_overflow(tree, who, little_endian_at(page, data, 8), node.dsize, free_db, txnid, where);
      } else if (free_db) {
        if (free_bytes_ + node.dsize > kFsckFreeListBytes) {
          walk_cut_short_ = free_lists_cut_ = true;
          continue;
        }
        FreeRecord rec{txnid, where, {}};
        rec.value.assign(page.begin() + static_cast<std::ptrdiff_t>(data), page.begin() + static_cast<std::ptrdiff_t>(data + node.dsize));
        free_bytes_ += node.dsize;
        free_records_.push_back(std::move(rec));
      }
    }
  }
  if (!stack.empty() || out_of_pages() || tree_problems_ > 0 || full()) {
    walk_cut_short_ = true;  // pages may be unreached: the counts cannot be compared
    return;
  }
  // The tree walked whole and sound: its MDB_db's counts must be what was found.
  auto compare = [&](const char* field, std::uint64_t said, std::uint64_t found, const char* what) {
    if (said != found)
      problem(fmt::format("meta page {}: the {}'s {} says {}, but the walk found {}", r_.meta, tree.name, field, num(said),
                          count_of(found, what)));
  };
  compare("md_branch_pages", db.branch, tree.branch_pages, "branch page");
  compare("md_leaf_pages", db.leaf, tree.leaf_pages, "leaf page");
  compare("md_overflow_pages", db.overflow, tree.overflow_pages, "overflow page");
  if (dupsort)
    r_.notes.push_back(fmt::format("the {} keeps sorted duplicates (MDB_DUPSORT): its md_entries is not compared", tree.name));
  else
    compare("md_entries", db.entries, tree.entries, "entry");
}

void Checker::check_free_lists() {
  for (const FreeRecord& rec : free_records_) {
    if (full()) return;
    std::string who = fmt::format("the free DB's record of transaction {} ({})", num(rec.txnid), rec.where);
    std::uint64_t size = rec.value.size();
    if (size < 8 || size % 8 != 0) {
      problem(fmt::format("{}: a value of {} bytes, not a page list (a count, then 8 bytes a page)", who, num(size)));
      continue;
    }
    std::uint64_t count = little_endian_at(rec.value, 0, 8), holds = size / 8 - 1;
    if (count != holds) {
      problem(fmt::format("{}: its count says {}, but its {} bytes hold {}", who, count_of(count, "page"), num(size), num(holds)));
      continue;
    }
    for (std::uint64_t i = 0; i < count && !full(); ++i) {
      std::uint64_t pgno = little_endian_at(rec.value, 8 + 8 * i, 8);
      if (pgno < 2)
        problem(fmt::format("{}: lists page {}, a meta page", who, num(pgno)));
      else if (pgno > last_pg_)
        problem(fmt::format("{}: lists page {}, past mm_last_pg {}", who, num(pgno), num(last_pg_)));
      else if (seen(pgno))
        problem(fmt::format("{}: lists page {}, which a tree holds or the free list lists already", who, num(pgno)));
      else {
        mark(pgno);
        ++r_.free_listed;
        if (pgno >= file_pages_) ++free_missing_;
      }
    }
  }
}

void Checker::check_length() {
  // The file holds mm_last_pg + 1 pages, or more (a writer's pages after the last commit);
  // fewer only where the free list holds every page it lacks.
  std::uint64_t said = last_pg_ == kFsckNoPage ? last_pg_ : last_pg_ + 1;
  if (file_pages_ >= said || length_problem_.empty()) return;
  if (!walk_cut_short_ && free_missing_ == said - file_pages_) {
    r_.notes.push_back(fmt::format("data.mdb ends {} short of mm_last_pg, each on the free list", count_of(said - file_pages_, "page")));
    return;
  }
  // Said first: it explains the pages past the end that the walk met.
  r_.problems.insert(r_.problems.begin(), length_problem_);
  if (r_.problems.size() > limits_.max_problems) {
    r_.problems.pop_back();
    r_.stopped_at_max_problems = true;
  }
}

void Checker::check_accounting() {
  if (walk_cut_short_ || not_walked_ || !r_.problems.empty() || last_pg_ >= used_.size()) return;
  std::uint64_t unreached = 0, first = 0;
  for (std::uint64_t p = 2; p <= last_pg_; ++p)
    if (!used_[p] && unreached++ == 0) first = p;
  if (unreached)
    problem(fmt::format("{} of the {} pages from 2 to mm_last_pg {} are in no tree and on no free list (leaked), the first page {}",
                        num(unreached), num(last_pg_ - 1), num(last_pg_), num(first)));
}

void Checker::run(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) {
    int err = errno;
    problem(err == ENOENT ? std::string("data.mdb is not there")
                          : fmt::format("data.mdb cannot be opened for reading: {}", std::strerror(err)));
    return;
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    problem(S_ISDIR(st.st_mode) ? "data.mdb is a directory, not a file" : "data.mdb is not a regular file");
    return;
  }
  r_.file_size = static_cast<std::uint64_t>(st.st_size);
  if (r_.file_size < kFsckMetaBytes) {
    problem(fmt::format("data.mdb is {} bytes, too short for meta page 0's {}-byte header (an LMDB env is at least two pages)",
                        num(r_.file_size), kFsckMetaBytes));
    return;
  }
  metas_[0] = read_meta(0);
  metas_[1] = read_meta(meta1_offset(metas_[0]));
  check_meta(0, metas_[0]);
  if (metas_[1].present || !metas_[0].valid) check_meta(1, metas_[1]);  // else the file's length says it, below
  if (full()) return;
  // The meta LMDB uses: of the valid ones, the larger mm_txnid (meta page 0 on a tie).
  if (metas_[0].valid && metas_[1].valid) {
    r_.meta = metas_[1].txnid > metas_[0].txnid ? 1 : 0;
    if (metas_[0].txnid == metas_[1].txnid)
      r_.notes.push_back(fmt::format("meta page 0 is used: both say mm_txnid {}, and LMDB takes page 0 on a tie", num(metas_[0].txnid)));
    else
      r_.notes.push_back(fmt::format("meta page {} is the newer (mm_txnid {}; meta page {}'s is {})", r_.meta,
                                     num(metas_[r_.meta].txnid), 1 - r_.meta, num(metas_[1 - r_.meta].txnid)));
    if (metas_[0].psize != metas_[1].psize)
      problem(fmt::format("meta pages 0 and 1 disagree on mm_psize: {} and {} bytes", num(metas_[0].psize), num(metas_[1].psize)));
  } else if (metas_[0].valid || metas_[1].valid) {
    r_.meta = metas_[0].valid ? 0 : 1;
    r_.notes.push_back(fmt::format("meta page {} (mm_txnid {}) is the only valid one: LMDB refuses the env, as it reads both",
                                   r_.meta, num(metas_[r_.meta].txnid)));
  } else {
    r_.notes.push_back("neither meta page is valid: there is no tree to walk");
    return;
  }
  const FsckMeta& m = metas_[r_.meta];
  psize_ = r_.page_size = m.psize;
  last_pg_ = r_.last_pg = m.last_pg;
  r_.txnid = m.txnid;
  file_pages_ = r_.file_size / psize_;
  std::uint64_t said = last_pg_ == kFsckNoPage ? last_pg_ : last_pg_ + 1;
  std::string whole = r_.file_size % psize_ ? fmt::format(" and {} bytes of one more", num(r_.file_size % psize_)) : "";
  if (file_pages_ < 2) {
    problem(fmt::format("data.mdb is {} bytes, less than the two {}-byte meta pages", num(r_.file_size), num(psize_)));
  } else if (file_pages_ < said) {
    std::uint64_t missing = said - file_pages_;
    length_problem_ = fmt::format("data.mdb is {} bytes, {} of {} bytes{}, but meta page {}'s mm_last_pg {} says {} pages: {} {} missing",
                                  num(r_.file_size), count_of(file_pages_, "page"), num(psize_), whole, r_.meta, num(last_pg_),
                                  num(said), count_of(missing, "page"), missing == 1 ? "is" : "are");
  } else if (r_.file_size > said * psize_) {
    r_.notes.push_back(fmt::format("data.mdb is {} bytes, past its mm_last_pg {} + 1 pages (a writer's pages after the last commit)",
                                   num(r_.file_size), num(last_pg_)));
  }
  if (last_pg_ < 2 && (m.dbs[0].root != kFsckNoPage || m.dbs[1].root != kFsckNoPage))
    problem(fmt::format("meta page {}: mm_last_pg {} leaves no page for a tree past the two meta pages", r_.meta, num(last_pg_)));
  used_.assign(std::min(said, kFsckTrackedPages), false);  // no page past mm_last_pg is followed
  if (!used_.empty()) used_[0] = true;
  if (used_.size() > 1) used_[1] = true;
  walk(r_.main, m.dbs[1], false);
  walk(r_.free, m.dbs[0], true);
  if (!full()) check_free_lists();
  check_length();
  check_accounting();
  if (not_walked_) r_.notes.push_back("named databases and sorted duplicates were counted, not walked: no page accounting");
  if (free_lists_cut_)
    r_.notes.push_back(fmt::format("the free DB's page lists past {} bytes were not read", num(kFsckFreeListBytes)));
  if (r_.pages_read >= limits_.max_pages)
    r_.notes.push_back(fmt::format("stopped after reading {} pages: the rest was not checked", num(r_.pages_read)));
}

std::string tree_text(const FsckTree& t) {
  if (t.empty) return fmt::format("{}: empty", t.name);
  return fmt::format("{}: depth {}, {} branch, {} leaf and {} overflow pages, {}", t.name, t.depth, num(t.branch_pages),
                     num(t.leaf_pages), num(t.overflow_pages), count_of(t.entries, "entry"));
}

}  // namespace

std::string FsckReport::summary() const {
  if (meta < 0) return fmt::format("data.mdb ({} bytes): no valid meta page, nothing walked", num(file_size));
  return fmt::format("data.mdb ({} bytes, {}-byte pages): meta page {} (mm_txnid {}, mm_last_pg {}); {}; {}; {} on the free "
                     "list; {} read",
                     num(file_size), num(page_size), meta, num(txnid), num(last_pg), tree_text(main), tree_text(free),
                     count_of(free_listed, "page"), count_of(pages_read, "page"));
}

FsckReport check_data_file(const std::string& path, const FsckLimits& limits) {
  FsckReport report;
  Checker checker(limits, report);
  checker.run(path);
  return report;
}

}  // namespace crashgate::lmdb_driver
