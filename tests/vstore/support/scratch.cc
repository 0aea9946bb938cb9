#include "vstore/support/scratch.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace vstore::testing {

namespace fs = std::filesystem;

ScratchDir::ScratchDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = fmt::format("{}/vstore-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) std::abort();
  path_ = buf.data();
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

Record make_record(uint64_t id, uint32_t dim, uint64_t salt) {
  Record r;
  r.id = id;
  r.vector.resize(dim);
  uint64_t x = id * 0x9E3779B97F4A7C15ull + salt + 1;
  for (uint32_t i = 0; i < dim; ++i) {
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 32;
    r.vector[i] = static_cast<float>(static_cast<int64_t>(x % 20001) - 10000) / 10000.0f;
  }
  r.attributes.push_back({"file_path", fmt::format("src/file_{}.py", id)});
  if (id % 3 == 0) r.attributes.push_back({"lang", id % 2 ? "py" : "rs"});
  return r;
}

std::vector<Record> make_records(uint64_t first_id, uint64_t n, uint32_t dim, uint64_t salt) {
  std::vector<Record> out;
  out.reserve(n);
  for (uint64_t i = 0; i < n; ++i) out.push_back(make_record(first_id + i, dim, salt));
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void copy_dir(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::remove_all(to, ec);
  fs::copy(from, to, fs::copy_options::recursive);
}

uint64_t file_size(const std::string& path) { return fs::file_size(path); }

std::string find_file(const std::string& dir, const std::string& prefix) {
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0) return e.path().string();
  }
  return "";
}

}  // namespace vstore::testing
