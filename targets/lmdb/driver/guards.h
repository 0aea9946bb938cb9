// A transaction and a cursor that end when they go out of scope.
#pragma once

#include <lmdb.h>

namespace crashgate::lmdb_driver {

// Aborted when it goes out of scope, unless committed first.
struct TxnGuard {
  MDB_txn* txn = nullptr;
  TxnGuard() = default;
  TxnGuard(const TxnGuard&) = delete;
  TxnGuard& operator=(const TxnGuard&) = delete;
  ~TxnGuard() { abort(); }
  void abort() {
    if (txn) mdb_txn_abort(txn);
    txn = nullptr;
  }
  int commit() {
    MDB_txn* t = txn;
    txn = nullptr;
    return mdb_txn_commit(t);  // frees the transaction, whatever it returns
  }
};

// A cursor of a read-only transaction must be closed by hand before the transaction ends.
struct CursorGuard {
  MDB_cursor* cursor = nullptr;
  CursorGuard() = default;
  CursorGuard(const CursorGuard&) = delete;
  CursorGuard& operator=(const CursorGuard&) = delete;
  ~CursorGuard() {
    if (cursor) mdb_cursor_close(cursor);
  }
};

}  // namespace crashgate::lmdb_driver
