#include "crashgate/mutant.h"

#include <fmt/format.h>

#include <algorithm>

namespace crashgate {

nlohmann::json to_json(const Mutant& m) {
  return {{"id", m.id},         {"file", m.file},         {"function", m.function},       {"rule", std::string(to_string(m.rule))},
          {"line", m.line},     {"column", m.column},     {"offset", m.offset},           {"length", m.length},
          {"original", m.original}, {"replacement", m.replacement}};
}

Checked<Mutant> mutant_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) return failure(where + ": not an object");
  Mutant m;
  for (auto [key, field] : {std::pair{"id", &m.id}, {"file", &m.file}, {"function", &m.function}, {"original", &m.original},
                            {"replacement", &m.replacement}}) {
    if (!j.contains(key) || !j[key].is_string()) return failure(fmt::format("{}.{}: missing, or not a string", where, key));
    *field = j[key].get<std::string>();
  }
  if (!j.contains("rule") || !j["rule"].is_string()) return failure(where + ".rule: missing, or not a string");
  const MutationRuleInfo* rule = find_mutation_rule(j["rule"].get<std::string>());
  if (!rule) return failure(fmt::format("{}.rule: '{}' is no mutation rule", where, j["rule"].get<std::string>()));
  m.rule = rule->rule;
  for (auto key : {"line", "column", "offset", "length"})
    if (!j.contains(key) || !j[key].is_number_unsigned()) return failure(fmt::format("{}.{}: missing, or not a whole number", where, key));
  m.line = j["line"].get<unsigned>();
  m.column = j["column"].get<unsigned>();
  m.offset = j["offset"].get<std::size_t>();
  m.length = j["length"].get<std::size_t>();
  if (m.original.size() != m.length)
    return failure(fmt::format("{}: original is {} bytes, length says {}", where, m.original.size(), m.length));
  return m;
}

nlohmann::json mutants_document(const std::vector<Mutant>& mutants) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : mutants) list.push_back(to_json(m));
  return {{"schema", kMutantsSchema}, {"mutants", list}};
}

Checked<std::vector<Mutant>> parse_mutants_document(const std::string& text, const std::string& where) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return failure(where + ": not JSON");
  if (!j.is_object() || j.value("schema", "") != kMutantsSchema)
    return failure(fmt::format("{}: schema is not {}", where, kMutantsSchema));
  if (!j.contains("mutants") || !j["mutants"].is_array()) return failure(where + ".mutants: missing, or not an array");
  std::vector<Mutant> out;
  for (std::size_t i = 0; i < j["mutants"].size(); ++i) {
    auto m = mutant_from_json(j["mutants"][i], fmt::format("{}: mutants[{}]", where, i));
    if (!m) return failure(m.error());
    out.push_back(std::move(m).value());
  }
  return out;
}

Checked<std::string> apply_mutant(const std::string& text, const Mutant& m) {
  if (m.offset + m.length > text.size() || text.compare(m.offset, m.length, m.original) != 0)
    return failure(fmt::format("{}:{}:{}: the source no longer holds '{}' there (it changed since the mutant was found)", m.file,
                               m.line, m.column, m.original));
  return text.substr(0, m.offset) + m.replacement + text.substr(m.offset + m.length);
}

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return out;
}

}  // namespace

std::string mutant_diff(const std::string& text, const Mutant& m, int context) {
  auto mutated = apply_mutant(text, m);
  if (!mutated) return mutated.error() + "\n";
  // A replacement holds no newline, so the lines the original spans become one.
  std::vector<std::string> before = lines_of(text), after = lines_of(*mutated);
  std::size_t first = m.line - 1;
  std::size_t last = first + static_cast<std::size_t>(std::count(m.original.begin(), m.original.end(), '\n'));
  if (last >= before.size() || first >= after.size()) return fmt::format("{}:{}: beyond the end of the file\n", m.file, m.line);
  std::size_t from = first >= static_cast<std::size_t>(context) ? first - context : 0;
  std::size_t trailing = std::min<std::size_t>(context, before.size() - last - 1);
  std::string out = fmt::format("--- a/{0}\n+++ b/{0}\n@@ -{1},{2} +{1},{3} @@ {4}\n", m.file, from + 1, last + 1 + trailing - from,
                                first + 1 + trailing - from, m.function);
  for (std::size_t i = from; i < first; ++i) out += " " + before[i] + "\n";
  for (std::size_t i = first; i <= last; ++i) out += "-" + before[i] + "\n";
  out += "+" + after[first] + "\n";
  for (std::size_t i = 1; i <= trailing; ++i) out += " " + before[last + i] + "\n";
  return out;
}

}  // namespace crashgate
