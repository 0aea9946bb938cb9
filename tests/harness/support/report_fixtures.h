// Test support for the report writers: runs with every verdict and outcome
// kind, hostile text, many cells; and the outside tools that judge the
// reports (xmllint, headless Chromium).
#pragma once

#include <string>
#include <vector>

#include "crashgate/outcome.h"
#include "crashgate/run_results.h"
#include "harness/support/crashers.h"

namespace crashgate::testing {

// Where report_results() says its sources are: frames below it are project frames.
inline constexpr const char* kReportSourceRoot = "/src/crashgate";

// Text no report may pass through unescaped: markup, a CDATA end, control
// characters, a terminal escape, and bytes that are not UTF-8.
inline constexpr const char* kHostileText =
    "<script>alert('x')</script> & \"quotes\" ]]> \x01\x07\x1b[31mred\x1b[0m \xff\xfe\xc3( end";

// A run with one cell of every kind worth reporting: pass; a SIGBUS failure
// with attribution and a project frame; an ASan failure; a failure that did not
// crash; a flaky cell; a harness error; a cell interrupted before it ran.
// Stderr, details and a param carry kHostileText.
RunResults report_results();

// A run of `n` failing cells, each with a 30-frame stack and 1 MiB of stderr
// (64 KiB of it captured).
RunResults many_failing_results(int n);

// A run with no cells.
RunResults empty_results();

// tests/harness/data/junit-10.xsd: the JUnit schema reports are validated against.
std::string junit_schema();

// Runs argv (untraced) with stdout written to `stdout_path` ("" = captured in
// the outcome like stderr); a wall-clock limit of `seconds`.
Outcome run_tool(const std::vector<std::string>& argv, const std::string& stdout_path = "", int seconds = 60);

// `xmllint --noout --schema XSD FILE`: "" when the file is valid, else what xmllint said.
std::string xml_schema_errors(const std::string& xsd, const std::string& file);
// `xmllint --xpath EXPR FILE`: the value as xmllint prints it.
std::string xpath(const std::string& file, const std::string& expression);

// The Chromium binary, or "" (callers fail with a message saying to run ci/setup).
std::string chromium_binary();

struct RenderedPage {
  std::string dom;                    // the DOM after layout, as --dump-dom prints it
  std::string probe;                  // one line per [data-verdict]/[data-status] element: "cell\tverdict\tbackground"
  std::vector<std::string> requests;  // every URL the page asked the network for (Chromium's own traffic excluded)
  std::string problem;                // why rendering failed, "" when it worked
};

// Renders `html_file` in headless Chromium: its DOM, the computed background of
// each verdict-coloured element, and its network requests (from a net log).
RenderedPage render_in_chromium(const std::string& html_file);

}  // namespace crashgate::testing
