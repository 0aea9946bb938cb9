#include "crashgate/shard.h"

#include <xxhash.h>

#include <charconv>
#include <cstdlib>
#include <fmt/format.h>

namespace crashgate {
namespace {

// A whole non-negative decimal number, nothing before or after it.
std::optional<int> whole_number(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

// One pair of variables; nothing (and no failure) when neither is set.
Checked<std::optional<Shard>> shard_from_pair(const char* index_name, const char* total_name) {
  const char* index_text = std::getenv(index_name);
  const char* total_text = std::getenv(total_name);
  bool has_index = index_text && *index_text;
  bool has_total = total_text && *total_text;
  if (!has_index && !has_total) return std::optional<Shard>();
  if (has_index != has_total)
    return failure(fmt::format("{} is set but {} is not: set both, or neither", has_index ? index_name : total_name,
                               has_index ? total_name : index_name));
  auto index = whole_number(index_text);
  auto total = whole_number(total_text);
  if (!total || *total < 1)
    return failure(fmt::format("{}={}: expected a whole number of shards, at least 1", total_name, total_text));
  if (!index || *index >= *total)
    return failure(fmt::format("{}={}: expected 0 .. {} (0-based, below {}={})", index_name, index_text, *total - 1,
                               total_name, *total));
  return std::optional<Shard>(Shard{*index, *total});
}

}  // namespace

std::string Shard::text() const { return fmt::format("{}/{}", index + 1, total); }

Checked<Shard> parse_shard(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos)
    return failure(fmt::format("'{}': expected I/N, e.g. 1/4 (shard I of N, counting from 1)", text));
  auto index = whole_number(text.substr(0, slash));
  auto total = whole_number(text.substr(slash + 1));
  if (!total || *total < 1) return failure(fmt::format("'{}': N must be a whole number of shards, at least 1", text));
  if (!index || *index < 1 || *index > *total)
    return failure(fmt::format("'{}': I must be 1 .. {} (shards count from 1)", text, *total));
  return Shard{*index - 1, *total};
}

Checked<std::optional<Shard>> shard_from_environment() {
  if (auto shard = shard_from_pair("CRASHGATE_SHARD_INDEX", "CRASHGATE_TOTAL_SHARDS"); !shard || shard->has_value())
    return shard;
  return shard_from_pair("GTEST_SHARD_INDEX", "GTEST_TOTAL_SHARDS");
}

bool in_shard(std::string_view cell_id, const Shard& shard) {
  if (shard.total <= 1) return true;
  return XXH3_64bits(cell_id.data(), cell_id.size()) % static_cast<std::uint64_t>(shard.total) ==
         static_cast<std::uint64_t>(shard.index);
}

}  // namespace crashgate
