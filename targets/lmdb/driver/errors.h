// LMDB's return codes as step errors (reports/driver-protocol.md's codes).
#pragma once

#include <string_view>

#include "crashgate/driver_kit.h"

namespace crashgate::lmdb_driver {

// The protocol's code for an LMDB return code (an MDB_* code or an errno):
//   corrupt             MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_INVALID, MDB_VERSION_MISMATCH,
//                       MDB_BAD_TXN, MDB_INCOMPATIBLE, MDB_BAD_DBI (the file says something LMDB refuses)
//   resource-exhausted  MDB_MAP_FULL, MDB_READERS_FULL, MDB_TXN_FULL, MDB_CURSOR_FULL, MDB_PAGE_FULL,
//                       MDB_DBS_FULL, MDB_TLS_FULL, ENOMEM, ENOSPC, EMFILE, ENFILE, EFBIG
//   not-found           MDB_NOTFOUND, ENOENT (a lookup that found nothing, a file that is not there)
//   busy                EAGAIN, EBUSY, MDB_MAP_RESIZED (another process holds the lock or grew the map)
//   invalid-argument    MDB_BAD_VALSIZE, MDB_KEYEXIST (what the driver asked is wrong)
//   io                  MDB_PANIC (a write of the meta page failed earlier) and every other errno
std::string_view code_of(int rc);

// A step error: the code of `rc`, and "DOING: mdb_strerror(rc)".
kit::StepResult mdb_error(int rc, std::string_view doing);

}  // namespace crashgate::lmdb_driver
