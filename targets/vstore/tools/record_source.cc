#include "record_source.h"

#include <cmath>
#include <cstring>
#include <random>

#include <fmt/format.h>

namespace vstore::tool {

namespace {
Record make_record(uint64_t id) {
  Record r;
  r.id = id;
  r.attributes.push_back({"file_path", fmt::format("src/file_{}.py", id)});
  return r;
}
}  // namespace

Status generate_random(uint32_t dim, uint64_t n, uint64_t seed, uint64_t first_id, size_t batch_size, const BatchSink& sink) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::vector<Record> batch;
  for (uint64_t i = 0; i < n; ++i) {
    Record r = make_record(first_id + i);
    r.vector.resize(dim);
    for (float& v : r.vector) v = value(rng);
    batch.push_back(std::move(r));
    if (batch.size() == batch_size || i + 1 == n) {
      VSTORE_RETURN_IF_ERROR(sink(batch));
      batch.clear();
    }
  }
  return Status::Ok();
}

Status read_fvecs(const std::string& path, uint32_t dim, uint64_t first_id, size_t batch_size, const BatchSink& sink) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return status_from_errno(errno, fmt::format("open {}", path));
  std::vector<Record> batch;
  Status result = Status::Ok();
  uint64_t offset = 0;
  for (uint64_t i = 0;; ++i) {
    int32_t d = 0;
    size_t got = std::fread(&d, 1, 4, f);
    if (got == 0 && std::feof(f)) break;
    if (got != 4) {
      result = Status::Invalid(fmt::format("{}: offset {}: vector {} is cut short in its dimension field", path, offset, i));
      break;
    }
    if (d != static_cast<int32_t>(dim)) {
      result = Status::Invalid(fmt::format("{}: offset {}: vector {} has dimension {}, the store's is {}", path, offset, i, d, dim));
      break;
    }
    Record r = make_record(first_id + i);
    r.vector.resize(dim);
    if (std::fread(r.vector.data(), 4, dim, f) != dim) {
      result = Status::Invalid(fmt::format("{}: offset {}: vector {} is cut short (expected {} floats)", path, offset + 4, i, dim));
      break;
    }
    for (float v : r.vector) {
      if (!std::isfinite(v)) {
        result = Status::Invalid(fmt::format("{}: offset {}: vector {} holds a value that is not finite", path, offset + 4, i));
        break;
      }
    }
    if (!result.ok()) break;
    offset += 4 + 4ull * dim;
    batch.push_back(std::move(r));
    if (batch.size() == batch_size) {
      result = sink(batch);
      batch.clear();
      if (!result.ok()) break;
    }
  }
  std::fclose(f);
  if (result.ok() && !batch.empty()) result = sink(batch);
  return result;
}

}  // namespace vstore::tool
