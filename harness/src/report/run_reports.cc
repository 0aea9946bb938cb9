// Writing a run's reports: what they need from disk (field reports, matrix.json),
// then each file atomically beside results.json.
#include "crashgate/run_directory.h"
#include "crashgate/matrix_file.h"
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "crashgate/report_writers.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kExcerptBytes = 4000;
constexpr int kExcerptLines = 40;
// The pages, below the source root, that tell the field crashes scenarios replay (their origin).
constexpr const char* kFieldReportPagesDir = "docs/field-reports";

// The start of a field report: its first lines, cut at a line end, and how much more there is.
std::optional<std::string> excerpt(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text(kExcerptBytes, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  std::uintmax_t size = fs::file_size(path, ec);
  bool whole = text.size() < kExcerptBytes;
  std::size_t cut = 0;
  int lines = 0;
  for (std::size_t newline; lines < kExcerptLines && (newline = text.find('\n', cut)) != std::string::npos; ++lines)
    cut = newline + 1;
  // Fewer lines than the limit: all of a short file, else up to the last whole line.
  if (lines < kExcerptLines && (whole || cut == 0)) cut = text.size();
  text.resize(cut);
  if (!ec && size > text.size())
    text += fmt::format("[... {} more bytes in {}]\n", size - text.size(), path.filename().string());
  return text;
}

// Whether `path` names something below `dir` (not `dir` itself); both normalized.
bool lies_below(const fs::path& path, const fs::path& dir) {
  fs::path rel = path.lexically_relative(dir);
  return !rel.empty() && rel != "." && *rel.begin() != "..";
}

// `<source_root>/<origin>` when it is a file inside the source tree's docs/field-reports/
// (after symbolic links are followed too), else nothing.
std::optional<fs::path> field_report_page(const std::string& source_root, const std::string& origin) {
  fs::path relative(origin);
  if (source_root.empty() || relative.empty() || relative.has_root_path()) return std::nullopt;
  fs::path pages = (fs::path(source_root) / kFieldReportPagesDir).lexically_normal();
  fs::path page = (fs::path(source_root) / relative).lexically_normal();
  if (!lies_below(page, pages)) return std::nullopt;
  std::error_code ec;
  fs::path real_pages = fs::canonical(pages, ec);
  if (ec) return std::nullopt;
  fs::path real_page = fs::canonical(page, ec);
  if (ec || !lies_below(real_page, real_pages)) return std::nullopt;
  return page;
}

std::string default_source_root(const RunResults& results) {
  fs::path build_root(results.build_root);
  if (!results.build_root.empty() && build_root.filename() == "build") return build_root.parent_path().string();
  std::error_code ec;
  return fs::current_path(ec).string();
}

void read_matrix(const std::string& run_dir, ReportInputs& inputs) {
  fs::path path = fs::path(run_dir) / kMatrixFile;
  std::error_code ec;
  if (run_dir.empty() || !fs::exists(path, ec)) return;  // no matrix ran: nothing to show
  Checked<DetectionMatrix> matrix = load_detection_matrix(path.string());
  if (matrix)
    inputs.matrix = std::move(*matrix);
  else
    inputs.matrix_problem = matrix.error();
}


}  // namespace

ReportInputs gather_report_inputs(const RunResults& results, const ReportOptions& options) {
  ReportInputs inputs;
  std::string root = options.source_root.empty() ? default_source_root(results) : options.source_root;
  std::error_code ec;
  inputs.source_root = fs::absolute(root, ec).lexically_normal().string();
  if (inputs.source_root.size() > 1 && inputs.source_root.back() == '/') inputs.source_root.pop_back();

  // A cell's origin is read as a page of the source tree's docs/field-reports/, or by its file name
  // alone in the --field-reports directories: a scenario cannot point the report at other files.
  for (const auto& cell : results.cells) {
    if (cell.origin.empty() || inputs.field_reports.count(cell.origin)) continue;
    if (auto page = field_report_page(inputs.source_root, cell.origin)) {
      if (auto text = excerpt(*page)) {
        inputs.field_reports[cell.origin] = *text;
        continue;
      }
    }
    std::string name = fs::path(cell.origin).filename().string();
    if (name.empty() || name == "." || name == "..") continue;
    for (const auto& dir : options.field_report_dirs) {
      if (auto text = excerpt(fs::path(dir) / name)) {
        inputs.field_reports[cell.origin] = *text;
        break;
      }
    }
  }
  read_matrix(options.run_dir.empty() ? results.run_dir : options.run_dir, inputs);
  return inputs;
}

CheckedDone write_run_reports(const std::string& out_dir, const RunResults& results, const ReportOptions& options) {
  ReportOptions resolved = options;
  if (resolved.run_dir.empty()) resolved.run_dir = out_dir;
  ReportInputs inputs = gather_report_inputs(results, resolved);
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return failure(fmt::format("cannot create {}: {}", out_dir, ec.message()));
  struct Report {
    const char* file;
    std::string (*write)(const RunResults&, const ReportInputs&);
  };
  static const Report kReports[] = {
      {kJunitFile, [](const RunResults& r, const ReportInputs&) { return write_junit(r); }},
      {kSarifFile, write_sarif},
      {kHtmlFile, write_html},
      // summary.md (the PR comment) and the gate's files join this table.
  };
  for (const auto& report : kReports)
    if (auto written = write_file_atomically(out_dir + "/" + report.file, report.write(results, inputs)); !written)
      return written;
  return done();
}

}  // namespace crashgate
