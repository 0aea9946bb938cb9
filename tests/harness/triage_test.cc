// Triage: one test per frame-ignore row, normalization, crash state, signature, known issues.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "crashgate/triage.h"

namespace crashgate {
namespace {

Frame example_frame(const FrameIgnoreRule& rule, std::string_view text) {
  Frame f;
  switch (rule.match) {
    case FrameMatch::module_contains: f.module = text; f.function = "some_function"; break;
    case FrameMatch::file_contains: f.file = text; f.function = "some_function"; break;
    case FrameMatch::unsymbolized: f.function = text; break;
    default: f.function = text; f.module = "/opt/app/bin"; break;
  }
  return f;
}

class FrameIgnoreRow : public ::testing::TestWithParam<std::size_t> {};

TEST_P(FrameIgnoreRow, IgnoresItsExampleAndKeepsItsNearMiss) {
  const FrameIgnoreRule& rule = frame_ignore_rules()[GetParam()];
  Frame ignored = example_frame(rule, rule.ignores);
  const FrameIgnoreRule* hit = frame_ignore_rule(ignored);
  ASSERT_NE(hit, nullptr) << "row " << GetParam() << " (" << rule.pattern << ") does not ignore '" << rule.ignores << "'";
  EXPECT_EQ(hit->category, rule.category);
  Frame kept = example_frame(rule, rule.keeps);
  const FrameIgnoreRule* wrongly = frame_ignore_rule(kept);
  EXPECT_EQ(wrongly, nullptr) << "'" << rule.keeps << "' was ignored by the row for '"
                              << (wrongly ? wrongly->pattern : "") << "'";
}

INSTANTIATE_TEST_SUITE_P(EveryRow, FrameIgnoreRow, ::testing::Range<std::size_t>(0, frame_ignore_rules().size()),
                         [](const ::testing::TestParamInfo<std::size_t>& info) {
                           const auto& rule = frame_ignore_rules()[info.param];
                           std::string name = std::to_string(info.param) + "_";
                           for (char c : rule.category) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           name += "_";
                           for (char c : rule.pattern) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

TEST(NormalizeFunction, DropsArgumentsReturnTypesTagsAndNumbers) {
  EXPECT_EQ(normalize_function("vstore::Store::count() const"), "vstore::Store::count");
  EXPECT_EQ(normalize_function("read_slot(float const*, long)"), "read_slot");
  EXPECT_EQ(normalize_function("void std::__invoke_impl<void, F>(std::__invoke_other, F&&)"), "std::__invoke_impl<void, F>");
  EXPECT_EQ(normalize_function("main::$_0::operator()() const"), "main::$_N::operator()");
  EXPECT_EQ(normalize_function("f() [clone .cold]"), "f");
  EXPECT_EQ(normalize_function("g.isra.0"), "g");
  EXPECT_EQ(normalize_function("std::__cxx11::basic_string<char>::_M_create[abi:cxx11](unsigned long&)"),
            "std::__cxx11::basic_string<char>::_M_create");
  EXPECT_EQ(normalize_function("Buffer<64>::at(unsigned long)"), "Buffer<N>::at");
  EXPECT_EQ(normalize_function("(anonymous namespace)::parse(char const*)"), "(anonymous namespace)::parse");
  EXPECT_EQ(normalize_function("operator new(unsigned long)"), "operator new");
  EXPECT_EQ(normalize_function("md5_block"), "md5_block");
  // A digit second (a name the triage_input fuzz target fed it): kept, and no out_of_range thrown.
  EXPECT_EQ(normalize_function("f1"), "f1");
  EXPECT_EQ(normalize_function("x2y::run"), "x2y::run");
}

Outcome sigbus_in(std::vector<std::string> functions) {
  Outcome o;
  o.kind = OutcomeKind::signal;
  o.signal = SIGBUS;
  Thread t;
  for (auto& fn : functions) t.frames.push_back(Frame{fn, "", 0, 0, "/opt/app/bin", 0, 0});
  o.threads.push_back(t);
  o.crashing_thread = 0;
  return o;
}

TEST(CrashState, IsTheKindAndTheFirstThreeFramesThatAreNotNoise) {
  Outcome o = sigbus_in({"memcpy", "__interceptor_memcpy", "vstore::VectorFile::slot(unsigned long) const",
                         "vstore::Store::count()", "cli::run(int)", "main"});
  o.threads[0].frames[0].module = "/lib/x86_64-linux-gnu/libc.so.6";
  EXPECT_EQ(crash_state(o), "signal SIGBUS\nvstore::VectorFile::slot\nvstore::Store::count\ncli::run");
}

TEST(CrashState, AFrameWithoutASymbolIsItsLibraryAndOffsetWhicheverNameTheLibraryWentBy) {
  Outcome o = sigbus_in({"", "", "mdb_env_open"});
  o.threads[0].frames[0].module = "/usr/lib/x86_64-linux-gnu/liblmdb.so.0.0.0";  // the file the unwinder saw mapped
  o.threads[0].frames[0].module_offset = 0x10191;
  o.threads[0].frames[1].module = "liblmdb.so.0";                                 // the soname a sanitizer prints
  o.threads[0].frames[1].module_offset = 0x6e87;
  EXPECT_EQ(crash_state(o), "signal SIGBUS\nliblmdb.so+0x10191\nliblmdb.so+0x6e87\nmdb_env_open");
  Outcome other = o;
  other.threads[0].frames[0].module_offset = 0x7432;
  EXPECT_NE(crash_signature(crash_state(other)), crash_signature(crash_state(o)))
      << "two crashes at different places in one stripped library are two signatures";
}

TEST(CrashState, OkAndHarnessErrorsHaveNone) {
  Outcome o;
  o.kind = OutcomeKind::ok;
  EXPECT_EQ(crash_state(o), "");
  o.kind = OutcomeKind::harness_error;
  EXPECT_EQ(crash_state(o), "");
}

TEST(CrashState, SanitizerChecksDropTheAccessSize) {
  Outcome o = sigbus_in({"f(int)"});
  o.kind = OutcomeKind::asan;
  o.check = "heap-buffer-overflow READ 8";
  EXPECT_EQ(crash_state(o), "asan heap-buffer-overflow READ\nf");
}

TEST(Signature, IsStableAndSensitiveToTheState) {
  Outcome a = sigbus_in({"f(int)", "g()"});
  Outcome b = sigbus_in({"f(long)", "g() const"});  // same normalized state
  Outcome c = sigbus_in({"g()", "f(int)"});
  EXPECT_EQ(crash_signature(crash_state(a)), crash_signature(crash_state(b)));
  EXPECT_NE(crash_signature(crash_state(a)), crash_signature(crash_state(c)));
  EXPECT_EQ(crash_signature("signal SIGBUS\nf\ng").size(), 16u);
  // Pinned: a signature is an identifier in known-issues.toml; it must not drift.
  EXPECT_EQ(crash_signature("signal SIGBUS\nf\ng"), "af5c52e5408caa99");  // XXH3-64, computed independently
}

TEST(KnownIssues, MatchesBySignatureFirstThenByStateGlob) {
  Outcome o = sigbus_in({"vstore::VectorFile::slot()", "vstore::Store::count()"});
  triage(o, nullptr);
  auto known = KnownIssues::parse(
      "[[issue]]\nid = \"VS-1\"\ntitle = \"by state\"\nstates = [\"signal SIGBUS\\nvstore::VectorFile::slot*\"]\n"
      "[[issue]]\nid = \"VS-2\"\ntitle = \"by signature\"\nsignatures = [\"" + o.signature + "\"]\n",
      "k.toml");
  ASSERT_TRUE(known) << known.error();
  triage(o, &*known);
  ASSERT_TRUE(o.known_issue);
  EXPECT_EQ(o.known_issue->id, "VS-2");
  EXPECT_EQ(o.known_issue->matched_by, "signature");

  Outcome other = sigbus_in({"vstore::VectorFile::slot()", "vstore::Store::search()"});
  triage(other, &*known);
  ASSERT_TRUE(other.known_issue);
  EXPECT_EQ(other.known_issue->id, "VS-1");
  EXPECT_EQ(other.known_issue->matched_by, "state");

  Outcome unknown = sigbus_in({"elsewhere()"});
  triage(unknown, &*known);
  EXPECT_FALSE(unknown.known_issue);
}

TEST(KnownIssues, AnEngineIssueMatchesOnlyThatEngineAtTheVersionsItNames) {
  Outcome o = sigbus_in({"mdb_env_open()", "main()"});
  triage(o, nullptr);
  auto known = KnownIssues::parse("[[issue]]\nid = \"LMDB-1\"\ntitle = \"t\"\nengine = \"lmdb\"\nversions = [\"0.9.2*\"]\n"
                                  "signatures = [\"" + o.signature + "\"]\n",
                                  "k.toml");
  ASSERT_TRUE(known) << known.error();
  o.engine = EngineId{"lmdb", "0.9.24"};
  EXPECT_TRUE(known->match(o)) << "the named engine at a version the glob takes";
  o.engine = EngineId{"lmdb", "0.9.31"};
  EXPECT_FALSE(known->match(o)) << "an upgrade is not covered: the crash must be looked at again";
  o.engine = EngineId{"vstore", "0.9.24"};
  EXPECT_FALSE(known->match(o)) << "another engine with the same signature";
  o.engine.reset();
  EXPECT_FALSE(known->match(o)) << "a run that did not say its engine";

  auto any_version = KnownIssues::parse("[[issue]]\nid = \"L\"\ntitle = \"t\"\nengine = \"lmdb\"\nstates = [\"signal SIGBUS*\"]\n", "k.toml");
  ASSERT_TRUE(any_version) << any_version.error();
  o.engine = EngineId{"lmdb", "1.0"};
  EXPECT_TRUE(any_version->match(o)) << "no versions: every version of the engine";
}

TEST(KnownIssues, AnIssueScopedToCellsMatchesOnlyThoseCellsOutcomes) {
  Outcome o = sigbus_in({"hnswlib::HierarchicalNSW<float>::searchKnn()", "main()"});
  triage(o, nullptr);
  auto known = KnownIssues::parse("[[issue]]\nid = \"H-10\"\ntitle = \"t\"\n"
                                  "cells = [\"hnswlib-concurrent/hnswlib/*[workload=resize]\"]\nstates = [\"signal *\"]\n",
                                  "k.toml");
  ASSERT_TRUE(known) << known.error();
  EXPECT_TRUE(known->match(o, "hnswlib-concurrent/hnswlib/release[workload=resize]"));
  EXPECT_FALSE(known->match(o, "hnswlib-concurrent/hnswlib/release[workload=add]")) << "another cell of the scenario";
  EXPECT_FALSE(known->match(o, "hnswlib-header-fields/hnswlib/release[spot=x,value=0]")) << "the same crash elsewhere is new";
  EXPECT_FALSE(known->match(o)) << "an outcome of no cell (crashgate exec)";

  auto both = KnownIssues::parse("[[issue]]\nid = \"H-1\"\ntitle = \"t\"\nstates = [\"signal SIGBUS*\"]\n"
                                 "[[issue]]\nid = \"H-10\"\ntitle = \"t\"\n"
                                 "cells = [\"hnswlib-concurrent/hnswlib/*[workload=resize]\"]\nstates = [\"*\"]\n",
                                 "k.toml");
  ASSERT_TRUE(both) << both.error();
  EXPECT_EQ(both->match(o, "hnswlib-concurrent/hnswlib/release[workload=resize]")->id, "H-10") << "the cells' issue first";
  EXPECT_EQ(both->match(o, "hnswlib-header-fields/hnswlib/release[spot=x,value=0]")->id, "H-1");
  Outcome again = o;
  triage(again, &*known, "hnswlib-concurrent/hnswlib/asan[workload=resize]");
  ASSERT_TRUE(again.known_issue);
  EXPECT_EQ(again.known_issue->id, "H-10");
}

TEST(KnownIssues, MalformedFilesSayWhereAndWhat) {
  auto nothing = KnownIssues::parse("[[issue]]\nid = \"A\"\ntitle = \"t\"\n", "k.toml");
  ASSERT_FALSE(nothing);
  EXPECT_THAT(nothing.error(), ::testing::HasSubstr("k.toml:1:1: issue 'A' matches nothing"));
  auto unknown_key = KnownIssues::parse("[[issue]]\nid = \"A\"\ntitle = \"t\"\nsignature = [\"x\"]\n", "k.toml");
  ASSERT_FALSE(unknown_key);
  EXPECT_THAT(unknown_key.error(), ::testing::HasSubstr("k.toml:4:13: unknown key 'signature'"));
  auto bad_toml = KnownIssues::parse("[[issue]\n", "k.toml");
  ASSERT_FALSE(bad_toml);
  EXPECT_THAT(bad_toml.error(), ::testing::StartsWith("k.toml:1:"));
  auto twice = KnownIssues::parse(
      "[[issue]]\nid = \"A\"\ntitle = \"t\"\nstates=[\"x\"]\n[[issue]]\nid = \"A\"\ntitle = \"u\"\nstates=[\"y\"]\n",
      "k.toml");
  ASSERT_FALSE(twice);
  EXPECT_THAT(twice.error(), ::testing::HasSubstr("appears twice"));
  auto versions_alone = KnownIssues::parse("[[issue]]\nid = \"A\"\ntitle = \"t\"\nversions = [\"1.*\"]\nstates=[\"x\"]\n", "k.toml");
  ASSERT_FALSE(versions_alone);
  EXPECT_THAT(versions_alone.error(), ::testing::HasSubstr("issue 'A' gives 'versions' without the 'engine'"));
  auto engine_not_string = KnownIssues::parse("[[issue]]\nid = \"A\"\ntitle = \"t\"\nengine = 3\nstates=[\"x\"]\n", "k.toml");
  ASSERT_FALSE(engine_not_string);
  EXPECT_THAT(engine_not_string.error(), ::testing::HasSubstr("k.toml:4:10: 'engine' must be a string"));
}

TEST(KnownIssues, TheCheckedInFileLoads) {
  auto known = KnownIssues::load(std::string(CRASHGATE_SOURCE_DIR) + "/reports/known-issues.toml");
  EXPECT_TRUE(known) << known.error();
}

}  // namespace
}  // namespace crashgate
