#include "record/mapped_pages.h"

#include <algorithm>

#include <xxhash.h>

namespace crashgate::record {

namespace {

std::uint64_t page_hash(const std::string& bytes) {
  std::string page = bytes;
  page.resize(kPageSize, '\0');  // a page past the file's end reads as zeros
  return XXH3_64bits(page.data(), page.size());
}

std::uint64_t zero_page_hash() {
  static const std::uint64_t h = page_hash("");
  return h;
}

}  // namespace

std::optional<std::uint64_t> MappedPages::address_of(const Mapping& m, std::uint64_t file_page) const {
  std::uint64_t first = m.file_offset / kPageSize, pages = (m.length + kPageSize - 1) / kPageSize;
  if (file_page < first || file_page >= first + pages) return std::nullopt;
  return m.addr + (file_page - first) * kPageSize;
}

std::string MappedPages::read_through_any(const std::string& path, std::uint64_t file_page) const {
  for (const auto& m : mappings_)
    if (m.path == path)
      if (auto at = address_of(m, file_page)) {
        std::string bytes = read_(m.pid, *at);
        if (!bytes.empty()) return bytes;
      }
  return {};
}

void MappedPages::mapped(const Mapping& m) {
  mappings_.push_back(m);
  std::optional<std::uint64_t> size = size_(m.path);
  if (!size) return;
  auto& known = hashes_[m.path];
  std::uint64_t first = m.file_offset / kPageSize, pages = (m.length + kPageSize - 1) / kPageSize;
  for (std::uint64_t p = first; p < first + pages && p * kPageSize < *size; ++p) {
    if (known.count(p)) continue;  // another mapping of the file holds it: its changes are still to be found
    std::string bytes = read_(m.pid, m.addr + (p - first) * kPageSize);
    if (!bytes.empty()) known[p] = page_hash(bytes);
  }
}

void MappedPages::unmapped(int pid, std::uint64_t addr, std::uint64_t length) {
  std::uint64_t end = addr + length;
  std::vector<Mapping> kept;
  for (const auto& m : mappings_) {
    std::uint64_t m_end = m.addr + m.length;
    if (m.pid != pid || m_end <= addr || m.addr >= end) {
      kept.push_back(m);
      continue;
    }
    if (m.addr < addr) {  // the part before the hole
      Mapping before = m;
      before.length = addr - m.addr;
      kept.push_back(before);
    }
    if (m_end > end) {  // the part after it
      Mapping after = m;
      after.addr = end;
      after.file_offset = m.file_offset + (end - m.addr);
      after.length = m_end - end;
      kept.push_back(after);
    }
  }
  mappings_ = std::move(kept);
}

void MappedPages::remapped(int pid, std::uint64_t old_addr, std::uint64_t new_addr, std::uint64_t new_length) {
  for (auto& m : mappings_)
    if (m.pid == pid && m.addr == old_addr) {
      Mapping grown = m;
      grown.addr = new_addr;
      grown.length = new_length;
      m = grown;
      // Pages the mapping did not hold before are seeded as they are now.
      std::optional<std::uint64_t> size = size_(m.path);
      if (!size) return;
      auto& known = hashes_[m.path];
      std::uint64_t first = m.file_offset / kPageSize, pages = (new_length + kPageSize - 1) / kPageSize;
      for (std::uint64_t p = first; p < first + pages && p * kPageSize < *size; ++p)
        if (!known.count(p))
          if (std::string bytes = read_(pid, new_addr + (p - first) * kPageSize); !bytes.empty()) known[p] = page_hash(bytes);
      return;
    }
}

void MappedPages::forget_process(int pid) {
  std::erase_if(mappings_, [&](const Mapping& m) { return m.pid == pid; });
}

void MappedPages::forked(int parent, int child) {
  std::vector<Mapping> inherited;
  for (const auto& m : mappings_)
    if (m.pid == parent) {
      inherited.push_back(m);
      inherited.back().pid = child;
    }
  mappings_.insert(mappings_.end(), inherited.begin(), inherited.end());
}

void MappedPages::written(const std::string& path, std::uint64_t offset, std::uint64_t length) {
  auto it = hashes_.find(path);
  if (it == hashes_.end() || length == 0) return;
  for (std::uint64_t p = offset / kPageSize; p <= (offset + length - 1) / kPageSize; ++p) {
    std::string bytes = read_through_any(path, p);
    if (bytes.empty())
      it->second.erase(p);  // no mapping holds it: the next one to map it seeds it
    else
      it->second[p] = page_hash(bytes);
  }
}

void MappedPages::truncated(const std::string& path, std::uint64_t size) {
  auto it = hashes_.find(path);
  if (it == hashes_.end()) return;
  std::uint64_t last = size / kPageSize;  // the page holding the new end, if size is not page-aligned
  std::erase_if(it->second, [&](const auto& entry) { return entry.first > last || (entry.first == last && size % kPageSize == 0); });
  if (size % kPageSize != 0) {
    std::string bytes = read_through_any(path, last);
    if (bytes.empty())
      it->second.erase(last);
    else
      it->second[last] = page_hash(bytes);
  }
}

void MappedPages::renamed(const std::string& from, const std::string& to) {
  for (auto& m : mappings_)
    if (m.path == from) m.path = to;
  auto it = hashes_.find(from);
  if (it == hashes_.end()) return;
  hashes_[to] = std::move(it->second);
  hashes_.erase(from);
}

void MappedPages::exchanged(const std::string& a, const std::string& b) {
  for (auto& m : mappings_) {
    if (m.path == a)
      m.path = b;
    else if (m.path == b)
      m.path = a;
  }
  auto ia = hashes_.find(a), ib = hashes_.find(b);
  std::optional<std::map<std::uint64_t, std::uint64_t>> ha, hb;
  if (ia != hashes_.end()) ha = std::move(ia->second);
  if (ib != hashes_.end()) hb = std::move(ib->second);
  hashes_.erase(a);
  hashes_.erase(b);
  if (ha) hashes_[b] = std::move(*ha);
  if (hb) hashes_[a] = std::move(*hb);
}

void MappedPages::detach(const std::string& path) {
  for (auto& m : mappings_)
    if (m.path == path) m.path.clear();
  hashes_.erase(path);
}

void MappedPages::collect(const Mapping& m, std::uint64_t from, std::uint64_t to, std::vector<DirtyPage>& out) {
  if (m.path.empty()) return;  // detached: its file has no name
  std::optional<std::uint64_t> size = size_(m.path);
  if (!size) return;
  auto& known = hashes_[m.path];
  std::uint64_t first = m.file_offset / kPageSize;
  for (std::uint64_t at = std::max(from, m.addr) & ~(kPageSize - 1); at < std::min(to, m.addr + m.length); at += kPageSize) {
    std::uint64_t p = first + (at - m.addr) / kPageSize;
    if (p * kPageSize >= *size) break;  // past the file's end: a store there never reaches the file
    std::string bytes = read_(m.pid, at);
    if (bytes.empty()) continue;
    std::uint64_t h = page_hash(bytes);
    auto k = known.find(p);
    std::uint64_t before = k == known.end() ? zero_page_hash() : k->second;  // unknown: grown since mapped, zeros
    known[p] = h;
    if (h == before) continue;
    bytes.resize(std::min<std::uint64_t>(kPageSize, *size - p * kPageSize));
    out.push_back({m.pid, m.path, p * kPageSize, std::move(bytes)});
  }
}

std::vector<DirtyPage> MappedPages::dirty_in(int pid, std::uint64_t addr, std::uint64_t length) {
  std::vector<DirtyPage> out;
  for (const auto& m : std::vector<Mapping>(mappings_))
    if (m.pid == pid && m.addr < addr + length && addr < m.addr + m.length) collect(m, addr, addr + length, out);
  return out;
}

std::vector<DirtyPage> MappedPages::dirty_of_file(const std::string& path) {
  std::vector<DirtyPage> out;
  for (const auto& m : std::vector<Mapping>(mappings_))
    if (m.path == path) collect(m, m.addr, m.addr + m.length, out);
  return out;
}

std::vector<DirtyPage> MappedPages::dirty_of_process(int pid) {
  std::vector<DirtyPage> out;
  for (const auto& m : std::vector<Mapping>(mappings_))
    if (m.pid == pid) collect(m, m.addr, m.addr + m.length, out);
  return out;
}

bool MappedPages::maps(const std::string& path) const {
  return std::any_of(mappings_.begin(), mappings_.end(), [&](const Mapping& m) { return m.path == path; });
}

std::optional<std::string> MappedPages::path_at(int pid, std::uint64_t addr, std::uint64_t length) const {
  for (const auto& m : mappings_)
    if (m.pid == pid && !m.path.empty() && m.addr < addr + length && addr < m.addr + m.length) return m.path;
  return std::nullopt;
}

}  // namespace crashgate::record
