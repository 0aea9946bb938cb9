#include "harness/support/engine_cells.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

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

std::map<std::string, std::string> files_of(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    out[entry.path().filename().string()] = bytes.str();
  }
  return out;
}

std::string import_scenario(const std::string& target, const std::string& from, const std::string& keys,
                            const std::string& steps) {
  return fmt::format("name = \"{0}-import\"\ntargets = [\"{0}\"]\n[[step]]\nop = \"import\"\nfrom = \"{1}\"\n{2}\n{3}\n"
                     "[expect]\noutcome = \"ok|error|signal\"\n",
                     target, from, keys, steps);
}

void copy_with_half(const std::string& from, const std::string& to, const std::string& file) {
  std::filesystem::remove_all(to);
  std::filesystem::create_directories(to);
  for (const auto& entry : std::filesystem::directory_iterator(from))
    if (entry.is_regular_file()) std::filesystem::copy_file(entry.path(), std::filesystem::path(to) / entry.path().filename());
  std::filesystem::path cut = std::filesystem::path(to) / file;
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) / 2);
}

}  // namespace crashgate::testing
