// vstore/testing.h: the test-only view of a store's files.
#include "vstore/testing.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "index/graph_format.h"
#include "storage/format.h"
#include "storage/manifest.h"
#include "storage/store_impl.h"

namespace vstore {

// Store's friend: the only way from the public class to its internals.
struct TestingAccess {
  static internal::StoreImpl& impl(Store& store) { return *store.impl_; }
};

namespace testing {
namespace {

namespace fs = std::filesystem;
using internal::FileHeader;
using internal::GraphParams;
using internal::GraphState;
using internal::ManifestHeader;

#define VSTORE_FIELD(type, member, name, meaning) \
  HeaderField { name, offsetof(type, member), sizeof(type::member), meaning }

std::vector<HeaderField> data_header_fields() {
  return {
      VSTORE_FIELD(FileHeader, magic, "magic", "the file kind's magic string"),
      VSTORE_FIELD(FileHeader, version, "version", "format version"),
      VSTORE_FIELD(FileHeader, kind, "kind", "file kind: 1 vectors, 2 attrs, 3 ids, 4 graph, 5 upper"),
      VSTORE_FIELD(FileHeader, store_uuid, "store_uuid", "the store's identity, the same in every file"),
      VSTORE_FIELD(FileHeader, generation, "generation", "the generation the file belongs to"),
      VSTORE_FIELD(FileHeader, dim, "dim", "vector dimension"),
      VSTORE_FIELD(FileHeader, metric, "metric", "distance metric"),
      VSTORE_FIELD(FileHeader, record_size, "record_size", "vectors: slot size; ids: bucket size; graph: node size; else 0"),
      VSTORE_FIELD(FileHeader, capacity, "capacity", "ids: bucket count; else 0"),
      VSTORE_FIELD(FileHeader, reserved, "reserved", "zero"),
      VSTORE_FIELD(FileHeader, checksum, "checksum", "XXH3 of every header byte before it"),
  };
}

std::vector<HeaderField> graph_header_fields() {
  auto fields = data_header_fields();
  auto add = [&](std::string name, uint64_t offset, uint64_t width, std::string meaning) {
    fields.push_back({std::move(name), offset, width, std::move(meaning)});
  };
  const uint64_t p = internal::kParamsOffset;
  add("params.m", p + offsetof(GraphParams, m), 4, "links per upper level");
  add("params.m0", p + offsetof(GraphParams, m0), 4, "links at level 0 (2 m)");
  add("params.ef_construction", p + offsetof(GraphParams, ef_construction), 4, "build beam width");
  add("params.max_level", p + offsetof(GraphParams, max_level), 4, "highest level a node may have");
  add("params.node_size", p + offsetof(GraphParams, node_size), 8, "bytes of one node record");
  add("params.upper_block_size", p + offsetof(GraphParams, upper_block_size), 8, "bytes of one upper-level link block");
  add("params.checksum", p + offsetof(GraphParams, checksum), 8, "checksum of the params");
  for (int slot = 0; slot < 2; ++slot) {
    const uint64_t s = internal::kStateOffset + slot * sizeof(GraphState);
    std::string at = fmt::format("state{}.", slot);
    add(at + "commit_seq", s + offsetof(GraphState, commit_seq), 8, "the commit this state belongs to");
    add(at + "node_count", s + offsetof(GraphState, node_count), 8, "committed nodes (MANIFEST's slot count)");
    add(at + "upper_blocks", s + offsetof(GraphState, upper_blocks), 8, "committed blocks of the upper file");
    add(at + "entry", s + offsetof(GraphState, entry), 4, "entry node, or 2^32-1 when empty");
    add(at + "max_level", s + offsetof(GraphState, max_level), 4, "the entry's level");
    add(at + "checksum", s + offsetof(GraphState, checksum), 8, "checksum of the state");
  }
  add("dirty", internal::kDirtyOffset, 4, "non-zero: links changed since the last commit (rebuilt at a writer's open)");
  return fields;
}

std::vector<HeaderField> manifest_fields() {
  return {
      VSTORE_FIELD(ManifestHeader, magic, "magic", "MANIFEST's magic string"),
      VSTORE_FIELD(ManifestHeader, version, "version", "format version"),
      VSTORE_FIELD(ManifestHeader, header_size, "header_size", "bytes of this header"),
      VSTORE_FIELD(ManifestHeader, store_uuid, "store_uuid", "the store's identity"),
      VSTORE_FIELD(ManifestHeader, generation, "generation", "the current generation: which files are live"),
      VSTORE_FIELD(ManifestHeader, commit_seq, "commit_seq", "commits so far"),
      VSTORE_FIELD(ManifestHeader, dim, "dim", "vector dimension"),
      VSTORE_FIELD(ManifestHeader, metric, "metric", "distance metric"),
      VSTORE_FIELD(ManifestHeader, slot_size, "slot_size", "bytes of one vectors slot"),
      VSTORE_FIELD(ManifestHeader, slot_count, "slot_count", "committed slots, live or not"),
      VSTORE_FIELD(ManifestHeader, live_count, "live_count", "committed live records"),
      VSTORE_FIELD(ManifestHeader, attrs_bytes, "attrs_bytes", "committed bytes of the attrs payload"),
      VSTORE_FIELD(ManifestHeader, graph_bytes, "graph_bytes", "committed bytes of the graph file (0: no index)"),
      VSTORE_FIELD(ManifestHeader, pending_removes, "pending_removes", "slot numbers after the header still to be tombstoned"),
      VSTORE_FIELD(ManifestHeader, reserved, "reserved", "zero"),
      VSTORE_FIELD(ManifestHeader, checksum, "checksum", "checksum of every header byte before it"),
  };
}

#undef VSTORE_FIELD

bool is_manifest(std::string_view file) { return file == "manifest"; }

// On-disk prefix of a data file kind.
std::string prefix_of(std::string_view file) { return file == "upper" ? "graph-upper" : std::string(file); }

}  // namespace

Status append_empty_slots(Store& store, uint64_t n) { return TestingAccess::impl(store).append_empty_slots_for_testing(n); }

internal::StoreImpl& impl(Store& store) { return TestingAccess::impl(store); }

const std::vector<FileLayout>& file_layouts() {
  static const std::vector<FileLayout> layouts = [] {
    const uint64_t page = internal::kDataStart;
    return std::vector<FileLayout>{
        {"vectors", "vectors-*.bin", page, "one slot per record: SlotHeader {state, attr_len, id, attr_offset, checksum}, then the vector",
         data_header_fields(), page, "record_size"},
        {"attrs", "attrs-*.bin", page, "attribute blobs, appended; slots point into it", data_header_fields(), 0, ""},
        {"ids", "ids-*.bin", page, "the id table: open-addressed buckets of (id, slot)", data_header_fields(), page, "record_size"},
        {"graph", "graph-*.bin", page, "HNSW level 0: one node record per slot (NodeHead, then 2 M neighbour ids)",
         graph_header_fields(), page, "record_size"},
        {"upper", "graph-upper-*.bin", page, "HNSW levels 1 and up: link blocks {count, M ids}", data_header_fields(), 0, ""},
        {"manifest", "MANIFEST", sizeof(ManifestHeader), "the commit record: header, pending removals, their checksum",
         manifest_fields(), 0, ""},
    };
  }();
  return layouts;
}

Result<std::string> current_file(const std::string& dir, std::string_view file) {
  if (is_manifest(file)) return dir + "/" + internal::kManifestName;
  bool known = std::any_of(file_layouts().begin(), file_layouts().end(), [&](const FileLayout& l) { return l.file == file; });
  if (!known) return Status::Invalid(fmt::format("unknown store file '{}' (vectors, attrs, ids, graph, upper, manifest)", file));
  std::string prefix = prefix_of(file);
  // The newest generation's file: compaction leaves one generation behind it.
  std::string best;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    // PREFIX-<generation digits>.bin: "graph-" must not pick "graph-upper-000001.bin".
    if (name.rfind(prefix + "-", 0) != 0 || !name.ends_with(".bin")) continue;
    std::string generation = name.substr(prefix.size() + 1, name.size() - prefix.size() - 5);
    if (generation.empty() || !std::all_of(generation.begin(), generation.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    if (name > best) best = name;
  }
  if (ec) return Status::NotFound(fmt::format("{}: {}", dir, ec.message()));
  if (best.empty()) return Status::NotFound(fmt::format("{}: no {} file", dir, prefix));
  return dir + "/" + best;
}

Result<uint64_t> committed_end(const std::string& dir, std::string_view file) {
  VSTORE_ASSIGN_OR_RETURN(std::string path, current_file(dir, file));
  std::error_code ec;
  uint64_t size = fs::file_size(path, ec);
  if (ec) return Status::NotFound(fmt::format("{}: {}", path, ec.message()));
  Result<internal::Manifest> m = internal::read_manifest(default_env(), dir);
  if (!m.ok()) return size;
  if (file == "vectors") return internal::kDataStart + m->slot_count * m->slot_size;
  if (file == "attrs") return internal::kDataStart + m->attrs_bytes;
  return size;
}

Result<uint64_t> manifest_slot(const std::string& dir, std::string_view file, uint64_t n) {
  VSTORE_ASSIGN_OR_RETURN(std::string path, current_file(dir, file));
  Result<internal::Manifest> m = internal::read_manifest(default_env(), dir);
  if (!m.ok()) return Status::NotFound(fmt::format("slot({}) needs a readable MANIFEST: {}", n, m.status().message()));
  uint64_t slot_size = m->slot_size;
  // A graph's slots are its node records.
  if (file == "graph") {
    std::ifstream in(path, std::ios::binary);
    GraphParams params{};
    in.seekg(static_cast<std::streamoff>(internal::kParamsOffset));
    if (!in.read(reinterpret_cast<char*>(&params), sizeof params)) return Status::NotFound(fmt::format("{}: no graph params", path));
    slot_size = params.node_size;
  }
  return internal::kDataStart + n * slot_size;
}

Status rechecksum_header(const std::string& path, std::string_view file) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  bool manifest = is_manifest(file);
  size_t header = manifest ? sizeof(ManifestHeader) : sizeof(FileHeader);
  std::vector<char> h(header);
  if (!f.read(h.data(), static_cast<std::streamsize>(header))) return Status::Io(fmt::format("rechecksum: cannot read {}'s header", path));
  size_t at = manifest ? offsetof(ManifestHeader, checksum) : offsetof(FileHeader, checksum);
  uint64_t sum = internal::checksum64(h.data(), at);
  f.seekp(static_cast<std::streamoff>(at));
  f.write(reinterpret_cast<const char*>(&sum), 8);
  if (manifest) {
    // The pending-removal list after the header is checksummed seeded by the header's checksum.
    uint64_t pending = 0;
    std::memcpy(&pending, h.data() + offsetof(ManifestHeader, pending_removes), 8);
    uint64_t size = fs::file_size(path);
    if (pending < (size - header) / 8) {
      std::vector<char> list(8 * pending);
      f.seekg(static_cast<std::streamoff>(header));
      f.read(list.data(), static_cast<std::streamsize>(list.size()));
      uint64_t list_sum = internal::checksum64(list.data(), list.size(), sum);
      f.seekp(static_cast<std::streamoff>(header + list.size()));
      f.write(reinterpret_cast<const char*>(&list_sum), 8);
    }
  }
  if (!f) return Status::Io(fmt::format("rechecksum: cannot write {}", path));
  return Status::Ok();
}

Status mark_graph_dirty(const std::string& dir) {
  VSTORE_ASSIGN_OR_RETURN(std::string graph, current_file(dir, "graph"));
  std::fstream g(graph, std::ios::in | std::ios::out | std::ios::binary);
  g.seekp(static_cast<std::streamoff>(internal::kDirtyOffset));
  g.put(1);
  if (!g) return Status::Io(fmt::format("cannot set the dirty mark of {}", graph));
  return Status::Ok();
}

}  // namespace testing
}  // namespace vstore
