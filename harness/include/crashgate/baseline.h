// The gate's baseline (reports/baseline.json, schema `crashgate.baseline/1`,
// documented in reports/baseline-schema.md): each cell's verdict in an
// accepted run, and the crash signatures of the failures that run accepted.
// Written in a stable order (cells and signatures sorted) so that updating it
// makes a reviewable diff.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crashgate/checked.h"
#include "crashgate/run_results.h"

namespace crashgate {

inline constexpr const char* kBaselineSchema = "crashgate.baseline/1";

struct BaselineCell {
  std::string id;
  Verdict verdict = Verdict::pass;  // the run's verdict; flaky is stored as met (pass)
  std::string signature;            // the first attempt's crash signature when it did not pass; "" otherwise
  std::string crash_state;
  bool operator==(const BaselineCell&) const = default;
};

struct BaselineSignature {
  std::string signature;
  std::string crash_state;
  std::vector<std::string> cells;   // the baseline's failing cells that crashed with it, sorted
  bool operator==(const BaselineSignature&) const = default;
};

struct Baseline {
  std::vector<BaselineCell> cells;             // sorted by id
  std::vector<BaselineSignature> signatures;   // sorted by signature

  const BaselineCell* find(const std::string& id) const;
  bool holds_signature(const std::string& signature) const;
  bool operator==(const Baseline&) const = default;
};

// The baseline a run makes: every cell but those that did not run (not-run).
Baseline baseline_from_results(const RunResults& results);

// Ordered: schema first, then cells, then signatures, as a reviewer reads it.
nlohmann::ordered_json to_json(const Baseline& baseline);
// The failure names the field that is wrong ("cells[2].verdict: ...").
Checked<Baseline> baseline_from_json(const nlohmann::json& json);

// Reads a baseline file; the failure names the file and what is wrong.
Checked<Baseline> load_baseline(const std::string& path);
// Writes it atomically, 2-space indented, with a final newline; the failure
// names the file and why.
CheckedDone write_baseline(const Baseline& baseline, const std::string& path);

}  // namespace crashgate
