// scenario_parser: crashgate's own parsers, held to the standard it enforces.
// The first input byte picks the parser: scenario TOML (then expanded into
// cells) or sanitizer reports; the rest is the text. Parse errors are fine;
// a crash, a hang or an accepted scenario whose cells do not expand is not.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "crashgate/sanitizer_report.h"
#include "crashgate/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    crashgate::ScenarioParse parsed = crashgate::parse_scenario(text, "fuzz.toml");
    if (parsed.scenario && !parsed.errors.empty()) std::abort();  // never half-parsed
    if (parsed.scenario) {
      std::vector<crashgate::Cell> cells = crashgate::expand_cells(*parsed.scenario, 1);
      for (const crashgate::Cell& c : cells)
        if (c.id.empty()) std::abort();
    }
  } else {
    for (const crashgate::SanitizerReport& r : crashgate::parse_sanitizer_reports(text)) (void)r;
  }
  return 0;
}
