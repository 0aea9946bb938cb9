// vstore::Store: the public face of StoreImpl.
#include "vstore/store.h"

#include "storage/store_impl.h"

namespace vstore {

namespace internal {
FsckReport run_fsck(Env* env, const std::string& dir);
}

Store::Store(std::unique_ptr<internal::StoreImpl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::create(const std::string& dir, const CreateOptions& options, Env* env) {
  VSTORE_ASSIGN_OR_RETURN(auto impl, internal::StoreImpl::create(env, dir, options));
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Result<std::unique_ptr<Store>> Store::open(const std::string& dir, const OpenOptions& options, Env* env) {
  VSTORE_ASSIGN_OR_RETURN(auto impl, internal::StoreImpl::open(env, dir, options));
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

FsckReport Store::fsck(const std::string& dir, Env* env) { return internal::run_fsck(env, dir); }

Status Store::add(std::span<const Record> records) { return impl_->add(records); }
Result<Record> Store::get(uint64_t id) const { return impl_->get(id); }
Result<RecordView> Store::view(uint64_t id) const { return impl_->view(id); }
bool Store::contains(uint64_t id) const { return impl_->contains(id); }
Result<uint64_t> Store::remove(std::span<const uint64_t> ids) { return impl_->remove(ids); }
Status Store::scan(const std::function<bool(const RecordRef&)>& fn) const {
  const size_t dim = impl_->dim();
  return impl_->for_each_live([&](const internal::SlotRef& r) { return fn(RecordRef(r.id, {r.vector, dim}, r.attrs, r.attrs_len)); });
}
Result<std::vector<SearchHit>> Store::search(std::span<const float> query, const SearchOptions& options) const {
  return impl_->search(query, options);
}
Result<std::vector<SearchHit>> Store::exact_search(std::span<const float> query, size_t k) const { return impl_->exact_search(query, k); }
Result<uint64_t> Store::delete_where(const Filter& filter) { return impl_->delete_where(filter); }
uint64_t Store::count() const { return impl_->count(); }
Status Store::sync() { return impl_->sync(); }
Status Store::compact() { return impl_->compact(); }
Status Store::close() { return impl_->close(); }
StoreStats Store::stats() const { return impl_->stats(); }
uint32_t Store::dim() const { return impl_->dim(); }
Metric Store::metric() const { return impl_->metric(); }
const std::string& Store::dir() const { return impl_->dir(); }

}  // namespace vstore
