// What `crashgate exec` adds to a command that does nothing (issue 18, "Cheaper
// cells"): bare `/bin/true` and `crashgate exec -- /bin/true` run alternately,
// N pairs, so both see the same machine load; medians, not means, because
// other jobs on a shared machine make the slow tail. Also crashgate's own
// start-up alone (`crashgate kinds`, the cheapest command) and a driver's
// (`crashgate-driver-vstore --list ops`), the other half of every cell.
//
//   build/release/bin/exec_bench [--pairs N] [--crashgate PATH] [--before PATH] [--driver PATH] [--command PATH]
//
// --before OTHER_CRASHGATE (e.g. a copy of bin/crashgate saved before a change)
// times that one in the same rounds, so a change is measured side by side
// under the same load rather than in two runs minutes apart.
//
// Every run is posix_spawn + wait4 with stdout and stderr on /dev/null, timed
// from before the spawn to after the wait (wall). CPU time (user + system, the
// run's reaped descendants included, from wait4) is printed beside it: on a
// machine other jobs load, wall time includes waiting for a CPU, CPU time does not.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

struct Timing {
  double wall_ms = 0;
  double cpu_ms = 0;
};

// From spawn to reaped; a run that fails to spawn or does not exit 0 ends the bench.
Timing timed_run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
  auto started = Clock::now();
  pid_t pid = 0;
  int error = posix_spawn(&pid, args[0], &quiet, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&quiet);
  if (error != 0) {
    std::fprintf(stderr, "exec_bench: cannot run %s: %s\n", args[0], std::strerror(error));
    std::exit(3);
  }
  int status = 0;
  struct rusage usage {};
  while (wait4(pid, &status, 0, &usage) < 0) {
  }
  Timing t;
  t.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  auto ms = [](const timeval& tv) { return tv.tv_sec * 1e3 + tv.tv_usec / 1e3; };
  t.cpu_ms = ms(usage.ru_utime) + ms(usage.ru_stime);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string line;
    for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
    std::fprintf(stderr, "exec_bench: '%s' did not exit 0 (status 0x%x)\n", line.c_str(), status);
    std::exit(1);
  }
  return t;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool executable(const std::string& path) { return !path.empty() && access(path.c_str(), X_OK) == 0; }

int usage() {
  std::fprintf(stderr,
               "usage: exec_bench [--pairs N] [--crashgate PATH] [--before PATH] [--driver PATH] [--command PATH]\n"
               "  --pairs N         rounds of bare and crashgate runs of the command, alternating (default 20)\n"
               "  --crashgate PATH  default: the crashgate of this build tree\n"
               "  --before PATH     another crashgate (an earlier build) to time in the same rounds\n"
               "  --driver PATH     a driver whose start-up to time, '' for none (default: vstore's of this tree)\n"
               "  --command PATH    the command to run bare and under crashgate exec (default /bin/true)\n");
  return 2;
}

// One thing timed: its runs, and each round's difference to the bare command's run.
struct Series {
  std::string label;
  std::vector<std::string> argv;
  std::vector<double> wall, cpu, diff;
};

void print_row(const std::string& label, const std::vector<double>& wall, const std::vector<double>& cpu) {
  std::printf("  %-44s %8.2f %8.2f\n", label.c_str(), median(wall), median(cpu));
}

}  // namespace

int main(int argc, char** argv) {
  int pairs = 20;
  std::string crashgate = CRASHGATE_BIN;
  std::string before;
  std::string driver = CRASHGATE_VSTORE_DRIVER;
  std::string command = "/bin/true";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return usage();
    if (arg == "--pairs") pairs = std::atoi(argv[++i]);
    else if (arg == "--crashgate") crashgate = argv[++i];
    else if (arg == "--before") before = argv[++i];
    else if (arg == "--driver") driver = argv[++i];
    else if (arg == "--command") command = argv[++i];
    else return usage();
  }
  if (pairs < 1) return usage();
  // --before is optional; the crashgate to time is not.
  for (const std::string* path : {&crashgate, &before}) {
    if (path == &before && before.empty()) continue;
    if (!executable(*path)) {
      std::fprintf(stderr, "exec_bench: no crashgate at '%s' (build it, or give --crashgate)\n", path->c_str());
      return 3;
    }
  }

  std::vector<Series> series;
  series.push_back({command + " (bare)", {command}, {}, {}, {}});
  if (!before.empty()) series.push_back({"before: crashgate exec -- " + command, {before, "exec", "--", command}, {}, {}, {}});
  series.push_back({"crashgate exec -- " + command, {crashgate, "exec", "--", command}, {}, {}, {}});
  std::vector<Series> startups;
  if (!before.empty()) startups.push_back({"before: crashgate kinds", {before, "kinds"}, {}, {}, {}});
  startups.push_back({"crashgate kinds (crashgate's start-up)", {crashgate, "kinds"}, {}, {}, {}});
  if (executable(driver)) startups.push_back({"driver --list ops (a driver's start-up)", {driver, "--list", "ops"}, {}, {}, {}});

  // One of each first, untimed: page cache and dynamic loader caches warm for every side.
  for (const auto& s : series) timed_run(s.argv);

  for (int round = 0; round < pairs; ++round) {
    // Rotate which goes first, so no side always follows another.
    std::vector<Timing> t(series.size());
    for (std::size_t k = 0; k < series.size(); ++k) {
      std::size_t which = (k + static_cast<std::size_t>(round)) % series.size();
      t[which] = timed_run(series[which].argv);
    }
    for (std::size_t k = 0; k < series.size(); ++k) {
      series[k].wall.push_back(t[k].wall_ms);
      series[k].cpu.push_back(t[k].cpu_ms);
      series[k].diff.push_back(t[k].wall_ms - t[0].wall_ms);
    }
  }
  for (int round = 0; round < pairs; ++round)
    for (auto& s : startups) {
      Timing t = timed_run(s.argv);
      s.wall.push_back(t.wall_ms);
      s.cpu.push_back(t.cpu_ms);
    }

  char load[64] = "?";
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (!std::fgets(load, sizeof load, f)) std::strcpy(load, "?");
    std::fclose(f);
    // The three load averages; the running/total and last pid fields say nothing here.
    char* end = load;
    for (int spaces = 0; *end && *end != '\n'; ++end)
      if (*end == ' ' && ++spaces == 3) break;
    *end = 0;
  }
  std::printf("exec_bench: %d pairs, medians in ms (load average %s)\n", pairs, load);
  std::printf("  %-44s %8s %8s\n", "", "wall", "cpu");
  for (const auto& s : series) print_row(s.label, s.wall, s.cpu);
  double bare = median(series[0].wall);
  for (std::size_t k = 1; k < series.size(); ++k) {
    std::string who = series[k].argv[0] == before ? "before: " : "";
    std::printf("  %-44s %8.2f\n", (who + "difference (median of pairs)").c_str(), median(series[k].diff));
    std::printf("  %-44s %8.2f\n", (who + "ratio (crashgate / bare)").c_str(), bare > 0 ? median(series[k].wall) / bare : 0.0);
  }
  for (const auto& s : startups) print_row(s.label, s.wall, s.cpu);
  return 0;
}
