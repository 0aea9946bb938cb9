// vstore_open: the input becomes a damaged copy of a small valid store, then
// open (read-only and as writer), count, get, scan and fsck run on it. The
// hardened engine must answer every one cleanly; never a signal.
//
// Structure-aware, so the fuzzer gets past the headers: the input is a list of
// edits to the files of a valid store, each
//   [file: u8][op: u8][offset: u32 little-endian][length: u8][length bytes]
// file % 4 picks MANIFEST, vectors, attrs or ids; op % 4 == 3 truncates the
// file to offset % (size + 1), any other op overwrites bytes at offset % size.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "vstore/store.h"

namespace {

namespace fs = std::filesystem;

struct Template {
  std::string work;
  std::vector<std::string> names;   // MANIFEST, vectors-..., attrs-..., ids-...
  std::vector<std::string> bytes;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const Template& store_template() {
  static Template* t = [] {
    auto* t = new Template();
    const char* shm = fs::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string root = fmt::format("{}/vstore-open-fuzz-{}", shm, ::getpid());
    fs::remove_all(root);
    fs::create_directories(root);
    std::string dir = root + "/template";
    vstore::CreateOptions o;
    o.dim = 4;
    auto s = std::move(vstore::Store::create(dir, o)).value();
    std::vector<vstore::Record> recs;
    for (uint64_t i = 0; i < 24; ++i) {
      vstore::Record r;
      r.id = i * 7;
      r.vector = {float(i), 0.5f, -1.0f, float(i) / 3};
      r.attributes.push_back({"file_path", fmt::format("src/file_{}.py", i)});
      recs.push_back(std::move(r));
    }
    if (!s->add(recs).ok() || !s->remove({14}).ok() || !s->close().ok()) std::abort();
    for (const char* prefix : {"MANIFEST", "vectors-", "attrs-", "ids-"}) {
      for (const auto& e : fs::directory_iterator(dir)) {
        std::string name = e.path().filename().string();
        if (name.rfind(prefix, 0) == 0) {
          t->names.push_back(name);
          t->bytes.push_back(slurp(e.path().string()));
        }
      }
    }
    t->work = root + "/work";
    fs::create_directories(t->work);
    std::atexit([] { fs::remove_all(fs::path(store_template().work).parent_path()); });
    return t;
  }();
  return *t;
}

void write_file(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) std::abort();
  if (!bytes.empty() && ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) std::abort();
  ::close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Template& t = store_template();
  std::vector<std::string> files = t.bytes;
  size_t pos = 0;
  while (pos + 7 <= size) {
    uint8_t file = data[pos] % 4, op = data[pos + 1] % 4;
    uint32_t offset;
    std::memcpy(&offset, data + pos + 2, 4);
    uint8_t len = data[pos + 6];
    pos += 7;
    std::string& f = files[file];
    if (op == 3) {
      f.resize(offset % (f.size() + 1));
      continue;
    }
    for (uint8_t i = 0; i < len && pos < size && !f.empty(); ++i, ++pos) f[(offset + i) % f.size()] = static_cast<char>(data[pos]);
  }
  for (size_t i = 0; i < files.size(); ++i) write_file(t.work + "/" + t.names[i], files[i]);
  fs::remove(t.work + "/LOCK");

  for (bool read_only : {true, false}) {
    vstore::Result<std::unique_ptr<vstore::Store>> s = vstore::Store::open(t.work, {.read_only = read_only});
    if (!s.ok()) continue;
    (void)(*s)->count();
    for (uint64_t id = 0; id < 24 * 7; id += 7) (void)(*s)->get(id);
    (void)(*s)->scan([](const vstore::RecordRef& r) { return !r.attribute("file_path").has_value() || true; });
    (void)(*s)->stats();
  }
  (void)vstore::Store::fsck(t.work);
  return 0;
}
