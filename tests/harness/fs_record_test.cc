// `crashgate record` on a program of known file calls (crashers/fs_probe.cc):
// every call on the recorded directory is in the log, in order, with its
// paths, offsets and bytes; a store through a shared mapping becomes a
// mapped-write found at the msync or munmap after it; calls outside the
// directory are not kept; and bad input is refused with a clear error.
#include <stdio.h>  // RENAME_EXCHANGE

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "crashgate/crash_states.h"
#include "crashgate/fs_recording.h"
#include "harness/support/crashers.h"
#include "observe/stack_unwind.h"
#include "harness/support/report_fixtures.h"

namespace crashgate {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

struct Recorded {
  std::string dir, out;
  RecordSummary summary;
  std::vector<FsCall> calls;
  std::string data;
};

Recorded record_probe(const std::string& name) {
  Recorded r;
  r.dir = fs::canonical(testing::scratch_dir(name + "-dir")).string();
  r.out = testing::scratch_dir(name + "-out") + "/rec";
  testing::write_file(r.dir + "/before.txt", "there before\n");
  RecordOptions o;
  o.argv = {testing::crasher_path("fs_probe"), r.dir};
  o.dir = r.dir;
  o.out = r.out;
  o.wall = std::chrono::seconds(60);
  Checked<RecordSummary> s = record_fs_calls(o);
  EXPECT_TRUE(s) << s.error();
  if (!s) return r;
  r.summary = *s;
  Checked<std::vector<FsCall>> calls = read_fs_calls(r.out);
  EXPECT_TRUE(calls) << calls.error();
  if (calls) r.calls = *calls;
  r.data = testing::read_file(r.out + "/data.bin");
  return r;
}

// The bytes a recorded write carried.
std::string data_of(const Recorded& r, const FsCall& c) {
  if (!c.data_at || !c.length) return "";
  return r.data.substr(*c.data_at, *c.length);
}

// The index of the first call from `from` on matching `pred`, or -1.
template <typename Pred>
int find_call(const std::vector<FsCall>& calls, int from, Pred pred) {
  for (int i = std::max(from, 0); i < static_cast<int>(calls.size()); ++i)
    if (pred(calls[i])) return i;
  return -1;
}

std::string listing(const Recorded& r) {
  std::string out;
  for (const auto& c : r.calls)
    out += fmt::format("{} {} {} {} off={} len={} res={} {}\n", c.seq, c.call, c.path, c.path2, c.offset.value_or(-1),
                       c.length.value_or(-1), c.result, c.found_at);
  return out;
}

TEST(FsRecord, EveryCallOnTheDirectoryIsLoggedInOrderWithItsBytes) {
  Recorded r = record_probe("probe");
  ASSERT_EQ(r.summary.exit_code, 0);
  ASSERT_FALSE(r.calls.empty());
  std::string a = r.dir + "/a", b = r.dir + "/b", c = r.dir + "/c", e = r.dir + "/e";
  auto at = [&](int from, const std::string& call, const std::string& path) {
    int i = find_call(r.calls, from, [&](const FsCall& f) { return f.call == call && f.path == path; });
    EXPECT_GE(i, 0) << "no " << call << " of " << path << " after call " << from << ":\n" << listing(r);
    return i;
  };
  int open_a = find_call(r.calls, 0, [&](const FsCall& f) { return f.kind == "open" && f.path == a; });
  ASSERT_GE(open_a, 0) << listing(r);
  int w = at(open_a, "write", a);
  ASSERT_GE(w, 0);
  EXPECT_EQ(r.calls[w].offset, 0u);
  EXPECT_EQ(data_of(r, r.calls[w]), "hello");
  int pw = at(w, "pwrite64", a);
  ASSERT_GE(pw, 0);
  EXPECT_EQ(r.calls[pw].offset, 100u);
  EXPECT_EQ(data_of(r, r.calls[pw]), "world");
  // Each kept call names the source line that made it: fs_probe is built with -g.
  // Each kept call has its stack, module and offset, symbolized when shown: fs_probe is built with -g.
  ASSERT_FALSE(r.calls[pw].stack.empty());
  OfflineSymbolizer symbols;
  std::vector<std::string> described;
  for (std::size_t i = 0; i < r.calls[pw].stack.size(); ++i) described.push_back(symbols.describe(r.calls[pw].stack[i], i == 0));
  EXPECT_THAT(described, ::testing::Contains(::testing::AllOf(HasSubstr("main "), HasSubstr("fs_probe.cc:"))))
      << ::testing::PrintToString(r.calls[pw].stack) << "\n" << ::testing::PrintToString(described);
  int sync_a = at(pw, "fsync", a);
  int ren = find_call(r.calls, sync_a, [&](const FsCall& f) { return f.kind == "rename"; });
  ASSERT_GE(ren, 0) << listing(r);
  EXPECT_EQ(r.calls[ren].path, a);
  EXPECT_EQ(r.calls[ren].path2, b);
  int sync_dir = at(ren, "fsync", r.dir);
  EXPECT_GT(sync_dir, ren) << "the directory's fsync comes after the rename it makes durable";

  int trunc = at(sync_dir, "ftruncate", b);
  ASSERT_GE(trunc, 0);
  EXPECT_EQ(r.calls[trunc].length, 8192u);
  int map = at(trunc, "mmap", b);
  ASSERT_GE(map, 0);
  EXPECT_EQ(r.calls[map].length, 8192u);
  EXPECT_EQ(r.calls[map].offset, 0u);
  int dirty1 = at(map, "mapped-write", b);
  ASSERT_GE(dirty1, 0);
  EXPECT_EQ(r.calls[dirty1].offset, 4096u) << "the page stored into before the msync";
  EXPECT_EQ(r.calls[dirty1].found_at, "msync");
  EXPECT_EQ(data_of(r, r.calls[dirty1]).substr(10, 5), "page1");
  EXPECT_THAT(r.calls[dirty1].stack, ::testing::Contains(HasSubstr("fs_probe+0x"))) << "the msync that found it";
  int ms = at(dirty1, "msync", b);
  EXPECT_EQ(ms, dirty1 + 1) << "the page is logged right before the msync that makes it durable:\n" << listing(r);
  int dirty0 = at(ms, "mapped-write", b);
  ASSERT_GE(dirty0, 0);
  EXPECT_EQ(r.calls[dirty0].offset, 0u);
  EXPECT_EQ(r.calls[dirty0].found_at, "munmap") << "stored after the msync, never synced: found at the unmap";
  std::string page0 = data_of(r, r.calls[dirty0]);
  EXPECT_EQ(page0.substr(0, 10), std::string("hellopage0"));
  EXPECT_EQ(page0.substr(100, 5), "world");
  EXPECT_EQ(at(dirty0, "munmap", b), dirty0 + 1);

  int wv = at(dirty0, "writev", c);
  ASSERT_GE(wv, 0);
  EXPECT_EQ(data_of(r, r.calls[wv]), "abcd");
  int unl = find_call(r.calls, wv, [&](const FsCall& f) { return f.kind == "unlink" && f.path == c; });
  EXPECT_GT(unl, wv) << listing(r);
  int mk = find_call(r.calls, unl, [&](const FsCall& f) { return f.kind == "mkdir" && f.path == r.dir + "/d"; });
  int rm = find_call(r.calls, mk, [&](const FsCall& f) { return f.kind == "rmdir" && f.path == r.dir + "/d"; });
  EXPECT_GT(mk, unl) << listing(r);
  EXPECT_GT(rm, mk) << listing(r);

  // The second thread's appends: its own tid, each at the end of the file.
  int e1 = at(rm, "write", e);
  ASSERT_GE(e1, 0);
  int e2 = at(e1 + 1, "write", e);
  ASSERT_GE(e2, 0);
  EXPECT_EQ(r.calls[e1].offset, 0u);
  EXPECT_EQ(r.calls[e2].offset, 1u) << "O_APPEND: the second write lands after the first";
  EXPECT_NE(r.calls[e1].tid, r.calls[e1].pid) << "written by a thread other than the main one";
  // A page stored into f's mapping, found at the fsync after f became g: logged under g.
  int moved = at(e2, "mapped-write", r.dir + "/g");
  ASSERT_GE(moved, 0);
  EXPECT_EQ(r.calls[moved].found_at, "fsync");
  EXPECT_EQ(data_of(r, r.calls[moved]).substr(7, 5), "moved");
  int synced_b = at(moved, "fdatasync", b);
  EXPECT_GT(synced_b, moved);

  // h replaced by a rename while mapped: what was stored before is h's, logged
  // before the rename; the store after it is into a file with no name, and is not
  // logged (it once came out as a write of the new h, giving it the old one's pages).
  std::string file_h = r.dir + "/h";
  int h_old = at(synced_b, "mapped-write", file_h);
  ASSERT_GE(h_old, 0);
  EXPECT_EQ(r.calls[h_old].found_at, "rename");
  EXPECT_EQ(data_of(r, r.calls[h_old]).substr(3, 3), "old");
  int h_ren = find_call(r.calls, h_old, [&](const FsCall& f) { return f.kind == "rename" && f.path2 == file_h; });
  EXPECT_EQ(h_ren, h_old + 1) << listing(r);
  // i unlinked while mapped: the same, and the new i is only what was written to it.
  std::string file_i = r.dir + "/i";
  int i_old = at(h_ren, "mapped-write", file_i);
  ASSERT_GE(i_old, 0);
  EXPECT_EQ(r.calls[i_old].found_at, "unlink");
  EXPECT_EQ(data_of(r, r.calls[i_old]).substr(0, 4), "gone");
  int i_unl = find_call(r.calls, i_old, [&](const FsCall& f) { return f.kind == "unlink" && f.path == file_i; });
  EXPECT_EQ(i_unl, i_old + 1) << listing(r);
  EXPECT_EQ(find_call(r.calls, h_ren, [&](const FsCall& f) { return f.call == "mapped-write" && f.path == file_h; }), -1)
      << "no page of the replaced h is logged after the rename:\n" << listing(r);
  EXPECT_EQ(find_call(r.calls, i_unl, [&](const FsCall& f) { return f.call == "mapped-write" && f.path == file_i; }), -1)
      << "no page of the unlinked i is logged after the unlink:\n" << listing(r);
  // j: the forked child's store is found at its own msync of the mapping it
  // inherited (not later, at the parent's munmap), and is the child's.
  std::string file_j = r.dir + "/j";
  int j_child = at(i_unl, "mapped-write", file_j);
  ASSERT_GE(j_child, 0) << listing(r);
  EXPECT_EQ(r.calls[j_child].found_at, "msync") << listing(r);
  EXPECT_EQ(data_of(r, r.calls[j_child]).substr(9, 5), "child");
  int j_msync = find_call(r.calls, j_child, [&](const FsCall& f) { return f.call == "msync"; });
  ASSERT_GE(j_msync, 0) << listing(r);
  EXPECT_EQ(r.calls[j_msync].path, file_j) << listing(r);
  EXPECT_EQ(r.calls[j_msync].pid, r.calls[j_child].pid);
  int j_open = find_call(r.calls, i_unl, [&](const FsCall& f) { return f.kind == "open" && f.path == file_j; });
  ASSERT_GE(j_open, 0);
  EXPECT_NE(r.calls[j_child].pid, r.calls[j_open].pid) << "the child's, not the parent's";
  // k1 and k2 exchanged while k1 was mapped: the renameat2 keeps its flag, and
  // the store through k1's old mapping after it is a write of k2, its file's name now.
  std::string file_k1 = r.dir + "/k1", file_k2 = r.dir + "/k2";
  int k_swap = find_call(r.calls, j_child, [&](const FsCall& f) { return f.kind == "rename" && f.path == file_k1; });
  ASSERT_GE(k_swap, 0) << listing(r);
  EXPECT_EQ(r.calls[k_swap].call, "renameat2");
  EXPECT_EQ(r.calls[k_swap].path2, file_k2);
  EXPECT_TRUE(r.calls[k_swap].flags & RENAME_EXCHANGE);
  int k_after = at(k_swap, "mapped-write", file_k2);
  ASSERT_GE(k_after, 0);
  EXPECT_EQ(r.calls[k_after].found_at, "msync");
  EXPECT_EQ(data_of(r, r.calls[k_after]).substr(0, 12), std::string("one\0\0\0\0\0swap", 12));
  EXPECT_EQ(find_call(r.calls, k_swap, [&](const FsCall& f) { return f.call == "mapped-write" && f.path == file_k1; }), -1)
      << listing(r);
  EXPECT_EQ(r.summary.mapped_writes, 8u) << "each changed page once:\n" << listing(r);

  // Only the directory's files: the probe's stdout write is not there, nor any other path.
  for (const auto& call : r.calls) {
    if (call.call == "sync" || call.call == "syncfs") continue;
    EXPECT_TRUE(call.path == r.dir || call.path.rfind(r.dir + "/", 0) == 0) << call.call << " " << call.path;
  }
  for (std::size_t i = 0; i < r.calls.size(); ++i) EXPECT_EQ(r.calls[i].seq, i + 1);

  // The directory as it was before: any prefix of the log applies to it.
  EXPECT_EQ(testing::read_file(r.out + "/initial/before.txt"), "there before\n");
  EXPECT_FALSE(fs::exists(r.out + "/initial/b"));
  nlohmann::json meta = nlohmann::json::parse(testing::read_file(r.out + "/record.json"));
  EXPECT_EQ(meta["schema"], "crashgate.recording/1");
  EXPECT_EQ(meta["calls"], r.calls.size());
  EXPECT_EQ(meta["dirty_pages_by"], "page-compare");
  EXPECT_EQ(meta["exit_code"], 0);
}

TEST(FsRecord, BadInputIsRefusedNamingWhatIsWrong) {
  std::string dir = testing::scratch_dir("bad-input");
  RecordOptions o;
  o.argv = {testing::crasher_path("fs_probe"), dir};
  o.dir = dir + "/missing";
  o.out = dir + "/rec1";
  auto missing = record_fs_calls(o);
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error(), HasSubstr("missing: not a directory"));

  o.dir = dir;
  o.out = dir + "/inside";
  auto inside = record_fs_calls(o);
  ASSERT_FALSE(inside);
  EXPECT_THAT(inside.error(), HasSubstr("cannot be inside the directory it records"));

  std::string other = testing::scratch_dir("bad-input-out");
  fs::create_directories(other + "/full");
  testing::write_file(other + "/full/keep.txt", "mine");
  o.out = other + "/full";
  auto full = record_fs_calls(o);
  ASSERT_FALSE(full);
  EXPECT_THAT(full.error(), HasSubstr("not an empty directory"));
  EXPECT_EQ(testing::read_file(other + "/full/keep.txt"), "mine") << "nothing stored is lost";

  o.out = other + "/nosuch";
  o.argv = {"/no/such/program"};
  auto unstartable = record_fs_calls(o);
  ASSERT_FALSE(unstartable);
  EXPECT_THAT(unstartable.error(), HasSubstr("/no/such/program: cannot run it: No such file or directory"));
}

TEST(FsRecord, TheCommandLineSaysWhatWentWrongAndRecordsAProgramOfItsOwn) {
  std::string dir = fs::canonical(testing::scratch_dir("cli-dir")).string();
  std::string out = testing::scratch_dir("cli-out") + "/rec";
  Outcome bad_wall = testing::run_tool({testing::crashgate_binary(), "record", "--dir", dir, "--out", out, "--wall", "soon", "--",
                                        "/bin/true"});
  EXPECT_EQ(bad_wall.exit_code, 2);
  EXPECT_THAT(bad_wall.stderr_excerpt.head, HasSubstr("--wall: 'soon' is not a duration"));
  Outcome ok = testing::run_tool({testing::crashgate_binary(), "record", "--dir", dir, "--out", out, "--", "/bin/sh", "-c",
                                  "echo one > " + dir + "/f && mv " + dir + "/f " + dir + "/g && sync"});
  ASSERT_EQ(ok.exit_code, 0) << ok.stderr_excerpt.head;
  EXPECT_THAT(ok.stderr_excerpt.head, HasSubstr("the command exited 0"));
  Checked<std::vector<FsCall>> calls = read_fs_calls(out);
  ASSERT_TRUE(calls) << calls.error();
  auto has = [&](const std::string& kind, const std::string& path) {
    return std::any_of(calls->begin(), calls->end(), [&](const FsCall& c) { return c.kind == kind && c.path == path; });
  };
  EXPECT_TRUE(has("write", dir + "/f"));
  EXPECT_TRUE(has("rename", dir + "/f"));
  EXPECT_TRUE(std::any_of(calls->begin(), calls->end(), [](const FsCall& c) { return c.call == "sync"; }));
}

// A driver recorded with --events: its step events are in the log where they
// happened, so each point of the log says which steps had returned. The
// vstore driver's sync returns after the fdatasyncs that make it durable.
TEST(FsRecord, ADriversEventsAreLoggedWhereTheyHappened) {
  std::string dir = fs::canonical(testing::scratch_dir("events-dir")).string();
  std::string out = testing::scratch_dir("events-out") + "/rec";
  nlohmann::json cell{{"protocol", 1}, {"cell", "record-events/vstore/release"}, {"scenario", "record-events"}, {"target", "vstore"},
                      {"build", "release"}, {"seed", 7}, {"params", nlohmann::json::object()}, {"check_invariants", false},
                      {"work_dir", dir},
                      {"steps", {{{"index", 0}, {"op", "create"}, {"dim", 4}, {"vectors", 20}},
                                 {{"index", 1}, {"op", "add"}, {"vectors", 5}},
                                 {{"index", 2}, {"op", "sync"}}}}};
  std::string cell_file = testing::scratch_dir("events-cell") + "/cell.json";
  testing::write_file(cell_file, cell.dump());
  Outcome o = testing::run_tool({testing::crashgate_binary(), "record", "--events", "--dir", dir, "--out", out, "--",
                                 CRASHGATE_VSTORE_DRIVER, "--cell", cell_file});
  ASSERT_EQ(o.exit_code, 0) << o.stderr_excerpt.head;
  EXPECT_THAT(o.stderr_excerpt.head, HasSubstr("the command exited 0"));
  Checked<std::vector<FsCall>> calls = read_fs_calls(out);
  ASSERT_TRUE(calls) << calls.error();
  std::string data = testing::read_file(out + "/data.bin");
  int sync_start = -1, sync_end = -1, last_datasync = -1;
  for (int i = 0; i < static_cast<int>(calls->size()); ++i) {
    const FsCall& c = (*calls)[i];
    if (c.call == "fdatasync" || c.call == "fsync") last_datasync = i;
    if (c.call != "event") continue;
    ASSERT_TRUE(c.data_at && c.length);
    nlohmann::json e = nlohmann::json::parse(data.substr(*c.data_at, *c.length), nullptr, false);
    ASSERT_TRUE(e.is_object()) << data.substr(*c.data_at, *c.length);
    if (e.value("index", -1) == 2 && e["event"] == "step-start") sync_start = i;
    if (e.value("index", -1) == 2 && e["event"] == "step-end") {
      sync_end = i;
      EXPECT_EQ(e["status"], "ok");
      EXPECT_LT(last_datasync, i);
    }
  }
  ASSERT_GE(sync_start, 0) << "the sync step's start is logged";
  ASSERT_GE(sync_end, 0) << "the sync step's end is logged";
  EXPECT_GT(last_datasync, sync_start) << "the sync step fsyncs the store between its start and its end";
  nlohmann::json meta = nlohmann::json::parse(testing::read_file(out + "/record.json"));
  EXPECT_GE(meta["events"].get<int>(), 6) << "hello, three step-starts and step-ends, done";
}

// The states a power cut may leave, from the probe's recording: what the
// fsyncs, the directory's fsync and the msync made durable stays in every
// state; what they did not is kept or lost as each state says.
TEST(CrashStates, WhatWasSyncedSurvivesEveryStateAndWhatWasNotIsKeptOrLostAsTheStateSays) {
  Recorded r = record_probe("states");
  ASSERT_EQ(r.summary.exit_code, 0);
  Checked<Recording> rec = load_recording(r.out);
  ASSERT_TRUE(rec) << rec.error();
  std::string a = r.dir + "/a", b = r.dir + "/b";
  auto seq_of = [&](const std::string& call, const std::string& path) {
    for (const auto& c : rec->calls)
      if (c.call == call && c.path == path) return c.seq;
    ADD_FAILURE() << "no " << call << " of " << path << ":\n" << listing(r);
    return std::uint64_t{0};
  };
  std::uint64_t rename = 0;
  for (const auto& c : rec->calls)
    if (c.kind == "rename" && c.path == a) rename = c.seq;
  ASSERT_GT(rename, 0u);
  auto states_at = [&](std::uint64_t point) { return crash_states(*rec, {PersistenceModel::posix, {point}}); };
  auto find = [&](const std::vector<CrashState>& states, const std::string& kind) -> const CrashState* {
    for (const auto& s : states)
      if (s.kind == kind) return &s;
    return nullptr;
  };
  auto write_out = [&](const CrashState& s, const std::string& name) {
    std::string into = testing::scratch_dir("states-" + name) + "/state";
    CheckedDone d = materialize_crash_state(*rec, s, into);
    EXPECT_TRUE(d) << d.error();
    return into;
  };

  // Right after the rename, before the directory's fsync: the creation of a and
  // its rename are pending; a's bytes were fsynced.
  std::vector<CrashState> at_rename = states_at(rename);
  const CrashState* none = find(at_rename, "none");
  const CrashState* all = find(at_rename, "all");
  ASSERT_TRUE(none && all);
  EXPECT_EQ(none->pending.size(), 2u) << "the create and the rename";
  std::string lost = write_out(*none, "none");
  EXPECT_FALSE(fs::exists(lost + "/a")) << "a's name never reached the disk";
  EXPECT_FALSE(fs::exists(lost + "/b"));
  EXPECT_EQ(testing::read_file(lost + "/before.txt"), "there before\n");
  std::string kept = write_out(*all, "all");
  EXPECT_FALSE(fs::exists(kept + "/a"));
  ASSERT_TRUE(fs::exists(kept + "/b"));
  std::string b_bytes = testing::read_file(kept + "/b");
  ASSERT_EQ(b_bytes.size(), 105u);
  EXPECT_EQ(b_bytes.substr(0, 5), "hello");
  EXPECT_EQ(b_bytes.substr(100), "world");
  bool dropped_rename = false;
  for (const auto& s : at_rename)
    if (s.kind == "drop" && std::find(s.kept.begin(), s.kept.end(), rename) == s.kept.end()) {
      dropped_rename = true;
      std::string only_created = write_out(s, "drop-rename");
      EXPECT_EQ(testing::read_file(only_created + "/a").substr(100), "world") << "created and synced, the rename lost";
      EXPECT_FALSE(fs::exists(only_created + "/b"));
    }
  EXPECT_TRUE(dropped_rename);

  // Right after the msync: the page it synced is in every state; the cut to
  // 8192 bytes was never fsynced, so in "none" the file ends at the synced page.
  std::uint64_t msync = seq_of("msync", b);
  std::vector<CrashState> at_msync = states_at(msync);
  const CrashState* none_ms = find(at_msync, "none");
  ASSERT_TRUE(none_ms);
  std::string synced = write_out(*none_ms, "msync-none");
  std::string page = testing::read_file(synced + "/b");
  ASSERT_EQ(page.size(), 8192u);
  EXPECT_EQ(page.substr(4106, 5), "page1");
  EXPECT_EQ(page.substr(5, 5), std::string(5, '\0')) << "page 0's store came after the msync";

  // At the end, the fdatasync of b has made the page stored before the munmap durable.
  std::vector<CrashState> at_end = states_at(rec->calls.back().seq);
  const CrashState* none_end = find(at_end, "none");
  ASSERT_TRUE(none_end);
  std::string end = write_out(*none_end, "end-none");
  EXPECT_EQ(testing::read_file(end + "/b").substr(0, 10), "hellopage0");
  EXPECT_FALSE(fs::exists(end + "/c")) << "unlinked";

  // The exchange of k1 and k2 is pending at the last call (no directory fsync
  // after it); the bytes stored through k1's old mapping and msynced after it
  // are durable. Losing the exchange leaves those bytes under k1; keeping it,
  // under k2, and k2's "two" under k1.
  std::uint64_t exchange = 0;
  for (const auto& c : rec->calls)
    if (c.call == "renameat2" && c.path == r.dir + "/k1") exchange = c.seq;
  ASSERT_GT(exchange, 0u) << listing(r);
  const CrashState* end_all = find(at_end, "all");
  ASSERT_TRUE(end_all);
  const CrashState* end_none = none_end;
  EXPECT_NE(std::find(end_none->pending.begin(), end_none->pending.end(), exchange), end_none->pending.end()) << "the exchange is pending";
  std::string swapped_back = write_out(*end_none, "exchange-lost");
  std::string mapped_bytes("one\0\0\0\0\0swap", 12);
  EXPECT_EQ(testing::read_file(swapped_back + "/k1").substr(0, 12), mapped_bytes);
  EXPECT_EQ(testing::read_file(swapped_back + "/k2"), "two");
  std::string swapped = write_out(*end_all, "exchange-kept");
  EXPECT_EQ(testing::read_file(swapped + "/k1"), "two");
  EXPECT_EQ(testing::read_file(swapped + "/k2").substr(0, 12), mapped_bytes);

  // Every state at every point, each of a known kind; and the writes torn are writes.
  std::vector<CrashState> every = crash_states(*rec, {});
  EXPECT_GT(every.size(), rec->calls.size());
  for (const auto& s : every) {
    EXPECT_THAT(s.kind, ::testing::AnyOf("none", "all", "prefix", "drop", "torn", "dir-undone"));
    if (s.torn) {
      EXPECT_EQ(rec->calls[*s.torn - 1].kind, "write");
      EXPECT_GT(s.torn_bytes, 0u) << "a tear keeps a sector at least";
      EXPECT_EQ(s.torn_bytes % 512, 0u);
      EXPECT_LT(s.torn_bytes, *rec->calls[*s.torn - 1].length);
    }
  }
}

TEST(CrashStates, TheCommandLineRefusesAnUnknownModelAPointPastTheLogAndANonRecording) {
  Recorded r = record_probe("states-cli");
  auto run = [](std::vector<std::string> args) {
    args.insert(args.begin(), {testing::crashgate_binary(), "crash-states"});
    return testing::run_tool(args);
  };
  Outcome model = run({r.out, "--model", "ext3"});
  EXPECT_EQ(model.exit_code, 2);
  EXPECT_THAT(model.stderr_excerpt.head, HasSubstr("--model: 'ext3' is not a model (posix, ext4-ordered)"));
  Outcome point = run({r.out, "--point", "100000"});
  EXPECT_EQ(point.exit_code, 2);
  EXPECT_THAT(point.stderr_excerpt.head, HasSubstr("--point 100000: the recording has calls 1 to"));
  Outcome not_recording = run({r.dir});
  EXPECT_EQ(not_recording.exit_code, 2);
  EXPECT_THAT(not_recording.stderr_excerpt.head, HasSubstr("record.json: missing"));
  Outcome counted = run({r.out, "--model", "ext4-ordered"});
  EXPECT_EQ(counted.exit_code, 0) << counted.stderr_excerpt.head;
  EXPECT_THAT(counted.stderr_excerpt.head, ::testing::ContainsRegex("[0-9]+ states at [0-9]+ crash points of [0-9]+ calls \\(ext4-ordered model\\)"));
  Outcome sampled = run({r.out, "--sample", "3", "--seed", "5", "--list"});
  Outcome again = run({r.out, "--sample", "3", "--seed", "5", "--list"});
  EXPECT_EQ(sampled.exit_code, 0) << sampled.stderr_excerpt.head;
  EXPECT_THAT(sampled.stderr_excerpt.head, HasSubstr(" at 3 crash points of "));
  EXPECT_EQ(sampled.stdout_excerpt.text(), again.stdout_excerpt.text()) << "the same seed, the same states";
  std::string into = testing::scratch_dir("states-cli-into") + "/s";
  Outcome written = run({r.out, "--materialize", "0", "--into", into});
  EXPECT_EQ(written.exit_code, 0) << written.stderr_excerpt.head;
  EXPECT_TRUE(fs::exists(into + "/before.txt"));
}

}  // namespace
}  // namespace crashgate
