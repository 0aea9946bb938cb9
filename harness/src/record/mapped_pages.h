// Writes through shared mappings, found by comparing pages. A store into a
// MAP_SHARED mapping makes no system call, so the recorder cannot stop on it;
// at each persistence point it asks this tracker which pages of the mappings
// concerned differ from what the recording already says of them (a hash a
// page, seeded when the file is mapped and kept current with every recorded
// write and truncation), and records those pages as writes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace crashgate::record {

inline constexpr std::uint64_t kPageSize = 4096;

struct Mapping {
  int pid = 0;
  std::uint64_t addr = 0, length = 0, file_offset = 0;  // page-aligned, as mmap requires
  std::string path;  // "" once the file has no name (detach)
};

struct DirtyPage {
  int pid = 0;
  std::string path;
  std::uint64_t offset = 0;  // in the file
  std::string bytes;         // the page as it is now, cut at the file's end
};

class MappedPages {
 public:
  // Reads a page of a process's memory ("" when it cannot); a file's size now.
  using ReadPage = std::function<std::string(int pid, std::uint64_t addr)>;
  using FileSize = std::function<std::optional<std::uint64_t>(const std::string& path)>;
  MappedPages(ReadPage read, FileSize size) : read_(std::move(read)), size_(std::move(size)) {}

  void mapped(const Mapping& m);
  void unmapped(int pid, std::uint64_t addr, std::uint64_t length);
  void remapped(int pid, std::uint64_t old_addr, std::uint64_t new_addr, std::uint64_t new_length);
  void forget_process(int pid);
  // A process forked (or vforked): the child has every mapping of the parent
  // at the fork, and a store or msync through one of them is the child's.
  void forked(int parent, int child);

  // A recorded write or truncation: the pages it touched now hold what it left.
  void written(const std::string& path, std::uint64_t offset, std::uint64_t length);
  void truncated(const std::string& path, std::uint64_t size);
  // A rename: the file's mappings and what is known of its pages go with it.
  void renamed(const std::string& from, const std::string& to);
  // renameat2(RENAME_EXCHANGE): the two files trade names, mappings and pages with them.
  void exchanged(const std::string& a, const std::string& b);
  // The file at `path` lost its name (unlinked, or replaced by a rename onto
  // it): its mappings stay until unmapped, but a store into them reaches no
  // file the recording names, so they are never compared or reported again.
  // The caller takes their changes first (dirty_of_file), while the name is theirs.
  void detach(const std::string& path);

  // The pages that changed since the recording last saw them, each once, and
  // from then on known as they are now.
  std::vector<DirtyPage> dirty_in(int pid, std::uint64_t addr, std::uint64_t length);  // msync, munmap
  std::vector<DirtyPage> dirty_of_file(const std::string& path);                      // fsync, fdatasync
  std::vector<DirtyPage> dirty_of_process(int pid);                                   // exit, exec

  bool maps(const std::string& path) const;
  // The file of the first mapping of `pid` that [addr, addr + length) overlaps, if any.
  std::optional<std::string> path_at(int pid, std::uint64_t addr, std::uint64_t length) const;
  std::size_t mapping_count() const { return mappings_.size(); }

 private:
  // The page of `path` at `file_page` (its index) through mapping m, if m holds it.
  std::optional<std::uint64_t> address_of(const Mapping& m, std::uint64_t file_page) const;
  std::string read_through_any(const std::string& path, std::uint64_t file_page) const;
  void collect(const Mapping& m, std::uint64_t from, std::uint64_t to, std::vector<DirtyPage>& out);

  ReadPage read_;
  FileSize size_;
  std::vector<Mapping> mappings_;
  std::map<std::string, std::map<std::uint64_t, std::uint64_t>> hashes_;  // path -> page index -> hash
};

}  // namespace crashgate::record
