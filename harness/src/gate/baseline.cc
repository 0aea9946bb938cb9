#include "crashgate/baseline.h"
#include "crashgate/run_directory.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace crashgate {
namespace {

using nlohmann::json;

// A cell that met its expectation is stored as pass: whether it needed a rerun
// is this run's luck, not the engine's state.
Verdict baseline_verdict(Verdict v) { return met(v) ? Verdict::pass : v; }

}  // namespace

const BaselineCell* Baseline::find(const std::string& id) const {
  auto it = std::lower_bound(cells.begin(), cells.end(), id,
                             [](const BaselineCell& c, const std::string& key) { return c.id < key; });
  return it != cells.end() && it->id == id ? &*it : nullptr;
}

bool Baseline::holds_signature(const std::string& signature) const {
  auto it = std::lower_bound(signatures.begin(), signatures.end(), signature,
                             [](const BaselineSignature& s, const std::string& key) { return s.signature < key; });
  return it != signatures.end() && it->signature == signature;
}

Baseline baseline_from_results(const RunResults& results) {
  Baseline b;
  std::map<std::string, BaselineSignature> signatures;
  for (const auto& cell : results.cells) {
    if (cell.verdict == Verdict::not_run) continue;
    BaselineCell c{cell.cell.id, baseline_verdict(cell.verdict), "", ""};
    // A flaky cell's crash is accepted too: the gate then knows it, and its
    // next flaky run is flaky, not a new signature.
    if ((!met(cell.verdict) || cell.verdict == Verdict::flaky) && !cell.attempts.empty()) {
      const Outcome& o = cell.attempts.front().outcome;
      c.signature = o.signature;
      c.crash_state = o.crash_state;
      if (!o.signature.empty()) {
        auto& s = signatures[o.signature];
        s.signature = o.signature;
        s.crash_state = o.crash_state;
        s.cells.push_back(cell.cell.id);
      }
    }
    b.cells.push_back(std::move(c));
  }
  std::sort(b.cells.begin(), b.cells.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
  // Two runs merged from shards could list a cell twice; the baseline keeps one.
  b.cells.erase(std::unique(b.cells.begin(), b.cells.end(), [](const auto& x, const auto& y) { return x.id == y.id; }),
                b.cells.end());
  for (auto& [_, s] : signatures) {
    std::sort(s.cells.begin(), s.cells.end());
    b.signatures.push_back(std::move(s));
  }
  return b;
}

nlohmann::ordered_json to_json(const Baseline& b) {
  using ojson = nlohmann::ordered_json;
  ojson cells = ojson::array();
  for (const auto& c : b.cells) {
    ojson j = {{"id", c.id}, {"verdict", to_string(c.verdict)}};
    if (!c.signature.empty()) j["signature"] = c.signature;
    cells.push_back(std::move(j));
  }
  ojson signatures = ojson::array();
  for (const auto& s : b.signatures)
    signatures.push_back({{"signature", s.signature}, {"crash_state", s.crash_state}, {"cells", s.cells}});
  return {{"schema", kBaselineSchema}, {"cells", cells}, {"signatures", signatures}};
}

Checked<Baseline> baseline_from_json(const json& j) {
  if (!j.is_object() || !j.contains("schema") || !j["schema"].is_string())
    return failure("schema: missing (expected \"" + std::string(kBaselineSchema) + "\")");
  if (j["schema"] != kBaselineSchema)
    return failure(fmt::format("schema: '{}' (this crashgate reads {})", j["schema"].get<std::string>(), kBaselineSchema));
  for (const char* key : {"cells", "signatures"})
    if (!j.contains(key) || !j[key].is_array()) return failure(fmt::format("{}: missing or not an array", key));
  Baseline b;
  std::set<std::string> ids;
  for (std::size_t i = 0; i < j["cells"].size(); ++i) {
    const json& c = j["cells"][i];
    std::string where = fmt::format("cells[{}]", i);
    if (!c.is_object() || !c.contains("id") || !c["id"].is_string() || !c.contains("verdict") ||
        !c["verdict"].is_string()) {
      return failure(where + ": needs a string 'id' and 'verdict'");
    }
    auto verdict = parse_verdict(c["verdict"].get<std::string>());
    if (!verdict)
      return failure(fmt::format("{}.verdict: '{}' is not a verdict", where, c["verdict"].get<std::string>()));
    BaselineCell cell{c["id"], *verdict, "", ""};
    if (c.contains("signature")) {
      if (!c["signature"].is_string()) return failure(where + ".signature: not a string");
      cell.signature = c["signature"];
    }
    if (!ids.insert(cell.id).second) return failure(fmt::format("{}: cell '{}' appears twice", where, cell.id));
    b.cells.push_back(std::move(cell));
  }
  for (std::size_t i = 0; i < j["signatures"].size(); ++i) {
    const json& s = j["signatures"][i];
    std::string where = fmt::format("signatures[{}]", i);
    BaselineSignature sig;
    try {
      sig.signature = s.at("signature").get<std::string>();
      sig.crash_state = s.value("crash_state", "");
      if (s.contains("cells")) sig.cells = s["cells"].get<std::vector<std::string>>();
    } catch (const json::exception&) {
      return failure(where + ": needs a string 'signature', a string 'crash_state' and an array of strings 'cells'");
    }
    b.signatures.push_back(std::move(sig));
  }
  // Hand-edited files need not be sorted; lookups need them to be.
  std::sort(b.cells.begin(), b.cells.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
  std::sort(b.signatures.begin(), b.signatures.end(), [](const auto& x, const auto& y) { return x.signature < y.signature; });
  for (auto& c : b.cells)
    if (!c.signature.empty())
      for (const auto& s : b.signatures)
        if (s.signature == c.signature) c.crash_state = s.crash_state;
  return b;
}

Checked<Baseline> load_baseline(const std::string& path) {
  std::ifstream in(path);
  if (!in) return failure(fmt::format("{}: cannot read the baseline", path));
  std::stringstream text;
  text << in.rdbuf();
  auto j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded()) return failure(fmt::format("{}: not valid JSON", path));
  auto b = baseline_from_json(j);
  if (!b) return failure(fmt::format("{}: {}", path, b.error()));
  return b;
}

CheckedDone write_baseline(const Baseline& baseline, const std::string& path) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  return write_file_atomically(path, to_json(baseline).dump(2) + "\n");
}

}  // namespace crashgate
