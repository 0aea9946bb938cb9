// A driver's tables: `DRIVER --list WHAT` prints one JSON object a line
// (reports/driver-protocol.md, "Listings"): failpoints, regressions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace crashgate {

struct DriverListing {
  std::vector<nlohmann::json> rows;  // each an object with at least `key`
  std::string error;                 // why there are none: the driver failed, or printed something else
  bool not_listed = false;           // the driver has no such table (it exits 2: reports/driver-protocol.md)
};

// Runs `driver --list what` and reads its lines; each must be an object holding `key`.
DriverListing list_from_driver(const std::string& driver, const std::string& what, const std::string& key);

}  // namespace crashgate
