// crashgate-mutants (harness/mutants/): the mutants libclang finds in a small
// engine, each rule where it fits and nowhere else: not in a template's
// brackets, not in a regression switch, not in a macro's own body.
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "crashgate/mutant.h"
#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string finder() { return (fs::path(testing::crashgate_binary()).parent_path() / "crashgate-mutants").string(); }
std::string fixture() { return testing::source_dir() + "/tests/harness/data/mutants/engine.cc"; }

Outcome run_finder(std::vector<std::string> args) {
  RunSpec spec;
  spec.argv = {finder()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.trace = false;
  spec.limits.wall = std::chrono::seconds(120);
  spec.stdout_bounds = {std::size_t{16} << 20, 0};
  // libclang keeps what it allocated until the process ends; that is no leak of ours.
  spec.env = {{"ASAN_OPTIONS", "detect_leaks=0"}};
  return run_observed(spec);
}

std::vector<Mutant> mutants_of(const std::string& file, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--root", fs::path(file).parent_path().string()};
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), {file, "--", "-std=c++20"});
  Outcome o = run_finder(args);
  EXPECT_EQ(o.kind, OutcomeKind::ok) << testing::output_of(o);
  auto doc = parse_mutants_document(o.stdout_excerpt.head, "crashgate-mutants output");
  EXPECT_TRUE(doc) << doc.error();
  return doc ? *doc : std::vector<Mutant>{};
}

std::vector<std::string> lines(const std::vector<Mutant>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) out.push_back(fmt::format("{} {}:{} [{}] -> [{}]", m.id, m.line, m.column, m.original, m.replacement));
  return out;
}

TEST(MutantFinder, FindsEveryRuleWhereItFitsAndNowhereElse) {
  EXPECT_THAT(lines(mutants_of(fixture())),
              ::testing::ElementsAre(
                  "remove-guard@engine.cc:Store::read#0 21:5 [if (slot >= static_cast<int>(slots.size())) return -1;] -> []",
                  "relational-boundary@engine.cc:Store::read#0 21:14 [>=] -> [>]",
                  "constant-change@engine.cc:Store::read#0 21:57 [1] -> [2]",
                  "arithmetic-flip@engine.cc:Store::read#0 22:24 [+] -> [-]",
                  "constant-change@engine.cc:Store::read#1 22:26 [4] -> [5]",
                  "drop-not@engine.cc:Store::empty#0 25:31 [!] -> []",
                  "logical-flip@engine.cc:Store::empty#0 25:46 [&&] -> [||]",
                  "equality-flip@engine.cc:Store::empty#0 25:63 [==] -> [!=]",
                  "constant-change@engine.cc:Store::empty#0 25:66 [0] -> [1]",
                  "remove-call@engine.cc:Store::commit#0 28:5 [std::lock_guard<std::mutex> lock(mu);] -> []",
                  "remove-call@engine.cc:Store::commit#1 29:5 [RETURN_IF_ERROR(sync_file(fd));] -> []",
                  "constant-change@engine.cc:Store::commit#0 30:12 [0] -> [1]",
                  "remove-call@engine.cc:fsck#0 35:3 [check_all(problems);] -> []",
                  "logical-flip@engine.cc:fsck#0 39:15 [||] -> [&&]",
                  "constant-change@engine.cc:fsck#0 39:38 [0] -> [1]",
                  "constant-change@engine.cc:fsck#1 39:42 [1] -> [2]",
                  "relational-boundary@engine.cc:is_small#0 42:34 [<=] -> [<]",
                  "constant-change@engine.cc:is_small#0 42:37 [0x10] -> [0x11]",
                  "remove-guard@engine.cc:valid#0 45:3 [if (x < 0) return false;] -> []",
                  "relational-boundary@engine.cc:valid#0 45:9 [<] -> [<=]",
                  "constant-change@engine.cc:valid#0 45:11 [0] -> [1]",
                  "return-flip@engine.cc:valid#0 45:21 [false] -> [true]",
                  "return-flip@engine.cc:valid#1 46:10 [true] -> [false]",
                  "constant-change@engine.cc:sum#0 50:11 [0] -> [1]",
                  "arithmetic-flip@engine.cc:sum#0 51:21 [+=] -> [-=]"));
}

TEST(MutantFinder, EveryMutantAppliesToTheFileItNames) {
  std::string text = testing::read_file(fixture());
  for (const Mutant& m : mutants_of(fixture())) {
    auto applied = apply_mutant(text, m);
    EXPECT_TRUE(applied) << m.id << ": " << applied.error();
  }
}

TEST(MutantFinder, AnIdNamesTheSameMutantAfterAnEditElsewhereInTheFile) {
  std::string dir = testing::scratch_dir("mutant-ids");
  std::string moved = dir + "/engine.cc";
  std::string text = testing::read_file(fixture());
  // A new function before the others moves every line and offset.
  testing::write_file(moved, "static int helper(int a) { return a < 3 ? a : 3; }\n" + text);
  auto before = mutants_of(fixture());
  auto after = mutants_of(moved);
  std::map<std::string, Mutant> by_id;
  for (const auto& m : after) by_id[m.id] = m;
  for (const auto& m : before) {
    ASSERT_TRUE(by_id.count(m.id)) << m.id << " is gone";
    EXPECT_EQ(by_id[m.id].line, m.line + 1) << m.id;
    EXPECT_EQ(by_id[m.id].original, m.original) << m.id;
  }
  EXPECT_EQ(after.size(), before.size() + 3) << "helper's own: its < and its two 3s";
}

TEST(MutantFinder, RulesNarrowTheListAndBadInputIsAUsageError) {
  auto only = mutants_of(fixture(), {"--rules", "return-flip,remove-call"});
  EXPECT_EQ(only.size(), 5u);
  Outcome bad_rule = run_finder({"--rules", "flip-all", fixture()});
  EXPECT_EQ(bad_rule.exit_code, 2);
  EXPECT_THAT(bad_rule.stderr_excerpt.text(), HasSubstr("--rules: 'flip-all' is no rule"));
  Outcome missing = run_finder({"/no/such/file.cc"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.stderr_excerpt.text(), HasSubstr("/no/such/file.cc: no such file"));
  std::string broken = testing::scratch_dir("mutant-broken") + "/broken.cc";
  testing::write_file(broken, "int f() { return undeclared_name; }\n");
  Outcome b = run_finder({broken, "--", "-std=c++20"});
  EXPECT_EQ(b.exit_code, 2);
  EXPECT_THAT(b.stderr_excerpt.text(), HasSubstr("does not compile"));
  EXPECT_THAT(b.stderr_excerpt.text(), HasSubstr("undeclared_name"));
  EXPECT_EQ(run_finder({}).exit_code, 2);
  Outcome help = run_finder({"--help"});
  EXPECT_EQ(help.kind, OutcomeKind::ok);
  for (const auto& r : mutation_rules()) EXPECT_THAT(help.stdout_excerpt.text(), HasSubstr(std::string(r.name)));
}

}  // namespace
}  // namespace crashgate
