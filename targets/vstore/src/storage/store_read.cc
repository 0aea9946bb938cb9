// Reading records: every access bounds-checked, every record verified.
#include <cstring>

#include <fmt/format.h>

#include "failpoint/evaluate.h"
#include "storage/store_impl.h"
#include "vstore/regression.h"

namespace vstore::internal {

StoreImpl::ReadGuards StoreImpl::acquire_guards() const {
  ReadGuards g;
  g.visible = visible_slots_.load(std::memory_order_acquire);
  g.ids = ids_->snapshot();
  g.vectors = vectors_->acquire();
  g.attrs = attrs_->acquire();
  return g;
}

Status StoreImpl::read_slot(const ReadGuards& g, uint64_t slot, SlotRef* out, bool verify_checksum) const {
  uint64_t size = slot_size_, offset;
  // Not-found here is the common answer of a probe: it carries no message, so
  // it costs no allocation; callers that report it to users say what was sought.
  if (slot >= g.visible || !checked_mul_add(slot, size, kDataStart, &offset)) return Status::NotFound({});
  const uint8_t* p = g.vectors.bytes(offset, size);
  if (p == nullptr) return g.vectors.check(offset, size, fmt::format("slot {}", slot).c_str());
  SlotHeader h;
  std::memcpy(&h, p, sizeof h);
  // The state word may be written by the writer's tombstone pwrite meanwhile;
  // a stale LIVE only means the removal is not yet visible here.
  h.state = std::atomic_ref<uint32_t>(*const_cast<uint32_t*>(reinterpret_cast<const uint32_t*>(p))).load(std::memory_order_relaxed);
  if (h.state == kSlotEmpty || h.state == kSlotDead) return Status::NotFound({});
  if (h.state != kSlotLive)
    return Status::Corrupt(fmt::format("{}: offset {}: slot {} state {:#010x}, expected LIVE ({:#010x}), DEAD or 0", g.vectors.name(), offset, slot, h.state, kSlotLive));
  uint64_t payload = g.attrs.size() - kDataStart;
  const uint8_t* attrs = within_bounds(h.attr_offset, h.attr_len, payload) ? g.attrs.bytes(kDataStart + h.attr_offset, h.attr_len) : nullptr;
  if (attrs == nullptr)
    return Status::Corrupt(fmt::format("{}: offset {}: slot {} (id {}) names attributes at [{}, +{}), beyond the attrs file's {} payload bytes",
                                       g.vectors.name(), offset + offsetof(SlotHeader, attr_offset), slot, h.id, h.attr_offset, h.attr_len, payload));
  const uint8_t* vec = p + sizeof(SlotHeader);
  if (verify_checksum) {
    uint64_t sum = slot_checksum(h.id, h.attr_offset, h.attr_len, vec, 4ull * dim(), attrs, h.attr_len);
    if (sum != h.checksum)
      return Status::Corrupt(fmt::format("{}: offset {}: slot {} (id {}) checksum {:#018x}, its bytes give {:#018x}", g.vectors.name(),
                                         offset + offsetof(SlotHeader, checksum), slot, h.id, h.checksum, sum));
  }
  out->slot = slot;
  out->id = h.id;
  out->vector = reinterpret_cast<const float*>(vec);
  out->attrs = attrs;
  out->attrs_len = h.attr_len;
  return Status::Ok();
}

bool StoreImpl::slot_is_empty(const ReadGuards& g, uint64_t slot) const {
  uint64_t offset;
  if (slot >= g.visible || !checked_mul_add(slot, slot_size_, kDataStart, &offset)) return false;
  const uint8_t* p = g.vectors.bytes(offset, sizeof(SlotHeader));
  if (p == nullptr) return false;
  SlotHeader h;
  std::memcpy(&h, p, sizeof h);
  return h.state == kSlotEmpty && h.id == 0 && h.checksum == 0;
}

Result<uint64_t> StoreImpl::find_live(const ReadGuards& g, uint64_t id) const {
  Status problem = Status::Ok();
  uint64_t found = 0;
  bool hit = g.ids.find(id, [&](uint64_t slot) {
    if (slot >= g.visible || pending_removed(slot)) return false;
    SlotRef ref;
    Status st = read_slot(g, slot, &ref, /*verify_checksum=*/false);
    if (!st.ok()) {
      if (st.code() != Code::not_found) problem = st;
      // The table names a committed slot that was never written: its page was
      // zeroed (a lost write), which must not pass for "no such record".
      else if (slot_is_empty(g, slot))
        problem = Status::Corrupt(fmt::format("{}: slot {}, which the id table gives for id {}, is all zeros (never written, "
                                              "or its page was lost)", g.vectors.name(), slot, id));
      return false;
    }
    if (ref.id != id) return false;  // a bucket left by a crashed session: the slot was reused
    found = slot;
    return true;
  });
  if (hit) return found;
  if (!problem.ok()) return problem;
  return Status::NotFound(fmt::format("no record with id {}", id));
}

Result<SlotRef> StoreImpl::locate(const ReadGuards& g, uint64_t id) const {
  VSTORE_ASSIGN_OR_RETURN(uint64_t slot, find_live(g, id));
  VSTORE_RETURN_IF_ERROR(failpoint_status(FailSite::store_read_after_lookup));
  SlotRef ref;
  VSTORE_RETURN_IF_ERROR(read_slot(g, slot, &ref, /*verify_checksum=*/true));
  return ref;
}

Result<Record> StoreImpl::get(uint64_t id) const {
  std::shared_lock lock(state_mu_);
  ReadGuards g = acquire_guards();
  VSTORE_ASSIGN_OR_RETURN(SlotRef ref, locate(g, id));
  Record r;
  r.id = ref.id;
  r.vector.assign(ref.vector, ref.vector + dim());
  VSTORE_RETURN_IF_ERROR(decode_attributes(ref.attrs, ref.attrs_len, &r.attributes, fmt::format("{}: attributes of id {}", g.attrs.name(), id)));
  return r;
}

Result<RecordView> StoreImpl::view(uint64_t id) const {
  std::shared_lock lock(state_mu_);
  ReadGuards g = acquire_guards();
  VSTORE_ASSIGN_OR_RETURN(SlotRef ref, locate(g, id));
  RecordView v;
  v.id_ = ref.id;
  v.vector_ = ref.vector;
  v.dim_ = dim();
  v.attrs_ = ref.attrs;
  v.attrs_len_ = ref.attrs_len;
  v.vectors_guard_ = std::make_unique<MapGuard>(std::move(g.vectors));
  v.attrs_guard_ = std::make_unique<MapGuard>(std::move(g.attrs));
  if (regression_enabled(Regression::view_outlives_guard)) {
    v.vectors_guard_->release();
    v.attrs_guard_->release();
  }
  return v;
}

bool StoreImpl::contains(uint64_t id) const {
  std::shared_lock lock(state_mu_);
  ReadGuards g = acquire_guards();
  return find_live(g, id).ok();
}

Status StoreImpl::for_each_live(const std::function<bool(const SlotRef&)>& fn) const {
  std::shared_lock lock(state_mu_);
  return visit_live(acquire_guards(), fn);
}

Status StoreImpl::visit_live(const ReadGuards& g, const std::function<bool(const SlotRef&)>& fn) const {
  for (uint64_t slot = 0; slot < g.visible; ++slot) {
    if (pending_removed(slot)) continue;
    SlotRef ref;
    Status st = read_slot(g, slot, &ref, /*verify_checksum=*/true);
    if (st.code() == Code::not_found) continue;
    VSTORE_RETURN_IF_ERROR(st);
    if (!fn(ref)) break;
  }
  return Status::Ok();
}

}  // namespace vstore::internal

namespace vstore {

RecordView::RecordView() = default;
RecordView::RecordView(RecordView&&) noexcept = default;
RecordView& RecordView::operator=(RecordView&&) noexcept = default;
RecordView::~RecordView() = default;

Result<std::vector<Attribute>> RecordRef::attributes() const {
  std::vector<Attribute> out;
  VSTORE_RETURN_IF_ERROR(internal::decode_attributes(attrs_, attrs_len_, &out, fmt::format("attributes of id {}", id_)));
  return out;
}

std::optional<std::string_view> RecordRef::attribute(std::string_view key) const {
  return internal::find_attribute(attrs_, attrs_len_, key);
}

Result<std::vector<Attribute>> RecordView::attributes() const {
  std::vector<Attribute> out;
  VSTORE_RETURN_IF_ERROR(internal::decode_attributes(attrs_, attrs_len_, &out, fmt::format("attributes of id {}", id_)));
  return out;
}

}  // namespace vstore
