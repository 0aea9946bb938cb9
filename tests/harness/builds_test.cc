// The builds a scenario may name are CMakePresets.json's configure presets:
// the code's one copy (crashgate/builds.h) is held to that file.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "crashgate/builds.h"
#include "harness/support/crashers.h"

namespace crashgate {
namespace {

TEST(Builds, TheCodesListIsTheConfigurePresetsOfCMakePresetsJson) {
  std::ifstream in(testing::source_dir() + "/CMakePresets.json");
  auto presets = nlohmann::json::parse(in, nullptr, false);
  ASSERT_FALSE(presets.is_discarded());
  std::set<std::string> file, code(kBuilds.begin(), kBuilds.end());
  for (const auto& p : presets["configurePresets"])
    if (!p.value("hidden", false)) file.insert(p["name"].get<std::string>());
  EXPECT_EQ(code, file) << "crashgate/builds.h and CMakePresets.json list different builds";
  EXPECT_EQ(code.size(), kBuilds.size()) << "a build is listed twice";
}

}  // namespace
}  // namespace crashgate
