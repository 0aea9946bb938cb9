// The kit's reference filter evaluator: precedence, quoting, missing
// attributes, errors with their column, depth on a small stack, and agreement
// with vstore's own Filter on arbitrary filters.
#include "crashgate/filter_reference.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <fmt/format.h>

#include "crashgate/driver_kit.h"
#include "vstore/filter.h"

namespace crashgate::kit {
namespace {

std::vector<FilterRecord> people() {
  return {
      {1, {{"name", "ann"}, {"team", "red"}}},
      {2, {{"name", "bob"}, {"team", "blue"}}},
      {3, {{"name", "cy"}, {"team", "red"}, {"note", "it's"}}},
      {4, {{"name", "dee"}}},  // no team
  };
}

std::vector<std::uint64_t> select(std::string_view text) {
  auto records = people();
  Checked<std::vector<std::uint64_t>> ids = reference_select(text, records);
  EXPECT_TRUE(ids.ok()) << text << ": " << (ids.ok() ? "" : ids.error());
  return ids.ok() ? *ids : std::vector<std::uint64_t>{};
}

using Ids = std::vector<std::uint64_t>;

TEST(FilterReference, AndBindsTighterThanOrAndNotTighterThanAnd) {
  EXPECT_EQ(select("name = 'ann' OR name = 'bob' AND team = 'red'"), (Ids{1})) << "ann, or (bob and red): bob is blue";
  EXPECT_EQ(select("(name = 'ann' OR name = 'bob') AND team = 'red'"), (Ids{1}));
  EXPECT_EQ(select("NOT team = 'red' AND name != 'dee'"), (Ids{2}));
  EXPECT_EQ(select("NOT (team = 'red' AND name != 'dee')"), (Ids{2, 4}));
  EXPECT_EQ(select("not not name = 'cy'"), (Ids{3})) << "keywords in any case";
}

TEST(FilterReference, AMissingAttributeEqualsNothingSoItsNegationsHold) {
  EXPECT_EQ(select("team = 'red'"), (Ids{1, 3}));
  EXPECT_EQ(select("team != 'red'"), (Ids{2, 4}));
  EXPECT_EQ(select("team IN ('red', 'blue')"), (Ids{1, 2, 3}));
  EXPECT_EQ(select("team NOT IN ('red', 'blue')"), (Ids{4}));
  EXPECT_EQ(select("NOT team IN ('red')"), select("team NOT IN ('red')"));
}

TEST(FilterReference, DoubledQuotesAndQuotedFieldsAreOneCharacter) {
  EXPECT_EQ(select("note = 'it''s'"), (Ids{3}));
  EXPECT_EQ(select("\"name\" = 'bob'"), (Ids{2}));
  EXPECT_EQ(select("name = 'it''s'"), (Ids{}));
}

TEST(FilterReference, MalformedFiltersNameTheColumn) {
  auto records = people();
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"name = 'ann", "column 8"},              // the value never closes
      {"name = 'ann' AND", "ends where a comparison"},
      {"(name = 'ann'", "column 1: this '(' is never closed"},
      {"name = 'ann')", "column 13: ')' closes no '('"},
      {"name ~ 'ann'", "column 6: expected =, !=, IN or NOT IN"},
      {"name IN 'ann'", "column 9: expected '(' after IN"},
      {"name = 'a' name = 'b'", "column 12: expected AND, OR or ')'"},
      {"AND = 'x'", "column 1"},
      {"", "empty"},
  };
  for (const Case& c : cases) {
    Checked<std::vector<std::uint64_t>> ids = reference_select(c.text, records);
    ASSERT_FALSE(ids.ok()) << c.text;
    EXPECT_NE(ids.error().find(c.says), std::string::npos) << c.text << " -> " << ids.error();
  }
}

TEST(FilterReference, AMillionNestedParenthesesAndNotsRunOnA64KiBThread) {
  std::vector<FilterRecord> records;
  for (std::uint64_t i = 0; i < 100; ++i) records.push_back({i, {{"file_path", fmt::format("f{}", i)}}});
  const std::size_t depth = 1'000'000;
  std::string nested = std::string(depth, '(') + "file_path = 'f7'" + std::string(depth, ')');
  std::string nots;
  for (std::size_t i = 0; i < depth; ++i) nots += "NOT ";
  nots += "file_path = 'f7'";
  std::string chain;  // a != chain of a thousand clauses: everything but f0..f999 that exist
  for (int i = 0; i < 1000; i += 2) chain += fmt::format("{}file_path != 'f{}'", i ? " AND " : "", i);
  std::optional<Checked<std::vector<std::uint64_t>>> a, b, c;
  std::thread t = start_thread(64 * 1024, [&] {
    a = reference_select(nested, records);
    b = reference_select(nots, records);
    c = reference_select(chain, records);
  });
  t.join();
  ASSERT_TRUE(a->ok()) << a->error();
  EXPECT_EQ(**a, (Ids{7}));
  ASSERT_TRUE(b->ok()) << b->error();
  EXPECT_EQ(**b, (Ids{7})) << "an even number of NOTs keeps the meaning";
  ASSERT_TRUE(c->ok()) << c->error();
  EXPECT_EQ(c->value().size(), 50u) << "the odd-numbered records are left";
}

// An arbitrary filter over fields a, b (and c, which no record has) and values x, y, z.
rc::Gen<std::string> comparison() {
  return rc::gen::apply(
      [](int field, int op, int v1, int v2) {
        std::string f = std::string(1, static_cast<char>('a' + field));
        std::string x = std::string(1, static_cast<char>('x' + v1)), y = std::string(1, static_cast<char>('x' + v2));
        switch (op) {
          case 0: return f + " = '" + x + "'";
          case 1: return f + " != '" + x + "'";
          case 2: return f + " IN ('" + x + "', '" + y + "')";
          default: return f + " NOT IN ('" + x + "')";
        }
      },
      rc::gen::inRange(0, 3), rc::gen::inRange(0, 4), rc::gen::inRange(0, 3), rc::gen::inRange(0, 3));
}

rc::Gen<std::string> filter_text(int depth) {
  if (depth == 0) return comparison();
  return rc::gen::oneOf(comparison(),
                        rc::gen::map(filter_text(depth - 1), [](std::string s) { return "NOT " + s; }),
                        rc::gen::map(filter_text(depth - 1), [](std::string s) { return "(" + s + ")"; }),
                        rc::gen::apply([](std::string l, bool conj, std::string r) { return l + (conj ? " AND " : " or ") + r; },
                                       filter_text(depth - 1), rc::gen::arbitrary<bool>(), filter_text(depth - 1)));
}

RC_GTEST_PROP(FilterReference, SelectsExactlyWhatVstoresFilterMatches, ()) {
  const std::string text = *filter_text(4);
  std::vector<FilterRecord> records;
  std::vector<vstore::Record> engine;
  const int n = *rc::gen::inRange(1, 12);
  for (int i = 0; i < n; ++i) {
    FilterRecord r{static_cast<std::uint64_t>(i), {}};
    vstore::Record e;
    e.id = static_cast<std::uint64_t>(i);
    for (const char* field : {"a", "b"})
      if (*rc::gen::arbitrary<bool>()) {
        std::string v(1, static_cast<char>('x' + *rc::gen::inRange(0, 3)));
        r.attributes.push_back({field, v});
        e.attributes.push_back({field, v});
      }
    records.push_back(r);
    engine.push_back(e);
  }
  vstore::Result<vstore::Filter> parsed = vstore::Filter::parse(text);
  RC_ASSERT(parsed.ok());
  Checked<std::vector<std::uint64_t>> ids = reference_select(text, records);
  RC_ASSERT(ids.ok());
  std::vector<std::uint64_t> want;
  for (const auto& e : engine)
    if (parsed->matches(e)) want.push_back(e.id);
  RC_ASSERT(*ids == want);
}

}  // namespace
}  // namespace crashgate::kit
