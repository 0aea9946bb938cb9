// Every public entry point of vstore::Store runs in some scenario of the
// catalog beside other calls and on a damaged store. The vstore driver's
// `--list entry-points` says which drive reaches which entry point (a
// workload, a second process, a `read` mode, an op); this test reads the
// public section of store.h for the entry points themselves and walks every
// vstore cell of scenarios/ for the drives it really runs.
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "crashgate/cell_selection.h"
#include "crashgate/scenario.h"
#include "harness/support/crashers.h"
#include "harness/support/report_fixtures.h"

namespace crashgate {
namespace {

// The names of the public member functions of `class Store` in store.h.
std::set<std::string> store_entry_points() {
  std::istringstream in(testing::read_file(testing::source_dir() + "/targets/vstore/include/vstore/store.h"));
  std::set<std::string> out;
  bool in_class = false, in_public = false;
  static const std::regex name(R"(^\s*(?:static\s+)?[A-Za-z_][\w:<>,\s\*&]*?\s+\*?&?([a-z_][a-z0-9_]*)\()");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("class Store {", 0) == 0) in_class = in_public = true;
    if (!in_class) continue;
    if (line == " private:") in_public = false;
    if (line == "};") break;
    std::smatch m;
    if (in_public && line.find("//") != 0 && std::regex_search(line, m, name) && m[1] != "operator") out.insert(m[1]);
  }
  return out;
}

struct Row {
  bool writes = false;
  std::vector<std::string> concurrent, damaged;
  std::string never_concurrent, never_damaged;
};

std::map<std::string, Row> driver_table() {
  std::map<std::string, Row> rows;
  std::string out = testing::scratch_dir("entry-points") + "/listing.jsonl";
  Outcome listed = testing::run_tool({CRASHGATE_VSTORE_DRIVER, "--list", "entry-points"}, out);
  EXPECT_EQ(listed.kind, OutcomeKind::ok) << listed.stderr_excerpt.text();
  std::istringstream lines(testing::read_file(out));
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line);
    Row& r = rows[j.at("entry").get<std::string>()];
    r.writes = j.at("writes").get<bool>();
    r.concurrent = j.at("concurrent").get<std::vector<std::string>>();
    r.damaged = j.at("damaged").get<std::vector<std::string>>();
    r.never_concurrent = j.value("never_concurrent", "");
    r.never_damaged = j.value("never_damaged", "");
  }
  return rows;
}

// What the vstore cells of the catalog run: beside other calls (a workload or a second process)
// and, once a step has damaged a file (until the next create), each op or read mode after it.
struct CatalogDrives {
  std::map<std::string, std::string> concurrent;  // drive -> a cell that runs it
  std::map<std::string, std::string> damaged;
};

CatalogDrives catalog_drives() {
  CatalogDrives d;
  ScenarioCatalog catalog = load_catalog({testing::source_dir() + "/scenarios"});
  EXPECT_TRUE(catalog.errors.empty()) << catalog.errors[0].text();
  for (const Scenario& s : catalog.scenarios) {
    bool vstore = s.all_targets || std::find(s.targets.begin(), s.targets.end(), "vstore") != s.targets.end();
    if (!vstore) continue;
    for (const Cell& cell : expand_cells(s)) {
      if (cell.target != "vstore" && !s.all_targets) continue;
      bool damaged = false;
      for (const Step& step : cell.steps) {
        auto text = [&](const char* key) { return step.args.contains(key) && step.args[key].is_string() ? step.args[key].get<std::string>() : ""; };
        if (step.op == "create") damaged = false;
        if (step.op == "spawn-workload") d.concurrent.emplace("spawn-workload:" + text("workload"), cell.id);
        if (step.op == "second-process") d.concurrent.emplace("second-process:" + text("action"), cell.id);
        if (damaged) d.damaged.emplace(step.op == "read" ? "read:" + text("what") : step.op, cell.id);
        if (step.op == "truncate" || step.op == "corrupt" || step.op == "replace") damaged = true;
      }
    }
  }
  return d;
}

TEST(entry_point_coverage, TheDriverTableListsExactlyThePublicEntryPointsOfStoreH) {
  std::set<std::string> header = store_entry_points();
  // The parse itself: a few it must find, and nothing private.
  for (const char* e : {"create", "open", "fsck", "add", "view", "contains", "exact_search", "delete_where", "scan", "close", "dir"})
    EXPECT_TRUE(header.count(e)) << e << " not found in store.h's public section: " << fmt::format("{}", fmt::join(header, ", "));
  EXPECT_FALSE(header.count("impl_"));
  std::set<std::string> table;
  for (const auto& [name, row] : driver_table()) table.insert(name);
  EXPECT_EQ(table, header) << "targets/vstore/driver/entry_points.cc's entry_points() and store.h disagree";
}

TEST(entry_point_coverage, EveryEntryPointRunsConcurrentlyAndOnADamagedStoreInSomeScenario) {
  std::map<std::string, Row> table = driver_table();
  ASSERT_FALSE(table.empty()) << CRASHGATE_VSTORE_DRIVER << " --list entry-points printed nothing";
  CatalogDrives used = catalog_drives();
  ASSERT_FALSE(used.concurrent.empty());
  ASSERT_FALSE(used.damaged.empty());
  for (const auto& [entry, row] : table) {
    auto covered = [&](const std::vector<std::string>& drives, const std::map<std::string, std::string>& in) {
      for (const std::string& d : drives)
        if (in.count(d)) return true;
      return false;
    };
    if (row.never_concurrent.empty())
      EXPECT_TRUE(covered(row.concurrent, used.concurrent))
          << entry << " runs beside other calls in no scenario: add a cell that runs one of ["
          << fmt::format("{}", fmt::join(row.concurrent, ", ")) << "], or say in entry_points.cc why it never can";
    else
      EXPECT_TRUE(row.concurrent.empty() || !covered(row.concurrent, used.concurrent)) << entry << " is covered: drop its reason";
    if (row.never_damaged.empty())
      EXPECT_TRUE(covered(row.damaged, used.damaged))
          << entry << " runs on a damaged store in no scenario: add a cell that runs one of ["
          << fmt::format("{}", fmt::join(row.damaged, ", ")) << "] after a truncate, corrupt or replace, or say why it never can";
  }
  // Writes after damage, which no scenario ran before the table existed.
  for (const char* write : {"add", "remove", "delete", "sync", "compact"}) EXPECT_TRUE(used.damaged.count(write)) << write;
  EXPECT_TRUE(used.concurrent.count("spawn-workload:readers"));
}

}  // namespace
}  // namespace crashgate
