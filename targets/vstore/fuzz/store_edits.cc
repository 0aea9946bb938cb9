#include "store_edits.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

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

void write_file(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) std::abort();  // the fuzzer's own scratch space: nothing to test without it
  if (!bytes.empty() && ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) std::abort();
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

std::vector<std::string> apply_edits(const StoreFiles& t, const uint8_t* data, std::size_t size) {
  std::vector<std::string> files = t.bytes;
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
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(t.work, ec)) fs::remove(e.path(), ec);  // a rebuild's leftovers
  for (std::size_t i = 0; i < files.size(); ++i) write_file(t.work + "/" + t.names[i], files[i]);
}

}  // namespace vstore_fuzz
