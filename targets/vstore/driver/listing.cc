// `crashgate-driver-vstore --list failpoints|regressions`: the engine's own
// tables as JSON lines, so that scenarios can enumerate failpoint sites
// (`[params] site = { from = "failpoints", ... }`) and `crashgate matrix` knows
// each regression switch and how it shows (reports/driver-protocol.md).
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "session.h"
#include "vstore/failpoint.h"
#include "vstore/regression.h"

namespace crashgate::vstore_driver {

int print_listing(const std::string& what) {
  using nlohmann::json;
  if (what == "failpoints") {
    size_t n = 0;
    const vstore::FailSiteInfo* t = vstore::failpoint_table(&n);
    for (size_t i = 0; i < n; ++i) {
      json line = {{"name", t[i].name},
                   {"syscall", t[i].syscall},
                   {"write_path", t[i].write_path},
                   {"what", t[i].what},
                   {"compiled_in", vstore::failpoints_compiled_in()}};
      fmt::print("{}\n", line.dump());
    }
    return 0;
  }
  if (what == "regressions") {
    size_t n = 0;
    const vstore::RegressionInfo* t = vstore::regression_table(&n);
    for (size_t i = 0; i < n; ++i) {
      json line = {{"id", t[i].id},
                   {"field_report", t[i].field_report},
                   {"what", t[i].what},
                   {"shows_as", t[i].shows_as},
                   {"compiled_in", vstore::regressions_compiled_in()}};
      fmt::print("{}\n", line.dump());
    }
    return 0;
  }
  fmt::print(stderr, "crashgate-driver-vstore: --list takes failpoints or regressions, not '{}'\n", what);
  return 2;
}

}  // namespace crashgate::vstore_driver
