// lmdb_open: the input becomes a damaged copy of a small valid LMDB env
// (data.mdb), which is then opened and read whole: mdb_env_open, mdb_get of
// every key (and every byte of each value read, as an application would),
// cursor scans of both DBs, mdb_stat; and, when the env is opened writable, one
// small write transaction committed. A crash here is LMDB (0.9.24, Debian's
// liblmdb) trusting its file.
//
// Structure-aware, so the fuzzer starts past the meta pages: the template is
// built once per process (60 records in the main DB, one of them on overflow
// pages, and a MDB_DUPSORT sub-DB "dups" of 3 keys with 40 values each: about
// a dozen pages of 4,096 bytes, free space zeroed so that it is the same every
// run), and the input is
//   [mode: u8] then edits [kind: u8][where: u32 little-endian][length: u8][length bytes]
// mode bit 0 set: opened writable (and a write transaction runs), clear:
// MDB_RDONLY. Both ways with MDB_NOSUBDIR | MDB_NOLOCK (no lock file, one
// process). Each edit writes its bytes (as many as there are) at:
//   kind % 4 == 0  a meta-page field: meta page (where >> 8) & 1, field
//                  (where & 0xff) % 27 of the MDB_page header and MDB_meta
//                  (kMetaFields), at most the field's width
//   kind % 4 == 1  a page header: page 2 + (where >> 4) % (pages - 2), byte where & 15
//   kind % 4 == 2  node bytes: page 2 + (where >> 12) % (pages - 2), byte 16 + (where & 0xfff) % 4080
//   kind % 4 == 3  anywhere: byte where % (file size)
// The file's size is never changed (a cut is SIGBUS by design, and the
// scenarios cover it: targets/lmdb/scenarios/).
//
// liblmdb is not instrumented (Debian's build, no -fsanitize-coverage):
// libFuzzer sees the coverage of this file alone. So that it still tells
// inputs apart by what LMDB did with them, each call's return code and the
// scan's length (bucketed) go through a switch of their own (note()): a new
// outcome is a new edge. ASan checks nothing inside liblmdb either, nor any
// read of the mapped file (it guards the heap, stacks and globals, not a file
// mapping): what goes wrong there shows as a signal (SIGBUS past the file's
// end, SIGSEGV past the map), which ASan reports with the frames. Under ASan
// a writable input costs about 12 times a read-only one (30 ms and 2.5 ms an
// execution, one core, a loaded machine; not profiled: likely the write
// buffers a writable mdb_env_open allocates, and the commit).
#include <dirent.h>
#include <fcntl.h>
#include <lmdb.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kPage = 4096;
constexpr std::uint64_t kRecords = 60;
constexpr std::uint64_t kOverflowId = 17;  // its value spans overflow pages
constexpr int kDupKeys = 3, kDupsPerKey = 40;
constexpr int kMaxSteps = 20000;  // a cursor that never ends (a loop in a damaged tree) stops here

// The MDB_page header and MDB_meta fields of a meta page (offset, width): LMDB 0.9.24 on x86-64.
struct Field {
  std::uint16_t offset, width;
};
constexpr Field kMetaFields[] = {
    {0, 8},   {8, 2},   {10, 2},  {12, 2},  {14, 2},                                     // mp_pgno mp_pad mp_flags mp_lower mp_upper
    {16, 4},  {20, 4},  {24, 8},  {32, 8},                                               // mm_magic mm_version mm_address mm_mapsize
    {40, 4},  {44, 2},  {46, 2},  {48, 8},  {56, 8},  {64, 8},  {72, 8},  {80, 8},       // free DB: psize flags depth branch leaf overflow entries root
    {88, 4},  {92, 2},  {94, 2},  {96, 8},  {104, 8}, {112, 8}, {120, 8}, {128, 8},      // main DB
    {136, 8}, {144, 8},                                                                  // mm_last_pg mm_txnid
};
static_assert(sizeof kMetaFields / sizeof kMetaFields[0] == 27);

void big_endian(std::uint64_t id, unsigned char out[8]) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<unsigned char>(id >> (56 - 8 * i));
}

std::string value_for(std::uint64_t id) {
  std::size_t size = id == kOverflowId ? 9000 : 16 + (id * 37) % 180;
  std::string v(size, '\0');
  for (std::size_t i = 0; i < size; ++i) v[i] = static_cast<char>('a' + (id + i) % 26);
  return v;
}

[[noreturn]] void die(const char* what, int rc) {
  std::fprintf(stderr, "lmdb_open: building the template: %s: %s\n", what, mdb_strerror(rc));
  std::abort();
}

std::string slurp(const std::string& path) {
  std::string out;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) std::abort();
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

std::string& work_dir() {
  static std::string dir;
  return dir;
}

void remove_work_dir() {
  if (work_dir().empty()) return;
  ::unlink((work_dir() + "/data.mdb").c_str());
  ::unlink((work_dir() + "/data.mdb-lock").c_str());
  ::rmdir(work_dir().c_str());
}

// Scratch directories of fuzzing processes that are gone (a crash skips atexit).
void remove_stale_scratch(const std::string& parent) {
  DIR* d = ::opendir(parent.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind("lmdb-open-fuzz-", 0) != 0) continue;
    long pid = std::strtol(name.c_str() + 15, nullptr, 10);
    if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::string dir = parent + "/" + name;
    for (const char* f : {"/data.mdb", "/data.mdb-lock", "/template.mdb", "/template.mdb-lock"}) ::unlink((dir + f).c_str());
    ::rmdir(dir.c_str());
  }
  ::closedir(d);
}

// The template's data.mdb, built with LMDB itself; free space in each page zeroed.
std::string build_template() {
  std::string parent = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  remove_stale_scratch(parent);
  work_dir() = parent + "/lmdb-open-fuzz-" + std::to_string(::getpid());
  ::mkdir(work_dir().c_str(), 0755);
  std::atexit(remove_work_dir);
  std::string path = work_dir() + "/template.mdb";
  ::unlink(path.c_str());
  MDB_env* env = nullptr;
  if (int rc = mdb_env_create(&env)) die("mdb_env_create", rc);
  mdb_env_set_maxdbs(env, 4);
  mdb_env_set_mapsize(env, 1 << 20);
  if (int rc = mdb_env_open(env, path.c_str(), MDB_NOSUBDIR | MDB_NOLOCK, 0644)) die("mdb_env_open", rc);
  MDB_txn* txn = nullptr;
  MDB_dbi main_db = 0, dups = 0;
  if (int rc = mdb_txn_begin(env, nullptr, 0, &txn)) die("mdb_txn_begin", rc);
  if (int rc = mdb_dbi_open(txn, nullptr, 0, &main_db)) die("mdb_dbi_open(main)", rc);
  if (int rc = mdb_dbi_open(txn, "dups", MDB_CREATE | MDB_DUPSORT, &dups)) die("mdb_dbi_open(dups)", rc);
  for (std::uint64_t id = 0; id < kRecords; ++id) {
    unsigned char key[8];
    big_endian(id * 3, key);
    std::string value = value_for(id);
    MDB_val k{8, key}, v{value.size(), value.data()};
    if (int rc = mdb_put(txn, main_db, &k, &v, 0)) die("mdb_put(main)", rc);
  }
  for (int key = 0; key < kDupKeys; ++key)
    for (int d = 0; d < kDupsPerKey; ++d) {
      char kb[8], vb[12];
      std::snprintf(kb, sizeof kb, "key-%d", key);
      std::snprintf(vb, sizeof vb, "dup-%05d", d * (key + 1));
      MDB_val k{std::strlen(kb), kb}, v{std::strlen(vb), vb};
      if (int rc = mdb_put(txn, dups, &k, &v, 0)) die("mdb_put(dups)", rc);
    }
  if (int rc = mdb_txn_commit(txn)) die("mdb_txn_commit", rc);
  // A second commit, so that both meta pages hold a tree (meta 0 the older).
  if (int rc = mdb_txn_begin(env, nullptr, 0, &txn)) die("mdb_txn_begin", rc);
  unsigned char key[8];
  big_endian(3 * kRecords, key);
  std::string value = value_for(kRecords);
  MDB_val k{8, key}, v{value.size(), value.data()};
  if (int rc = mdb_put(txn, main_db, &k, &v, 0)) die("mdb_put", rc);
  if (int rc = mdb_txn_commit(txn)) die("mdb_txn_commit", rc);
  mdb_env_close(env);
  std::string bytes = slurp(path);
  ::unlink(path.c_str());
  ::unlink((path + "-lock").c_str());
  // Zero what lies between a page's mp_lower and mp_upper (LMDB writes those bytes unset).
  for (std::size_t at = 2 * kPage; at + kPage <= bytes.size(); at += kPage) {
    std::uint16_t flags, lower, upper;
    std::memcpy(&flags, bytes.data() + at + 10, 2);
    std::memcpy(&lower, bytes.data() + at + 12, 2);
    std::memcpy(&upper, bytes.data() + at + 14, 2);
    if ((flags & 0x03) && lower <= upper && upper <= kPage) std::memset(bytes.data() + at + lower, 0, upper - lower);  // P_BRANCH|P_LEAF
  }
  return bytes;
}

const std::string& template_bytes() {
  static const std::string t = build_template();
  return t;
}

// Writes `bytes` to PATH, only the 4 KiB blocks that differ from what it holds.
void write_file(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) std::abort();
  static std::string held;
  held.resize(bytes.size() + 1);
  ssize_t got = ::pread(fd, held.data(), held.size(), 0);
  if (got < 0) std::abort();
  if (static_cast<std::size_t>(got) != bytes.size() && ::ftruncate(fd, static_cast<off_t>(bytes.size())) != 0) std::abort();
  for (std::size_t at = 0; at < bytes.size(); at += kPage) {
    std::size_t n = std::min(kPage, bytes.size() - at);
    if (at + n <= static_cast<std::size_t>(got) && std::memcmp(bytes.data() + at, held.data() + at, n) == 0) continue;
    if (::pwrite(fd, bytes.data() + at, n, static_cast<off_t>(at)) != static_cast<ssize_t>(n)) std::abort();
  }
  ::close(fd);
}

std::string apply_edits(const std::string& t, const std::uint8_t* data, std::size_t size) {
  std::string out = t;
  std::size_t pages = out.size() / kPage;
  std::size_t i = 1;  // data[0] is the mode
  while (i + 6 <= size) {
    unsigned kind = data[i] % 4;
    std::uint32_t where = data[i + 1] | data[i + 2] << 8 | data[i + 3] << 16 | static_cast<std::uint32_t>(data[i + 4]) << 24;
    std::size_t len = data[i + 5];
    i += 6;
    len = std::min(len, size - i);
    std::size_t at = 0, room = 0;
    if (kind == 0) {
      const Field& f = kMetaFields[(where & 0xff) % 27];
      at = ((where >> 8) & 1) * kPage + f.offset;
      room = f.width;
    } else if (kind == 1) {
      at = (2 + (where >> 4) % (pages - 2)) * kPage + (where & 15);
      room = 16 - (where & 15);
    } else if (kind == 2) {
      std::size_t in_page = 16 + (where & 0xfff) % (kPage - 16);
      at = (2 + (where >> 12) % (pages - 2)) * kPage + in_page;
      room = kPage - in_page;
    } else {
      at = where % out.size();
      room = out.size() - at;
    }
    std::memcpy(out.data() + at, data + i, std::min(len, room));
    i += len;
  }
  return out;
}

// A new return code or scan length at a call site is a new edge for libFuzzer (liblmdb has none of its own).
volatile int g_note_sink;
__attribute__((noinline)) void note_index(int site, int index) {
  volatile int& sink = g_note_sink;
  switch (site * 32 + index) {
#define CASE4(s, i) case s * 32 + i: sink = i; break; case s * 32 + i + 1: sink = i + 1; break; \
                    case s * 32 + i + 2: sink = i + 2; break; case s * 32 + i + 3: sink = i + 3; break;
#define CASES(s) CASE4(s, 0) CASE4(s, 4) CASE4(s, 8) CASE4(s, 12) CASE4(s, 16) CASE4(s, 20)
    CASES(0) CASES(1) CASES(2) CASES(3) CASES(4) CASES(5) CASES(6) CASES(7) CASES(8) CASES(9) CASES(10) CASES(11)
#undef CASES
#undef CASE4
    default: sink = -1;
  }
}

int code_index(int rc) {
  static constexpr int kCodes[] = {0, MDB_NOTFOUND, MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_INVALID, MDB_VERSION_MISMATCH,
                                   MDB_MAP_RESIZED, MDB_BAD_TXN, MDB_INCOMPATIBLE, MDB_MAP_FULL, MDB_BAD_VALSIZE, MDB_BAD_DBI,
                                   MDB_PANIC, MDB_TXN_FULL, MDB_PAGE_FULL, MDB_KEYEXIST, ENOMEM, EINVAL, ENOENT, EIO};
  for (int i = 0; i < static_cast<int>(sizeof kCodes / sizeof kCodes[0]); ++i)
    if (kCodes[i] == rc) return i;
  return rc < 0 ? 20 : 21;
}

void note(int site, int rc) { note_index(site, code_index(rc)); }

// How many records a scan saw, bucketed: 0, 1, 2-3, 4-7, ... (at most 15).
int bucket(long n) {
  int b = 0;
  while (n > 0 && b < 15) n >>= 1, ++b;
  return b;
}

// Reads every byte of a value, as the application does with what LMDB returns.
std::uint64_t touch(const MDB_val& v) {
  std::uint64_t sum = 0;
  const auto* p = static_cast<const unsigned char*>(v.mv_data);
  for (std::size_t i = 0; i < v.mv_size; ++i) sum += p[i];
  return sum;
}

void scan(MDB_txn* txn, MDB_dbi dbi, int site, bool dups, volatile std::uint64_t& sink) {
  MDB_cursor* c = nullptr;
  int rc = mdb_cursor_open(txn, dbi, &c);
  note(site, rc);
  if (rc) return;
  MDB_val k{}, v{};
  long n = 0;
  for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && n < kMaxSteps; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT), ++n) {
    sink = sink + touch(k) + touch(v);
    if (dups && n % 16 == 0) {
      std::size_t count = 0;
      note(site + 1, mdb_cursor_count(c, &count));
    }
  }
  note(site + 1, rc);
  note_index(site + 2, 8 + bucket(n));
  if (rc == MDB_NOTFOUND && n > 0) {  // and back again, from the last
    long m = 0;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_LAST); rc == 0 && m < kMaxSteps; rc = mdb_cursor_get(c, &k, &v, MDB_PREV), ++m)
      sink = sink + touch(v);
    note_index(site + 2, rc == MDB_NOTFOUND && m == n ? 0 : 1);
  }
  mdb_cursor_close(c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& t = template_bytes();
  std::string path = work_dir() + "/data.mdb";
  write_file(path, apply_edits(t, data, size));
  const bool writable = size > 0 && (data[0] & 1);
  volatile std::uint64_t sink = 0;

  MDB_env* env = nullptr;
  if (mdb_env_create(&env) != 0) return 0;
  mdb_env_set_maxdbs(env, 4);
  unsigned flags = MDB_NOSUBDIR | MDB_NOLOCK | (writable ? MDB_NOSYNC : MDB_RDONLY);
  int rc = mdb_env_open(env, path.c_str(), flags, 0644);
  note(0, rc);
  if (rc == 0) {
    MDB_envinfo info{};
    MDB_stat st{};
    note(1, mdb_env_info(env, &info) | mdb_env_stat(env, &st));
    MDB_txn* txn = nullptr;
    rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
    note(1, rc);
    if (rc == 0) {
      MDB_dbi main_db = 0, dups = 0;
      rc = mdb_dbi_open(txn, nullptr, 0, &main_db);
      note(2, rc);
      if (rc == 0) {
        note(2, mdb_stat(txn, main_db, &st));
        for (std::uint64_t id = 0; id <= kRecords; ++id) {
          unsigned char key[8];
          big_endian(id * 3, key);
          MDB_val k{8, key}, v{};
          rc = mdb_get(txn, main_db, &k, &v);
          note(3, rc);
          if (rc == 0) sink = sink + touch(v);
        }
        scan(txn, main_db, 4, false, sink);
        rc = mdb_dbi_open(txn, "dups", 0, &dups);
        note(7, rc);
        if (rc == 0) {
          note(7, mdb_stat(txn, dups, &st));
          scan(txn, dups, 8, true, sink);
        }
      }
      mdb_txn_abort(txn);
    }
    if (writable) {
      // One write: a new record, one removed, a dup added; committed (the freelist and page allocation run).
      rc = mdb_txn_begin(env, nullptr, 0, &txn);
      note(11, rc);
      if (rc == 0) {
        MDB_dbi main_db = 0, dups = 0;
        unsigned char key[8];
        std::string value = value_for(1);
        rc = mdb_dbi_open(txn, nullptr, 0, &main_db);
        if (rc == 0) {
          big_endian(3 * kRecords + 3, key);
          MDB_val k{8, key}, v{value.size(), value.data()};
          rc = mdb_put(txn, main_db, &k, &v, 0);
        }
        if (rc == 0) {
          big_endian(6, key);
          MDB_val k{8, key};
          rc = mdb_del(txn, main_db, &k, nullptr);
          if (rc == MDB_NOTFOUND) rc = 0;
        }
        if (rc == 0 && (rc = mdb_dbi_open(txn, "dups", 0, &dups)) == 0) {
          MDB_val k{5, const_cast<char*>("key-1")}, v{9, const_cast<char*>("dup-new00")};
          rc = mdb_put(txn, dups, &k, &v, 0);
        }
        note(11, rc);
        if (rc == 0) note(11, mdb_txn_commit(txn));
        else mdb_txn_abort(txn);
      }
    }
  }
  mdb_env_close(env);
  return 0;
}
