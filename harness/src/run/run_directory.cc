#include "crashgate/utc_time.h"
#include "crashgate/run_directory.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace crashgate {
namespace {

namespace fs = std::filesystem;


}  // namespace

Checked<RunDirectory> create_run_directory(const std::string& reports_dir) {
  std::error_code ec;
  fs::create_directories(reports_dir, ec);
  if (ec) return failure(fmt::format("cannot create {}: {}", reports_dir, ec.message()));
  std::string stamp = utc_now("%Y%m%dT%H%M%SZ");
  // mkdir is the lock: two runs started in the same second get different names.
  for (int n = 1; n < 1000; ++n) {
    std::string id = n == 1 ? stamp : fmt::format("{}-{}", stamp, n);
    std::string path = reports_dir + "/" + id;
    if (mkdir(path.c_str(), 0755) == 0) return RunDirectory{id, path};
    if (errno != EEXIST) return failure(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  }
  return failure(fmt::format("cannot create a run directory in {}: every name for {} is taken", reports_dir, stamp));
}

CheckedDone write_file_atomically(const std::string& path, const std::string& text) {
  std::string temporary = fmt::format("{}.{}.tmp", path, getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::string why = fmt::format("cannot write {}: {}", temporary, std::strerror(errno));
      std::remove(temporary.c_str());
      return failure(why);
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::string why = fmt::format("cannot rename {} to {}: {}", temporary, path, std::strerror(errno));
    std::remove(temporary.c_str());
    return failure(why);
  }
  return done();
}

CheckedDone write_results(const RunResults& results, const std::string& run_dir) {
  return write_file_atomically(run_dir + "/" + kResultsFile,
                               to_json(results).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

CheckedDone point_latest(const std::string& reports_dir, const std::string& run_id) {
  std::string link = reports_dir + "/" + kLatestRun;
  std::string temporary = fmt::format("{}.{}.tmp", link, getpid());
  unlink(temporary.c_str());
  // Relative, so the reports directory can be moved or archived whole.
  if (symlink(run_id.c_str(), temporary.c_str()) != 0 || std::rename(temporary.c_str(), link.c_str()) != 0) {
    std::string why = fmt::format("cannot point {} at {}: {}", link, run_id, std::strerror(errno));
    unlink(temporary.c_str());
    return failure(why);
  }
  return done();
}

Checked<RunResults> load_results(const std::string& run_dir_or_file) {
  std::error_code ec;
  std::string path = fs::is_directory(run_dir_or_file, ec) ? run_dir_or_file + "/" + kResultsFile : run_dir_or_file;
  std::ifstream in(path);
  if (!in) return failure(fmt::format("{}: cannot read it (has `crashgate run` written it yet?)", path));
  std::stringstream text;
  text << in.rdbuf();
  auto json = nlohmann::json::parse(text.str(), nullptr, false);
  if (json.is_discarded()) return failure(fmt::format("{}: not valid JSON", path));
  Checked<RunResults> results = run_results_from_json(json);
  if (!results) return failure(fmt::format("{}: {}", path, results.error()));
  return results;
}

std::string display_path(const std::string& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  fs::path cwd = fs::current_path(ec);
  if (ec) return path;
  fs::path relative = absolute.lexically_normal().lexically_relative(cwd);
  if (relative.empty() || *relative.begin() == "..") return path;
  return relative.string();
}

}  // namespace crashgate
