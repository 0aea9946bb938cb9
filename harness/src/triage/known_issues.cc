// reports/known-issues.toml: signatures and crash-state globs of known bugs.
#include <fnmatch.h>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "crashgate/cell_selection.h"  // cell_glob_match
#include "crashgate/triage.h"

namespace crashgate {
namespace {

std::string where(const std::string& source, const toml::source_region& region) {
  return fmt::format("{}:{}:{}", source, region.begin.line, region.begin.column);
}

CheckedDone read_strings(const toml::node& node, const std::string& source, std::string_view key,
                         std::vector<std::string>& out) {
  const auto* array = node.as_array();
  if (!array) return failure(fmt::format("{}: '{}' must be an array of strings", where(source, node.source()), key));
  for (const auto& item : *array) {
    auto text = item.value<std::string>();
    if (!text) return failure(fmt::format("{}: '{}' must hold only strings", where(source, item.source()), key));
    out.push_back(*text);
  }
  return done();
}

// Whether `issue` is about the engine (and version) `outcome` ran; an issue
// that names no engine is about any.
bool about_engine_of(const KnownIssues::Issue& issue, const Outcome& outcome) {
  if (issue.engine.empty()) return true;
  if (!outcome.engine || outcome.engine->name != issue.engine) return false;
  if (issue.versions.empty()) return true;
  for (const auto& pattern : issue.versions)
    if (fnmatch(pattern.c_str(), outcome.engine->version.c_str(), 0) == 0) return true;
  return false;
}

}  // namespace

Checked<KnownIssues> KnownIssues::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return failure(fmt::format("{}: cannot read the known-issues file", path));
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

Checked<KnownIssues> KnownIssues::parse(std::string_view text, const std::string& source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return failure(fmt::format("{}: {}", where(source, e.source()), e.description()));
  }
  KnownIssues known;
  for (const auto& [key, node] : root) {
    if (key.str() != "issue")
      return failure(fmt::format("{}: unknown key '{}' (expected [[issue]] tables)", where(source, node.source()), key.str()));
  }
  const auto* issues = root["issue"].as_array();
  if (!issues) return known;
  std::set<std::string> ids;
  for (const auto& entry : *issues) {
    const auto* table = entry.as_table();
    if (!table)
      return failure(fmt::format("{}: each issue must be a table ([[issue]])", where(source, entry.source())));
    Issue issue;
    for (const auto& [key, node] : *table) {
      std::string_view k = key.str();
      if (k == "id" || k == "title" || k == "url" || k == "engine" || k == "upstream") {
        auto value = node.value<std::string>();
        if (!value) return failure(fmt::format("{}: '{}' must be a string", where(source, node.source()), k));
        (k == "id" ? issue.id : k == "title" ? issue.title : k == "url" ? issue.url : k == "engine" ? issue.engine : issue.upstream) = *value;
      } else if (k == "signatures" || k == "states" || k == "versions" || k == "cells") {
        auto& into = k == "signatures" ? issue.signatures : k == "states" ? issue.states : k == "cells" ? issue.cells : issue.versions;
        if (auto read = read_strings(node, source, k, into); !read) return failure(read.error());
      } else {
        return failure(fmt::format("{}: unknown key '{}' in an issue (expected id, title, url, engine, versions, upstream, signatures, states, cells)",
                                   where(source, node.source()), k));
      }
    }
    if (issue.id.empty() || issue.title.empty())
      return failure(fmt::format("{}: an issue needs an 'id' and a 'title'", where(source, entry.source())));
    if (issue.signatures.empty() && issue.states.empty())
      return failure(fmt::format("{}: issue '{}' matches nothing: give 'signatures' or 'states'", where(source, entry.source()),
                                 issue.id));
    if (!issue.versions.empty() && issue.engine.empty())
      return failure(fmt::format("{}: issue '{}' gives 'versions' without the 'engine' they are versions of",
                                 where(source, entry.source()), issue.id));
    if (!ids.insert(issue.id).second)
      return failure(fmt::format("{}: issue id '{}' appears twice", where(source, entry.source()), issue.id));
    known.issues_.push_back(std::move(issue));
  }
  return known;
}

const KnownIssues::Issue* KnownIssues::find(std::string_view id) const {
  for (const auto& issue : issues_)
    if (issue.id == id) return &issue;
  return nullptr;
}

std::optional<KnownIssueMatch> KnownIssues::match(const Outcome& outcome, std::string_view cell_id) const {
  auto applies = [&](const Issue& issue) {
    if (!about_engine_of(issue, outcome)) return false;
    if (issue.cells.empty()) return true;
    return !cell_id.empty() && std::any_of(issue.cells.begin(), issue.cells.end(),
                                           [&](const std::string& glob) { return cell_glob_match(glob, cell_id); });
  };
  // An issue scoped to cells is the more specific: it is tried first, so a
  // concurrency cell's crash is its issue even where another's state glob fits it.
  for (bool scoped : {true, false}) {
    for (const auto& issue : issues_)
      if (issue.cells.empty() != scoped)
        for (const auto& signature : issue.signatures)
          if (signature == outcome.signature && applies(issue))
            return KnownIssueMatch{issue.id, issue.title, issue.url, "signature"};
    for (const auto& issue : issues_)
      if (issue.cells.empty() != scoped && applies(issue))
        for (const auto& pattern : issue.states)
          if (fnmatch(pattern.c_str(), outcome.crash_state.c_str(), 0) == 0)
            return KnownIssueMatch{issue.id, issue.title, issue.url, "state"};
  }
  return std::nullopt;
}

}  // namespace crashgate
