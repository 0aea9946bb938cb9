// second-process: the driver run again (--second-process) on the same index
// file. One action:
//
//   killed-during-save  the child loads the index, adds `args.vectors`
//                       records (default 200; ids after the model's), and
//                       calls saveIndex over the store's file; it is killed
//                       (SIGKILL) once saveIndex has written `args.fraction`
//                       (default 0.5, 0 to 1) of the bytes it writes, or
//                       `args.at` bytes.
//
// The kill is deterministic: the child computes the size saveIndex will
// write, sets RLIMIT_FSIZE to the cut, and turns the SIGXFSZ of the write
// that crosses it into SIGKILL; so the file ends at exactly that byte, as if
// the process had been killed there. saveIndex opens the file with
// std::ofstream, which truncates it first: the save is in place, with no
// temporary file and rename, so a process killed during it leaves neither the
// old index nor the new. The model keeps what the store held before (what a
// crash-safe store would): the next load and verify say what survived. When
// the cut is at or past the end (fraction 1) the save completes and the
// child's records join the model.
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "session.h"

extern char** environ;

namespace crashgate::hnswlib_driver {

namespace {

constexpr const char* kKilledDuringSave = "killed-during-save";

std::string flag_value(int argc, char** argv, const char* flag) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], flag) == 0) return argv[i + 1];
  return "";
}

void die_by_sigkill(int) { ::kill(::getpid(), SIGKILL); }

// The child's verdict line: "error CODE MESSAGE".
int child_error(const std::string& report, const StepResult& r) {
  std::ofstream(report, std::ios::app) << "error " << r.code << " " << r.message << "\n";
  fmt::print(stderr, "second process: {}: {}\n", r.code, r.message);
  return 1;
}

}  // namespace

StepResult Session::second_process(const Args& step) {
  records_.unsure();  // another process on the same files
  std::string action = step.string("action");
  if (action != kKilledDuringSave)
    return StepResult::error("invalid-argument", fmt::format("second-process: action must be {}, not '{}'", kKilledDuringSave, action));
  nlohmann::json args = step.table("args");
  static const std::set<std::string> keys = {"fraction", "at", "vectors"};
  for (const auto& [key, value] : args.items())
    if (!keys.count(key))
      return StepResult::error("invalid-argument", fmt::format("second-process {}: unknown args key '{}' (fraction, at, vectors)", action, key));
  if (args.contains("fraction") && args.contains("at"))
    return StepResult::error("invalid-argument", fmt::format("second-process {}: args.fraction or args.at, not both", action));
  // Numbers come as TOML numbers or, after {param} substitution, as strings.
  auto number = [&](const char* key, bool whole, double& out) {
    const nlohmann::json& v = args[key];
    if (v.is_number()) {
      out = v.get<double>();
      return !whole || v.is_number_unsigned();
    }
    if (!v.is_string()) return false;
    const std::string& text = v.get_ref<const std::string&>();
    char* end = nullptr;
    out = std::strtod(text.c_str(), &end);
    return !text.empty() && end && *end == '\0' && (!whole || (out >= 0 && out == std::floor(out) && text.find_first_not_of("0123456789") == std::string::npos));
  };
  double fraction = 0.5, at = 0, vectors_d = 200;
  if (args.contains("fraction") && (!number("fraction", false, fraction) || !(fraction >= 0 && fraction <= 1)))
    return StepResult::error("invalid-argument", fmt::format("second-process {}: args.fraction must be a number from 0 to 1", action));
  for (auto [key, out] : {std::pair<const char*, double*>{"at", &at}, {"vectors", &vectors_d}})
    if (args.contains(key) && !number(key, true, *out))
      return StepResult::error("invalid-argument", fmt::format("second-process {}: args.{} must be a whole number", action, key));
  auto vectors = static_cast<std::uint64_t>(vectors_d);
  if (!created_) return StepResult::error("not-found", "there is no store: no create step made one");
  if (StepResult r = close_index(); !r.is_ok) return r;  // the child becomes the writer

  std::uint64_t first = allocate_ids(vectors);
  std::string report = fmt::format("{}/second-{}.report", work_dir_, first);
  std::vector<std::string> argv_s = {"crashgate-driver-hnswlib", "--second-process", action, "--index", index_path(),
                                     "--dim", std::to_string(records_.dim()), "--metric", metric_names()[static_cast<int>(metric_)],
                                     "--seed", std::to_string(seed_), "--first-id", std::to_string(first),
                                     "--vectors", std::to_string(vectors), "--report", report};
  if (args.contains("at")) argv_s.insert(argv_s.end(), {"--at", fmt::format("{}", static_cast<std::uint64_t>(at))});
  else argv_s.insert(argv_s.end(), {"--fraction", fmt::format("{}", fraction)});
  std::vector<char*> argv;
  for (std::string& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclose(&actions, 3);  // the event pipe is the driver's alone
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return StepResult::error("io", fmt::format("second-process: spawn failed: {}", std::strerror(rc)));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }

  std::uint64_t total = 0, limit = 0;
  bool saved = false;
  std::string error_code, error_message;
  std::ifstream in(report);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("planned ", 0) == 0) std::sscanf(line.c_str(), "planned %lu %lu", &total, &limit);
    if (line == "saved") saved = true;
    if (line.rfind("error ", 0) == 0) {
      std::size_t space = line.find(' ', 6);
      error_code = line.substr(6, space == std::string::npos ? std::string::npos : space - 6);
      error_message = space == std::string::npos ? "" : line.substr(space + 1);
    }
  }
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
    context_.log(fmt::format("{}: the second process was killed after saveIndex wrote {} of its {} bytes over {}; "
                             "its {} records were never durable",
                             action, limit, total, kIndexFile, vectors));
    return StepResult::ok();
  }
  if (WIFSIGNALED(status)) {
    StepResult r = StepResult::error("second-process", fmt::format("the second process ({}) died of signal {} ({})", action,
                                                                    WTERMSIG(status), strsignal(WTERMSIG(status))));
    r.descendant_signal = WTERMSIG(status);
    return r;
  }
  if (WEXITSTATUS(status) != 0) {
    if (!error_code.empty()) return StepResult::error(error_code, fmt::format("second process ({}): {}", action, error_message));
    return StepResult::error("second-process", fmt::format("the second process ({}) exited {}; see stderr", action, WEXITSTATUS(status)));
  }
  if (!saved) return StepResult::error("second-process", fmt::format("the second process ({}) exited 0 without saving", action));
  std::vector<std::uint64_t> ids(vectors);
  for (std::uint64_t i = 0; i < vectors; ++i) ids[i] = first + i;
  records_.added(ids, seed_);
  context_.log(fmt::format("{}: the cut ({} bytes) is not before the end ({}): the save completed, and its {} records are the model's",
                           action, limit, total, vectors));
  return StepResult::ok();
}

int run_second_process(int argc, char** argv) {
  std::string action = flag_value(argc, argv, "--second-process");
  std::string path = flag_value(argc, argv, "--index"), report = flag_value(argc, argv, "--report");
  if (action != kKilledDuringSave || path.empty() || report.empty()) {
    fmt::print(stderr, "second process: usage: --second-process {} --index PATH --dim N --metric M --seed S "
                       "--first-id ID --vectors N (--fraction F | --at BYTES) --report PATH\n", kKilledDuringSave);
    return 2;
  }
  std::optional<Metric> metric = metric_from(flag_value(argc, argv, "--metric"));
  if (!metric) return 2;
  auto dim = static_cast<std::uint32_t>(std::stoul(flag_value(argc, argv, "--dim")));
  std::uint64_t seed = std::stoull(flag_value(argc, argv, "--seed"));
  std::uint64_t first = std::stoull(flag_value(argc, argv, "--first-id"));
  std::uint64_t vectors = std::stoull(flag_value(argc, argv, "--vectors"));

  Engine engine(dim, *metric);
  if (StepResult r = engine.load(path); !r.is_ok) return child_error(report, r);
  if (engine.element_count() + vectors > engine.max_elements())
    if (StepResult r = engine.resize(engine.element_count() + vectors); !r.is_ok) return child_error(report, r);
  for (std::uint64_t id = first; id < first + vectors; ++id)
    if (StepResult r = engine.add(kit::record_for(id, dim, seed).vector, id); !r.is_ok) return child_error(report, r);

  std::uint64_t total = engine.save_size();
  std::string at = flag_value(argc, argv, "--at");
  std::uint64_t limit = !at.empty() ? std::stoull(at)
                                    : static_cast<std::uint64_t>(std::floor(std::stod(flag_value(argc, argv, "--fraction")) * double(total)));
  {
    std::ofstream out(report, std::ios::app);
    out << "planned " << total << " " << limit << "\n";
  }
  if (limit < total) {
    struct sigaction sa {};
    sa.sa_handler = die_by_sigkill;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGXFSZ, &sa, nullptr);
    struct rlimit rl {limit, limit};
    if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) return child_error(report, StepResult::error("io", "setrlimit(RLIMIT_FSIZE)"));
  }
  StepResult r = engine.save(path);
  if (limit < total) {
    // saveIndex returned: the write past the cut did not kill (hnswlib reports nothing itself).
    fmt::print(stderr, "second process: saveIndex returned past a cut at {} of {} bytes\n", limit, total);
    return 3;
  }
  if (!r.is_ok) return child_error(report, r);
  std::ofstream(report, std::ios::app) << "saved\n";
  return 0;
}

}  // namespace crashgate::hnswlib_driver
