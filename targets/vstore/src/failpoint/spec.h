// Internal: the failpoint spec grammar, separate from the registry so it can be
// tested and fuzzed on its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "vstore/failpoint.h"
#include "vstore/status.h"

namespace vstore::internal {

enum class FailActionKind : uint8_t { off, error, short_io, delay, yield, crash };

struct FailTerm {
  FailSite site;
  double probability = 100.0;          // percent
  std::optional<uint64_t> max_count;   // cnt*: fire at most this many times
  FailActionKind action = FailActionKind::off;
  uint64_t arg = 0;                    // errno, bytes or milliseconds
};

// Parses "name=[p%][cnt*]action[(arg)];..." into terms. invalid-argument with the
// 1-based column and the offending term on any error.
Status parse_failpoint_spec(std::string_view spec, std::vector<FailTerm>* out);

// errno by name ("ENOSPC") or number ("28"); nullopt when neither.
std::optional<int> parse_errno_name(std::string_view text);

}  // namespace vstore::internal
