// Damaged data directories: recognised by the drivers' layout tables,
// inspected against them, and read by each read op of the driver on copies.
#include "crashgate/store_triage.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "crashgate/driver_listing.h"
#include "crashgate/driver_location.h"
#include "crashgate/driver_protocol.h"
#include "crashgate/limits.h"
#include "crashgate/runner.h"
#include "crashgate/scenario.h"
#include "crashgate/target_support.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;

// Regular files directly in `dir`, sorted by name.
Checked<std::vector<std::pair<std::string, std::uint64_t>>> files_in(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return failure(fmt::format("{}: not a directory", dir));
  std::vector<std::pair<std::string, std::uint64_t>> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (!it->is_regular_file(size_ec)) continue;
    files.emplace_back(it->path().filename().string(), it->file_size(size_ec));
  }
  if (ec) return failure(fmt::format("{}: cannot be listed: {}", dir, ec.message()));
  std::sort(files.begin(), files.end());
  return files;
}

std::string row_string(const nlohmann::json& row, const char* key) {
  auto it = row.find(key);
  return it != row.end() && it->is_string() ? it->get<std::string>() : std::string();
}
std::uint64_t row_u64(const nlohmann::json& row, const char* key) {
  auto it = row.find(key);
  if (it == row.end() || !it->is_number_integer()) return 0;
  return it->is_number_unsigned() ? it->get<std::uint64_t>() : static_cast<std::uint64_t>(std::max<std::int64_t>(0, it->get<std::int64_t>()));
}

bool fits(const std::string& pattern, const std::string& name) {
  return !pattern.empty() && fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

// The layout row a file is: of the patterns it fits, the most specific (the
// longest: graph-upper-*.bin before graph-*.bin); nullptr when none fits.
const nlohmann::json* row_for(const std::vector<nlohmann::json>& rows, const std::string& name);

// Reads `width` bytes at `offset` of an open file (short reads give fewer).
std::string read_at(int fd, std::uint64_t offset, std::uint64_t width) {
  std::string bytes(width, '\0');
  ssize_t got = pread(fd, bytes.data(), width, static_cast<off_t>(offset));
  bytes.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  return bytes;
}

std::uint64_t little_endian(const std::string& bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = bytes.size(); i-- > 0;) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

// A header field as a person reads it: a number for widths up to 8 (with its
// hex when large), a quoted string for printable magic, else hex bytes.
std::string field_text(const std::string& bytes) {
  bool printable = !bytes.empty() && std::all_of(bytes.begin(), bytes.end(), [](char c) {
    return (c >= 0x20 && c < 0x7f) || c == 0;
  }) && bytes.front() != 0;
  if (printable && bytes.size() >= 4) {
    std::string text = bytes.substr(0, bytes.find('\0'));
    return "\"" + text + "\"";
  }
  if (bytes.size() <= 8) {
    std::uint64_t v = little_endian(bytes);
    return v >= 0x10000 ? fmt::format("{} (0x{:x})", format_thousands(v), v) : format_thousands(v);
  }
  std::string hex;
  for (std::size_t i = 0; i < bytes.size() && i < 32; ++i) hex += fmt::format("{:02x}", static_cast<unsigned char>(bytes[i]));
  return hex + (bytes.size() > 32 ? "..." : "");
}

void check_file(const std::string& dir, const nlohmann::json& row, StoreFile& f) {
  std::uint64_t header = row_u64(row, "header_size");
  if (f.size == 0) {
    f.problems.push_back(fmt::format("{} is 0 bytes{}", f.name,
                                     header ? fmt::format("; its header alone is {} bytes", format_thousands(header)) : ""));
    return;
  }
  if (f.size < header)
    f.problems.push_back(fmt::format("{} is {} bytes, shorter than its {}-byte header", f.name, format_thousands(f.size),
                                     format_thousands(header)));
  int fd = open((dir + "/" + f.name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    f.problems.push_back(fmt::format("{} cannot be opened for reading", f.name));
    return;
  }
  std::map<std::string, std::uint64_t> numbers;
  if (auto fields = row.find("fields"); fields != row.end() && fields->is_array())
    for (const auto& field : *fields) {
      std::string name = row_string(field, "name");
      std::uint64_t offset = row_u64(field, "offset"), width = row_u64(field, "width");
      if (name.empty() || width == 0) continue;
      if (offset + width > f.size) {
        f.fields.emplace_back(name, "(past the end of the file)");
        continue;
      }
      std::string bytes = read_at(fd, offset, width);
      if (width <= 8) numbers[name] = little_endian(bytes);
      f.fields.emplace_back(name, field_text(bytes));
    }
  close(fd);
  // A file of fixed-size slots after its header ends on a slot boundary.
  std::uint64_t slot = row_u64(row, "slot_size");
  if (std::string by = row_string(row, "slot_size_field"); !by.empty() && numbers.count(by)) slot = numbers[by];
  std::uint64_t base = row_u64(row, "slot_base");
  if (slot > 0 && base > 0 && f.size > base && (f.size - base) % slot != 0)
    f.problems.push_back(fmt::format("{} ends {} bytes into a {}-byte slot: its last slot is cut short", f.name,
                                     format_thousands((f.size - base) % slot), format_thousands(slot)));
}

const nlohmann::json* row_for(const std::vector<nlohmann::json>& rows, const std::string& name) {
  const nlohmann::json* best = nullptr;
  for (const auto& row : rows)
    if (fits(row_string(row, "pattern"), name) &&
        (!best || row_string(row, "pattern").size() > row_string(*best, "pattern").size()))
      best = &row;
  return best;
}

// A layout without its prose: two drivers may word a field differently.
nlohmann::json without_meanings(nlohmann::json j) {
  if (j.is_object()) {
    j.erase("meaning");
    for (auto& [key, value] : j.items()) value = without_meanings(value);
  } else if (j.is_array()) {
    for (auto& value : j) value = without_meanings(value);
  }
  return j;
}

// The same files, fields, offsets and widths: one engine's format.
bool same_format(const std::vector<nlohmann::json>& a, const std::vector<nlohmann::json>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (without_meanings(a[i]) != without_meanings(b[i])) return false;
  return true;
}

}  // namespace

Checked<Recognised> recognise_engine(const std::string& dir, const std::vector<EngineLayout>& engines) {
  auto files = files_in(dir);
  if (!files) return failure(files.error());
  if (files->empty()) return failure(fmt::format("{}: holds no files, so no engine can be recognised from them", dir));
  struct Fit {
    const EngineLayout* engine;
    std::set<std::string> patterns;
    std::vector<std::string> named;
  };
  std::vector<Fit> fits_found;
  std::string tried;
  for (const auto& engine : engines) {
    tried += (tried.empty() ? "" : ", ") + engine.target;
    Fit fit{&engine, {}, {}};
    for (const auto& [name, size] : *files)
      if (const nlohmann::json* row = row_for(engine.files, name)) {
        fit.patterns.insert(row_string(*row, "pattern"));
        fit.named.push_back(fmt::format("{} ({})", name, row_string(*row, "file")));
      }
    if (!fit.patterns.empty()) fits_found.push_back(std::move(fit));
  }
  if (fits_found.empty())
    return failure(fmt::format("{}: no engine's layout names any of its files (engines tried: {}); give the engine with --target",
                               dir, tried.empty() ? "none is built" : tried));
  std::stable_sort(fits_found.begin(), fits_found.end(),
                   [](const Fit& a, const Fit& b) { return a.patterns.size() > b.patterns.size(); });
  // Equal fits are one engine when their layouts are the same table (two
  // drivers of one engine, as hnswlib's C++ and Python drivers are): the
  // first is taken and the others named. Different layouts that fit equally
  // well are for the user to choose between.
  std::string tied, same;
  for (std::size_t i = 1; i < fits_found.size() && fits_found[i].patterns.size() == fits_found[0].patterns.size(); ++i) {
    if (same_format(fits_found[i].engine->files, fits_found[0].engine->files)) same += ", " + fits_found[i].engine->target;
    else tied += ", " + fits_found[i].engine->target;
  }
  if (!tied.empty())
    return failure(fmt::format("{}: its files fit the layouts of {}{}{} equally well; say which with --target", dir,
                               fits_found[0].engine->target, same, tied));
  std::string named;
  for (const auto& n : fits_found[0].named) named += (named.empty() ? "" : ", ") + n;
  std::string why = fmt::format("its files fit {}'s layout: {}", fits_found[0].engine->target, named);
  if (!same.empty()) why += fmt::format("; the same layout as {} (--target picks one)", same.substr(2));
  return Recognised{fits_found[0].engine->target, why};
}

Checked<StoreInspection> inspect_store(const std::string& dir, const EngineLayout& layout) {
  auto files = files_in(dir);
  if (!files) return failure(files.error());
  StoreInspection inspection;
  std::set<std::string> patterns_seen;
  for (const auto& [name, size] : *files) {
    StoreFile f;
    f.name = name;
    f.size = size;
    if (const nlohmann::json* row = row_for(layout.files, name)) {
      f.layout_file = row_string(*row, "file");
      patterns_seen.insert(row_string(*row, "pattern"));
      check_file(dir, *row, f);
    }
    inspection.files.push_back(std::move(f));
  }
  std::set<std::string> reported;
  for (const auto& row : layout.files) {
    std::string pattern = row_string(row, "pattern");
    if (pattern.empty() || patterns_seen.count(pattern) || !reported.insert(pattern).second) continue;
    inspection.problems.push_back(fmt::format("no file fits {} ({}'s {} file{})", pattern, layout.target, row_string(row, "file"),
                                              row_string(row, "meaning").empty() ? "" : ": " + row_string(row, "meaning")));
  }
  return inspection;
}

Cell store_read_cell(const std::string& target, const std::string& build, const std::string& what,
                     const std::string& from) {
  Cell cell;
  cell.id = fmt::format("triage/{}/{}[read={}]", target, build, what);
  cell.scenario = "triage";
  cell.target = target;
  cell.build = build;
  cell.seed = 1;
  cell.limits.wall = std::chrono::seconds(30);
  cell.expect.outcome = {OutcomeKind::ok};
  Step import;
  import.index = 0;
  import.op = "import";
  import.args = {{"from", from}};
  Step read;
  read.index = 1;
  read.op = "read";
  read.args = {{"what", what}};
  cell.steps = {import, read};
  return cell;
}

Checked<std::vector<StoreRead>> run_store_reads(const std::string& dir, const EngineLayout& engine,
                                                const StoreTriageOptions& options, const RunContext& context) {
  std::vector<std::string> ways = options.reads;
  if (ways.empty()) {
    DriverListing ops = list_from_driver(engine.driver, "ops", "op");
    if (!ops.error.empty()) return failure(fmt::format("{}: cannot list its ops: {}", engine.driver, ops.error));
    for (const auto& row : ops.rows)
      if (row.value("op", "") == "read")
        if (auto values = row.find("values"); values != row.end() && values->contains("what"))
          for (const auto& w : (*values)["what"])
            if (w.is_string()) ways.push_back(w.get<std::string>());
    if (ways.empty()) return failure(fmt::format("the {} driver lists no ways of reading (op read, key what)", engine.target));
  }
  std::error_code ec;
  fs::path root = fs::absolute(options.work_root, ec);
  std::vector<RunSpec> specs;
  std::vector<StoreRead> reads;
  for (const auto& what : ways) {
    // Each read's driver copies the directory into its own store (import
    // opens it read-only, keeps holes, and refuses a store inside it): no
    // engine ever opens the directory given, and no copy is made twice.
    fs::path work = root / ("read-" + what);
    fs::remove_all(work, ec);
    Cell cell = store_read_cell(engine.target, options.build, what, fs::absolute(dir, ec).string());
    auto spec = cell_run_spec(cell, {engine.driver}, (work / "cell").string());
    if (!spec) return failure(spec.error());
    specs.push_back(std::move(*spec));
    reads.push_back(StoreRead{what, {}});
  }
  auto outcomes = run_parallel(specs, options.jobs, context);
  for (std::size_t i = 0; i < reads.size(); ++i) reads[i].outcome = std::move(outcomes[i]);
  return reads;
}

std::vector<EngineLayout> built_engine_layouts(const std::string& build_root, const std::string& build,
                                               const std::string& only, std::vector<std::string>& errors) {
  std::vector<EngineLayout> engines;
  TargetSupport support(build_root);
  for (const auto& target : support.built_targets({build})) {
    if (!only.empty() && target != only) continue;
    EngineLayout engine{target, driver_path(build_root, build, target), {}};
    DriverListing layout = list_from_driver(engine.driver, "layout", "file");
    if (!layout.error.empty()) {
      errors.push_back(fmt::format("{}: {}", target, layout.error));
      continue;
    }
    engine.files = std::move(layout.rows);
    engines.push_back(std::move(engine));
  }
  return engines;
}

}  // namespace crashgate
