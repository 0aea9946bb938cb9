// Sharding: a deterministic 1/N of the cells, as GoogleTest shards tests
// across machines. A cell's shard is a hash of its id, so adding a scenario
// moves no other cell to another shard.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "crashgate/checked.h"

namespace crashgate {

struct Shard {
  int index = 0;  // 0-based: 0 .. total-1
  int total = 1;
  std::string text() const;  // "2/4": 1-based, as --shard takes it
  bool operator==(const Shard&) const = default;
};

// "I/N" with 1 <= I <= N (--shard 1/4 .. 4/4). On bad input the failure says
// what was wrong.
Checked<Shard> parse_shard(std::string_view text);

// From CRASHGATE_SHARD_INDEX/CRASHGATE_TOTAL_SHARDS, else GTEST_SHARD_INDEX/
// GTEST_TOTAL_SHARDS (0-based index, as GoogleTest's). Nothing (std::nullopt,
// not a failure) when neither pair is set; a failure naming the variables
// when a pair is set badly.
Checked<std::optional<Shard>> shard_from_environment();

// Whether the cell with this id belongs to `shard`.
bool in_shard(std::string_view cell_id, const Shard& shard);

}  // namespace crashgate
