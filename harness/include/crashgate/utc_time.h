// The time now, in UTC, as text: run ids ("%Y%m%dT%H%M%SZ") and ISO 8601
// stamps ("%Y-%m-%dT%H:%M:%SZ") in results, campaigns and reports.
#pragma once

#include <string>

namespace crashgate {

inline constexpr const char* kIsoUtc = "%Y-%m-%dT%H:%M:%SZ";

// strftime(format) of the current time in UTC.
std::string utc_now(const char* format = kIsoUtc);

}  // namespace crashgate
