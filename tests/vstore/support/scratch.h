// Test support: scratch directories and deterministic records.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vstore/record.h"

namespace vstore::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The same record for the same (id, dim, salt), with file_path = src/file_<id>.py.
Record make_record(uint64_t id, uint32_t dim, uint64_t salt = 0);
std::vector<Record> make_records(uint64_t first_id, uint64_t n, uint32_t dim, uint64_t salt = 0);

// Reads, writes and resizes whole files, for tests that damage stores.
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);
void copy_dir(const std::string& from, const std::string& to);
uint64_t file_size(const std::string& path);
// The file in dir whose name starts with prefix ("vectors-"), or "".
std::string find_file(const std::string& dir, const std::string& prefix);

}  // namespace vstore::testing
