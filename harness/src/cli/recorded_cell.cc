#include "cli/recorded_cell.h"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "crashgate/cell_selection.h"
#include "crashgate/driver_location.h"
#include "crashgate/run_directory.h"

namespace crashgate {

std::string latest_run_dir() { return default_build_root() + "/reports/" + kLatestRun; }

std::optional<RecordedCell> find_recorded_cell(const std::string& cell, const std::string& run_option,
                                               const char* command) {
  std::string run = run_option.empty() ? latest_run_dir() : run_option;
  auto results = load_results(run);
  if (!results) {
    std::cerr << fmt::format("crashgate {}: {}\n", command, results.error());
    return std::nullopt;
  }
  std::error_code ec;
  std::string dir = std::filesystem::is_directory(run, ec) ? run : std::filesystem::path(run).parent_path().string();
  dir = std::filesystem::canonical(dir.empty() ? "." : dir, ec).string();
  std::vector<std::size_t> matches;
  for (std::size_t i = 0; i < results->cells.size(); ++i)
    if (results->cells[i].cell.id == cell) return RecordedCell{std::move(*results), dir, i};
  for (std::size_t i = 0; i < results->cells.size(); ++i)
    if (cell_glob_match(cell, results->cells[i].cell.id)) matches.push_back(i);
  if (matches.size() == 1) return RecordedCell{std::move(*results), dir, matches.front()};
  if (matches.empty()) {
    std::cerr << fmt::format("crashgate {}: no cell '{}' in run {} ({} cells; `crashgate list` or a glob such as "
                             "'name*' finds ids)\n",
                             command, cell, results->run_id, results->cells.size());
  } else {
    std::cerr << fmt::format("crashgate {}: '{}' matches {} cells of run {}; name one:\n", command, cell,
                             matches.size(), results->run_id);
    for (std::size_t n = 0; n < matches.size() && n < 20; ++n)
      std::cerr << "  " << results->cells[matches[n]].cell.id << "\n";
    if (matches.size() > 20) std::cerr << fmt::format("  ... and {} more\n", matches.size() - 20);
  }
  return std::nullopt;
}

}  // namespace crashgate
