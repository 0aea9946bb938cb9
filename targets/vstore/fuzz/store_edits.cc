#include "store_edits.h"

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

namespace vstore_fuzz {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes `bytes` as PATH's whole content, sparsely: a store's files are mostly
// zero (the 64 KiB a file grows by at first, an id table's empty buckets), and
// writing only the pages that hold something made a small store's copy four
// times cheaper, a cost every input pays. Holes read as zeros, so what the
// store sees is the same.
void write_file(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) std::abort();  // the fuzzer's own scratch space: nothing to test without it
  if (::ftruncate(fd, static_cast<off_t>(bytes.size())) != 0) std::abort();
  constexpr std::size_t kBlock = 4096;
  static const char zeros[kBlock] = {};
  std::size_t run_start = 0, run_end = 0;  // the pending run of non-zero blocks
  auto flush = [&] {
    if (run_end > run_start &&
        ::pwrite(fd, bytes.data() + run_start, run_end - run_start, static_cast<off_t>(run_start)) != static_cast<ssize_t>(run_end - run_start))
      std::abort();
  };
  for (std::size_t at = 0; at < bytes.size(); at += kBlock) {
    std::size_t n = std::min(kBlock, bytes.size() - at);
    if (std::memcmp(bytes.data() + at, zeros, n) == 0) continue;
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
  // store's own are truncated and rewritten below, and LOCK holds nothing.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(t.work, ec)) {
    std::string name = e.path().filename().string();
    if (name != "LOCK" && std::find(t.names.begin(), t.names.end(), name) == t.names.end()) fs::remove_all(e.path(), ec);
  }
  for (std::size_t i = 0; i < files.size(); ++i) write_file(t.work + "/" + t.names[i], files[i]);
}

}  // namespace vstore_fuzz
