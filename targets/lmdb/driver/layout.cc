// LMDB's files as crashgate sees them (--list layout, offset expressions,
// `from = "layout"` params), for LMDB 0.9.24 on x86-64 Linux.
//
// data.mdb is a sequence of pages of the page size LMDB took from the OS when
// it created the env (mdb_env_create: GET_PAGESIZE, sysconf(_SC_PAGE_SIZE);
// 4,096 bytes here) and wrote into the meta pages' mm_psize. Pages 0 and 1 are
// the two meta pages: transaction N writes meta page N % 2, and an open uses
// the one with the larger mm_txnid (mdb_env_read_header reads page 0, then
// page 1 at page 0's mm_psize). Each meta page is, from libraries/liblmdb/mdb.c
// of LMDB_0.9.24:
//
//   struct MDB_page header (PAGEHDRSZ = offsetof(MDB_page, mp_ptrs) = 16):
//     0  mp_pgno   pgno_t (size_t, 8)  the page's own number
//     8  mp_pad    uint16_t            key size of LEAF2 pages (0 here)
//    10  mp_flags  uint16_t            P_META (0x08) on a meta page
//    12  mp_lower  indx_t (uint16_t)   lower bound of free space (0 on a meta page)
//    14  mp_upper  indx_t (uint16_t)   upper bound of free space (0 on a meta page)
//   struct MDB_meta at PAGEHDRSZ (METADATA(p)):
//    16  mm_magic     uint32_t  MDB_MAGIC 0xBEEFC0DE
//    20  mm_version   uint32_t  MDB_DATA_VERSION (1)
//    24  mm_address   void*     the fixed map address (MDB_FIXEDMAP), else 0
//    32  mm_mapsize   size_t    the map's size
//    40  mm_dbs[0]    MDB_db    FREE_DBI, the free-page DB (48 bytes: below)
//    88  mm_dbs[1]    MDB_db    MAIN_DBI, the main DB, where the records are
//   136  mm_last_pg   pgno_t    the last page used
//   144  mm_txnid     txnid_t (size_t)  the transaction that wrote this meta page
//   struct MDB_db, at +0 of each mm_dbs[i]:
//     0  md_pad  uint32_t   in mm_dbs[FREE_DBI]: mm_psize, the page size
//     4  md_flags uint16_t  in mm_dbs[FREE_DBI]: mm_flags, the env's persistent flags, and
//                           MDB_INTEGERKEY (mdb_env_init_meta0: the free DB's keys are txnids)
//     6  md_depth uint16_t, 8 md_branch_pages, 16 md_leaf_pages,
//    24  md_overflow_pages, 32 md_entries, 40 md_root (each pgno_t or size_t, 8)
//
// Checked against a real env (an env of 1,500 records in 3 transactions,
// read with mdb_env_info and mdb_stat, then data.mdb read at these offsets):
// magic 0xBEEFC0DE and version 1 in both metas, P_META in mp_flags, mp_pgno 0
// and 1, meta1 (txnid 3) holding main md_entries 1500, md_depth/branch/leaf
// pages as mdb_stat said, mm_last_pg = me_last_pgno, mm_mapsize = me_mapsize,
// mm_psize 4096, meta0 holding transaction 2's values; and the file is
// (mm_last_pg + 1) pages long. tests/harness/lmdb_driver_test.cc reads the
// magic back at the offsets listed here.
//
// lock.mdb is struct MDB_txninfo: mt1 (MDB_txbody, padded to a 64-byte cache
// line) with mtb_magic at 0 (MDB_MAGIC), mtb_format at 4 (MDB_LOCK_FORMAT,
// 0x10001: version 1 + MDB_PIDLOCK << 16), the reader mutex
// (pthread_mutex_t, 40 bytes) at 8, mtb_txnid at 48 and mtb_numreaders at 56;
// mt2 (the writer mutex, padded) at 64; then the reader table from 128, one
// 64-byte MDB_reader per slot. Checked the same way on the open env: magic,
// format 0x10001, txnid 3 = me_last_txnid, numreaders 1 after one read txn.
// LMDB re-initializes this header whenever it opens the env with no other
// process using it (mdb_env_setup_locks with the exclusive lock), so damage to
// it shows only to a process that opens the env while another holds it.
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "session.h"

namespace crashgate::lmdb_driver {

namespace {

constexpr std::uint64_t kPageSize = 4096;  // the OS page size here (sysconf(_SC_PAGE_SIZE)), which LMDB uses

// The fields of one MDB_db at `base`, named PREFIX.md_*.
void add_db_fields(std::vector<kit::LayoutField>& out, const std::string& prefix, std::uint64_t base, const std::string& what,
                   bool free_db) {
  out.push_back({free_db ? prefix + ".mm_psize" : prefix + ".md_pad", base + 0, 4,
                 free_db ? what + " md_pad: mm_psize, the page size" : what + " md_pad (ksize of LEAF2 pages)"});
  out.push_back({free_db ? prefix + ".mm_flags" : prefix + ".md_flags", base + 4, 2,
                 free_db ? what + " md_flags: mm_flags, the env's persistent flags and MDB_INTEGERKEY (0x08)"
                         : what + " md_flags (MDB_INTEGERKEY, 0x08)"});
  out.push_back({prefix + ".md_depth", base + 6, 2, what + " md_depth: the tree's depth"});
  out.push_back({prefix + ".md_branch_pages", base + 8, 8, what + " md_branch_pages"});
  out.push_back({prefix + ".md_leaf_pages", base + 16, 8, what + " md_leaf_pages"});
  out.push_back({prefix + ".md_overflow_pages", base + 24, 8, what + " md_overflow_pages"});
  out.push_back({prefix + ".md_entries", base + 32, 8, what + " md_entries: its records"});
  out.push_back({prefix + ".md_root", base + 40, 8, what + " md_root: the root page's number"});
}

std::vector<kit::LayoutField> meta_fields() {
  std::vector<kit::LayoutField> out;
  for (int m = 0; m < 2; ++m) {
    std::string meta = fmt::format("meta{}", m);
    std::uint64_t page = m * kPageSize;
    std::string of = fmt::format("meta page {}'s", m);
    out.push_back({meta + ".mp_pgno", page + 0, 8, of + " MDB_page mp_pgno: its page number"});
    out.push_back({meta + ".mp_pad", page + 8, 2, of + " MDB_page mp_pad"});
    out.push_back({meta + ".mp_flags", page + 10, 2, of + " MDB_page mp_flags: P_META (0x08)"});
    out.push_back({meta + ".mp_lower", page + 12, 2, of + " MDB_page mp_lower"});
    out.push_back({meta + ".mp_upper", page + 14, 2, of + " MDB_page mp_upper"});
    out.push_back({meta + ".mm_magic", page + 16, 4, of + " MDB_meta mm_magic: 0xBEEFC0DE"});
    out.push_back({meta + ".mm_version", page + 20, 4, of + " MDB_meta mm_version: 1"});
    out.push_back({meta + ".mm_address", page + 24, 8, of + " MDB_meta mm_address: the fixed map address, 0"});
    out.push_back({meta + ".mm_mapsize", page + 32, 8, of + " MDB_meta mm_mapsize: the map's size in bytes"});
    add_db_fields(out, meta + ".free", page + 40, of + " mm_dbs[FREE_DBI]", true);
    add_db_fields(out, meta + ".main", page + 88, of + " mm_dbs[MAIN_DBI]", false);
    out.push_back({meta + ".mm_last_pg", page + 136, 8, of + " MDB_meta mm_last_pg: the last page used"});
    out.push_back({meta + ".mm_txnid", page + 144, 8, of + " MDB_meta mm_txnid: the transaction that wrote it"});
  }
  return out;
}

}  // namespace

std::vector<kit::LayoutFile> lmdb_layout() {
  kit::LayoutFile data;
  data.file = "data";
  data.pattern = "data.mdb";
  data.header_size = 2 * kPageSize;
  data.meaning = "LMDB's data file: pages of mm_psize bytes (the OS page size, 4,096), pages 0 and 1 the meta pages, "
                 "each an MDB_page header and an MDB_meta; slot(N) is page N";
  data.fields = meta_fields();
  data.slot_base = 0;
  data.slot_size_field = "meta0.free.mm_psize";

  kit::LayoutFile lock;
  lock.file = "lock";
  lock.pattern = "lock.mdb";
  lock.header_size = 128;
  lock.meaning = "LMDB's lock file: MDB_txninfo's header (two 64-byte cache lines), then the reader table; slot(N) is "
                 "reader slot N; LMDB re-initializes it when it opens the env alone";
  lock.fields = {
      {"mti_magic", 0, 4, "mtb_magic: 0xBEEFC0DE"},
      {"mti_format", 4, 4, "mtb_format: MDB_LOCK_FORMAT, 0x10001 (version 1, MDB_PIDLOCK)"},
      {"mti_txnid", 48, 8, "mtb_txnid: the last committed transaction"},
      {"mti_numreaders", 56, 4, "mtb_numreaders: reader slots used so far"},
  };
  lock.slot_base = 128;
  lock.slot_size = 64;
  return {data, lock};
}

const kit::LayoutFile* layout_of(std::string_view file) {
  static const std::vector<kit::LayoutFile> layout = lmdb_layout();
  for (const auto& f : layout)
    if (f.file == file) return &f;
  return nullptr;
}

}  // namespace crashgate::lmdb_driver
