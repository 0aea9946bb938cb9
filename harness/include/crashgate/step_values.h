// A step key's value checked against its type in the op table
// (scenario_ops.h), and returned in its one canonical form: the form cell.json
// carries to a driver. Nothing is ever defaulted: a value that is not what its
// key's type says is a failure naming the key, the value and what was wanted.
//
//   u64, i64     -> integer   (a TOML integer, or digits from a {param})
//   float        -> number
//   bool         -> boolean   (true/false, or "true"/"false" from a {param})
//   duration     -> integer milliseconds ("100ms", "2s", "1m"; a unit is required)
//   size         -> integer bytes ("4096", "64KiB", "2MiB")
//   list of u64  -> array of integers
//   offset, fill, enum, string -> string; table -> object
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/checked.h"
#include "crashgate/scenario_ops.h"

namespace crashgate {

// How a value is written: as a person wrote it in a scenario (a duration needs
// its unit), or in the canonical form above, as cell.json carries it (a
// duration is its milliseconds). Typing a canonical value again gives it back.
enum class ValueForm { written, canonical };

// `engine_values`: for a key whose values are the engine's, the values its
// driver accepts; nullptr when they are not known here (only the form is checked).
Checked<nlohmann::json> typed_value(const KeySpec& key, const nlohmann::json& raw,
                                    const std::vector<std::string>* engine_values = nullptr,
                                    ValueForm form = ValueForm::written);

// Offset expressions: terms joined by + and -. A term is a number, a NAME
// (header, end, committed, or any name the engine's layout gives), or
// FUNCTION(ARG) (slot(17), field(dim)).
struct OffsetTerm {
  int sign = 1;
  std::string name;                   // "" for a number
  std::optional<std::string> arg;     // set for NAME(ARG)
  std::uint64_t number = 0;
};
Checked<std::vector<OffsetTerm>> parse_offset_expression(std::string_view text);

// Evaluates an expression, asking `resolve` for each named term's value.
using OffsetResolver = std::function<Checked<std::uint64_t>(const OffsetTerm&)>;
Checked<std::uint64_t> evaluate_offset_expression(std::string_view text, const OffsetResolver& resolve);

// A step's own `expect`: "ok", "error" or "error:CODE", or alternatives joined by | ("ok|error:corrupt").
CheckedDone check_step_expect(std::string_view expect);

// How one step ended as the driver reported it, judged against its `expect`.
// Without an `expect` the step must end ok. A met expectation of an error
// makes the step ok ("ended as expected" in `note`); an unmet one makes it an
// error with code wrong-result saying what was expected and what came.
struct StepJudgement {
  bool ok = true;
  std::string code;
  std::string message;
  std::string note;  // "ended as expected: corrupt: ..." when an expected error came
};
StepJudgement judge_step(std::string_view expect, bool ok, std::string_view code, std::string_view message);

}  // namespace crashgate
