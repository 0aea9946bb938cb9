#include "entry_points.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace crashgate::vstore_driver {

const std::vector<Drive>& workload_actions() {
  static const std::vector<Drive> t = {
      {"get", {"get"}},
      {"view", {"view"}},  // and the view's attributes(), read from the mapping
      {"contains", {"contains"}},
      {"search", {"search"}},
      {"exact-search", {"exact_search"}},
      {"scan", {"scan"}},  // and each record's attributes()
      {"count", {"count"}},
      {"stats", {"stats", "dim", "metric", "dir"}},
      {"fsck", {"fsck"}},  // the whole-store check, on the files as other threads write them
      {"add", {"add"}},
      {"remove", {"remove"}},
      {"delete-where", {"delete_where"}},
      {"sync", {"sync"}},
      {"compact", {"compact"}},
  };
  return t;
}

const std::vector<WorkloadKind>& workload_kinds() {
  static const std::vector<WorkloadKind> t = {
      {"get", {"get"}},
      {"add", {"add"}},
      {"remove", {"remove"}},
      {"compact", {"compact"}},
      {"search", {"search"}},
      {"mixed", {"get", "search", "add", "remove", "get", "search"}},
      // Every read path, one after another, on each thread.
      {"readers", {"view", "contains", "exact-search", "scan", "count", "stats", "get", "search", "fsck"}},
      // Every write path but compaction (its own workload, as it takes longer).
      {"writers", {"add", "remove", "delete-where", "sync", "add"}},
  };
  return t;
}

namespace {

// The `name`s of a table's rows, in order: the values the driver accepts for its key.
template <typename Row>
std::vector<std::string> names_of(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (const Row& r : rows) out.emplace_back(r.name);
  return out;
}

}  // namespace

std::vector<std::string> workload_kind_names() { return names_of(workload_kinds()); }

const std::vector<Drive>& read_modes() {
  static const std::vector<Drive> t = {
      {"open", {"open"}},
      {"count", {"open", "count"}},
      {"get", {"open", "get"}},
      {"search", {"open", "search"}},
      {"scan", {"open", "scan"}},
      {"fsck", {"fsck"}},
      {"view", {"open", "view"}},
      {"contains", {"open", "contains"}},
      {"exact-search", {"open", "exact_search"}},
      {"stats", {"open", "stats", "dim", "metric", "dir"}},
  };
  return t;
}

std::vector<std::string> read_mode_names() { return names_of(read_modes()); }

const std::vector<Drive>& damaged_ops() {
  static const std::vector<Drive> t = {
      {"add", {"open", "add"}},
      {"remove", {"open", "remove"}},
      {"delete", {"open", "delete_where"}},
      {"sync", {"open", "sync"}},
      {"compact", {"open", "compact"}},
      {"reopen", {"close", "open"}},
      {"verify", {"open", "scan", "get"}},
      {"fsck", {"fsck"}},
  };
  return t;
}

const std::vector<Drive>& second_process_actions() {
  static const std::vector<Drive> t = {
      {"read-loop", {"open", "scan", "dim"}},
      {"count", {"open", "count"}},
      {"open-writer", {"open"}},
  };
  return t;
}

const std::vector<EntryPoint>& entry_points() {
  static const std::vector<EntryPoint> t = {
      {"create", true, "it makes a new store in an empty directory: there is no store yet for another call to share",
       "it refuses a directory that is not empty, so there is no damaged store to run it on"},
      {"open", false, "", ""},
      {"fsck", false, "", ""},
      {"add", true, "", ""},
      {"get", false, "", ""},
      {"view", false, "", ""},
      {"contains", false, "", ""},
      {"search", false, "", ""},
      {"exact_search", false, "", ""},
      {"delete_where", true, "", ""},
      {"remove", true, "", ""},
      {"scan", false, "", ""},
      {"count", false, "", ""},
      {"sync", true, "", ""},
      {"compact", true, "", ""},
      {"close", true, "it ends the Store: store.h makes later calls fail, and the caller that closes owns the object", ""},
      {"stats", false, "", ""},
      {"dim", false, "", ""},
      {"metric", false, "", ""},
      {"dir", false, "", ""},
  };
  return t;
}

namespace {

bool calls(const Drive& d, std::string_view entry) { return std::find(d.calls.begin(), d.calls.end(), entry) != d.calls.end(); }

const Drive* action_named(std::string_view name) {
  for (const Drive& d : workload_actions())
    if (d.name == name) return &d;
  return nullptr;
}

}  // namespace

int print_entry_points() {
  for (const EntryPoint& e : entry_points()) {
    nlohmann::json concurrent = nlohmann::json::array(), damaged = nlohmann::json::array();
    for (const WorkloadKind& k : workload_kinds())
      if (std::any_of(k.actions.begin(), k.actions.end(), [&](std::string_view a) {
            const Drive* d = action_named(a);
            return d && calls(*d, e.name);
          }))
        concurrent.push_back(fmt::format("spawn-workload:{}", k.name));
    for (const Drive& d : second_process_actions())
      if (calls(d, e.name)) concurrent.push_back(fmt::format("second-process:{}", d.name));
    for (const Drive& d : read_modes())
      if (calls(d, e.name)) damaged.push_back(fmt::format("read:{}", d.name));
    for (const Drive& d : damaged_ops())
      if (calls(d, e.name)) damaged.push_back(std::string(d.name));
    nlohmann::json line = {{"entry", e.name}, {"writes", e.writes}, {"concurrent", concurrent}, {"damaged", damaged}};
    if (!e.never_concurrent.empty()) line["never_concurrent"] = e.never_concurrent;
    if (!e.never_damaged.empty()) line["never_damaged"] = e.never_damaged;
    fmt::print("{}\n", line.dump());
  }
  return 0;
}

}  // namespace crashgate::vstore_driver
