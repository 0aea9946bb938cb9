// The text forms of limits: strict, so a typo never silently means something else.
#include <gtest/gtest.h>

#include "crashgate/limits.h"

namespace crashgate {
namespace {

TEST(ParseSize, AcceptsBytesAndBinaryUnits) {
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("512K"), 512u * 1024);
  EXPECT_EQ(parse_size("8MiB"), 8u * 1024 * 1024);
  EXPECT_EQ(parse_size("2MB"), 2u * 1024 * 1024);
  EXPECT_EQ(parse_size("1G"), 1ull << 30);
  EXPECT_EQ(parse_size("1.5K"), 1536u);
}

TEST(ParseSize, RejectsTrailingGarbageAndFractionsOfBytes) {
  EXPECT_EQ(parse_size("8MB!"), std::nullopt);
  EXPECT_EQ(parse_size("8 parsecs"), std::nullopt);
  EXPECT_EQ(parse_size(""), std::nullopt);
  EXPECT_EQ(parse_size("-1"), std::nullopt);
  EXPECT_EQ(parse_size("0.5"), std::nullopt);
  EXPECT_EQ(parse_size("1e3"), std::nullopt);
}

TEST(ParseDuration, AcceptsUnitsAndBareSeconds) {
  using std::chrono::milliseconds;
  EXPECT_EQ(parse_duration("30s"), milliseconds(30'000));
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("2m"), milliseconds(120'000));
  EXPECT_EQ(parse_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(parse_duration("7"), milliseconds(7000));
  EXPECT_EQ(parse_duration("20 seconds"), std::nullopt);
  EXPECT_EQ(parse_duration("s"), std::nullopt);
}

TEST(ParseCount, IsAWholeNumberAndNothingElse) {
  EXPECT_EQ(parse_count("64"), 64u);
  EXPECT_EQ(parse_count("64k"), std::nullopt);
  EXPECT_EQ(parse_count(" 64"), std::nullopt);
}

TEST(SetLimit, NamesTheFieldInItsError) {
  Limits limits;
  for (const auto& field : limit_fields()) {
    auto error = set_limit(limits, field, "bogus");
    ASSERT_TRUE(error) << field.scenario_key;
    EXPECT_NE(error->find(field.scenario_key), std::string::npos) << *error;
  }
}

TEST(SetLimit, EveryTableRowReachesItsMember) {
  Limits limits;
  for (const auto& field : limit_fields()) {
    std::string text = field.unit == LimitUnit::duration ? "3s" : "3";
    ASSERT_EQ(set_limit(limits, field, text), std::nullopt) << field.scenario_key;
  }
  EXPECT_EQ(limits.stack, 3u);
  EXPECT_EQ(limits.worker_stack, 3u);
  EXPECT_EQ(limits.address_space, 3u);
  EXPECT_EQ(limits.open_files, 3u);
  EXPECT_EQ(limits.cpu, std::chrono::milliseconds(3000));
  EXPECT_EQ(limits.wall, std::chrono::milliseconds(3000));
  EXPECT_EQ(limits.core, 3u);
}

TEST(FormatSize, UsesTheLargestExactUnit) {
  EXPECT_EQ(format_size(2 * 1024 * 1024), "2 MiB");
  EXPECT_EQ(format_size(4096), "4 KiB");
  EXPECT_EQ(format_size(12289), "12,289 bytes");
  EXPECT_EQ(format_thousands(1234567), "1,234,567");
}

}  // namespace
}  // namespace crashgate
