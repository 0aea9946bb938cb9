// Malformed filters and filters over a limit: always a clean invalid-argument
// that says where (the column) and what (the token, or the limit by name).
#include <string>

#include <gtest/gtest.h>

#include "vstore/support/filter_inputs.h"
#include "vstore/filter.h"

namespace vstore {
namespace {

struct BadFilter {
  const char* text;
  const char* position;  // "column N" or "line L, column N"
  const char* says;      // a phrase the message must contain
};

class FilterErrors : public ::testing::TestWithParam<BadFilter> {};

TEST_P(FilterErrors, AreInvalidArgumentWithTheColumn) {
  const BadFilter& bad = GetParam();
  Result<Filter> f = Filter::parse(bad.text);
  ASSERT_FALSE(f.ok()) << "parsed: " << bad.text;
  EXPECT_EQ(f.status().code(), Code::invalid_argument);
  const std::string& message = f.status().message();
  EXPECT_EQ(message.rfind(std::string("filter: ") + bad.position + ": ", 0), 0u)
      << "expected position " << bad.position << ", got: " << message;
  EXPECT_NE(message.find(bad.says), std::string::npos) << "expected '" << bad.says << "' in: " << message;
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, FilterErrors,
    ::testing::Values(
        BadFilter{"f = 'abc", "column 5", "unterminated string"},
        BadFilter{"\"abc = 'x'", "column 1", "unterminated quoted field name"},
        BadFilter{"f = 'a' & g = 'b'", "column 9", "unexpected character '&'"},
        BadFilter{"f = 'a' \x01", "column 9", "unexpected character '\\x01'"},
        BadFilter{"f ! 'a'", "column 3", "expected '!='"},
        BadFilter{"f = 'a' g = 'b'", "column 9", "expected AND, OR, ')' or the end of the filter but found field name g"},
        BadFilter{"f = ", "column 5", "expected a quoted string after '=' but found end of input"},
        BadFilter{"f != abc", "column 6", "values are quoted with '"},
        BadFilter{"f 'a'", "column 3", "expected '=', '!=', IN or NOT IN after the field name f but found string 'a'"},
        BadFilter{"(f = 'a' OR g = 'b'", "column 20", "missing ')' to close the '(' at column 1"},
        BadFilter{"(f = 'a') OR (g = 'b'", "column 22", "missing ')' to close the '(' at column 14"},
        BadFilter{"f = 'a')", "column 8", "unmatched ')'"},
        BadFilter{"f IN ()", "column 7", "empty IN list"},
        BadFilter{"f IN 'a'", "column 6", "expected '(' after IN"},
        BadFilter{"f IN ('a', 'b'", "column 15", "expected ',' or ')' in the IN list opened at column 6 but found end of input"},
        BadFilter{"f IN ('a' 'b')", "column 11", "expected ',' or ')'"},
        BadFilter{"f IN ('a', )", "column 12", "expected a quoted string in the IN list but found ')'"},
        BadFilter{"f NOT = 'a'", "column 7", "expected IN after NOT"},
        BadFilter{"and = 'x'", "column 1", "quote a field with that name"},
        BadFilter{"", "column 1", "expected a comparison (field = 'value'), NOT or '(' but found end of input"},
        BadFilter{"   ", "column 4", "but found end of input"},
        BadFilter{"f = 'a' OR", "column 11", "but found end of input"},
        BadFilter{"f = 'a' AND AND g = 'b'", "column 13", "but found AND"},
        BadFilter{"()", "column 2", "but found ')'"},
        BadFilter{"NOT", "column 4", "but found end of input"},
        BadFilter{"f = 'a'\nOR g = ", "line 2, column 8", "expected a quoted string"},
        BadFilter{"f = 'a' OR\n\n  g = 'b' h", "line 3, column 11", "found field name h"}));

TEST(FilterLimits, InputBytesOverTheLimitNameIt) {
  FilterLimits limits;
  limits.max_input_bytes = 10;
  Result<Filter> f = Filter::parse("file_path = 'abc'", limits);
  ASSERT_EQ(f.status().code(), Code::invalid_argument);
  EXPECT_EQ(f.status().message(), "filter: column 11: the filter is 17 bytes, over max_input_bytes = 10");
  EXPECT_TRUE(Filter::parse("f = 'abc'", limits).ok());
}

TEST(FilterLimits, NestingDeeperThanTheLimitNamesItWithTheColumn) {
  FilterLimits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(Filter::parse("(((a = 'x')))", limits).ok());
  EXPECT_TRUE(Filter::parse("NOT (NOT a = 'x')", limits).ok());
  Result<Filter> parens = Filter::parse("((((a = 'x'))))", limits);
  ASSERT_EQ(parens.status().code(), Code::invalid_argument);
  EXPECT_EQ(parens.status().message(),
            "filter: column 4: nesting deeper than max_depth = 3 (each '(' and each NOT is a level)");
  Result<Filter> nots = Filter::parse("a = 'y' OR NOT NOT NOT NOT a = 'x'", limits);
  ASSERT_EQ(nots.status().code(), Code::invalid_argument);
  EXPECT_NE(nots.status().message().find("column 24: nesting deeper than max_depth = 3"), std::string::npos)
      << nots.status().message();
  // Depth is nesting, not length: a long flat chain is one level.
  EXPECT_TRUE(Filter::parse(testing::report_chain(1000), limits).ok());
}

TEST(FilterLimits, ClausesOverTheLimitNameItAndCountEachInValue) {
  FilterLimits limits;
  limits.max_clauses = 3;
  EXPECT_TRUE(Filter::parse("a = '1' OR b IN ('2', '3')", limits).ok());
  Result<Filter> f = Filter::parse("a = '1' OR b IN ('2', '3', '4')", limits);
  ASSERT_EQ(f.status().code(), Code::invalid_argument);
  EXPECT_EQ(f.status().message(),
            "filter: column 28: more than max_clauses = 3 comparisons (each IN value counts as one)");
}

TEST(FilterLimits, DefaultsAdmitTheIssuesWorstCases) {
  FilterLimits defaults;
  EXPECT_GE(defaults.max_depth, 100'000u);
  EXPECT_GE(defaults.max_clauses, 1'000'000u);
  EXPECT_GE(defaults.max_input_bytes, 1'000'000u * 54);
}

}  // namespace
}  // namespace vstore
