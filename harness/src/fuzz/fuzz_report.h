// The morning report of `crashgate fuzz`: OUT/report.md for people and
// OUT/results.json in the `crashgate.results/1` form (reports/results-schema.md)
// for the report writers and `crashgate gate`: one cell per target (passes when
// it found no crash) and one per distinct crash (fails, with its reproduction).
#pragma once

#include <string>

#include "crashgate/checked.h"
#include "crashgate/run_results.h"
#include "fuzz/fuzz_campaign.h"

namespace crashgate {

RunResults fuzz_results(const FuzzCampaign& campaign, int exit_code);
std::string fuzz_report_markdown(const FuzzCampaign& campaign);
// Writes both files into campaign.options.out_dir; the failure names the one that cannot be written.
CheckedDone write_fuzz_report(const FuzzCampaign& campaign, int exit_code);

}  // namespace crashgate
