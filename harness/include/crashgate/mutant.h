// One mutant: a small change to one place of an engine's source, made by a
// mutation rule (mutation_rules.h). crashgate-mutants finds them;
// `crashgate mutate` applies each, builds and gates it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/checked.h"
#include "crashgate/mutation_rules.h"

namespace crashgate {

inline constexpr const char* kMutantsSchema = "crashgate.mutants/1";

struct Mutant {
  // "<rule>@<file>:<function>#<k>": the k-th place (from 0, in source order)
  // in that function where the rule applies. It names the same mutant after
  // edits elsewhere in the file, so two runs of the gate can be compared.
  std::string id;
  std::string file;      // relative to the repository root
  std::string function;  // "StoreImpl::get"
  MutationRule rule = MutationRule::relational_boundary;
  unsigned line = 0, column = 0;       // where the change starts, from 1
  std::size_t offset = 0, length = 0;  // the bytes replaced
  std::string original, replacement;

  bool operator==(const Mutant&) const = default;
};

nlohmann::json to_json(const Mutant& m);
// The mutant a to_json wrote; an error naming `where` and the field otherwise.
Checked<Mutant> mutant_from_json(const nlohmann::json& j, const std::string& where);

// {"schema": "crashgate.mutants/1", "mutants": [...]}, and back.
nlohmann::json mutants_document(const std::vector<Mutant>& mutants);
Checked<std::vector<Mutant>> parse_mutants_document(const std::string& text, const std::string& where);

// The file's text with the mutant applied; an error when the bytes at its
// offset are not its original (the source changed since it was found).
Checked<std::string> apply_mutant(const std::string& text, const Mutant& m);

// A unified diff of the mutant against `text` (the unmutated file), with
// `context` lines around it, as `git diff` would show it.
std::string mutant_diff(const std::string& text, const Mutant& m, int context = 2);

}  // namespace crashgate
