// The import op: an env directory of `from` becomes the store. LMDB keeps
// opaque values, so the files say the dimension only through the driver's own
// value encoding (value.h): the first record's value is dim floats and its
// id's file_path. That record is read when the env is next opened (the open
// is where damage must show, not the import): it sets the model's dimension,
// or refuses a step's `dim` that disagrees. The last key, read beside it,
// starts the ids `add` hands out past the env's own.
#include <algorithm>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "errors.h"
#include "guards.h"
#include "session.h"

namespace crashgate::lmdb_driver {

StepResult Session::import_store(const Args& step) {
  if (step.has("metric") && step.string("metric") != "none")
    return StepResult::error("invalid-argument", fmt::format("LMDB has no distance metric ('none'), not '{}'", step.string("metric")));
  std::string from = step.string("from");
  close_env();
  if (step.has("store")) store_dir_ = work_dir_ + "/" + step.string("store");
  if (StepResult o = kit::import_store_files(from, store_dir_); !o.is_ok) return o;
  env_flags_ = 0;
  import_dim_ = ImportDim{step.has("dim") ? std::optional<std::uint64_t>(step.u64("dim", 0)) : std::nullopt};
  records_.imported(static_cast<std::uint32_t>(step.u64("dim", 64)));
  {
    std::lock_guard lock(ids_mu_);
    reserved_ids_ = 0;
  }
  created_ = true;
  context_.log(fmt::format("imported {} into {} (the next store op opens it and reads the dimension from its first record)", from, store_dir_));
  return StepResult::ok();
}

StepResult Session::learn_imported_dim() {
  // The first record in key order: its value is dim * 4 bytes of vector, then its id's file_path.
  std::optional<std::uint64_t> in_files;
  std::string seen = "an empty main DB";
  StepResult o = read_only("open: the first record", [&](MDB_txn* txn) {
    CursorGuard c;
    if (int rc = mdb_cursor_open(txn, dbi_, &c.cursor); rc != 0) return mdb_error(rc, "open: mdb_cursor_open");
    MDB_val key{}, value{};
    int rc = mdb_cursor_get(c.cursor, &key, &value, MDB_FIRST);
    if (rc == MDB_NOTFOUND) return StepResult::ok();
    if (rc != 0) return mdb_error(rc, "open: mdb_cursor_get(MDB_FIRST)");
    if (key.mv_size != sizeof(std::uint64_t)) {
      seen = fmt::format("a first key of {} bytes, not 8", key.mv_size);
      return StepResult::ok();
    }
    std::uint64_t id = 0;
    std::memcpy(&id, key.mv_data, sizeof id);
    std::size_t path = kit::file_path_for(id).size();
    seen = fmt::format("a first record (id {}) of {} bytes", id, value.mv_size);
    if (value.mv_size > path && (value.mv_size - path) % sizeof(float) == 0) in_files = (value.mv_size - path) / sizeof(float);
    rc = mdb_cursor_get(c.cursor, &key, &value, MDB_LAST);
    if (rc != 0) return mdb_error(rc, "open: mdb_cursor_get(MDB_LAST)");
    if (key.mv_size == sizeof(std::uint64_t)) {
      std::memcpy(&id, key.mv_data, sizeof id);
      std::lock_guard lock(ids_mu_);
      reserved_ids_ = std::max(reserved_ids_, id + 1);
    }
    return StepResult::ok();
  });
  if (!o.is_ok) return o;
  std::optional<std::uint64_t> given = import_dim_->given;
  if (given && in_files && *given != *in_files)
    return StepResult::error("invalid-argument",
                             fmt::format("import: dim = {}, but data.mdb's first record says {} ({})", *given, *in_files, seen));
  if (in_files) records_.set_dim(static_cast<std::uint32_t>(*in_files));
  context_.log(in_files ? fmt::format("the imported env's first record says dim {}", *in_files)
                        : fmt::format("the imported env says no dimension ({}): dim {}", seen, records_.dim()));
  import_dim_.reset();
  return StepResult::ok();
}

}  // namespace crashgate::lmdb_driver
