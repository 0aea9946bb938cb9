// Crash-state recovery checks (crash_check.h, record_model.h): the record
// model a driver reports, what a crash at one point must leave of it, the
// kit's verify against that, the durability rules the recording's flags
// bring, and `crashgate crash-check` on engines we did not write.
#include <fcntl.h>
#include <sys/mman.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "crashgate/crash_check.h"
#include "crashgate/driver_records.h"
#include "crashgate/record_model.h"
#include "crashgate/scenario.h"
#include "harness/support/crashers.h"
#include "harness/support/run_fixtures.h"

namespace crashgate {
namespace {

using json = nlohmann::json;

RecordModel model_of(std::uint64_t first, std::uint64_t last, std::set<std::uint64_t> removed = {}, std::uint64_t seed = 7) {
  RecordModel m;
  m.dim = 8;
  for (std::uint64_t id = first; id <= last; ++id)
    if (!removed.count(id)) m.live[id] = seed;
  m.removed = std::move(removed);
  return m;
}

TEST(RecordModel, TravelsAsRunsOfIdsAndComesBackTheSame) {
  RecordModel m = model_of(0, 99, {10, 11, 50});
  m.live[500] = 3;
  m.metric = "l2";
  json j = model_to_json(m);
  EXPECT_EQ(j["live"].size(), 4u) << j.dump();  // 0-9, 12-49, 51-99 (seed 7), 500 (seed 3)
  EXPECT_EQ(j["removed"], json::parse("[[10, 11], [50, 50]]"));
  Checked<RecordModel> back = model_from_json(j);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->live, m.live);
  EXPECT_EQ(back->removed, m.removed);
  EXPECT_EQ(back->dim, 8u);
  EXPECT_EQ(back->metric, "l2");
}

TEST(RecordModel, ABadRunIsRefusedNamingWhere) {
  Checked<RecordModel> reversed = model_from_json(json::parse(R"({"dim": 4, "live": [[0, 3, 1], [9, 5, 1]]})"));
  ASSERT_FALSE(reversed);
  EXPECT_NE(reversed.error().find("live[1]"), std::string::npos) << reversed.error();
  Checked<RecordModel> short_run = model_from_json(json::parse(R"({"removed": [[1]]})"));
  ASSERT_FALSE(short_run);
  EXPECT_NE(short_run.error().find("removed[0]"), std::string::npos) << short_run.error();
  Checked<CrashExpectation> both = expectation_from_json(json::parse(R"({"must": [[1, 2, 0]], "gone": [[2, 2]]})"));
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().find("id 2"), std::string::npos) << both.error();
}

// Events at log positions 10 (durable: 0..9), 20 (not: 0..14 but 3 removed),
// 30 (durable: the same), 40 (not: 0..19 but 3).
std::vector<ModelEvent> four_events() {
  return {{10, true, model_of(0, 9)}, {20, false, model_of(0, 14, {3})}, {30, true, model_of(0, 14, {3})},
          {40, false, model_of(0, 19, {3})}};
}

TEST(CrashExpectation, BetweenSyncsTheAcknowledgedMustStayAndWhatChangedSinceMay) {
  CrashExpectation e = expectation_at(four_events(), 25);
  EXPECT_TRUE(e.acknowledged);
  EXPECT_EQ(e.dim, 8u);
  // 3 was removed after the first sync: it may be there or not; 10..14 were added since.
  EXPECT_EQ(e.must.size(), 9u);
  EXPECT_FALSE(e.must.count(3));
  std::set<std::uint64_t> maybe;
  for (const auto& [id, seed] : e.maybe) maybe.insert(id);
  EXPECT_EQ(maybe, (std::set<std::uint64_t>{3, 10, 11, 12, 13, 14}));
  EXPECT_TRUE(e.gone.empty());
}

TEST(CrashExpectation, AfterTheSecondSyncItsRemovalIsDurableAndLaterAddsAreInFlight) {
  CrashExpectation e = expectation_at(four_events(), 35);
  EXPECT_EQ(e.must.size(), 14u);
  EXPECT_EQ(e.gone, (std::set<std::uint64_t>{3}));
  EXPECT_EQ(e.maybe.size(), 5u);  // 15..19: the step running at the crash
  EXPECT_TRUE(e.maybe.count(15) && e.maybe.count(19));
}

TEST(CrashExpectation, BeforeAnythingWasAcknowledgedNothingIsPromised) {
  CrashExpectation e = expectation_at(four_events(), 5);
  EXPECT_FALSE(e.acknowledged);
  EXPECT_TRUE(e.must.empty());
  EXPECT_TRUE(e.gone.empty());
  EXPECT_EQ(e.maybe.size(), 10u);
  Cell recorded;
  recorded.id = "s/t/release";
  Cell c = recovery_cell(recorded, 4, e, "/tmp/state");
  EXPECT_EQ(c.id, "s/t/release@state-4");
  ASSERT_EQ(c.steps.size(), 2u);
  EXPECT_EQ(c.steps[0].op, "import");
  EXPECT_EQ(c.steps[0].args["from"], "/tmp/state/store");
  EXPECT_EQ(c.steps[1].op, "verify");
  EXPECT_EQ(c.expect.outcome, (OutcomeKinds{OutcomeKind::ok, OutcomeKind::error}));  // no store yet is no broken promise
  Cell promised = recovery_cell(recorded, 5, expectation_at(four_events(), 12), "/tmp/state");
  EXPECT_EQ(promised.expect.outcome, OutcomeKinds{OutcomeKind::ok});
}

// The kit's verify against an expectation, over a store held in a map.
struct FakeStore {
  std::map<std::uint64_t, std::vector<float>> records;
  kit::Lookup lookup() {
    return [this](std::uint64_t id, std::optional<kit::Found>& found) {
      found.reset();
      if (auto it = records.find(id); it != records.end()) found = kit::Found{it->second, std::nullopt};
      return kit::StepResult::ok();
    };
  }
};

TEST(KitRecords, VerifyAfterACrashWantsTheAcknowledgedExactAndAcceptsInFlightOnesEitherWay) {
  CrashExpectation e = expectation_at(four_events(), 35);  // must 0..14 but 3; gone 3; maybe 15..19
  FakeStore store;
  for (const auto& [id, seed] : e.must) store.records[id] = kit::record_for(id, 8, seed).vector;
  store.records[16] = kit::record_for(16, 8, 7).vector;  // one in-flight record made it
  kit::Records records;
  records.imported(8);
  ASSERT_TRUE(records.expect(expectation_to_json(e)).is_ok);
  kit::StepResult ok = records.verify(store.lookup(), store.records.size());
  EXPECT_TRUE(ok.is_ok) << ok.message;

  FakeStore torn = store;
  torn.records[16][2] += 1.0f;
  kit::StepResult r = records.verify(torn.lookup(), torn.records.size());
  EXPECT_FALSE(r.is_ok);
  EXPECT_NE(r.message.find("id 16"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("torn"), std::string::npos) << r.message;

  FakeStore lost = store;
  lost.records.erase(7);
  r = records.verify(lost.lookup(), lost.records.size());
  EXPECT_FALSE(r.is_ok);
  EXPECT_NE(r.message.find("id 7 was acknowledged durable before the crash"), std::string::npos) << r.message;

  FakeStore back = store;
  back.records[3] = kit::record_for(3, 8, 7).vector;
  r = records.verify(back.lookup(), back.records.size());
  EXPECT_FALSE(r.is_ok);
  EXPECT_NE(r.message.find("id 3 was removed durably"), std::string::npos) << r.message;

  // A record nobody wrote shows as a count the model cannot explain.
  r = records.verify(store.lookup(), store.records.size() + 1);
  EXPECT_FALSE(r.is_ok);
  EXPECT_NE(r.message.find("counts"), std::string::npos) << r.message;

  kit::Records wrong_dim;
  wrong_dim.imported(4);
  kit::StepResult refused = wrong_dim.expect(expectation_to_json(e));
  EXPECT_FALSE(refused.is_ok);
  EXPECT_EQ(refused.code, "invalid-argument");
}

TEST(CallSite, IsTheFirstFrameOutsideTheLanguageRuntimesElseOutsideTheCLibrary) {
  FsCall c;
  EXPECT_EQ(call_site(c), "");
  // hnswlib's saveIndex writes through std::ofstream: libc, then libstdc++, then the engine.
  c.stack = {"/usr/lib/x86_64-linux-gnu/libc.so.6+0xf838f", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30+0xc9e2d",
             "/usr/lib/x86_64-linux-gnu/libgcc_s.so.1+0x10", "/usr/lib/python3/dist-packages/hnswlib.cpython-311-x86_64-linux-gnu.so+0x1ffc9",
             "/usr/bin/python3.11+0x2000"};
  EXPECT_EQ(call_site(c), "/usr/lib/python3/dist-packages/hnswlib.cpython-311-x86_64-linux-gnu.so+0x1ffc9");
  EXPECT_EQ(caller_of_site(c), "") << "the interpreter under it is a runtime's frame";
  // vstore's I/O layer and the write it serves: the site is the layer, its caller the engine's write.
  c.stack = {"/usr/lib/x86_64-linux-gnu/libc.so.6+0xf838f", "/b/crashgate-driver-vstore+0x100", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6+0x10",
             "/b/crashgate-driver-vstore+0x200", "/b/crashgate-driver-vstore+0x300"};
  EXPECT_EQ(call_site(c), "/b/crashgate-driver-vstore+0x100");
  EXPECT_EQ(caller_of_site(c), "/b/crashgate-driver-vstore+0x200");
  // A Python driver's own os.fsync: only the interpreter under libc.
  c.stack = {"/usr/lib/x86_64-linux-gnu/libc.so.6+0x1", "/usr/bin/python3.11+0x2000", "/usr/bin/python3.11+0x3000"};
  EXPECT_EQ(call_site(c), "/usr/bin/python3.11+0x2000");
  // A library whose name only starts like libc's is not the C library.
  c.stack = {"/usr/lib/x86_64-linux-gnu/libc.so.6+0x1", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3+0x40"};
  EXPECT_EQ(call_site(c), "/usr/lib/x86_64-linux-gnu/libcrypto.so.3+0x40");
}

TEST(CallSite, ASanitizersInterceptorInTheProgramItselfIsPassedByItsName) {
  // An ASan build links __interceptor_writev into the driver: the same module as the engine.
  std::vector<std::string> stack = {"/b/driver+0x10", "/b/driver+0x20", "/b/driver+0x30"};
  std::map<std::string, std::string> names = {{"/b/driver+0x10", "__interceptor_writev (/b/driver+0x10)"},
                                              {"/b/driver+0x20", "hnswlib::HierarchicalNSW<float>::saveIndex hnswalg.h:614"},
                                              {"/b/driver+0x30", "Engine::save engine.cc:40"}};
  auto describe = [&](const std::string& f) { return names[f]; };
  EXPECT_EQ(site_and_caller(stack, describe), (std::pair<std::string, std::string>{"/b/driver+0x20", "/b/driver+0x30"}));
  // Only runtimes and interceptors: the first frame outside the C library, as call_site says.
  names["/b/driver+0x20"] = "__tsan_write4";
  names["/b/driver+0x30"] = "__sanitizer::internal_memcpy";
  EXPECT_EQ(site_and_caller(stack, describe), (std::pair<std::string, std::string>{"/b/driver+0x10", ""}));
}

Recording two_files_recording() {
  Recording r;
  r.dir = "/d";
  r.initial = {"/d"};
  auto call = [&](std::string name, std::string kind, std::string path, std::int64_t flags = 0) {
    FsCall c;
    c.seq = r.calls.size() + 1;
    c.call = std::move(name);
    c.kind = std::move(kind);
    c.path = std::move(path);
    c.flags = flags;
    r.calls.push_back(c);
  };
  call("openat", "open", "/d/meta", O_CREAT | O_WRONLY);           // 1: a new file
  call("pwrite64", "write", "/d/meta", O_WRONLY | O_DSYNC);         // 2: through an O_DSYNC fd
  r.calls.back().offset = 0;
  r.calls.back().length = 4;
  call("pwrite64", "write", "/d/meta", O_WRONLY);                   // 3: a plain write
  r.calls.back().offset = 4;
  r.calls.back().length = 4;
  call("fsync", "persist", "/d/meta");                              // 4
  call("close", "close", "/d/meta");                                // 5
  return r;
}

TEST(CrashStates, AWriteThroughAnODsyncFdIsDurableOnReturn) {
  std::vector<CrashState> at3 = crash_states(two_files_recording(), {PersistenceModel::posix, {3}});
  ASSERT_FALSE(at3.empty());
  // Pending at 3: the create (#1, its directory never fsynced) and the plain write (#3); not #2.
  EXPECT_EQ(at3.front().pending, (std::vector<std::uint64_t>{1, 3}));
}

TEST(CrashStates, UnderExt4OrderedAFileFsyncMakesItsCreationDurable) {
  std::vector<CrashState> posix = crash_states(two_files_recording(), {PersistenceModel::posix, {5}});
  std::vector<CrashState> ext4 = crash_states(two_files_recording(), {PersistenceModel::ext4_ordered, {5}});
  ASSERT_FALSE(posix.empty());
  ASSERT_FALSE(ext4.empty());
  EXPECT_EQ(posix.front().pending, std::vector<std::uint64_t>{1});  // posix: only a directory fsync keeps the name
  EXPECT_TRUE(ext4.front().pending.empty());
}

// A new file written through a shared mapping and msynced (LMDB with MDB_WRITEMAP):
// MS_SYNC makes the pages it found durable, and under ext4-ordered the file's
// creation too; MS_ASYNC makes nothing durable.
Recording mapped_file_recording(std::int64_t msync_flags) {
  Recording r;
  r.dir = "/d";
  r.initial = {"/d"};
  auto call = [&](std::string name, std::string kind, std::int64_t flags = 0) {
    FsCall c;
    c.seq = r.calls.size() + 1;
    c.call = std::move(name);
    c.kind = std::move(kind);
    c.path = "/d/data";
    c.flags = flags;
    r.calls.push_back(c);
  };
  call("openat", "open", O_CREAT | O_RDWR);  // 1
  call("mapped-write", "write");             // 2: a page found at the msync
  r.calls.back().offset = 0;
  r.calls.back().length = 4096;
  r.calls.back().found_at = "msync";
  call("msync", "map-sync", msync_flags);    // 3
  call("close", "close");                    // 4
  return r;
}

TEST(CrashStates, MsyncWithMsSyncMakesItsPagesDurableAndUnderExt4TheFilesCreationMsAsyncNothing) {
  std::vector<CrashState> synced = crash_states(mapped_file_recording(MS_SYNC), {PersistenceModel::posix, {4}});
  ASSERT_FALSE(synced.empty());
  EXPECT_EQ(synced.front().pending, std::vector<std::uint64_t>{1}) << "posix: the page is durable, the name is not";
  std::vector<CrashState> ext4 = crash_states(mapped_file_recording(MS_SYNC), {PersistenceModel::ext4_ordered, {4}});
  ASSERT_FALSE(ext4.empty());
  EXPECT_TRUE(ext4.front().pending.empty()) << "ext4-ordered: the msync's journal commit holds the create";
  std::vector<CrashState> async = crash_states(mapped_file_recording(MS_ASYNC), {PersistenceModel::ext4_ordered, {4}});
  ASSERT_FALSE(async.empty());
  EXPECT_EQ(async.front().pending, (std::vector<std::uint64_t>{1, 2})) << "MS_ASYNC waits for nothing";
}

TEST(ScenarioCrashStates, TheModelAndSampleAreReadAndABadModelIsRefusedWhereItIsWritten) {
  const char* base = "name = \"s\"\ntargets = [\"vstore\"]\n[[step]]\nop = \"sync\"\n[expect]\noutcome = \"ok\"\n";
  ScenarioParse good = parse_scenario(std::string(base) + "[crash_states]\nmodel = \"ext4-ordered\"\nsample = 12\n", "good.toml");
  ASSERT_TRUE(good.scenario) << (good.errors.empty() ? "" : good.errors.front().text());
  ASSERT_TRUE(good.scenario->crash_states);
  EXPECT_EQ(good.scenario->crash_states->model, "ext4-ordered");
  EXPECT_EQ(good.scenario->crash_states->sample, 12u);
  EXPECT_EQ(expand_cells(*good.scenario).front().crash_states->sample, 12u);

  ScenarioParse bad = parse_scenario(std::string(base) + "[crash_states]\nmodel = \"ext5\"\n", "bad.toml");
  ASSERT_FALSE(bad.scenario);
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].text(), "bad.toml:8:9: crash_states.model: 'ext5' is not a persistence model (posix, ext4-ordered)");
  ScenarioParse unknown = parse_scenario(std::string(base) + "[crash_states]\npoints = 3\n", "unknown.toml");
  ASSERT_FALSE(unknown.scenario);
  EXPECT_NE(unknown.errors.at(0).text().find("unknown key 'points'"), std::string::npos);
  ScenarioParse phase = parse_scenario(std::string(base) + "[crash_states]\nsteps = [0, 0]\n", "phase.toml");
  ASSERT_TRUE(phase.scenario) << (phase.errors.empty() ? "" : phase.errors.front().text());
  EXPECT_EQ(phase.scenario->crash_states->steps, std::make_pair(0, 0));
  ScenarioParse past = parse_scenario(std::string(base) + "[crash_states]\nsteps = [0, 3]\n", "past.toml");
  ASSERT_FALSE(past.scenario);
  EXPECT_NE(past.errors.at(0).text().find("crash_states.steps: the scenario has steps 0 to 0, not 3"), std::string::npos)
      << past.errors.at(0).text();
  ScenarioParse backwards = parse_scenario(std::string(base) + "[crash_states]\nsteps = [1, 0]\n", "backwards.toml");
  ASSERT_FALSE(backwards.scenario);
  EXPECT_NE(backwards.errors.at(0).text().find("must be [first, last]"), std::string::npos);
  ScenarioParse switches = parse_scenario(std::string(base) + "[crash_states]\nmatrix_switches = [\"ack-before-sync\"]\n", "sw.toml");
  ASSERT_TRUE(switches.scenario) << (switches.errors.empty() ? "" : switches.errors.front().text());
  EXPECT_EQ(expand_cells(*switches.scenario).front().crash_states->matrix_switches, std::vector<std::string>{"ack-before-sync"});
}

// The build root of this build's drivers: BUILD_ROOT/<build>/bin/crashgate-driver-<target>.
std::string build_root_of(const std::string& driver) {
  return std::filesystem::path(driver).parent_path().parent_path().parent_path().string();
}

std::string one_scenario(const std::string& name, const std::string& target, const std::string& model, const std::string& steps,
                         const std::string& more = "") {
  std::string dir = testing::scratch_dir("crash-check-" + name);
  std::string path = dir + "/" + name + ".toml";
  testing::write_file(path, "name = \"" + name + "\"\ntargets = [\"" + target + "\"]\nbuilds = [\"" + testing::this_build() +
                                "\"]\n[crash_states]\nmodel = \"" + model + "\"\n" + more + steps + "[expect]\noutcome = \"ok\"\n");
  return path;
}

json crash_check_json(const std::string& out) {
  std::string run;
  for (const auto& e : std::filesystem::directory_iterator(out)) run = e.path().string();
  std::ifstream in(run + "/crash-check.json");
  return json::parse(in, nullptr, false);
}

TEST(CrashCheckCommand, HnswlibSaveOverAnEarlierSaveLosesItAndIsReportedByCallSiteAndKind) {
#ifndef CRASHGATE_HNSWLIB_DRIVER
  GTEST_SKIP() << "no hnswlib driver in this build";
#else
  std::string scenario = one_scenario("hnswlib-resave", "hnswlib", "posix",
                                      "[[step]]\nop = \"create\"\ndim = 8\nvectors = 60\n[[step]]\nop = \"add\"\nvectors = 20\n"
                                      "[[step]]\nop = \"sync\"\n", "steps = [2, 2]\n");
  std::string out = testing::scratch_dir("crash-check-hnswlib-out");
  Outcome o = testing::run_crashgate({"crash-check", scenario, "--build", testing::this_build(), "--build-root",
                                      build_root_of(CRASHGATE_HNSWLIB_DRIVER), "--out", out, "-j", "2", "--known-issues",
                                      testing::scratch_dir("no-known") + "/none.toml"},
                                     {std::chrono::seconds(600), {}});
  // No known-issues file there: a usage error names it.
  EXPECT_EQ(o.exit_code, 2) << testing::output_of(o);
  EXPECT_NE(testing::output_of(o).find("--known-issues"), std::string::npos);

  o = testing::run_crashgate({"crash-check", scenario, "--build", testing::this_build(), "--build-root",
                              build_root_of(CRASHGATE_HNSWLIB_DRIVER), "--out", out, "-j", "2"},
                             {std::chrono::seconds(600), {}});
  EXPECT_EQ(o.exit_code, 1) << testing::output_of(o);
  json report = crash_check_json(out);
  ASSERT_TRUE(report.is_object());
  EXPECT_GT(report["states_checked"].get<int>(), 3);
  // Only the second save's calls are crash points (steps = [2, 2]).
  EXPECT_LT(report["recorded"][0]["crash_points"].get<int>(), report["recorded"][0]["calls"].get<int>() / 2) << report.dump(2);
  ASSERT_FALSE(report["vulnerabilities"].empty()) << report.dump(2);
  // saveIndex rewrites index.bin in place: some state of the second save tears or drops its write and loses the first save.
  bool torn_or_dropped = false;
  for (const auto& v : report["vulnerabilities"]) {
    if (v["kind"] == "torn" || v["kind"] == "drop") torn_or_dropped = true;
    EXPECT_NE(v["repro"].get<std::string>().find("crashgate repro"), std::string::npos);
    // The engine's frame, not the C++ library's stream buffer it writes through.
    EXPECT_NE(v["call_site"].get<std::string>().find("crashgate-driver-hnswlib"), std::string::npos) << v.dump();
    EXPECT_NE(v["source"].get<std::string>().find("hnswlib::"), std::string::npos) << v.dump();
    EXPECT_FALSE(v["caller"].get<std::string>().empty()) << "saveIndex's caller, the driver: " << v.dump();
  }
  EXPECT_TRUE(torn_or_dropped) << report.dump(2);
  // The states that recovered are gone from disk; failed ones stay for repro, at most 5 a vulnerability.
  std::string run;
  for (const auto& e : std::filesystem::directory_iterator(out)) run = e.path().string();
  std::size_t kept = 0;
  for (const auto& e : std::filesystem::directory_iterator(run + "/states")) kept += e.is_directory();
  EXPECT_GT(kept, 0u);
  EXPECT_LE(kept, 5 * report["vulnerabilities"].size());
  EXPECT_LT(kept, report["states_checked"].get<std::size_t>());
#endif
}

#ifdef CRASHGATE_LMDB_DRIVER
// crash-check of an LMDB cell (create 40, add 20, remove 10; `create_extra`
// added to create) under ext4-ordered, which must recover from every state;
// crash-check.json, read back.
json lmdb_crash_check_clean(const std::string& name, const std::string& create_extra) {
  std::string scenario = one_scenario(name, "lmdb", "ext4-ordered",
                                      "[[step]]\nop = \"create\"\ndim = 8\nvectors = 40\n" + create_extra +
                                          "[[step]]\nop = \"add\"\nvectors = 20\n[[step]]\nop = \"remove\"\ncount = 10\n");
  std::string out = testing::scratch_dir(name + "-out");
  Outcome o = testing::run_crashgate({"crash-check", scenario, "--build", testing::this_build(), "--build-root",
                                      build_root_of(CRASHGATE_LMDB_DRIVER), "--out", out, "-j", "2"},
                                     {std::chrono::seconds(600), {}});
  EXPECT_EQ(o.exit_code, 0) << testing::output_of(o);
  json report = crash_check_json(out);
  EXPECT_TRUE(report.is_object());
  if (!report.is_object()) return report;
  EXPECT_GT(report["states_checked"].get<int>(), 10);
  EXPECT_TRUE(report["vulnerabilities"].empty()) << report.dump(2);
  EXPECT_GT(report["recorded"][0]["records_events"].get<int>(), 2);
  return report;
}
#endif

TEST(CrashCheckCommand, LmdbSyncedCommitsRecoverFromEveryExt4OrderedState) {
#ifndef CRASHGATE_LMDB_DRIVER
  GTEST_SKIP() << "no LMDB driver in this build";
#else
  lmdb_crash_check_clean("crash-check-lmdb", "");
#endif
}

// With MDB_WRITEMAP (variant = "writemap") LMDB stores its pages and meta page
// through a shared mapping and msyncs them at commit: no write call carries
// them, the recorder finds them by page comparison at each msync, and every
// ext4-ordered state recovers the acknowledged records.
TEST(CrashCheckCommand, LmdbWritemapCommitsAreFoundInTheMappingAndRecoverFromEveryExt4OrderedState) {
#ifndef CRASHGATE_LMDB_DRIVER
  GTEST_SKIP() << "no LMDB driver in this build";
#else
  json report = lmdb_crash_check_clean("crash-check-lmdb-writemap", "variant = \"writemap\"\n");
  ASSERT_TRUE(report.is_object());
  std::string recording = report["recorded"][0]["recording"].get<std::string>();
  std::ifstream meta(recording + "/record.json");
  json summary = json::parse(meta, nullptr, false);
  EXPECT_GT(summary.value("mapped_writes", 0), 3) << summary.dump(2);
  std::ifstream calls(recording + "/calls.jsonl");
  int found_at_msync = 0;
  for (std::string line; std::getline(calls, line);) found_at_msync += json::parse(line).value("found_at", "") == "msync";
  EXPECT_GT(found_at_msync, 3) << "the commits' pages are found at their msync";
#endif
}

// The detection matrix's ack-before-sync (sync acknowledges before the data
// is fdatasynced) is caught through the recording too: some state keeps the
// committed MANIFEST and loses the data it names, and recovery finds
// acknowledged records missing or the store corrupt. The same cell without
// the switch recovers from the states of a sample of its crash points.
TEST(CrashCheckCommand, AckBeforeSyncIsCaughtAsLostAcknowledgedRecords) {
#if !VSTORE_HAS_REGRESSIONS
  GTEST_SKIP() << "this build has no regression switches compiled in";
#else
  // create ends in a sync: about 250 distinct states, every point after its MANIFEST commit a loss,
  // so 40 points (the seed is fixed) catch it without the 90 s a sanitizer takes over all of them.
  std::string scenario = one_scenario("vstore-acked", "vstore", "posix", "[[step]]\nop = \"create\"\ndim = 8\nvectors = 40\n");
  std::string root = build_root_of(CRASHGATE_VSTORE_DRIVER);
  std::string plain_out = testing::scratch_dir("crash-check-vstore-plain");
  Outcome plain = testing::run_crashgate({"crash-check", scenario, "--build", testing::this_build(), "--build-root", root, "--out",
                                          plain_out, "-j", "2", "--sample", "12"},
                                         {std::chrono::seconds(900), {}});
  EXPECT_EQ(plain.exit_code, 0) << testing::output_of(plain);
  EXPECT_TRUE(crash_check_json(plain_out)["vulnerabilities"].empty()) << crash_check_json(plain_out).dump(2);

  std::string out = testing::scratch_dir("crash-check-vstore-ack");
  Outcome o = testing::run_crashgate({"crash-check", scenario, "--build", testing::this_build(), "--build-root", root, "--out", out,
                                      "-j", "2", "--sample", "40", "--regression", "ack-before-sync"},
                                     {std::chrono::seconds(900), {}});
  EXPECT_EQ(o.exit_code, 1) << testing::output_of(o);
  json report = crash_check_json(out);
  ASSERT_FALSE(report["vulnerabilities"].empty()) << report.dump(2);
  bool lost_or_corrupt = false;
  for (const auto& v : report["vulnerabilities"]) {
    std::string outcome = v["outcome"];
    if (outcome.find("wrong-result") != std::string::npos || outcome.find("corrupt") != std::string::npos) lost_or_corrupt = true;
  }
  EXPECT_TRUE(lost_or_corrupt) << report.dump(2);
#endif
}

// The detection matrix checks ack-before-sync through crash states too: the
// scenario's [crash_states] names the switch, and a cell "+ack-before-sync@crash-states"
// records the run with it on and catches it as lost acknowledged records.
TEST(CrashCheckMatrix, AckBeforeSyncIsCaughtThroughCrashStatesAndAnUnknownSwitchNameIsRefused) {
#if !VSTORE_HAS_REGRESSIONS
  GTEST_SKIP() << "this build has no regression switches compiled in";
#else
  std::string steps = "[[step]]\nop = \"create\"\ndim = 8\nvectors = 40\n[[step]]\nop = \"add\"\nvectors = 10\n[[step]]\nop = \"sync\"\n";
  std::string scenario = one_scenario("vstore-matrix", "vstore", "posix", steps, "matrix_switches = [\"ack-before-sync\"]\n");
  std::string root = build_root_of(CRASHGATE_VSTORE_DRIVER);
  std::string out = testing::scratch_dir("crash-check-matrix-out");
  Outcome o = testing::run_crashgate({"matrix", scenario, "--build", testing::this_build(), "--build-root", root, "--out", out,
                                      "--plain-build", testing::this_build(), "--regression", "ack-before-sync", "--crash-points", "8",
                                      "-j", "2"},
                                     {std::chrono::seconds(600), {}});
  EXPECT_EQ(o.exit_code, 0) << testing::output_of(o);
  std::string run;
  for (const auto& e : std::filesystem::directory_iterator(out)) run = e.path().string();
  std::ifstream in(run + "/matrix.json");
  ASSERT_TRUE(in) << testing::output_of(o);
  json m = json::parse(in);
  ASSERT_EQ(m["regressions"].size(), 1u);
  bool through_states = false;
  for (const auto& c : m["regressions"][0]["caught_by"]) {
    std::string cell = c["cell"];
    if (cell.ends_with("+ack-before-sync@crash-states")) {
      through_states = true;
      EXPECT_EQ(c["kind"], "error") << c.dump();
    }
  }
  EXPECT_TRUE(through_states) << m.dump(2);
  EXPECT_THAT(testing::output_of(o), ::testing::HasSubstr("1 checked at 8 crash points"));

  // A switch name that is not the target's: said, with the scenario, before anything runs.
  std::string typo = one_scenario("vstore-matrix-typo", "vstore", "posix", steps, "matrix_switches = [\"ack-before-synk\"]\n");
  Outcome bad = testing::run_crashgate({"matrix", typo, "--build", testing::this_build(), "--build-root", root, "--out", out,
                                        "--plain-build", testing::this_build()});
  EXPECT_EQ(bad.exit_code, 2) << testing::output_of(bad);
  EXPECT_THAT(testing::output_of(bad), ::testing::HasSubstr("matrix_switches names 'ack-before-synk', which is no regression switch of vstore"));
#endif
}

TEST(CrashCheckCommand, AnUnknownModelIsAUsageError) {
  std::string scenario = one_scenario("any", "vstore", "posix", "[[step]]\nop = \"sync\"\n");
  Outcome o = testing::run_crashgate({"crash-check", scenario, "--model", "zfs"});
  EXPECT_EQ(o.exit_code, 2) << testing::output_of(o);
  EXPECT_NE(testing::output_of(o).find("'zfs' is not a persistence model"), std::string::npos) << testing::output_of(o);
}

TEST(CrashCheckCommand, AVariantTheTargetsDriverDoesNotListIsRefusedBeforeAnythingIsRecorded) {
#ifndef CRASHGATE_LMDB_DRIVER
  GTEST_SKIP() << "no LMDB driver in this build";
#else
  std::string scenario = one_scenario("lmdb-typo", "lmdb", "posix", "[[step]]\nop = \"create\"\ndim = 4\nvariant = \"writemapp\"\n");
  std::string out = testing::scratch_dir("crash-check-variant-out");
  Outcome o = testing::run_crashgate({"crash-check", scenario, "--build", testing::this_build(), "--build-root",
                                      build_root_of(CRASHGATE_LMDB_DRIVER), "--out", out});
  EXPECT_EQ(o.exit_code, 2) << testing::output_of(o);
  EXPECT_NE(testing::output_of(o).find("'variant' = \"writemapp\" is not among target lmdb's values (default, writemap)"), std::string::npos)
      << testing::output_of(o);
  EXPECT_NE(testing::output_of(o).find("nothing was recorded"), std::string::npos) << testing::output_of(o);
  EXPECT_TRUE(std::filesystem::is_empty(out)) << "no run directory";
#endif
}

TEST(CrashCheckCommand, ARecordedRunThatEndsBeforeItsCrashPointsIsNamedAndNothingIsChecked) {
  // Step 1 fails (no such id), so the driver exits before step 3, the phase whose calls are the crash points.
  std::string scenario = one_scenario("ends-early", "vstore", "posix",
                                      "[[step]]\nop = \"create\"\ndim = 4\nvectors = 10\n[[step]]\nop = \"get\"\nids = [999999]\n"
                                      "[[step]]\nop = \"add\"\nvectors = 5\n[[step]]\nop = \"sync\"\n", "steps = [3, 3]\n");
  std::string out = testing::scratch_dir("crash-check-ends-early-out");
  Outcome o = testing::run_crashgate({"crash-check", scenario, "--build", testing::this_build(), "--build-root",
                                      build_root_of(CRASHGATE_VSTORE_DRIVER), "--out", out});
  EXPECT_EQ(o.exit_code, 3) << testing::output_of(o);
  EXPECT_NE(testing::output_of(o).find("ends-early/vstore/" + testing::this_build() + ": the recorded run exited 1"), std::string::npos)
      << testing::output_of(o);
  json report = crash_check_json(out);
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(report["states_checked"], 0);
  EXPECT_NE(report["recorded"][0]["error"].get<std::string>().find("exited 1"), std::string::npos) << report.dump(2);
}

}  // namespace
}  // namespace crashgate
