// vstore/record.h: what a store holds. A record is a caller-chosen u64 id, a
// float32 vector of the store's dimension, and string attributes (at least
// `file_path`, which the filter language matches on).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vstore {

struct Attribute {
  std::string key;
  std::string value;
  friend bool operator==(const Attribute&, const Attribute&) = default;
};

struct Record {
  uint64_t id = 0;
  std::vector<float> vector;
  std::vector<Attribute> attributes;

  // The value of attribute `key`, or nullopt when the record has none.
  std::optional<std::string_view> attribute(std::string_view key) const {
    for (const Attribute& a : attributes)
      if (a.key == key) return std::string_view(a.value);
    return std::nullopt;
  }
  friend bool operator==(const Record&, const Record&) = default;
};

enum class Metric : uint8_t { l2 = 1, ip = 2, cosine = 3 };
std::string_view metric_name(Metric m);
// Parses "l2", "ip" or "cosine"; false otherwise.
bool parse_metric(std::string_view name, Metric* out);

}  // namespace vstore
