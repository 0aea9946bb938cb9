#include "errors.h"

#include <lmdb.h>

#include <cerrno>

#include <fmt/format.h>

namespace crashgate::lmdb_driver {

std::string_view code_of(int rc) {
  switch (rc) {
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_BAD_TXN:
    case MDB_INCOMPATIBLE:
    case MDB_BAD_DBI:
      return "corrupt";
    case MDB_MAP_FULL:
    case MDB_READERS_FULL:
    case MDB_TXN_FULL:
    case MDB_CURSOR_FULL:
    case MDB_PAGE_FULL:
    case MDB_DBS_FULL:
    case MDB_TLS_FULL:
    case ENOMEM:
    case ENOSPC:
    case EMFILE:
    case ENFILE:
    case EFBIG:
      return "resource-exhausted";
    case MDB_NOTFOUND:
    case ENOENT:
      return "not-found";
    case EAGAIN:
    case EBUSY:
    case MDB_MAP_RESIZED:
      return "busy";
    case MDB_BAD_VALSIZE:
    case MDB_KEYEXIST:
      return "invalid-argument";
    default:
      return "io";  // MDB_PANIC, EIO, EISDIR, ESPIPE, EINVAL from a syscall, ...
  }
}

kit::StepResult mdb_error(int rc, std::string_view doing) {
  // mdb_strerror names LMDB's own codes ("MDB_INVALID: File is not an LMDB file") and is strerror for an errno.
  std::string what = mdb_strerror(rc);
  if (rc > 0) what = fmt::format("{} (errno {})", what, rc);
  return kit::StepResult::error(std::string(code_of(rc)), fmt::format("{}: {}", doing, what));
}

}  // namespace crashgate::lmdb_driver
