// The op table (scenario_ops.h): each op's keys with their types. Add an op
// or a key here and the parser checks it, `crashgate ops` prints it, the
// driver kit types it, and the driver-protocol doc test asks for its row.
#include "crashgate/scenario_ops.h"

#include <array>
#include <string>

#include <fmt/format.h>

#include "crashgate/limits.h"

namespace crashgate {
namespace {

using T = ValueType;

constexpr std::array kValueTypes = {
#define CRASHGATE_VALUE_TYPE_INFO(id, name, meaning) ValueTypeInfo{ValueType::id, name, meaning},
    CRASHGATE_VALUE_TYPES(CRASHGATE_VALUE_TYPE_INFO)
#undef CRASHGATE_VALUE_TYPE_INFO
};

constexpr std::uint64_t kMiB = 1024 * 1024;

constexpr KeySpec kCreate[] = {
    {.name = "dim", .type = T::u64, .min = 1, .max = 1 << 20, .meaning = "vector dimension (default 64)"},
    {.name = "vectors", .type = T::u64, .meaning = "records added and synced at once (default 0)"},
    {.name = "metric", .type = T::enumeration, .meaning = "distance metric (default the engine's first)"},
    {.name = "seed", .type = T::u64, .meaning = "seed of the records' vectors (default the cell's)"},
    {.name = "store", .type = T::string, .meaning = "the store's directory under the work directory"},
    {.name = "hnsw", .type = T::boolean, .meaning = "false: no index"},
    {.name = "m", .type = T::u64, .min = 2, .max = 1024, .meaning = "HNSW links per node"},
    {.name = "ef_construction", .type = T::u64, .min = 1, .max = 1 << 20, .meaning = "HNSW build beam width"},
    {.name = "variant", .type = T::enumeration,
     .meaning = "how the engine is set up for the store, e.g. LMDB's writemap (MDB_WRITEMAP); default: default",
     .default_values = "default"},
};
// What the imported files do not say; a driver that reads dim or metric from them checks a given key against them.
constexpr KeySpec kImport[] = {
    {.name = "from", .type = T::path, .required = true, .meaning = "the directory whose regular files become the store (only read)"},
    {.name = "dim", .type = T::u64, .min = 1, .max = 1 << 20, .meaning = "vector dimension, when the files do not say it"},
    {.name = "metric", .type = T::enumeration, .meaning = "distance metric, when the files do not say it"},
    {.name = "store", .type = T::string, .meaning = "the store's directory under the work directory"},
};
constexpr KeySpec kAdd[] = {
    {.name = "vectors", .type = T::u64, .meaning = "how many new records (default 100)"},
    {.name = "ids", .type = T::u64_list, .meaning = "these ids instead"},
    {.name = "metadata", .type = T::table, .meaning = "attributes added to every record"},
    {.name = "seed", .type = T::u64, .meaning = "seed of the vectors"},
};
constexpr KeySpec kSearch[] = {
    {.name = "queries", .type = T::u64, .meaning = "how many queries (default 10)"},
    {.name = "k", .type = T::u64, .min = 1, .max = 1 << 20, .meaning = "neighbours per query (default 10)"},
    {.name = "ef", .type = T::u64, .min = 1, .max = 1 << 20, .meaning = "search beam width"},
    {.name = "filter", .type = T::string, .meaning = "keep only hits matching this filter"},
    {.name = "min_recall", .type = T::real, .max = 1, .meaning = "the lowest recall@k allowed against the kit's exact search"},
};
constexpr KeySpec kRemove[] = {
    {.name = "ids", .type = T::u64_list, .meaning = "the ids to remove"},
    {.name = "count", .type = T::u64, .meaning = "or this many random live records (default 1)"},
};
constexpr KeySpec kCount[] = {
    {.name = "equals", .type = T::u64, .meaning = "the count it must be"},
};
constexpr KeySpec kDelete[] = {
    {.name = "filter", .type = T::string, .required = true, .meaning = "the filter; %i and %m number each clause"},
    {.name = "clauses", .type = T::u64, .min = 1, .meaning = "copies of the filter joined, or the depth of a shape"},
    {.name = "shape", .type = T::enumeration, .values = "or and nested not in not-in and-or", .meaning = "how the clauses are joined (default or)"},
    {.name = "field", .type = T::string, .meaning = "the field of an `in` shape (default file_path)"},
};
constexpr KeySpec kGet[] = {
    {.name = "ids", .type = T::u64_list, .required = true, .meaning = "the ids to read"},
};
constexpr KeySpec kTruncate[] = {
    {.name = "file", .type = T::enumeration, .required = true, .meaning = "which of the engine's files"},
    {.name = "to", .type = T::offset, .required = true, .meaning = "the new length"},
    {.name = "while_open", .type = T::boolean, .meaning = "cut it while the store is open (an outside process)"},
};
constexpr KeySpec kCorrupt[] = {
    {.name = "file", .type = T::enumeration, .required = true, .meaning = "which of the engine's files"},
    {.name = "at", .type = T::offset, .required = true, .meaning = "where"},
    {.name = "bytes", .type = T::u64, .min = 1, .max = 64 * kMiB, .meaning = "how many bytes (default 1)"},
    {.name = "value", .type = T::fill, .meaning = "what is written (default flip)"},
    {.name = "while_open", .type = T::boolean, .meaning = "write while the store is open"},
    {.name = "rechecksum", .type = T::boolean, .meaning = "make the header's checksums agree again"},
};
constexpr KeySpec kReplace[] = {
    {.name = "file", .type = T::enumeration, .required = true, .meaning = "which of the engine's files"},
    {.name = "with", .type = T::enumeration, .required = true, .meaning = "what takes its place"},
};
constexpr KeySpec kRead[] = {
    {.name = "what", .type = T::enumeration, .required = true, .meaning = "the way of reading"},
};
constexpr KeySpec kAppendEmptySlots[] = {
    {.name = "slots", .type = T::u64, .required = true, .min = 1, .meaning = "empty slots appended"},
};
constexpr KeySpec kFailpoints[] = {
    {.name = "spec", .type = T::string, .required = true, .meaning = "fail(9) syntax: name=1*error(ENOSPC)"},
};
constexpr KeySpec kSpawnWorkload[] = {
    {.name = "workload", .type = T::enumeration, .required = true, .meaning = "what the threads do"},
    {.name = "threads", .type = T::u64, .min = 1, .max = 256, .meaning = "how many (default 2)"},
    {.name = "duration", .type = T::duration, .max = 3'600'000, .meaning = "how long (default 500ms)"},
    {.name = "stack", .type = T::size, .min = 16 * 1024, .max = 1024 * kMiB, .meaning = "each thread's stack (default the cell's worker stack)"},
};
constexpr KeySpec kSecondProcess[] = {
    {.name = "action", .type = T::enumeration, .required = true, .meaning = "what the second process does"},
    {.name = "args", .type = T::table, .meaning = "the action's arguments"},
};
constexpr KeySpec kVerify[] = {
    {.name = "acknowledged", .type = T::table,
     .meaning = "after a crash: the records it must keep, may keep and must not bring back (crashgate crash-check sets it)"},
};
constexpr KeySpec kSleep[] = {
    {.name = "duration", .type = T::duration, .required = true, .max = 3'600'000, .meaning = "how long"},
};

constexpr KeySpec kCommonKeys[] = {
    {.name = "name", .type = T::string, .meaning = "a label"},
    {.name = "expect", .type = T::string, .meaning = "the step's own end: ok, error or error:CODE, or alternatives joined by |"},
};

constexpr OpSpec kOps[] = {
    {"create", kCreate, false, "create a store with `vectors` records of `dim` (hnsw = false: no index; m, ef_construction)"},
    {"import", kImport, false, "make a copy of `from`'s files the store, closed: the next store op opens it; the record model is empty"},
    {"add", kAdd, true, "add records (with metadata) to the store"},
    {"search", kSearch, true, "run `queries` k-NN searches, optionally filtered; every hit a live record, nearest first; recall measured"},
    {"remove", kRemove, true, "remove records by id (or `count` random ones)"},
    {"count", kCount, true, "count the records; `equals` checks the result"},
    {"delete", kDelete, true, "delete_where(filter); `clauses` copies OR-ed, or shaped: and, nested, not, in, not-in, and-or"},
    {"compact", {}, true, "compact the store (rewrites and remaps files)"},
    {"sync", {}, true, "flush everything to disk"},
    {"reopen", {}, false, "close and open the store again"},
    {"get", kGet, true, "read the records with these ids (any error ends the step)"},
    {"verify", kVerify, true, "every record added and not removed is there and exact; nothing torn; count agrees"},
    {"truncate", kTruncate, false, "truncate a store file to an offset expression"},
    {"corrupt", kCorrupt, false, "overwrite `bytes` bytes of a store file at an offset expression"},
    {"replace", kReplace, false, "replace a store file by something else (a directory, an empty file, a fifo, ...)"},
    {"read", kRead, false, "open the store and read it one way (open, count, get, search, scan, fsck, ...)"},
    {"append-empty-slots", kAppendEmptySlots, true, "grow the store by `slots` empty slots on a sparse file (a huge store, unwritten)"},
    {"fsck", {}, false, "close the store and check every file; problems are a corrupt error"},
    {"failpoints", kFailpoints, false, "set failpoints (fail(9) syntax, e.g. name=1*error(ENOSPC))"},
    {"spawn-workload", kSpawnWorkload, true, "start concurrent threads running `workload`"},
    {"second-process", kSecondProcess, false, "run `action` in a second process on the same store"},
    {"join", {}, false, "wait for spawned workloads and second processes; an error if any failed"},
    {"sleep", kSleep, false, "sleep for `duration`"},
};

}  // namespace

std::span<const ValueTypeInfo> value_types() { return kValueTypes; }

std::string_view to_string(ValueType type) { return kValueTypes[static_cast<std::size_t>(type)].name; }

const KeySpec* OpSpec::key(std::string_view key_name) const {
  for (const auto& k : keys)
    if (k.name == key_name) return &k;
  return nullptr;
}

std::span<const OpSpec> scenario_ops() { return kOps; }

const OpSpec* find_op(std::string_view name) {
  for (const auto& op : kOps)
    if (op.name == name) return &op;
  return nullptr;
}

std::span<const KeySpec> common_step_keys() { return kCommonKeys; }

std::vector<std::string> KeySpec::driver_defaults() const {
  std::vector<std::string> out;
  if (engine_values())
    for (auto v : op_keys(default_values)) out.emplace_back(v);
  return out;
}

std::vector<std::string_view> op_keys(std::string_view text) {
  std::vector<std::string_view> keys;
  while (!text.empty()) {
    auto space = text.find(' ');
    if (space != 0) keys.push_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return keys;
}

std::string op_key_names(const OpSpec& op) {
  std::string out;
  for (const auto& k : op.keys) out += (out.empty() ? "" : ", ") + std::string(k.name);
  for (const auto& k : kCommonKeys) out += (out.empty() ? "" : ", ") + std::string(k.name);
  return out;
}

std::string key_type_text(const KeySpec& key) {
  std::string out(to_string(key.type));
  if (key.type == ValueType::enumeration) {
    if (key.engine_values()) return out + " (the engine's values: DRIVER --list ops)";
    std::string values;
    for (auto v : op_keys(key.values)) values += (values.empty() ? "" : ", ") + std::string(v);
    return out + ": " + values;
  }
  if (key.min == 0 && key.max == kNoMax) return out;
  auto show = [&](std::uint64_t n) {
    if (key.type == ValueType::size) return format_size(n);
    if (key.type == ValueType::duration) return format_duration(std::chrono::milliseconds(n));
    return std::to_string(n);
  };
  if (key.max == kNoMax) return fmt::format("{} (at least {})", out, show(key.min));
  return fmt::format("{} ({} to {})", out, show(key.min), show(key.max));
}

namespace {

// Text for a Markdown table cell: a | would end the cell.
std::string md_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string op_table_markdown() {
  std::string out = "| op / key | type | | meaning |\n|---|---|---|---|\n";
  for (const auto& op : kOps) {
    out += fmt::format("| **`{}`** | | {} | {} |\n", op.name, op.needs_store ? "opens the store" : "", md_cell(op.summary));
    for (const auto& key : op.keys)
      out += fmt::format("| `{}` | {} | {} | {} |\n", key.name, key_type_text(key), key.required ? "required" : "optional",
                         md_cell(key.meaning));
  }
  out += "| *every op* | | | |\n";
  for (const auto& key : kCommonKeys)
    out += fmt::format("| `{}` | {} | optional | {} |\n", key.name, key_type_text(key), md_cell(key.meaning));
  return out;
}

}  // namespace crashgate
