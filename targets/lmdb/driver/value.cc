#include "value.h"

#include <algorithm>
#include <cstring>

namespace crashgate::lmdb_driver {

std::string encode_value(const kit::RecordData& record) {
  std::string out(record.vector.size() * sizeof(float) + record.file_path.size(), '\0');
  std::memcpy(out.data(), record.vector.data(), record.vector.size() * sizeof(float));
  std::memcpy(out.data() + record.vector.size() * sizeof(float), record.file_path.data(), record.file_path.size());
  return out;
}

kit::Found decode_value(const MDB_val& value, std::uint32_t dim) {
  kit::Found found;
  std::size_t vector_bytes = std::min<std::size_t>(value.mv_size, std::size_t{dim} * sizeof(float));
  found.vector.resize(vector_bytes / sizeof(float));
  std::memcpy(found.vector.data(), value.mv_data, found.vector.size() * sizeof(float));
  const char* bytes = static_cast<const char*>(value.mv_data);
  found.file_path = std::string(bytes + vector_bytes, value.mv_size - vector_bytes);
  return found;
}

std::size_t value_size(std::uint64_t id, std::uint32_t dim) {
  return std::size_t{dim} * sizeof(float) + kit::file_path_for(id).size();
}

}  // namespace crashgate::lmdb_driver
