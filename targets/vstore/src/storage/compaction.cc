// Compaction: the live records are copied into a new generation of files,
// which one MANIFEST rename commits. The old generation's files are unlinked,
// never truncated or rewritten, so whoever still maps them keeps reading them.
#include <cstring>

#include <fmt/format.h>

#include "failpoint/evaluate.h"
#include "storage/store_impl.h"
#include "vstore/regression.h"

namespace vstore::internal {

namespace {
constexpr size_t kCopyChunkBytes = 4 << 20;

// Stages slots and attribute blobs for the new files and writes them in large
// sequential chunks.
class GenerationWriter {
 public:
  GenerationWriter(MappedFile* vectors, MappedFile* attrs, uint64_t slot_size, uint32_t dim)
      : vectors_(vectors), attrs_(attrs), slot_size_(slot_size), dim_(dim) {}

  Status append(const SlotRef& ref) {
    SlotHeader h;
    h.state = kSlotLive;
    h.attr_len = ref.attrs_len;
    h.id = ref.id;
    h.attr_offset = attrs_written_ + blobs_.size();
    h.checksum = slot_checksum(h.id, h.attr_offset, h.attr_len, ref.vector, 4ull * dim_, ref.attrs, ref.attrs_len);
    size_t at = slots_.size();
    slots_.resize(at + slot_size_, 0);
    std::memcpy(slots_.data() + at, &h, sizeof h);
    std::memcpy(slots_.data() + at + sizeof h, ref.vector, 4ull * dim_);
    blobs_.append(reinterpret_cast<const char*>(ref.attrs), ref.attrs_len);
    ++count_;
    if (slots_.size() + blobs_.size() >= kCopyChunkBytes) return flush();
    return Status::Ok();
  }

  Status flush() {
    if (!blobs_.empty()) {
      VSTORE_RETURN_IF_ERROR(attrs_->grow(kDataStart + attrs_written_ + blobs_.size()));
      VSTORE_RETURN_IF_ERROR(attrs_->write(kDataStart + attrs_written_, blobs_.data(), blobs_.size(), FailSite::mapped_file_append_pwrite));
      attrs_written_ += blobs_.size();
      blobs_.clear();
    }
    if (!slots_.empty()) {
      uint64_t first = count_ - slots_.size() / slot_size_;
      uint64_t offset;
      if (regression_enabled(Regression::offset32)) {
        // 003 vector 2: offsets computed in 32 bits wrap past 4 GiB.
        offset = static_cast<uint32_t>(kDataStart + first * slot_size_);
      } else if (!checked_mul_add(first, slot_size_, kDataStart, &offset)) {
        return Status::Exhausted("compaction: slot offsets past 2^64 bytes");
      }
      uint64_t end;
      if (!checked_mul_add(count_, slot_size_, kDataStart, &end)) return Status::Exhausted("compaction: slot offsets past 2^64 bytes");
      VSTORE_RETURN_IF_ERROR(vectors_->grow(end));
      VSTORE_RETURN_IF_ERROR(vectors_->write(offset, slots_.data(), slots_.size(), FailSite::mapped_file_append_pwrite));
      slots_.clear();
    }
    return Status::Ok();
  }

  uint64_t count() const { return count_; }
  uint64_t attrs_bytes() const { return attrs_written_; }

 private:
  MappedFile* vectors_;
  MappedFile* attrs_;
  uint64_t slot_size_;
  uint32_t dim_;
  std::vector<uint8_t> slots_;
  std::string blobs_;
  uint64_t count_ = 0;
  uint64_t attrs_written_ = 0;
};
}  // namespace

Status StoreImpl::compact() {
  std::lock_guard lock(write_mu_);
  VSTORE_RETURN_IF_ERROR(check_writable());
  VSTORE_RETURN_IF_ERROR(sync_locked());
  if (regression_enabled(Regression::in_place_compaction)) return compact_in_place();
  return compact_into_new_generation();
}

Status StoreImpl::compact_into_new_generation() {
  Manifest next = manifest_;
  next.identity.generation += 1;
  next.commit_seq += 1;
  const StoreIdentity& id = next.identity;
  FileHeader vh = make_file_header(FileKind::vectors, id, next.slot_size, 0);
  FileHeader ah = make_file_header(FileKind::attrs, id, 0, 0);
  uint64_t live = live_count_.load(std::memory_order_acquire);
  uint64_t slots_bytes;
  if (!checked_mul_add(std::max<uint64_t>(live, 1), next.slot_size, kDataStart, &slots_bytes))
    return Status::Exhausted("compaction: the live records do not fit in 2^64 bytes");
  VSTORE_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> vectors,
                          MappedFile::create(env_, dir_ + "/" + data_file_name(FileKind::vectors, id.generation),
                                             {reinterpret_cast<const uint8_t*>(&vh), sizeof vh}, slots_bytes, false, false));
  VSTORE_ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> attrs,
                          MappedFile::create(env_, dir_ + "/" + data_file_name(FileKind::attrs, id.generation),
                                             {reinterpret_cast<const uint8_t*>(&ah), sizeof ah}, kDataStart + std::max<uint64_t>(attrs_end_, 4096), false, false));
  VSTORE_ASSIGN_OR_RETURN(std::unique_ptr<IdIndex> ids, IdIndex::create(env_, dir_, id, live * 2));

  GenerationWriter writer(vectors.get(), attrs.get(), next.slot_size, dim());
  Status write_error = Status::Ok();
  VSTORE_RETURN_IF_ERROR(for_each_live([&](const SlotRef& ref) {
    write_error = writer.append(ref);
    return write_error.ok();
  }));
  VSTORE_RETURN_IF_ERROR(write_error);
  VSTORE_RETURN_IF_ERROR(writer.flush());
  {
    // Index the new generation from its own files (the ids are unique).
    ReadGuards g;
    g.visible = writer.count();
    g.vectors = vectors->acquire();
    g.attrs = attrs->acquire();
    auto never_gone = [](uint64_t, uint64_t) { return false; };
    for (uint64_t slot = 0; slot < writer.count(); ++slot) {
      uint64_t offset = kDataStart + slot * next.slot_size;
      const uint8_t* p = g.vectors.bytes(offset, sizeof(SlotHeader));
      if (p == nullptr) return g.vectors.check(offset, sizeof(SlotHeader), "compacted slot");
      uint64_t rid;
      std::memcpy(&rid, p + offsetof(SlotHeader, id), 8);
      VSTORE_RETURN_IF_ERROR(ids->insert(rid, slot, never_gone));
    }
  }
  VSTORE_RETURN_IF_ERROR(vectors->sync());
  VSTORE_RETURN_IF_ERROR(attrs->sync());
  VSTORE_RETURN_IF_ERROR(ids->sync());
  std::unique_ptr<HnswGraph> graph;
  if (graph_ != nullptr) {
    IndexOptions options;
    options.m = graph_->params().m;
    options.ef_construction = graph_->params().ef_construction;
    VSTORE_ASSIGN_OR_RETURN(graph, build_graph(id, options, vectors.get(), writer.count(), next.commit_seq));
    next.graph_bytes = graph->node_bytes(writer.count());
  }
  VSTORE_RETURN_IF_ERROR(failpoint_status(FailSite::compact_after_copy));
  // The new generation's files were created in DIR: their names must be durable before the
  // MANIFEST rename that names them is (a power cut may otherwise keep the rename and lose them).
  VSTORE_RETURN_IF_ERROR(env_->sync_dir(dir_, FailSite::compact_fsync_dir));

  next.slot_count = writer.count();
  next.live_count = writer.count();
  next.attrs_bytes = writer.attrs_bytes();
  next.pending_removes.clear();
  VSTORE_RETURN_IF_ERROR(write_manifest(env_, dir_, next));
  if (graph != nullptr) graph->mark_clean().ignore();  // a failure costs a rebuild at the next open
  VSTORE_RETURN_IF_ERROR(failpoint_status(FailSite::compact_after_commit));

  uint64_t old_generation = manifest_.identity.generation;
  {
    std::unique_lock state(state_mu_);
    vectors_ = std::move(vectors);
    attrs_ = std::move(attrs);
    ids_ = std::move(ids);
    graph_ = std::move(graph);  // sync_locked saw no linking in flight, and write_mu_ keeps it so
    manifest_ = next;  // under state_mu_, held here
    attrs_end_ = next.attrs_bytes;
    visible_slots_.store(next.slot_count, std::memory_order_release);
    live_count_.store(next.live_count, std::memory_order_release);
  }
  for (FileKind k : kDataFileKinds)
    env_->unlink(dir_ + "/" + data_file_name(k, old_generation), FailSite::compact_unlink).ignore();  // orphans go at next open
  return Status::Ok();
}

Result<std::unique_ptr<HnswGraph>> StoreImpl::build_graph(const StoreIdentity& id, const IndexOptions& options, MappedFile* vectors, uint64_t count,
                                                           uint64_t commit_seq, const std::string& suffix) {
  // Compaction renumbers slots, so the graph is rebuilt from the new files:
  // removed records leave with their links, and the old generation's graph,
  // which readers may still be searching, is never touched. A graph a crash
  // left dirty is rebuilt the same way from the committed slots.
  HnswGraph::Shape shape{dim(), metric(), slot_size_};
  VSTORE_ASSIGN_OR_RETURN(std::unique_ptr<HnswGraph> graph, HnswGraph::create(env_, dir_, id, shape, options, commit_seq, suffix));
  MapGuard g = vectors->acquire();
  uint64_t end;
  if (!checked_mul_add(count, slot_size_, kDataStart, &end) || g.size() < end)
    return Status::Corrupt(fmt::format("{}: compacted slots beyond the file", vectors->name()));
  const uint8_t* base = g.base();
  VSTORE_RETURN_IF_ERROR(graph->allocate(0, count, [&](uint64_t i) {
    return reinterpret_cast<const float*>(base + kDataStart + i * slot_size_ + sizeof(SlotHeader));
  }));
  graph->publish(count);
  for (uint64_t slot = 0; slot < count; ++slot) {
    // Only slots that hold a vector (live, or removed and awaiting compaction)
    // become nodes with links; never-written ones stay unreachable.
    uint32_t state;
    std::memcpy(&state, base + kDataStart + slot * slot_size_, sizeof state);
    if (state != kSlotLive && state != kSlotDead) continue;
    if (!graph->link(graph->snapshot(count, g), static_cast<uint32_t>(slot)))
      return Status::Corrupt(fmt::format("{}: slot {} of {} could not be linked", vectors->name(), slot, count));
  }
  VSTORE_RETURN_IF_ERROR(failpoint_status(FailSite::hnsw_compact_after_build));
  VSTORE_RETURN_IF_ERROR(graph->commit(commit_seq, count));
  return graph;
}

Status StoreImpl::compact_in_place() {
  // 002: read the live records out, cut the live files back to their headers and
  // write the records again, under everyone who still maps them.
  std::vector<Record> live;
  VSTORE_RETURN_IF_ERROR(for_each_live([&](const SlotRef& ref) {
    Record r;
    r.id = ref.id;
    r.vector.assign(ref.vector, ref.vector + dim());
    if (!decode_attributes(ref.attrs, ref.attrs_len, &r.attributes, "compaction").ok()) r.attributes.clear();
    live.push_back(std::move(r));
    return true;
  }));
  VSTORE_RETURN_IF_ERROR(env_->truncate(vectors_->fd(), kDataStart, vectors_->name(), FailSite::mapped_file_grow_ftruncate));
  VSTORE_RETURN_IF_ERROR(env_->truncate(attrs_->fd(), kDataStart, attrs_->name(), FailSite::mapped_file_grow_ftruncate));
  visible_slots_.store(0, std::memory_order_release);
  attrs_end_ = 0;
  live_count_.store(0, std::memory_order_release);
  // Rewrites into the cut files through the usual append path.
  for (size_t begin = 0; begin < live.size(); begin += 256) {
    size_t n = std::min<size_t>(256, live.size() - begin);
    uint64_t first = visible_slots_.load(std::memory_order_relaxed);
    VSTORE_RETURN_IF_ERROR(add_chunk(std::span<const Record>(live).subspan(begin, n)));
    link_nodes(first, visible_slots_.load(std::memory_order_relaxed));
  }
  return sync_locked();
}

}  // namespace vstore::internal
