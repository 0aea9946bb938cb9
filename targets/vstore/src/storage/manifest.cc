#include "storage/manifest.h"

#include <cstddef>
#include <cstring>

#include <fmt/format.h>

#include "storage/bounds.h"
#include "vstore/record.h"

namespace vstore::internal {
namespace {

constexpr char kMagic[8] = {'V', 'S', 'M', 'A', 'N', 'I', 'F', 'S'};
constexpr uint64_t kMaxPendingRemoves = uint64_t{1} << 32;



Status field_error(const char* field, size_t offset, const std::string& what) {
  return Status::Corrupt(fmt::format("{}: offset {}: {}: {}", kManifestName, offset, field, what));
}

}  // namespace

Result<Manifest> read_manifest(Env* env, const std::string& dir) {
  std::string path = dir + "/" + kManifestName;
  VSTORE_ASSIGN_OR_RETURN(FileHandle fd, env->open(path, OpenMode::read_only, FailSite::manifest_read_open));
  VSTORE_ASSIGN_OR_RETURN(FileInfo info, env->stat(fd.fd(), kManifestName, FailSite::mapped_file_fstat));
  if (!info.regular) return Status::Corrupt(fmt::format("{}: not a regular file", path));
  if (info.size < sizeof(ManifestHeader) + 8)
    return Status::Corrupt(fmt::format("{}: the file is {} bytes, shorter than the {}-byte header and its list checksum",
                                       kManifestName, info.size, sizeof(ManifestHeader) + 8));
  ManifestHeader h;
  VSTORE_RETURN_IF_ERROR(env->read_at(fd.fd(), &h, sizeof h, 0, kManifestName, FailSite::manifest_read_pread));
  if (std::memcmp(h.magic, kMagic, 8) != 0) return field_error("magic", 0, "not 'VSMANIFS' (not a vstore MANIFEST)");
  uint64_t sum = checksum64(&h, offsetof(ManifestHeader, checksum));
  if (sum != h.checksum)
    return field_error("checksum", offsetof(ManifestHeader, checksum), fmt::format("{:#018x}, the header's bytes give {:#018x}", h.checksum, sum));
  if (h.version != kFormatVersion)
    return field_error("version", offsetof(ManifestHeader, version), fmt::format("{}, this build reads {}", h.version, kFormatVersion));
  if (h.header_size != sizeof(ManifestHeader))
    return field_error("header_size", offsetof(ManifestHeader, header_size), fmt::format("{}, expected {}", h.header_size, sizeof(ManifestHeader)));
  if (h.dim == 0 || h.dim > kMaxDim)
    return field_error("dim", offsetof(ManifestHeader, dim), fmt::format("{}, expected 1 to {}", h.dim, kMaxDim));
  Metric metric;
  if (h.metric < 1 || h.metric > 3 || !parse_metric(metric_name(static_cast<Metric>(h.metric)), &metric))
    return field_error("metric", offsetof(ManifestHeader, metric), fmt::format("{}, expected 1 (l2), 2 (ip) or 3 (cosine)", h.metric));
  if (h.slot_size != slot_size_for(h.dim))
    return field_error("slot_size", offsetof(ManifestHeader, slot_size), fmt::format("{}, dimension {} needs {}", h.slot_size, h.dim, slot_size_for(h.dim)));
  if (h.live_count > h.slot_count)
    return field_error("live_count", offsetof(ManifestHeader, live_count), fmt::format("{} exceeds slot_count {}", h.live_count, h.slot_count));
  uint64_t slots_end;
  if (!checked_mul_add(h.slot_count, h.slot_size, kDataStart, &slots_end))
    return field_error("slot_count", offsetof(ManifestHeader, slot_count), fmt::format("{} slots of {} bytes overflow 64 bits", h.slot_count, h.slot_size));
  if (h.pending_removes > kMaxPendingRemoves || h.pending_removes > h.slot_count)
    return field_error("pending_removes", offsetof(ManifestHeader, pending_removes), fmt::format("{} exceeds slot_count {}", h.pending_removes, h.slot_count));
  uint64_t expected_size = sizeof(ManifestHeader) + 8 * h.pending_removes + 8;
  if (info.size != expected_size)
    return Status::Corrupt(fmt::format("{}: the file is {} bytes; its header lists {} pending removals, so it should be {}",
                                       kManifestName, info.size, h.pending_removes, expected_size));
  Manifest m;
  std::memcpy(m.identity.uuid, h.store_uuid, 16);
  m.identity.generation = h.generation;
  m.identity.dim = h.dim;
  m.identity.metric = h.metric;
  m.commit_seq = h.commit_seq;
  m.slot_size = h.slot_size;
  m.slot_count = h.slot_count;
  m.live_count = h.live_count;
  m.attrs_bytes = h.attrs_bytes;
  m.graph_bytes = h.graph_bytes;
  // The list and its checksum follow the header: one read for both.
  m.pending_removes.resize(h.pending_removes + 1);
  VSTORE_RETURN_IF_ERROR(env->read_at(fd.fd(), m.pending_removes.data(), 8 * (h.pending_removes + 1), sizeof h, kManifestName, FailSite::manifest_read_pread));
  uint64_t list_sum = m.pending_removes.back();
  m.pending_removes.pop_back();
  uint64_t want = checksum64(m.pending_removes.data(), 8 * m.pending_removes.size(), h.checksum);
  if (list_sum != want)
    return Status::Corrupt(fmt::format("{}: offset {}: pending-removal list checksum {:#018x}, the list gives {:#018x}",
                                       kManifestName, sizeof h + 8 * h.pending_removes, list_sum, want));
  for (size_t i = 0; i < m.pending_removes.size(); ++i) {
    if (m.pending_removes[i] >= m.slot_count)
      return Status::Corrupt(fmt::format("{}: offset {}: pending removal of slot {}, beyond the {} committed slots", kManifestName,
                                         sizeof h + 8 * i, m.pending_removes[i], m.slot_count));
  }
  return m;
}

Status write_manifest(Env* env, const std::string& dir, const Manifest& m) {
  ManifestHeader h;
  std::memset(&h, 0, sizeof h);
  std::memcpy(h.magic, kMagic, 8);
  h.version = kFormatVersion;
  h.header_size = sizeof h;
  std::memcpy(h.store_uuid, m.identity.uuid, 16);
  h.generation = m.identity.generation;
  h.commit_seq = m.commit_seq;
  h.dim = m.identity.dim;
  h.metric = m.identity.metric;
  h.slot_size = m.slot_size;
  h.slot_count = m.slot_count;
  h.live_count = m.live_count;
  h.attrs_bytes = m.attrs_bytes;
  h.graph_bytes = m.graph_bytes;
  h.pending_removes = m.pending_removes.size();
  h.checksum = checksum64(&h, offsetof(ManifestHeader, checksum));
  std::string bytes(reinterpret_cast<const char*>(&h), sizeof h);
  bytes.append(reinterpret_cast<const char*>(m.pending_removes.data()), 8 * m.pending_removes.size());
  uint64_t list_sum = checksum64(m.pending_removes.data(), 8 * m.pending_removes.size(), h.checksum);
  bytes.append(reinterpret_cast<const char*>(&list_sum), 8);

  std::string tmp = dir + "/MANIFEST.tmp";
  std::string path = dir + "/" + kManifestName;
  {
    VSTORE_ASSIGN_OR_RETURN(FileHandle fd, env->open(tmp, OpenMode::create_truncate, FailSite::manifest_write_open));
    VSTORE_RETURN_IF_ERROR(env->write_at(fd.fd(), bytes.data(), bytes.size(), 0, "MANIFEST.tmp", FailSite::manifest_write_pwrite));
    VSTORE_RETURN_IF_ERROR(env->sync(fd.fd(), "MANIFEST.tmp", FailSite::manifest_write_fsync));
  }
  VSTORE_RETURN_IF_ERROR(env->rename(tmp, path, FailSite::manifest_write_rename));
  return env->sync_dir(dir, FailSite::manifest_write_fsync_dir);
}

}  // namespace vstore::internal
