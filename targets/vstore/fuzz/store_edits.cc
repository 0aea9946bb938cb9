#include "store_edits.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace vstore_fuzz {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Makes PATH's content `bytes`, writing only the 4 KiB blocks that differ
// from what the file holds now. Every input pays this for each of a store's
// files, and most of each file is the same from one input to the next: the
// edits touch a few blocks, and the last input's store a few more. Truncating
// and writing the non-zero blocks, as this did before, freed and refilled
// tmpfs pages every time; reading the file back and comparing made
// vstore_open 20-24% faster (60 s on one core, side by side: 1,749 and 1,884
// exec/s before, 2,175 and 2,265 after). The bytes the store sees are the
// same either way.
void write_file(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) std::abort();  // the fuzzer's own scratch space: nothing to test without it
  static std::vector<char> held;  // the file's current bytes, one byte past `bytes` to see a longer file
  if (held.size() < bytes.size() + 1) held.resize(bytes.size() + 1);
  // One pread: a regular file reads short only at its end (a loop paid a
  // second pread, returning 0, for every file of every input).
  ssize_t got = ::pread(fd, held.data(), bytes.size() + 1, 0);
  if (got < 0) std::abort();
  std::size_t have = static_cast<std::size_t>(got);
  if (have != bytes.size() && ::ftruncate(fd, static_cast<off_t>(bytes.size())) != 0) std::abort();
  if (have < bytes.size()) std::memset(held.data() + have, 0, bytes.size() - have);  // what the extension reads as
  constexpr std::size_t kBlock = 4096;
  std::size_t run_start = 0, run_end = 0;  // the pending run of differing blocks
  auto flush = [&] {
    if (run_end > run_start &&
        ::pwrite(fd, bytes.data() + run_start, run_end - run_start, static_cast<off_t>(run_start)) != static_cast<ssize_t>(run_end - run_start))
      std::abort();
  };
  for (std::size_t at = 0; at < bytes.size(); at += kBlock) {
    std::size_t n = std::min(kBlock, bytes.size() - at);
    if (std::memcmp(bytes.data() + at, held.data() + at, n) == 0) continue;
    if (at != run_end) {
      flush();
      run_start = at;
    }
    run_end = at + n;
  }
  flush();
  ::close(fd);
}

std::vector<std::string>* roots_to_remove() {
  static auto* roots = new std::vector<std::string>();
  return roots;
}

}  // namespace

void remove_stale_scratch(const std::string& parent, const std::string& tag) {
  // A crashing input ends the process before atexit runs; under -fork and
  // -ignore_crashes that happens all night, so whoever starts next removes
  // the directories of processes that are gone.
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.rfind(tag + "-", 0) != 0) continue;
    char* rest = nullptr;
    long pid = std::strtol(name.c_str() + tag.size() + 1, &rest, 10);
    if (pid <= 0 || rest == nullptr || *rest != '\0') continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove_all(it->path(), ec);
  }
}

StoreFiles make_store_files(const std::string& tag, const std::function<void(const std::string& dir)>& build,
                            const std::vector<std::string>& editable_prefixes) {
  StoreFiles t;
  const char* shm = fs::exists("/dev/shm") ? "/dev/shm" : "/tmp";
  remove_stale_scratch(shm, tag);
  std::string root = std::string(shm) + "/" + tag + "-" + std::to_string(::getpid());
  fs::remove_all(root);
  fs::create_directories(root);
  std::string dir = root + "/template";
  build(dir);
  std::vector<std::string> all;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename() != "LOCK") all.push_back(e.path().filename().string());
  std::vector<bool> taken(all.size());
  for (const std::string& prefix : editable_prefixes) {
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (taken[i] || all[i].rfind(prefix, 0) != 0) continue;
      taken[i] = true;
      t.names.push_back(all[i]);
      break;
    }
  }
  t.editable = t.names.size();
  if (t.editable != editable_prefixes.size()) std::abort();  // the template is not the store we meant
  for (std::size_t i = 0; i < all.size(); ++i)
    if (!taken[i]) t.names.push_back(all[i]);
  for (const std::string& n : t.names) t.bytes.push_back(slurp(dir + "/" + n));
  t.work = root + "/work";
  fs::create_directories(t.work);
  if (roots_to_remove()->empty())
    std::atexit([] {
      std::error_code ec;
      for (const std::string& r : *roots_to_remove()) fs::remove_all(r, ec);
    });
  roots_to_remove()->push_back(root);
  return t;
}

const std::vector<std::string>& apply_edits(const StoreFiles& t, const uint8_t* data, std::size_t size) {
  // One buffer for every input: assigning into strings that already have the
  // capacity copies bytes without allocating, where fresh 50 KiB strings each
  // cost ASan's allocator new pages (and page faults) every time.
  static std::vector<std::string> files;
  files.resize(t.bytes.size());
  for (std::size_t i = 0; i < files.size(); ++i) files[i].assign(t.bytes[i]);
  std::size_t pos = 0;
  while (pos + 7 <= size) {
    std::string& f = files[data[pos] % t.editable];
    uint8_t op = data[pos + 1] % 4;
    uint32_t offset;
    std::memcpy(&offset, data + pos + 2, 4);
    uint8_t len = data[pos + 6];
    pos += 7;
    if (op == 3) {
      f.resize(offset % (f.size() + 1));
      continue;
    }
    for (uint8_t i = 0; i < len && pos < size && !f.empty(); ++i, ++pos) f[(offset + i) % f.size()] = static_cast<char>(data[pos]);
  }
  return files;
}

void write_store(const StoreFiles& t, const std::vector<std::string>& files) {
  // Files the last input's store left (a rebuild's, a compaction's) go; the
  // store's own are rewritten below, and LOCK holds nothing. One directory
  // stream serves the whole process, rewound for each input: opening one
  // costs a 32 KiB buffer, which under ASan is fresh pages every time.
  static DIR* dir = nullptr;
  static std::string dir_path;
  if (dir == nullptr || dir_path != t.work) {
    if (dir != nullptr) ::closedir(dir);
    dir = ::opendir(t.work.c_str());
    if (dir == nullptr) std::abort();
    dir_path = t.work;
  }
  ::rewinddir(dir);
  while (const dirent* e = ::readdir(dir)) {
    std::string_view name = e->d_name;
    if (name == "." || name == ".." || name == "LOCK" || std::find(t.names.begin(), t.names.end(), name) != t.names.end()) continue;
    std::error_code ec;
    fs::remove_all(t.work + "/" + std::string(name), ec);
  }
  for (std::size_t i = 0; i < files.size(); ++i) write_file(t.work + "/" + t.names[i], files[i]);
}

}  // namespace vstore_fuzz
