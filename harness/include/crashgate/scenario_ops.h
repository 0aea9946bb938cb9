// The scenario step vocabulary, typed: every op with every key it takes, the
// key's type, whether it is required, and whether the op needs an open store.
// This one table drives the scenario parser's checks (scenario_parse.cc and
// step_values.h), `crashgate ops`, the driver kit's typed arguments and the op
// table in reports/driver-protocol.md (tested against it).
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace crashgate {

// X(id, name, what a value looks like)
#define CRASHGATE_VALUE_TYPES(X)                                                                        \
  X(u64, "u64", "a whole number from 0 (a TOML integer or a string of digits)")                          \
  X(i64, "i64", "a signed whole number")                                                                 \
  X(real, "float", "a number")                                                                           \
  X(boolean, "bool", "true or false")                                                                    \
  X(string, "string", "any text")                                                                        \
  X(path, "path", "a file or directory: absolute, or relative to the directory crashgate runs in")       \
  X(duration, "duration", "a time with its unit: \"100ms\", \"2s\", \"1m\"")                              \
  X(size, "size", "bytes: \"4096\", \"64KiB\", \"2MiB\"")                                                  \
  X(offset, "offset", "an offset expression: terms such as 0, header, end, field(NAME), slot(N), joined by + and -") \
  X(u64_list, "list of u64", "a list of whole numbers: [0, 7]")                                          \
  X(enumeration, "enum", "one of the values listed for the key")                                        \
  X(table, "table", "a TOML table, passed to the driver as it is")                                      \
  X(fill, "fill", "the bytes written: \"flip\", a byte 0-255, \"u32le:N\" or \"u64le:N\"")

enum class ValueType : std::uint8_t {
#define CRASHGATE_VALUE_TYPE_ENUM(id, name, meaning) id,
  CRASHGATE_VALUE_TYPES(CRASHGATE_VALUE_TYPE_ENUM)
#undef CRASHGATE_VALUE_TYPE_ENUM
};

struct ValueTypeInfo {
  ValueType type;
  std::string_view name;
  std::string_view meaning;
};
std::span<const ValueTypeInfo> value_types();
std::string_view to_string(ValueType type);

inline constexpr std::uint64_t kNoMax = std::numeric_limits<std::uint64_t>::max();

struct KeySpec {
  std::string_view name;
  ValueType type = ValueType::string;
  bool required = false;
  // enumeration: the allowed values, space-separated. Empty: the values are
  // the engine's, and its driver lists them (`DRIVER --list ops`).
  std::string_view values = {};
  // u64, list items, size (bytes) and duration (milliseconds): the range allowed.
  std::uint64_t min = 0;
  std::uint64_t max = kNoMax;
  std::string_view meaning = {};
  // Engine values only: what a driver that lists none takes (space-separated),
  // so a key most engines have one value for needs no line in every driver.
  // Empty: every driver that handles the op must list its values.
  std::string_view default_values = {};
  bool engine_values() const { return type == ValueType::enumeration && values.empty(); }
  // The values a driver that lists none for this key takes: default_values
  // as words (empty when the key has none, or is not an engine-values key).
  std::vector<std::string> driver_defaults() const;
};

struct OpSpec {
  std::string_view name;
  std::span<const KeySpec> keys;
  bool needs_store = false;  // the driver opens the store first (after reopen or damage closed it)
  std::string_view summary;
  const KeySpec* key(std::string_view key_name) const;  // nullptr when the op has no such key
};

std::span<const OpSpec> scenario_ops();
const OpSpec* find_op(std::string_view name);

// Keys every step may have besides its op's: a label and the step's own expected end.
std::span<const KeySpec> common_step_keys();

// Splits "a b c" into words.
std::vector<std::string_view> op_keys(std::string_view space_separated);

// "dim, vectors, ..., name, expect": the keys a step of this op may have, for messages.
std::string op_key_names(const OpSpec& op);

// A key's type as people read it: "u64 (1 to 256)", "enum: or, and, nested, not, in, not-in, and-or",
// "enum (the engine's values)".
std::string key_type_text(const KeySpec& key);

// The op table as Markdown, one row per op and one per key: reports/driver-protocol.md
// holds exactly this between its "ops table" markers (a test compares them).
std::string op_table_markdown();

}  // namespace crashgate
