// The filter language as a specification: what parses, what it means, and the
// canonical text it prints.
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "vstore/filter.h"
#include "vstore/support/filter_inputs.h"

namespace vstore {
namespace {

Filter parse_ok(std::string_view text) {
  Result<Filter> f = Filter::parse(text);
  EXPECT_TRUE(f.ok()) << text << " -> " << f.status().to_string();
  if (!f.ok()) return Filter::parse("never_set = 'x'").value();
  return std::move(f).value();
}

std::string canonical(std::string_view text) { return parse_ok(text).to_string(); }

TEST(FilterGrammar, EqualityMatchesTheExactValue) {
  Filter f = parse_ok("file_path = 'a.txt'");
  EXPECT_TRUE(f.matches(testing::with_attributes({{"file_path", "a.txt"}})));
  EXPECT_FALSE(f.matches(testing::with_attributes({{"file_path", "a.txt "}})));
  EXPECT_FALSE(f.matches(testing::with_attributes({{"file_path", "A.TXT"}})));
}

TEST(FilterGrammar, InequalityMatchesEveryOtherValue) {
  Filter f = parse_ok("lang != 'en'");
  EXPECT_FALSE(f.matches(testing::with_attributes({{"lang", "en"}})));
  EXPECT_TRUE(f.matches(testing::with_attributes({{"lang", "de"}})));
}

TEST(FilterGrammar, MissingAttributeEqualsNothing) {
  Record none = testing::with_attributes({{"other", "x"}});
  EXPECT_FALSE(parse_ok("f = 'x'").matches(none));
  EXPECT_TRUE(parse_ok("f != 'x'").matches(none));
  EXPECT_FALSE(parse_ok("f IN ('x', 'y')").matches(none));
  EXPECT_TRUE(parse_ok("f NOT IN ('x', 'y')").matches(none));
  EXPECT_TRUE(parse_ok("NOT f = 'x'").matches(none)) << "two-valued logic: NOT (f = 'x') is f != 'x'";
}

TEST(FilterGrammar, InListMatchesAnyOfItsValues) {
  Filter f = parse_ok("f IN ('a', 'b', 'c')");
  EXPECT_TRUE(f.matches(testing::with_attributes({{"f", "b"}})));
  EXPECT_FALSE(f.matches(testing::with_attributes({{"f", "d"}})));
  Filter g = parse_ok("f NOT IN ('a', 'b')");
  EXPECT_FALSE(g.matches(testing::with_attributes({{"f", "a"}})));
  EXPECT_TRUE(g.matches(testing::with_attributes({{"f", "z"}})));
}

TEST(FilterGrammar, KeywordsAreCaseInsensitiveFieldsAndValuesAreNot) {
  EXPECT_EQ(canonical("a = 'x' and b = 'y' Or not c in ('z') OR d nOt In ('w')"),
            "a = 'x' AND b = 'y' OR c != 'z' OR d != 'w'");
  Filter f = parse_ok("Name = 'Bob'");
  EXPECT_FALSE(f.matches(testing::with_attributes({{"name", "Bob"}})));
  EXPECT_TRUE(f.matches(testing::with_attributes({{"Name", "Bob"}})));
}

TEST(FilterGrammar, NotBindsTighterThanAndWhichBindsTighterThanOr) {
  Filter f = parse_ok("a = '1' OR b = '1' AND NOT c = '1'");
  EXPECT_TRUE(f.matches(testing::with_attributes({{"a", "1"}, {"c", "1"}})));
  EXPECT_FALSE(f.matches(testing::with_attributes({{"b", "1"}, {"c", "1"}})));
  EXPECT_TRUE(f.matches(testing::with_attributes({{"b", "1"}})));
  Filter g = parse_ok("(a = '1' OR b = '1') AND NOT c = '1'");
  EXPECT_FALSE(g.matches(testing::with_attributes({{"a", "1"}, {"c", "1"}})));
  EXPECT_EQ(g.to_string(), "(a = '1' OR b = '1') AND c != '1'");
}

TEST(FilterGrammar, QuotesInsideValuesAreDoubledAndBackslashIsPlain) {
  Filter f = parse_ok("f = 'it''s' OR g = 'C:\\dir\\x'");
  EXPECT_TRUE(f.matches(testing::with_attributes({{"f", "it's"}})));
  EXPECT_TRUE(f.matches(testing::with_attributes({{"g", "C:\\dir\\x"}})));
  EXPECT_EQ(f.to_string(), "f = 'it''s' OR g = 'C:\\dir\\x'");
  EXPECT_TRUE(parse_ok("f = ''").matches(testing::with_attributes({{"f", ""}})));
  EXPECT_TRUE(parse_ok("f = 'line\nbreak'").matches(testing::with_attributes({{"f", "line\nbreak"}})));
}

TEST(FilterGrammar, QuotedFieldNamesReachAnyAttributeKey) {
  Filter f = parse_ok("\"file path\" = 'x' OR \"and\" = 'y' OR \"say \"\"hi\"\"\" = 'z' OR \"\" = 'e'");
  EXPECT_TRUE(f.matches(testing::with_attributes({{"file path", "x"}})));
  EXPECT_TRUE(f.matches(testing::with_attributes({{"and", "y"}})));
  EXPECT_TRUE(f.matches(testing::with_attributes({{"say \"hi\"", "z"}})));
  EXPECT_TRUE(f.matches(testing::with_attributes({{"", "e"}})));
  EXPECT_EQ(f.to_string(), "\"file path\" = 'x' OR \"and\" = 'y' OR \"say \"\"hi\"\"\" = 'z' OR \"\" = 'e'");
  EXPECT_EQ(canonical("\"plain_name.v2\" = 'x'"), "plain_name.v2 = 'x'");
}

TEST(FilterGrammar, WhitespaceIsFree) {
  EXPECT_EQ(canonical(" \t(a='1'\n OR\r\nb\t!=\t'2' )  "), "a = '1' OR b != '2'");
  EXPECT_EQ(canonical("a IN('1','2')"), "a IN ('1', '2')");
}

TEST(FilterGrammar, EqualitiesOnOneFieldJoinedByOrBecomeOneInList) {
  EXPECT_EQ(canonical("f = 'a' OR f = 'b' OR f IN ('c', 'a') OR (f = 'd' OR f = 'b')"),
            "f IN ('a', 'b', 'c', 'd')");
  EXPECT_EQ(canonical("f = 'a' OR g = 'x' OR f = 'b'"), "f IN ('a', 'b') OR g = 'x'");
  EXPECT_EQ(canonical("f != 'a' AND f != 'b' AND g = 'x'"), "f NOT IN ('a', 'b') AND g = 'x'");
  EXPECT_EQ(canonical("NOT (f = 'a' OR f = 'b')"), "f NOT IN ('a', 'b')");
  EXPECT_EQ(canonical("NOT (f != 'a' AND NOT f = 'b') OR f = 'c'"), "f IN ('a', 'b', 'c')");
}

TEST(FilterGrammar, AndOfEqualitiesAndOrOfInequalitiesStaySeparate) {
  // Merging these would need intersections, and an empty one has no spelling.
  EXPECT_EQ(canonical("f = 'a' AND f = 'b'"), "f = 'a' AND f = 'b'");
  EXPECT_EQ(canonical("f != 'a' OR f != 'b'"), "f != 'a' OR f != 'b'");
}

TEST(FilterGrammar, DoubleNegationAndNestedChainsFlatten) {
  EXPECT_EQ(canonical("NOT NOT NOT NOT a = '1'"), "a = '1'");
  EXPECT_EQ(canonical("NOT NOT (a = '1' AND b = '2')"), "a = '1' AND b = '2'");
  EXPECT_EQ(canonical("NOT (a = '1' AND b = '2')"), "NOT (a = '1' AND b = '2')");
  EXPECT_EQ(canonical("((a = '1' AND (b = '2' AND c = '3')) AND NOT NOT (d = '4' AND e = '5'))"),
            "a = '1' AND b = '2' AND c = '3' AND d = '4' AND e = '5'");
  EXPECT_EQ(canonical("a = '1' OR NOT (b = '2' OR c = '3')"), "a = '1' OR NOT (b = '2' OR c = '3')");
  EXPECT_EQ(canonical("(((a = '1')))"), "a = '1'");
}

TEST(FilterGrammar, RepeatedValuesAreKeptOnce) {
  EXPECT_EQ(canonical("f IN ('a', 'a', 'b', 'a')"), "f IN ('a', 'b')");
  EXPECT_EQ(canonical("f = 'a' OR f = 'a'"), "f = 'a'");
}

TEST(FilterGrammar, ClauseCountAndFieldsDescribeTheSource) {
  Filter f = parse_ok("b = '1' OR a IN ('1', '2', '3') OR b = '2'");
  EXPECT_EQ(f.clause_count(), 5u);
  ASSERT_EQ(f.fields().size(), 2u);
  EXPECT_EQ(f.fields()[0], "b");
  EXPECT_EQ(f.fields()[1], "a");
}

// The parser finds a field among the first few by scanning, then by a map:
// a field named again on either side of that change is the same field.
TEST(FilterGrammar, ManyFieldsAreEachListedOnceAndMatchTheirOwnValues) {
  std::string text;
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 20; ++i) text += fmt::format("{}f{} = 'v{}'", text.empty() ? "" : " OR ", (i * 7) % 20, round);
  Filter f = parse_ok(text);
  ASSERT_EQ(f.fields().size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(f.fields()[i], fmt::format("f{}", (i * 7) % 20)) << i;
  EXPECT_EQ(f.clause_count(), 40u);
  EXPECT_TRUE(f.matches(testing::with_attributes({{"f3", "v1"}})));
  EXPECT_TRUE(f.matches(testing::with_attributes({{"f19", "v0"}})));
  EXPECT_FALSE(f.matches(testing::with_attributes({{"f3", "v2"}})));
  EXPECT_FALSE(f.matches(testing::with_attributes({{"f20", "v0"}})));
  EXPECT_EQ(canonical(f.to_string()), f.to_string());
}

TEST(FilterGrammar, LookupCallbackNeedsNoRecord) {
  Filter f = parse_ok("file_path IN ('a', 'b') AND kind != 'dir'");
  auto lookup = [](std::string_view key) -> std::optional<std::string_view> {
    if (key == "file_path") return std::string_view("b");
    return std::nullopt;
  };
  EXPECT_TRUE(f.matches(lookup));
}

TEST(FilterGrammar, LongInListUsesTheHashIndexAndStillMatchesExactly) {
  std::string text = "f IN (";
  for (int i = 0; i < 1000; ++i) text += (i ? ", '" : "'") + std::to_string(i * 7) + "'";
  text += ")";
  Filter f = parse_ok(text);
  EXPECT_TRUE(f.matches(testing::with_attributes({{"f", "0"}})));
  EXPECT_TRUE(f.matches(testing::with_attributes({{"f", "6993"}})));
  EXPECT_FALSE(f.matches(testing::with_attributes({{"f", "6994"}})));
  EXPECT_FALSE(f.matches(testing::with_attributes({{"f", "699"}})));
}

}  // namespace
}  // namespace vstore
