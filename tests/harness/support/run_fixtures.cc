#include "harness/support/run_fixtures.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "crashgate/runner.h"
#include "harness/support/crashers.h"

namespace crashgate::testing {

namespace fs = std::filesystem;

std::string run_fixture(const std::string& name) { return source_dir() + "/tests/harness/data/run/" + name; }

std::string this_build() { return CRASHGATE_BUILD_NAME; }

std::string fake_build_root() {
  std::string root = scratch_dir("build-root");
  fs::path bin = fs::path(root) / this_build() / "bin";
  fs::create_directories(bin);
  fs::create_symlink(crasher_path("test_driver"), bin / "crashgate-driver-test");
  fs::create_symlink(CRASHGATE_VSTORE_DRIVER, bin / "crashgate-driver-vstore");
  return root;
}

Outcome run_crashgate(const std::vector<std::string>& args, const CrashgateCall& call) {
  RunSpec spec;
  spec.argv = {crashgate_binary()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.limits.wall = call.wall;
  spec.env = call.env;
  spec.trace = false;
  return run_observed(spec);
}

std::string output_of(const Outcome& o) {
  return "stdout:\n" + o.stdout_excerpt.text() + "\nstderr:\n" + o.stderr_excerpt.text();
}

Outcome crashgate_run(const std::vector<std::string>& fixtures, const std::string& build_root, const std::string& out,
                      const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"run"};
  for (const auto& f : fixtures) args.push_back(run_fixture(f));
  args.insert(args.end(), {"--build-root", build_root, "--out", out});
  args.insert(args.end(), extra.begin(), extra.end());
  return run_crashgate(args);
}

nlohmann::json latest_results(const std::string& out) {
  std::ifstream in(out + "/latest/results.json");
  std::stringstream text;
  text << in.rdbuf();
  auto json = nlohmann::json::parse(text.str(), nullptr, false);
  EXPECT_FALSE(json.is_discarded()) << out << "/latest/results.json is missing or not JSON";
  return json;
}

const nlohmann::json& results_cell(const nlohmann::json& results, const std::string& id) {
  static const nlohmann::json missing = nlohmann::json::object();
  std::string ids;
  if (results.contains("cells"))
    for (const auto& cell : results["cells"]) {
      if (cell.value("id", "") == id) return cell;
      ids += "\n  " + cell.value("id", "?");
    }
  ADD_FAILURE() << "no cell " << id << " in results.json; it has:" << ids;
  return missing;
}

}  // namespace crashgate::testing
