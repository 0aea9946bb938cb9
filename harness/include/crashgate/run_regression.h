// `crashgate run --regression ID`: one regression switch put back for a whole
// run, in every cell whose build has the switches compiled in (vstore's
// VSTORE_REGRESSIONS=ON: the debug, asan and tsan presets; never release).
#pragma once

#include <optional>
#include <string>

#include "crashgate/scenario.h"

namespace crashgate {

// Whether BUILD_ROOT/<build> was configured with VSTORE_REGRESSIONS=ON, as its
// CMakeCache.txt records. A build root without one (a copied bin/) has none.
bool build_has_regressions(const std::string& build_root, const std::string& build);

// "id[,id...]" of lowercase letters, digits and dashes; nothing when well formed,
// else what is wrong. (Whether each id exists is the driver's to say.)
std::optional<std::string> regression_ids_error(const std::string& ids);

// The cell's regression with `ids` added: "a" + "b,a" -> "a,b".
void add_regressions(Cell& cell, const std::string& ids);

}  // namespace crashgate
