#include "harness/support/engine_cells.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "crashgate/driver_protocol.h"
#include "crashgate/runner.h"
#include "crashgate/scenario.h"

namespace crashgate::testing {

Outcome run_one_cell(const std::string& toml, const std::string& driver, const std::string& work_dir) {
  ScenarioParse parsed = parse_scenario(toml, "inline.toml");
  EXPECT_TRUE(parsed.errors.empty()) << (parsed.errors.empty() ? "" : parsed.errors[0].text());
  if (!parsed.scenario) return {};
  std::vector<Cell> cells = expand_cells(*parsed.scenario, 7);
  EXPECT_EQ(cells.size(), 1u);
  Checked<RunSpec> spec = cell_run_spec(cells.at(0), {driver}, work_dir);
  EXPECT_TRUE(spec.ok()) << (spec ? "" : spec.error());
  if (!spec) return {};
  return run_observed(*spec);
}

std::string steps_of(const Outcome& o) {
  std::string out;
  for (const auto& s : o.steps) out += fmt::format("\n  step {} {}: {} {} {}", s.index, s.op, to_string(s.status), s.code, s.message);
  return o.detail + out;
}

std::uint64_t little_endian(const std::string& bytes, std::uint64_t offset, std::uint64_t width) {
  std::uint64_t v = 0;
  for (std::uint64_t i = 0; i < width && offset + i < bytes.size(); ++i)
    v |= std::uint64_t{static_cast<unsigned char>(bytes[offset + i])} << (8 * i);
  return v;
}

}  // namespace crashgate::testing
