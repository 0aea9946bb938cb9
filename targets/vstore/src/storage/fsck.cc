// fsck: everything open checks, then every committed slot, checksum and id.
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>

#include "storage/store_impl.h"

namespace vstore::internal {

namespace {

class Checker {
 public:
  Checker(Env* env, std::string dir, FsckReport* report) : env_(env), dir_(std::move(dir)), report_(report) {}

  void run() {
    Result<Manifest> m = read_manifest(env_, dir_);
    if (!m.ok()) return problem(m.status());
    m_ = std::move(m).value();
    std::unique_ptr<MappedFile> vectors = open_checked(FileKind::vectors, m_.slot_size);
    std::unique_ptr<MappedFile> attrs = open_checked(FileKind::attrs, 0);
    Result<std::unique_ptr<IdIndex>> ids = IdIndex::open(env_, dir_, m_.identity, false);
    if (!ids.ok()) problem(ids.status());
    if (!vectors || !attrs) return;
    check_slots(*vectors, *attrs, ids.ok() ? ids->get() : nullptr);
    check_graph();
  }

 private:
  void problem(const Status& st) {
    if (st.code() != Code::corrupt && report_->unreadable.ok()) report_->unreadable = st;
    report_->problems.push_back(st.message());
  }
  void problem(std::string text) { report_->problems.push_back(std::move(text)); }

  std::unique_ptr<MappedFile> open_checked(FileKind kind, uint64_t record_size) {
    Result<std::unique_ptr<MappedFile>> f = MappedFile::open(env_, dir_ + "/" + data_file_name(kind, m_.identity.generation), false);
    if (!f.ok()) {
      problem(f.status());
      return nullptr;
    }
    MapGuard g = (*f)->acquire();
    FileHeader h;
    Status st = check_file_header(g.bytes(0, 0), g.size(), (*f)->name(), kind, m_.identity, &h);
    if (!st.ok()) {
      problem(st);
      return nullptr;
    }
    if (h.record_size != record_size) {
      problem(fmt::format("{}: offset {}: record size {}, expected {}", (*f)->name(), offsetof(FileHeader, record_size), h.record_size, record_size));
      return nullptr;
    }
    uint64_t need = 0;
    if (kind == FileKind::vectors) checked_mul_add(m_.slot_count, m_.slot_size, kDataStart, &need);
    if (kind == FileKind::attrs) need = kDataStart + m_.attrs_bytes;
    if (g.size() < need) {
      problem(fmt::format("{}: the file is {} bytes, MANIFEST's commit needs {} (truncated?)", (*f)->name(), g.size(), need));
      return nullptr;
    }
    return std::move(f).value();
  }

  void check_graph() {
    if (m_.graph_bytes == 0) return;  // a store without an index
    HnswGraph::Shape shape{m_.identity.dim, static_cast<Metric>(m_.identity.metric), m_.slot_size};
    Result<std::unique_ptr<HnswGraph>> g = HnswGraph::open(env_, dir_, m_.identity, shape, m_.commit_seq, m_.slot_count, m_.graph_bytes, false);
    if (!g.ok()) return problem(g.status());
    (*g)->check_all(&report_->problems);
  }

  void check_slots(MappedFile& vectors, MappedFile& attrs, IdIndex* ids) {
    MapGuard vg = vectors.acquire(), ag = attrs.acquire();
    std::unordered_map<uint64_t, uint64_t> live_ids;
    std::unordered_map<uint64_t, bool> pending;
    for (uint64_t s : m_.pending_removes) pending[s] = true;
    const uint32_t dim = m_.identity.dim;
    uint64_t live = 0;
    for (uint64_t slot = 0; slot < m_.slot_count; ++slot) {
      uint64_t offset = kDataStart + slot * m_.slot_size;
      const uint8_t* p = vg.bytes(offset, m_.slot_size);
      SlotHeader h;
      std::memcpy(&h, p, sizeof h);
      if (h.state == kSlotEmpty || h.state == kSlotDead) continue;
      ++report_->records_checked;
      if (h.state != kSlotLive) {
        problem(fmt::format("{}: offset {}: slot {}: state {:#010x}, expected LIVE, DEAD or 0", vectors.name(), offset, slot, h.state));
        continue;
      }
      if (!within_bounds(h.attr_offset, h.attr_len, m_.attrs_bytes)) {
        problem(fmt::format("{}: offset {}: slot {} (id {}): attributes [{}, +{}) lie beyond the {} committed attribute bytes",
                            vectors.name(), offset + offsetof(SlotHeader, attr_offset), slot, h.id, h.attr_offset, h.attr_len, m_.attrs_bytes));
        continue;
      }
      const uint8_t* blob = ag.bytes(kDataStart + h.attr_offset, h.attr_len);
      uint64_t sum = slot_checksum(h.id, h.attr_offset, h.attr_len, p + sizeof h, 4ull * dim, blob, h.attr_len);
      if (sum != h.checksum) {
        problem(fmt::format("{}: offset {}: slot {} (id {}): checksum {:#018x}, its bytes give {:#018x}", vectors.name(),
                            offset + offsetof(SlotHeader, checksum), slot, h.id, h.checksum, sum));
        continue;
      }
      std::vector<Attribute> decoded;
      Status st = decode_attributes(blob, h.attr_len, &decoded, fmt::format("{}: payload offset {}: attributes of slot {} (id {})", attrs.name(), h.attr_offset, slot, h.id));
      if (!st.ok()) problem(st);
      if (pending.count(slot)) continue;
      ++live;
      auto [it, fresh] = live_ids.emplace(h.id, slot);
      if (!fresh) problem(fmt::format("{}: offset {}: slot {}: id {} is live in slot {} too", vectors.name(), offset, slot, h.id, it->second));
      if (ids != nullptr) {
        IdIndex::Snapshot snap = ids->snapshot();
        bool found = snap.find(h.id, [&](uint64_t s) { return s == slot; });
        if (!found) problem(fmt::format("{}: id {} (slot {}) is missing from the id table", ids->name(), h.id, slot));
      }
    }
    if (live != m_.live_count)
      problem(fmt::format("MANIFEST: live_count is {}, but {} live records were found", m_.live_count, live));
  }

  Env* env_;
  std::string dir_;
  FsckReport* report_;
  Manifest m_;
};

}  // namespace

FsckReport run_fsck(Env* env, const std::string& dir) {
  FsckReport report;
  Checker(env, dir, &report).run();
  return report;
}

}  // namespace vstore::internal
