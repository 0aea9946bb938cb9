// `crashgate report`: the reports from a results.json alone, so that a run
// copied off a CI machine, merged from shards or written by an older crashgate
// can be reported again. Exit: 0 written, 2 a missing or invalid input, 3 a
// report could not be written.
#include "cli/report_command.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "crashgate/cli.h"
#include "crashgate/report_writers.h"
#include "crashgate/run_directory.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;

struct ReportCommandOptions {
  std::string input;
  std::string out;
  std::string source_root;
  std::vector<std::string> field_report_dirs;
};

// The results, or a message naming the file and what is wrong with it.
Checked<RunResults> read_results(const std::string& path) {
  std::ifstream in(path);
  if (!in) return failure(fmt::format("{}: {}", path, fs::exists(path) ? "cannot be read" : "no such file"));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 3, column 1: ..." without the bracket.
    std::string what = e.what();
    if (auto close = what.find("] "); what.rfind("[json.exception", 0) == 0 && close != std::string::npos)
      what.erase(0, close + 2);
    return failure(fmt::format("{}: not valid JSON: {}", path, what));
  }
  Checked<RunResults> results = run_results_from_json(json);
  if (!results) return failure(fmt::format("{}: not a crashgate results file: {}", path, results.error()));
  return results;
}

int report_command(const ReportCommandOptions& options) {
  std::error_code ec;
  bool is_dir = fs::is_directory(options.input, ec);
  std::string file = is_dir ? (fs::path(options.input) / kResultsFile).string() : options.input;
  if (is_dir && !fs::exists(file, ec)) {
    std::cerr << fmt::format("crashgate report: {}: no {} here (is it a run directory of `crashgate run`?)\n",
                             options.input, kResultsFile);
    return kExitUsage;
  }
  Checked<RunResults> results = read_results(file);
  if (!results) {
    std::cerr << "crashgate report: " << results.error() << "\n";
    return kExitUsage;
  }
  std::string run_dir = fs::path(file).parent_path().string();
  if (run_dir.empty()) run_dir = ".";
  std::string out = options.out.empty() ? run_dir : options.out;
  ReportOptions report_options;
  report_options.run_dir = run_dir;
  report_options.source_root = options.source_root;
  report_options.field_report_dirs = options.field_report_dirs;
  if (auto written = write_run_reports(out, *results, report_options); !written) {
    std::cerr << "crashgate report: " << written.error() << "\n";
    return kExitHarnessError;
  }
  for (const char* name : {kJunitFile, kSarifFile, kHtmlFile})
    std::cout << display_path((fs::path(out) / name).string()) << "\n";
  return 0;
}

}  // namespace

void add_report_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ReportCommandOptions>();
  auto* report = app.add_subcommand(
      "report", "Write a run's junit.xml, results.sarif and report.html from its results.json");
  report->footer(fmt::format(
      "RUN is a run directory (build/reports/latest) or a results.json. The reports go beside it unless --out says "
      "otherwise; report.html shows RUN's matrix.json when there is one.\n\n"
      "Exit status:\n"
      "    0  every report was written\n"
      "  {:>3}  usage error, or RUN is missing or not a valid results.json (the message names the file and the field)\n"
      "  {:>3}  a report could not be written\n",
      kExitUsage, kExitHarnessError));
  report->add_option("RUN", options->input, "A run directory or its results.json")->required()->type_name("RUN");
  report->add_option("--out", options->out, "Write the reports into DIR (default: beside results.json)")->type_name("DIR");
  report->add_option("--field-reports", options->field_report_dirs,
                     "Where the field reports that cells replay are: a cell's origin is read from the source "
                     "root when it is a page in docs/field-reports/ there, else looked up by its file name in "
                     "DIR (repeatable)")
      ->type_name("DIR");
  report->add_option("--source-root", options->source_root,
                     "The project's source tree: frames below it are project frames, and SARIF paths are relative to "
                     "it (default: the directory holding the run's build root)")
      ->type_name("DIR");
  report->callback([options, &exit_code] { exit_code = report_command(*options); });
}

}  // namespace crashgate
