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

// One step of a site's chain: `2*off->crash` is two terms.
struct FailTerm {
  double probability = 100.0;          // percent
  std::optional<uint64_t> max_count;   // cnt*: fire at most this many times
  FailActionKind action = FailActionKind::off;
  uint64_t arg = 0;                    // errno, bytes or milliseconds
};

// A site and its chain of terms, tried in order: a term whose count is used
// up passes evaluation on to the next (as FreeBSD fail(9)'s `->`).
struct FailSpec {
  FailSite site;
  std::vector<FailTerm> chain;
};

// Parses "name=[p%][cnt*]action[(arg)][->...];..." into specs. invalid-argument
// with the 1-based column and the offending term on any error.
Status parse_failpoint_spec(std::string_view spec, std::vector<FailSpec>* out);

// errno by name ("ENOSPC") or number ("28"); nullopt when neither.
std::optional<int> parse_errno_name(std::string_view text);

}  // namespace vstore::internal
