// The recursive-filter regression switch (field report 003) does what the field
// saw: the 31,985-clause OR delete dies of a stack overflow on a 2 MiB worker
// thread. With the switch off, the same filter on the same thread is fine.
#include <csignal>
#include <string>

#include <sys/wait.h>

#include <gtest/gtest.h>

#include "vstore/filter.h"
#include "vstore/regression.h"
#include "vstore/support/filter_inputs.h"
#include "vstore/support/small_stack.h"

namespace vstore {
namespace {

constexpr size_t kFieldClauses = 31'985;

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VSTORE_TEST_ASAN 1
#endif
#endif

// ASan catches the overflow on its alternate signal stack, reports it and exits;
// plain and TSan builds die of the SIGSEGV itself, as the field's service did.
#ifdef VSTORE_TEST_ASAN
constexpr const char* kOverflowReport = "AddressSanitizer: stack-overflow";
#else
constexpr const char* kOverflowReport = "";
#endif

bool died_of_stack_overflow(int status) {
  if (WIFSIGNALED(status)) return WTERMSIG(status) == SIGSEGV;
#ifdef VSTORE_TEST_ASAN
  return WIFEXITED(status) && WEXITSTATUS(status) != 0;  // and kOverflowReport was printed
#else
  return false;
#endif
}

Record with_path(const std::string& path) {
  Record r;
  r.attributes.push_back({"file_path", path});
  return r;
}

// The delete of the field report on a tokio-sized worker: parse the filter and
// match one record against it. True when both worked and the record matched.
bool delete_on_worker(const std::string& text) {
  bool matched = false;
  bool ran = testing::run_with_stack(testing::kWorkerStack, [&] {
    Result<Filter> f = Filter::parse(text);
    matched = f.ok() && f->matches(with_path(testing::report_path(kFieldClauses - 1)));
  });
  return ran && matched;
}

// Turns switches on for one scope and off again after it.
class RegressionScope {
 public:
  explicit RegressionScope(std::string_view ids) { status_ = set_regressions(ids); }
  ~RegressionScope() { set_regressions("").ignore(); }
  const Status& status() const { return status_; }

 private:
  Status status_;
};

void skip_unless_switches_compiled_in() {
  if (!regressions_compiled_in()) {
    GTEST_SKIP() << "regression switches are compiled only into VSTORE_REGRESSIONS=ON builds "
                    "(the debug, asan, tsan and fuzz presets); this is a release build";
  }
}

TEST(FilterRecursiveRegression, FieldReportChainOverflowsA2MiBWorkerStack) {
  skip_unless_switches_compiled_in();
  if (IsSkipped()) return;
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::string text = testing::report_chain(kFieldClauses);
  EXPECT_EXIT(
      {
        RegressionScope on("recursive-filter");
        if (!on.status().ok()) _exit(3);
        delete_on_worker(text);
        _exit(0);  // survived: the regression did not reproduce
      },
      died_of_stack_overflow, kOverflowReport);
}

TEST(FilterRecursiveRegression, HardenedPathRunsTheSameDeleteOnTheSameThread) {
  RegressionScope off("");
  ASSERT_TRUE(off.status().ok()) << off.status().to_string();
  EXPECT_TRUE(delete_on_worker(testing::report_chain(kFieldClauses)));
}

TEST(FilterRecursiveRegression, RecursivePathIsOtherwiseAWorkingFilter) {
  skip_unless_switches_compiled_in();
  if (IsSkipped()) return;
  // The switch brings back a crash, not wrong answers: on shallow input the
  // recursive path agrees with the hardened one.
  const char* texts[] = {"file_path = 'a' OR file_path = 'b'", "NOT (a = 'x' AND b != 'y') OR c IN ('1', '2')",
                         "NOT NOT a = 'x'", "a NOT IN ('x') AND (b = 'y' OR c = 'z')"};
  std::vector<Record> records;
  for (const char* a : {"x", "q"})
    for (const char* b : {"y", "q"}) {
      Record r;
      r.attributes = {{"a", a}, {"b", b}, {"c", "2"}, {"file_path", "b"}};
      records.push_back(r);
    }
  records.push_back(Record{});
  for (const char* text : texts) {
    Result<Filter> hardened = Filter::parse(text);
    ASSERT_TRUE(hardened.ok()) << hardened.status().to_string();
    RegressionScope on("recursive-filter");
    ASSERT_TRUE(on.status().ok()) << on.status().to_string();
    Result<Filter> recursive = Filter::parse(text);
    ASSERT_TRUE(recursive.ok()) << recursive.status().to_string();
    for (const Record& r : records) EXPECT_EQ(recursive->matches(r), hardened->matches(r)) << text;
    Result<Filter> reparsed = Filter::parse(recursive->to_string());
    ASSERT_TRUE(reparsed.ok()) << recursive->to_string();
    for (const Record& r : records) EXPECT_EQ(reparsed->matches(r), hardened->matches(r)) << text;
  }
}

}  // namespace
}  // namespace vstore
