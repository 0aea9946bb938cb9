// A record as LMDB holds it.
//
//   key    the record's id: 8 bytes, a native (little-endian on x86-64) u64;
//          the main DB is opened with MDB_INTEGERKEY, so LMDB orders keys as
//          numbers (mdb.c's mdb_cmp_cint, for keys of sizeof(size_t) bytes)
//   value  offset 0:         dim float32 values, native byte order (the vector)
//          offset dim * 4:   the file_path bytes, to the end of the value (no
//                            length, no terminator: the value's size says it)
//
// The dimension is not in the store: the driver knows it from `create` (the
// records model), so a value of another size is a record of another store.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <string>

#include "crashgate/driver_records.h"

namespace crashgate::lmdb_driver {

// The value bytes of a record.
std::string encode_value(const kit::RecordData& record);

// What a value holds, read with the model's dimension: the first dim floats
// (fewer when the value is shorter) and the bytes after them as file_path.
kit::Found decode_value(const MDB_val& value, std::uint32_t dim);

// The size the value of record `id` must have in a store of `dim`.
std::size_t value_size(std::uint64_t id, std::uint32_t dim);

// The key of an id (points into `id`: keep it alive while the MDB_val is used).
inline MDB_val key_of(std::uint64_t& id) { return MDB_val{sizeof id, &id}; }

}  // namespace crashgate::lmdb_driver
