#include "crashgate/mutation.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

namespace crashgate {
namespace {

struct MutantStatusInfo {
  MutantStatus status;
  std::string_view name;
  bool counted;
  std::string_view meaning;
};

constexpr MutantStatusInfo kMutantStatuses[] = {
#define CRASHGATE_STATUS_INFO(id, name, counted, meaning) {MutantStatus::id, name, counted, meaning},
    CRASHGATE_MUTANT_STATUSES(CRASHGATE_STATUS_INFO)
#undef CRASHGATE_STATUS_INFO
};

bool source_order(const Mutant& a, const Mutant& b) {
  return a.file != b.file ? a.file < b.file : a.offset != b.offset ? a.offset < b.offset : a.rule < b.rule;
}

}  // namespace

std::string_view to_string(MutantStatus s) { return kMutantStatuses[static_cast<int>(s)].name; }
bool counted_in_score(MutantStatus s) { return kMutantStatuses[static_cast<int>(s)].counted; }

std::optional<MutantStatus> parse_mutant_status(std::string_view name) {
  for (const auto& s : kMutantStatuses)
    if (s.name == name) return s.status;
  return std::nullopt;
}

std::optional<double> MutationScore::score() const {
  std::size_t n = killed() + survived();
  if (n == 0) return std::nullopt;
  return static_cast<double>(killed()) / static_cast<double>(n);
}

std::string MutationScore::headline() const {
  std::string out = fmt::format("{} of {} killed", killed(), killed() + survived());
  if (auto s = score()) out += fmt::format(" ({:.1f}%)", *s * 100);
  std::vector<std::string> rest;
  for (const auto& s : kMutantStatuses)
    if (!s.counted && at(s.status)) rest.push_back(fmt::format("{} {}", at(s.status), s.name));
  if (!rest.empty()) out += "; " + fmt::format("{}", fmt::join(rest, ", "));
  return out;
}

std::size_t drop_unfinished_cells(RunResults& results) {
  auto cut_short = [](const CellResult& c) {
    if (c.verdict == Verdict::not_run || c.attempts.empty()) return true;
    const Outcome& o = c.attempts.front().outcome;
    return o.kind == OutcomeKind::harness_error &&
           (o.detail.rfind("interrupted:", 0) == 0 || o.detail.rfind("not run: crashgate was interrupted", 0) == 0);
  };
  return std::erase_if(results.cells, cut_short);
}

GatePlan plan_gate(std::chrono::milliseconds budget, std::chrono::milliseconds spent) {
  // Judging without reruns reads results.json and decides: seconds, so it gets
  // the floor even when the budget is gone.
  if (spent + kGateFloor > budget) return {.reruns = false, .limit = kGateFloor};
  return {.reruns = true, .limit = budget - spent};
}

MutationScore score_of(const std::vector<MutantResult>& results) {
  MutationScore s;
  for (const auto& r : results) ++s.count[r.status];
  return s;
}

std::vector<Mutant> sample_mutants(const std::vector<Mutant>& all, std::size_t count, std::uint64_t seed,
                                   const std::set<MutationRule>& rules) {
  std::map<MutationRule, std::vector<Mutant>> by_rule;
  for (const auto& m : all)
    if (rules.empty() || rules.count(m.rule)) by_rule[m.rule].push_back(m);
  std::mt19937_64 random(seed);
  for (auto& [_, list] : by_rule) {
    std::sort(list.begin(), list.end(), source_order);  // the input's order must not matter
    // Fisher-Yates with our own draws: std::shuffle's order may differ between libraries.
    for (std::size_t i = list.size(); i > 1; --i) std::swap(list[i - 1], list[random() % i]);
  }
  std::vector<Mutant> out;
  for (std::size_t round = 0; out.size() < count; ++round) {
    bool any = false;
    for (auto& [_, list] : by_rule) {
      if (round >= list.size() || out.size() >= count) continue;
      out.push_back(list[round]);
      any = true;
    }
    if (!any) break;
  }
  std::sort(out.begin(), out.end(), source_order);
  return out;
}

Checked<std::vector<std::string>> mutant_ids_in(const std::string& text, const std::string& where) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return failure(where + ": not JSON");
  std::string schema = j.is_object() ? j.value("schema", "") : "";
  if (schema != kMutantsSchema && schema != kMutationSchema)
    return failure(fmt::format("{}: schema is neither {} nor {}", where, kMutantsSchema, kMutationSchema));
  if (!j.contains("mutants") || !j["mutants"].is_array()) return failure(where + ".mutants: missing, or not an array");
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < j["mutants"].size(); ++i) {
    const auto& m = j["mutants"][i];
    if (!m.is_object() || !m.contains("id") || !m["id"].is_string())
      return failure(fmt::format("{}: mutants[{}].id: missing, or not a string", where, i));
    ids.push_back(m["id"].get<std::string>());
  }
  return ids;
}

nlohmann::json mutation_json(const MutationRun& run) {
  MutationScore s = score_of(run.results);
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& st : kMutantStatuses) counts[std::string(st.name)] = s.at(st.status);
  nlohmann::json mutants = nlohmann::json::array();
  for (const auto& r : run.results) {
    nlohmann::json m = to_json(r.mutant);
    m["status"] = std::string(to_string(r.status));
    m["selected"] = r.selected;
    m["total"] = r.total;
    m["killed_by"] = r.killed_by;
    m["detail"] = r.detail;
    m["seconds"] = r.seconds;
    mutants.push_back(std::move(m));
  }
  nlohmann::json score = s.score() ? nlohmann::json(*s.score()) : nlohmann::json(nullptr);
  return {{"schema", kMutationSchema}, {"commit", run.commit},       {"seed", run.seed},
          {"builds", run.builds},      {"started_at", run.started_at}, {"seconds", run.seconds},
          {"found", run.found},        {"files", run.files},           {"interrupted", run.interrupted},
          {"score", score},            {"counts", counts},             {"mutants", mutants}};
}

Checked<MutationRun> parse_mutation_json(const std::string& text, const std::string& where) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return failure(where + ": not JSON");
  if (!j.is_object() || j.value("schema", "") != kMutationSchema)
    return failure(fmt::format("{}: schema is not {}", where, kMutationSchema));
  MutationRun run;
  try {
    run.commit = j.at("commit").get<std::string>();
    run.seed = j.at("seed").get<std::uint64_t>();
    run.builds = j.at("builds").get<std::vector<std::string>>();
    run.started_at = j.at("started_at").get<std::string>();
    run.seconds = j.at("seconds").get<double>();
    run.found = j.at("found").get<std::size_t>();
    run.files = j.at("files").get<std::vector<std::string>>();
    run.interrupted = j.at("interrupted").get<bool>();
  } catch (const nlohmann::json::exception& e) {
    return failure(fmt::format("{}: {}", where, e.what()));
  }
  if (!j.contains("mutants") || !j["mutants"].is_array()) return failure(where + ".mutants: missing, or not an array");
  for (std::size_t i = 0; i < j["mutants"].size(); ++i) {
    const auto& m = j["mutants"][i];
    std::string at = fmt::format("{}: mutants[{}]", where, i);
    auto mutant = mutant_from_json(m, at);
    if (!mutant) return failure(mutant.error());
    MutantResult r;
    r.mutant = std::move(mutant).value();
    auto status = m.contains("status") && m["status"].is_string() ? parse_mutant_status(m["status"].get<std::string>()) : std::nullopt;
    if (!status) return failure(at + ".status: missing, or no status crashgate knows");
    r.status = *status;
    try {
      r.selected = m.at("selected").get<std::size_t>();
      r.total = m.at("total").get<std::size_t>();
      r.killed_by = m.at("killed_by").get<std::vector<std::string>>();
      r.detail = m.at("detail").get<std::string>();
      r.seconds = m.at("seconds").get<double>();
    } catch (const nlohmann::json::exception& e) {
      return failure(fmt::format("{}: {}", at, e.what()));
    }
    run.results.push_back(std::move(r));
  }
  return run;
}

std::string mutation_markdown(const MutationRun& run, const std::map<std::string, std::string>& diffs) {
  MutationScore s = score_of(run.results);
  std::string out = fmt::format("# crashgate mutate: {}\n\n", s.headline());
  out += fmt::format("Commit `{}`, seed {}, builds {}; {} mutants tried of {} found in {} files; {:.0f} s{}.\n\n",
                     run.commit.substr(0, 12), run.seed, fmt::join(run.builds, ", "), run.results.size(), run.found,
                     run.files.size(), run.seconds, run.interrupted ? "; **interrupted**" : "");
  out += "The score is killed / (killed + survived): a killed mutant made the gate block on a cell it selected.\n\n";
  out += "| rule | killed | survived | other |\n|---|---|---|---|\n";
  for (const auto& rule : mutation_rules()) {
    std::vector<MutantResult> of;
    for (const auto& r : run.results)
      if (r.mutant.rule == rule.rule) of.push_back(r);
    if (of.empty()) continue;
    MutationScore rs = score_of(of);
    out += fmt::format("| {} | {} | {} | {} |\n", rule.name, rs.killed(), rs.survived(), of.size() - rs.killed() - rs.survived());
  }
  auto section = [&](MutantStatus status, const char* title, bool with_diff) {
    std::string body;
    for (const auto& r : run.results) {
      if (r.status != status) continue;
      body += fmt::format("\n### `{}`\n{}:{} in `{}`; {} of {} cells selected, {:.0f} s\n", r.mutant.id, r.mutant.file, r.mutant.line,
                          r.mutant.function, r.selected, r.total, r.seconds);
      for (const auto& k : r.killed_by) body += fmt::format("- {}\n", k);
      if (!r.detail.empty()) body += fmt::format("\n```\n{}\n```\n", r.detail);
      auto d = diffs.find(r.mutant.id);
      if (with_diff && d != diffs.end()) body += fmt::format("\n```diff\n{}```\n", d->second);
    }
    if (!body.empty()) out += fmt::format("\n## {} ({})\n{}", title, s.at(status), body);
  };
  section(MutantStatus::survived, "Survived: bugs the gate let through", true);
  section(MutantStatus::error, "Errors", false);
  section(MutantStatus::killed, "Killed", false);
  section(MutantStatus::equivalent, "Equivalent", true);
  section(MutantStatus::no_build, "Did not build", false);
  section(MutantStatus::gone, "Gone", false);
  section(MutantStatus::not_run, "Not run", false);
  return out;
}

}  // namespace crashgate
