#include "storage/format.h"

#include <xxhash.h>

#include <fmt/format.h>

namespace vstore::internal {

namespace {
constexpr char kMagics[][9] = {"", "VSVECTOR", "VSATTRS\0", "VSIDS\0\0\0", "VSGRAPH\0", "VSGUPPER"};

std::string printable_magic(const char* m) {
  std::string out;
  for (int i = 0; i < 8; ++i) {
    unsigned char c = static_cast<unsigned char>(m[i]);
    out += (c >= 32 && c < 127) ? std::string(1, static_cast<char>(c)) : fmt::format("\\x{:02x}", c);
  }
  return out;
}
}  // namespace

uint64_t checksum64(const void* data, size_t n, uint64_t seed) { return XXH3_64bits_withSeed(data, n, seed); }

std::string_view file_kind_name(FileKind kind) {
  switch (kind) {
    case FileKind::vectors: return "vectors";
    case FileKind::attrs: return "attrs";
    case FileKind::ids: return "ids";
    case FileKind::graph: return "graph";
    case FileKind::graph_upper: return "graph-upper";
  }
  return "unknown";
}

std::string data_file_name(FileKind kind, uint64_t generation) {
  return fmt::format("{}-{:06}.bin", file_kind_name(kind), generation);
}

FileHeader make_file_header(FileKind kind, const StoreIdentity& id, uint64_t record_size, uint64_t capacity) {
  FileHeader h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.magic, kMagics[static_cast<uint32_t>(kind)], 8);
  h.version = kFormatVersion;
  h.kind = static_cast<uint32_t>(kind);
  std::memcpy(h.store_uuid, id.uuid, 16);
  h.generation = id.generation;
  h.dim = id.dim;
  h.metric = id.metric;
  h.record_size = record_size;
  h.capacity = capacity;
  h.checksum = checksum64(&h, offsetof(FileHeader, checksum));
  return h;
}

Status check_file_header(const uint8_t* bytes, uint64_t file_size, std::string_view name, FileKind kind,
                         const StoreIdentity& expected, FileHeader* out) {
  if (file_size < kDataStart)
    return Status::Corrupt(fmt::format("{}: the file is {} bytes, shorter than its {}-byte header page", name, file_size, kDataStart));
  FileHeader h;
  std::memcpy(&h, bytes, sizeof h);
  const char* want = kMagics[static_cast<uint32_t>(kind)];
  if (std::memcmp(h.magic, want, 8) != 0) {
    bool zero = true;
    for (char c : h.magic) zero &= c == 0;
    return Status::Corrupt(fmt::format("{}: offset 0: magic is '{}', expected '{}'{}", name, printable_magic(h.magic),
                                       printable_magic(want), zero ? " (zero-filled)" : " (not a vstore " + std::string(file_kind_name(kind)) + " file)"));
  }
  uint64_t sum = checksum64(&h, offsetof(FileHeader, checksum));
  if (sum != h.checksum)
    return Status::Corrupt(fmt::format("{}: offset {}: header checksum is {:#018x}, the header's bytes give {:#018x}", name,
                                       offsetof(FileHeader, checksum), h.checksum, sum));
  if (h.version != kFormatVersion)
    return Status::Corrupt(fmt::format("{}: offset {}: format version {}, this build reads version {}", name, offsetof(FileHeader, version), h.version, kFormatVersion));
  if (h.kind != static_cast<uint32_t>(kind))
    return Status::Corrupt(fmt::format("{}: offset {}: file kind {}, expected {}", name, offsetof(FileHeader, kind), h.kind, static_cast<uint32_t>(kind)));
  if (std::memcmp(h.store_uuid, expected.uuid, 16) != 0)
    return Status::Corrupt(fmt::format("{}: offset {}: the file belongs to another store (its store id differs from MANIFEST's)", name, offsetof(FileHeader, store_uuid)));
  if (h.generation != expected.generation)
    return Status::Corrupt(fmt::format("{}: offset {}: generation {}, MANIFEST commits generation {}", name, offsetof(FileHeader, generation), h.generation, expected.generation));
  if (h.dim != expected.dim)
    return Status::Corrupt(fmt::format("{}: offset {}: dimension {}, MANIFEST says {}", name, offsetof(FileHeader, dim), h.dim, expected.dim));
  if (h.metric != expected.metric)
    return Status::Corrupt(fmt::format("{}: offset {}: metric {}, MANIFEST says {}", name, offsetof(FileHeader, metric), h.metric, expected.metric));
  *out = h;
  return Status::Ok();
}

uint64_t slot_checksum(uint64_t id, uint64_t attr_offset, uint32_t attr_len, const void* vector, size_t vector_bytes,
                       const void* attrs, size_t attr_bytes) {
  uint64_t seed = id ^ (attr_offset * 0x9E3779B97F4A7C15ull) ^ (uint64_t{attr_len} << 32 | 0x5107);
  uint64_t h = XXH3_64bits_withSeed(vector, vector_bytes, seed);
  return XXH3_64bits_withSeed(attrs, attr_bytes, h);
}

namespace {
void put_u32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }
bool get_u32(const uint8_t* p, uint32_t len, uint32_t* pos, uint32_t* v) {
  if (len < 4 || *pos > len - 4) return false;
  std::memcpy(v, p + *pos, 4);
  *pos += 4;
  return true;
}
}  // namespace

Status check_attributes(const std::vector<Attribute>& attrs) {
  if (attrs.size() > kMaxAttributes)
    return Status::Invalid(fmt::format("{} attributes, at most {} are allowed", attrs.size(), kMaxAttributes));
  uint64_t total = 4;
  for (const Attribute& a : attrs) {
    if (a.key.empty()) return Status::Invalid("an attribute key is empty");
    if (a.key.size() > kMaxAttributeKey)
      return Status::Invalid(fmt::format("attribute key of {} bytes, at most {} are allowed", a.key.size(), kMaxAttributeKey));
    total += 8 + a.key.size() + a.value.size();
  }
  if (total > kMaxAttributeBlob)
    return Status::Invalid(fmt::format("attributes take {} bytes, at most {} are allowed per record", total, kMaxAttributeBlob));
  return Status::Ok();
}

uint32_t append_attributes(const std::vector<Attribute>& attrs, std::string* out) {
  size_t start = out->size();
  put_u32(out, static_cast<uint32_t>(attrs.size()));
  for (const Attribute& a : attrs) {
    put_u32(out, static_cast<uint32_t>(a.key.size()));
    put_u32(out, static_cast<uint32_t>(a.value.size()));
    *out += a.key;
    *out += a.value;
  }
  return static_cast<uint32_t>(out->size() - start);
}

std::string encode_attributes(const std::vector<Attribute>& attrs) {
  std::string out;
  append_attributes(attrs, &out);
  return out;
}

Status decode_attributes(const uint8_t* blob, uint32_t len, std::vector<Attribute>* out, std::string_view where) {
  out->clear();
  uint32_t pos = 0, count = 0;
  if (!get_u32(blob, len, &pos, &count) || count > kMaxAttributes)
    return Status::Corrupt(fmt::format("{}: attribute count missing or above {}", where, kMaxAttributes));
  out->reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t klen = 0, vlen = 0;
    if (!get_u32(blob, len, &pos, &klen) || !get_u32(blob, len, &pos, &vlen) || klen > len - pos || vlen > len - pos - klen)
      return Status::Corrupt(fmt::format("{}: attribute {} of {} runs past the blob's {} bytes", where, i, count, len));
    Attribute a;
    a.key.assign(reinterpret_cast<const char*>(blob + pos), klen);
    a.value.assign(reinterpret_cast<const char*>(blob + pos + klen), vlen);
    pos += klen + vlen;
    out->push_back(std::move(a));
  }
  if (pos != len) return Status::Corrupt(fmt::format("{}: {} stray bytes after the attributes", where, len - pos));
  return Status::Ok();
}

std::optional<std::string_view> find_attribute(const uint8_t* blob, uint32_t len, std::string_view key) {
  uint32_t pos = 0, count = 0;
  if (!get_u32(blob, len, &pos, &count)) return std::nullopt;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t klen = 0, vlen = 0;
    if (!get_u32(blob, len, &pos, &klen) || !get_u32(blob, len, &pos, &vlen) || klen > len - pos || vlen > len - pos - klen)
      return std::nullopt;
    std::string_view k(reinterpret_cast<const char*>(blob + pos), klen);
    if (k == key) return std::string_view(reinterpret_cast<const char*>(blob + pos + klen), vlen);
    pos += klen + vlen;
  }
  return std::nullopt;
}

}  // namespace vstore::internal
