// The vstore tool's exit status, for every command and every status code it
// can end with, read from the one table in vstore/status.h: a script tells a
// corrupt store from a missing one, a busy one from a bad filter, by the exit
// status alone. A command that turned a filter error into a usage error, or a
// missing store into a corrupt one, fails here.
#include <filesystem>
#include <map>
#include <memory>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "vstore/failpoint.h"
#include "vstore/status.h"
#include "vstore/store.h"
#include "vstore/support/scratch.h"
#include "vstore/support/tool_run.h"

namespace vstore {
namespace {

using testing::run_tool;
using testing::ToolRun;

// What DIR is when the command runs.
enum class Setup {
  store,            // a store of 100 records (dim 4), a copy for each row
  empty_store,      // a store with no records
  missing,          // nothing at that path
  not_a_directory,  // a plain file: the OS refuses to open anything under it
  damaged,          // the store with its vectors file cut to 100 bytes
  locked,           // the store, held open for writing by this test process
  failpoint,        // the store, the tool run with VSTORE_FAILPOINTS=row.failpoints
};

struct Row {
  const char* command;
  const char* args;  // {dir}: the store directory; {scratch}: a directory for other files
  Setup setup;
  Code code;
  const char* failpoints = "";
};

// Every command that opens a store, with arguments that succeed on Setup::store.
struct Opener {
  const char* command;
  const char* args;
  bool writes;  // takes the writer's lock
};
constexpr Opener kOpeners[] = {
    {"add", "add {dir} --random 5", true},
    {"count", "count {dir}", false},
    {"get", "get {dir} 5", false},
    {"remove", "remove {dir} 5", true},
    {"compact", "compact {dir}", true},
    {"fsck", "fsck {dir}", false},
    {"stats", "stats {dir}", false},
    {"search", "search {dir} --random-queries 3", false},
    {"delete", "delete {dir} --where \"file_path = 'src/file_5.py'\"", true},
    {"recall", "recall {dir} --queries 5", false},
};

// What each command can end with, and how to make it.
std::vector<Row> rows() {
  std::vector<Row> out;
  for (const Opener& o : kOpeners) {
    out.push_back({o.command, o.args, Setup::store, Code::ok});
    out.push_back({o.command, o.args, Setup::missing, Code::not_found});
    out.push_back({o.command, o.args, Setup::not_a_directory, Code::io});
    out.push_back({o.command, o.args, Setup::damaged, Code::corrupt});
    out.push_back({o.command, o.args, Setup::failpoint, Code::resource_exhausted, "mapped_file.map.mmap=error(ENOMEM)"});
    out.push_back({o.command, o.args, Setup::failpoint, Code::io, "manifest.read.pread=error(EIO)"});
    if (o.writes) out.push_back({o.command, o.args, Setup::locked, Code::busy});
  }
  std::vector<Row> own = {
      {"create", "create {dir} --dim 4", Setup::missing, Code::ok},
      {"create", "create {dir} --dim 4", Setup::store, Code::invalid_argument},  // a store is there
      {"create", "create {dir}/a/b --dim 4", Setup::missing, Code::not_found},
      {"create", "create {dir}/new --dim 4", Setup::not_a_directory, Code::io},
      {"create", "create {dir}/new --dim 4", Setup::failpoint, Code::resource_exhausted, "store.create.mkdir=error(EMFILE)"},
      {"add", "add {dir} --random 5 --first-id 3", Setup::store, Code::invalid_argument},  // id 3 exists
      {"add", "add {dir} --fvecs {scratch}/short.fvecs", Setup::store, Code::invalid_argument},
      {"get", "get {dir} 99999", Setup::store, Code::not_found},
      {"remove", "remove {dir} 99999", Setup::store, Code::not_found},
      {"search", "search {dir} --query 1,2", Setup::store, Code::invalid_argument},  // dimension 4
      {"search", "search {dir} --query 1,2,x,4", Setup::store, Code::invalid_argument},
      {"delete", "delete {dir} --where \"file_path = \"", Setup::store, Code::invalid_argument},
      {"delete", "delete {dir} --where \"file_path IN ('a' 'b')\"", Setup::store, Code::invalid_argument},
      {"delete", "delete {dir} --where-file {scratch}/bad.where", Setup::store, Code::invalid_argument},
      {"delete", "delete {dir} --where-file {scratch}/no-such-file", Setup::store, Code::not_found},
      {"recall", "recall {dir}", Setup::empty_store, Code::not_found},
      {"failpoints", "failpoints", Setup::store, Code::ok},
      {"regressions", "regressions", Setup::store, Code::ok},
  };
  out.insert(out.end(), own.begin(), own.end());
  return out;
}

const char* setup_name(Setup s) {
  switch (s) {
    case Setup::store: return "a store";
    case Setup::empty_store: return "an empty store";
    case Setup::missing: return "a missing directory";
    case Setup::not_a_directory: return "a plain file";
    case Setup::damaged: return "a store with a cut vectors file";
    case Setup::locked: return "a store another writer holds";
    case Setup::failpoint: return "failpoints";
  }
  return "?";
}

std::vector<Code> every_code() {
  return {
#define VSTORE_X(e, name, exit, doc) Code::e,
      VSTORE_STATUS_CODES(VSTORE_X)
#undef VSTORE_X
  };
}

// The commands `vstore --help` lists.
std::set<std::string> listed_commands() {
  ToolRun help = run_tool("--help");
  std::set<std::string> out;
  std::string text = help.output.substr(std::min(help.output.size(), help.output.find("Subcommands:")));
  std::regex line(R"(\n  ([a-z]+)  )");
  for (std::sregex_iterator it(text.begin(), text.end(), line), end; it != end; ++it) out.insert((*it)[1]);
  return out;
}

class ToolStatus : public ::testing::Test {
 protected:
  void SetUp() override {
    pristine_ = d_ / "pristine";
    empty_ = d_ / "empty";
    ASSERT_EQ(run_tool(fmt::format("create {} --dim 4", pristine_)).exit_code, 0);
    ASSERT_EQ(run_tool(fmt::format("add {} --random 100", pristine_)).exit_code, 0);
    ASSERT_EQ(run_tool(fmt::format("create {} --dim 4", empty_)).exit_code, 0);
    testing::write_file(d_ / "short.fvecs", std::string("\x04\x00\x00\x00\x01\x02", 6));
    testing::write_file(d_ / "bad.where", "file_path != 'a' AND");
  }

  // Runs one row in a directory of its own; returns what the tool did.
  ToolRun run_row(const Row& row, std::size_t n) {
    std::string dir = d_ / fmt::format("row-{}", n);
    std::unique_ptr<Store> writer;
    std::string env;
    switch (row.setup) {
      case Setup::store:
      case Setup::damaged:
      case Setup::locked:
      case Setup::failpoint:
        testing::copy_dir(pristine_, dir);
        break;
      case Setup::empty_store: testing::copy_dir(empty_, dir); break;
      case Setup::missing: break;
      case Setup::not_a_directory: testing::write_file(dir, "not a store\n"); break;
    }
    if (row.setup == Setup::damaged) std::filesystem::resize_file(testing::find_file(dir, "vectors-"), 100);
    if (row.setup == Setup::locked) {
      auto s = Store::open(dir);
      EXPECT_TRUE(s.ok()) << s.status().to_string();
      if (s.ok()) writer = std::move(s).value();
    }
    if (row.setup == Setup::failpoint) env = fmt::format("VSTORE_FAILPOINTS='{}'", row.failpoints);
    std::string args = fmt::format(fmt::runtime(row.args), fmt::arg("dir", dir), fmt::arg("scratch", d_.path()));
    return run_tool(args, env);
  }

  testing::ScratchDir d_;
  std::string pristine_, empty_;
};

TEST_F(ToolStatus, EveryCommandExitsWithTheTableStatusOfEachCodeItEndsWith) {
  std::vector<Row> all = rows();
  std::size_t skipped = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Row& row = all[i];
    if (row.setup == Setup::failpoint && !failpoints_compiled_in()) {
      ++skipped;
      continue;
    }
    ToolRun r = run_row(row, i);
    std::string what = fmt::format("vstore {} on {}{}{}: {}", row.args, setup_name(row.setup), *row.failpoints ? " " : "",
                                   row.failpoints, r.output);
    EXPECT_EQ(r.signal, 0) << what;
    EXPECT_EQ(r.exit_code, code_exit_status(row.code)) << "expected " << code_name(row.code) << "; " << what;
    if (row.code != Code::ok)
      EXPECT_NE(r.output.find(fmt::format("vstore: {}: ", code_name(row.code))), std::string::npos)
          << "stderr names the code; " << what;
  }
  if (skipped) std::cout << skipped << " rows need failpoints, which this build has not\n";
}

TEST_F(ToolStatus, EveryListedCommandHasARowAndEveryStoreCommandEveryCodeItCanMeet) {
  std::set<std::string> listed = listed_commands();
  ASSERT_GE(listed.size(), 10u) << "could not read the commands from vstore --help";
  std::map<std::string, std::set<Code>> covered;
  std::set<Code> codes;
  for (const Row& row : rows()) {
    covered[row.command].insert(row.code);
    codes.insert(row.code);
  }
  for (const std::string& c : listed) EXPECT_TRUE(covered.count(c)) << "vstore " << c << " has no row";
  for (const auto& [c, _] : covered) EXPECT_TRUE(listed.count(c)) << c << " has rows but vstore --help does not list it";
  for (const Opener& o : kOpeners) {
    std::set<Code> need = {Code::ok, Code::not_found, Code::io, Code::corrupt, Code::resource_exhausted};
    if (o.writes) need.insert(Code::busy);
    for (Code c : need) EXPECT_TRUE(covered[o.command].count(c)) << "vstore " << o.command << " is not run to " << code_name(c);
  }
  for (Code c : every_code()) EXPECT_TRUE(codes.count(c)) << "no command is run to " << code_name(c);
}

TEST_F(ToolStatus, UsageErrorsExitTwoAndAreNoCodeOfTheTable) {
  for (Code c : every_code()) EXPECT_NE(code_exit_status(c), 2) << code_name(c) << " would read as a usage error";
  for (const Opener& o : kOpeners) {
    std::string args = fmt::format(fmt::runtime(std::string(o.args) + " --no-such-flag"), fmt::arg("dir", pristine_));
    ToolRun r = run_tool(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.output;
  }
  EXPECT_EQ(run_tool("frobnicate").exit_code, 2);
  EXPECT_EQ(run_tool("count").exit_code, 2) << "a missing DIR is usage";
  EXPECT_EQ(run_tool(fmt::format("create {} --dim 0", d_ / "z")).exit_code, 2);
  EXPECT_EQ(run_tool(fmt::format("get {} notanumber", pristine_)).exit_code, 2);
  EXPECT_EQ(run_tool(fmt::format("delete {}", pristine_)).exit_code, 2) << "neither --where nor --where-file";
}

TEST_F(ToolStatus, TheTableHoldsTheStatusesTheHelpAndReadmeDocument) {
  // `vstore --help` and the README print these numbers; the table must agree.
  const std::map<Code, int> documented = {{Code::ok, 0},   {Code::not_found, 1},          {Code::corrupt, 3},
                                          {Code::io, 4},   {Code::busy, 5},               {Code::resource_exhausted, 6},
                                          {Code::invalid_argument, 7}};
  ASSERT_EQ(documented.size(), every_code().size()) << "a code was added: document its status";
  for (const auto& [c, status] : documented) EXPECT_EQ(code_exit_status(c), status) << code_name(c);
  std::string help = run_tool("--help").output;
  EXPECT_NE(help.find("0 ok, 1 other error (e.g. not found), 2 usage, 3 corrupt, 4 I/O, 5 busy, 6 resource exhausted, 7 invalid argument"),
            std::string::npos)
      << help;
}

}  // namespace
}  // namespace vstore
