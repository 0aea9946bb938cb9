// What `crashgate exec` adds to a command that does nothing (issue 18, "Cheaper
// cells"): bare `/bin/true` and `crashgate exec -- /bin/true` run alternately,
// N pairs, so both see the same machine load; medians, not means, because
// other jobs on a shared machine make the slow tail. Also crashgate's own
// start-up alone (`crashgate kinds`, the cheapest command) and a driver's
// (`crashgate-driver-vstore --list ops`), the other half of every cell.
//
//   build/release/bin/exec_bench [--pairs N] [--crashgate PATH] [--driver PATH] [--command PATH]
//
// Every run is posix_spawn + waitpid with stdout and stderr on /dev/null,
// timed from before the spawn to after the wait.
#include <fcntl.h>
#include <spawn.h>
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

// Milliseconds from spawn to reaped; a run that fails to spawn or does not exit 0 ends the bench.
double timed_run(const std::vector<std::string>& argv) {
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
  while (waitpid(pid, &status, 0) < 0) {
  }
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string line;
    for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
    std::fprintf(stderr, "exec_bench: '%s' did not exit 0 (status 0x%x)\n", line.c_str(), status);
    std::exit(1);
  }
  return ms;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool executable(const std::string& path) { return !path.empty() && access(path.c_str(), X_OK) == 0; }

int usage() {
  std::fprintf(stderr,
               "usage: exec_bench [--pairs N] [--crashgate PATH] [--driver PATH] [--command PATH]\n"
               "  --pairs N         bare and crashgate runs of the command, alternating (default 20)\n"
               "  --crashgate PATH  default: the crashgate of this build tree\n"
               "  --driver PATH     a driver whose start-up to time, '' for none (default: vstore's of this tree)\n"
               "  --command PATH    the command to run bare and under crashgate exec (default /bin/true)\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int pairs = 20;
  std::string crashgate = CRASHGATE_BIN;
  std::string driver = CRASHGATE_VSTORE_DRIVER;
  std::string command = "/bin/true";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) return usage();
    if (arg == "--pairs") pairs = std::atoi(argv[++i]);
    else if (arg == "--crashgate") crashgate = argv[++i];
    else if (arg == "--driver") driver = argv[++i];
    else if (arg == "--command") command = argv[++i];
    else return usage();
  }
  if (pairs < 1) return usage();
  if (!executable(crashgate)) {
    std::fprintf(stderr, "exec_bench: no crashgate at '%s' (build it, or give --crashgate)\n", crashgate.c_str());
    return 3;
  }

  // One of each first, untimed: page cache and dynamic loader caches warm for both sides.
  timed_run({command});
  timed_run({crashgate, "exec", "--", command});

  std::vector<double> bare, under, diff;
  for (int i = 0; i < pairs; ++i) {
    // Alternate which goes first, so neither side always follows the other.
    double b = 0, c = 0;
    if (i % 2 == 0) {
      b = timed_run({command});
      c = timed_run({crashgate, "exec", "--", command});
    } else {
      c = timed_run({crashgate, "exec", "--", command});
      b = timed_run({command});
    }
    bare.push_back(b);
    under.push_back(c);
    diff.push_back(c - b);
  }
  std::vector<double> startup, driver_startup;
  for (int i = 0; i < pairs; ++i) {
    startup.push_back(timed_run({crashgate, "kinds"}));
    if (executable(driver)) driver_startup.push_back(timed_run({driver, "--list", "ops"}));
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
  double mb = median(bare), mc = median(under), md = median(diff);
  std::printf("exec_bench: %d pairs, medians in ms (load average %s)\n", pairs, load);
  std::printf("  %-40s %8.2f\n", (command + " (bare)").c_str(), mb);
  std::printf("  %-40s %8.2f\n", ("crashgate exec -- " + command).c_str(), mc);
  std::printf("  %-40s %8.2f\n", "difference (median of pairs)", md);
  std::printf("  %-40s %8.2f\n", "ratio (crashgate / bare)", mb > 0 ? mc / mb : 0.0);
  std::printf("  %-40s %8.2f\n", "crashgate kinds (crashgate's start-up)", median(startup));
  if (!driver_startup.empty())
    std::printf("  %-40s %8.2f\n", "driver --list ops (driver's start-up)", median(driver_startup));
  return 0;
}
