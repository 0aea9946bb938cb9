// A results document with every field filled in: a flaky cell with a rerun,
// params, limits, a regression. For round-trip and docs tests.
#pragma once

#include "crashgate/run_results.h"

namespace crashgate::testing {

RunResults sample_results();

}  // namespace crashgate::testing
