// Field report 003 made into a specification: the inputs that overflowed a
// 2 MiB worker stack, and far worse ones, parse, evaluate, print and are
// destroyed on a thread with a 64 KiB stack (sanitizer builds included).
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "vstore/filter.h"
#include "vstore/support/filter_inputs.h"
#include "vstore/support/small_stack.h"

namespace vstore {
namespace {

using testing::kTinyStack;
using testing::run_with_stack;

// Everything a filter goes through, all of it on the small thread.
struct Lifecycle {
  Status status;
  bool matched_hit = false;
  bool matched_miss = true;
  size_t clauses = 0;
  bool reprint_is_fixed_point = false;
};

Lifecycle on_tiny_stack(const std::string& text, const Record& hit, const Record& miss,
                        const FilterLimits& limits = {}) {
  Lifecycle out;
  bool ran = run_with_stack(kTinyStack, [&] {
    Result<Filter> f = Filter::parse(text, limits);
    out.status = f.status();
    if (!f.ok()) return;
    out.matched_hit = f->matches(hit);
    out.matched_miss = f->matches(miss);
    out.clauses = f->clause_count();
    std::string printed = f->to_string();
    Result<Filter> again = Filter::parse(printed, limits);
    out.reprint_is_fixed_point = again.ok() && again->to_string() == printed &&
                                 again->matches(hit) == out.matched_hit && again->matches(miss) == out.matched_miss;
  });  // both filters are destroyed on the small thread too
  EXPECT_TRUE(ran) << "could not start a thread with a " << kTinyStack << "-byte stack";
  return out;
}

TEST(FilterDeepInput, MillionClauseOrChainRunsOnA64KiBStack) {
  std::string text = testing::report_chain(1'000'000);
  Lifecycle r = on_tiny_stack(text, testing::with_attributes({{"file_path", testing::report_path(999'999)}}),
                              testing::with_attributes({{"file_path", "src/not/in/the/list.py"}}));
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  EXPECT_TRUE(r.matched_hit);
  EXPECT_FALSE(r.matched_miss);
  EXPECT_EQ(r.clauses, 1'000'000u);
  EXPECT_TRUE(r.reprint_is_fixed_point);
}

TEST(FilterDeepInput, FieldReportChainRunsOnA64KiBStack) {
  std::string text = testing::report_chain(31'985);
  EXPECT_NEAR(static_cast<double>(text.size()), 1.73e6, 0.02e6) << "the field's 1.74 MB filter";
  Lifecycle r = on_tiny_stack(text, testing::with_attributes({{"file_path", testing::report_path(31'984)}}),
                              testing::with_attributes({{"file_path", testing::report_path(31'985)}}));
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  EXPECT_TRUE(r.matched_hit);
  EXPECT_FALSE(r.matched_miss);
  EXPECT_TRUE(r.reprint_is_fixed_point);
}

TEST(FilterDeepInput, HundredThousandNestedParenthesesRunOnA64KiBStack) {
  Lifecycle r = on_tiny_stack(testing::nested_parentheses(100'000), testing::with_attributes({{"a", "x"}}), testing::with_attributes({{"a", "y"}}));
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  EXPECT_TRUE(r.matched_hit);
  EXPECT_FALSE(r.matched_miss);
  EXPECT_TRUE(r.reprint_is_fixed_point);
}

TEST(FilterDeepInput, HundredThousandChainedNotsRunOnA64KiBStack) {
  Lifecycle even = on_tiny_stack(testing::not_chain(100'000), testing::with_attributes({{"a", "x"}}), testing::with_attributes({{"a", "y"}}));
  ASSERT_TRUE(even.status.ok()) << even.status.to_string();
  EXPECT_TRUE(even.matched_hit);
  EXPECT_FALSE(even.matched_miss);
  Lifecycle odd = on_tiny_stack(testing::not_chain(100'001), testing::with_attributes({{"a", "y"}}), testing::with_attributes({{"a", "x"}}));
  ASSERT_TRUE(odd.status.ok()) << odd.status.to_string();
  EXPECT_TRUE(odd.matched_hit);
  EXPECT_FALSE(odd.matched_miss);
  EXPECT_TRUE(odd.reprint_is_fixed_point);
}

TEST(FilterDeepInput, HundredThousandLevelsThatCannotFlattenRunOnA64KiBStack) {
  // The evaluator and printer walk all 100,000 levels here: nothing simplifies away.
  Lifecycle r = on_tiny_stack(testing::alternating_nest(100'000), testing::with_attributes({{"x", "1"}, {"y", "1"}, {"c", "end"}}),
                              testing::with_attributes({{"x", "1"}, {"y", "1"}}));
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  EXPECT_TRUE(r.matched_hit);
  EXPECT_FALSE(r.matched_miss);
  EXPECT_TRUE(r.reprint_is_fixed_point);
}

TEST(FilterDeepInput, HundredThousandNegatedLevelsRunOnA64KiBStack) {
  Lifecycle r = on_tiny_stack(testing::negated_nest(100'000), testing::with_attributes({{"x", "1"}, {"c", "end"}}),
                              testing::with_attributes({{"x", "1"}}));
  ASSERT_TRUE(r.status.ok()) << r.status.to_string();
  EXPECT_TRUE(r.matched_hit);
  EXPECT_FALSE(r.matched_miss);
  EXPECT_TRUE(r.reprint_is_fixed_point);
}

TEST(FilterDeepInput, OverTheLimitsFailsCleanlyOnA64KiBStack) {
  FilterLimits limits;
  limits.max_depth = 50'000;
  limits.max_clauses = 500'000;
  Record any = testing::with_attributes({});
  Lifecycle deep = on_tiny_stack(testing::nested_parentheses(100'000), any, any, limits);
  EXPECT_EQ(deep.status.code(), Code::invalid_argument);
  EXPECT_NE(deep.status.message().find("column 50001: nesting deeper than max_depth = 50000"), std::string::npos)
      << deep.status.message();
  Lifecycle nots = on_tiny_stack(testing::not_chain(100'000), any, any, limits);
  EXPECT_NE(nots.status.message().find("max_depth = 50000"), std::string::npos) << nots.status.message();
  Lifecycle wide = on_tiny_stack(testing::report_chain(1'000'000), any, any, limits);
  EXPECT_NE(wide.status.message().find("more than max_clauses = 500000"), std::string::npos)
      << wide.status.message();
}

}  // namespace
}  // namespace vstore
