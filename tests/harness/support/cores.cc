#include "harness/support/cores.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "harness/support/crashers.h"

namespace crashgate::testing {

std::string cores_unavailable() {
  std::ifstream in("/proc/sys/kernel/core_pattern");
  std::string pattern;
  std::getline(in, pattern);
  if (!pattern.empty() && pattern.front() == '|') return "core_pattern pipes cores to a handler: " + pattern;
  if (!pattern.empty() && pattern.front() == '/') return "core_pattern writes cores to a fixed place: " + pattern;
  return "";
}

std::optional<std::string> dump_core(const std::string& name, const std::vector<std::string>& args, const std::string& dir) {
  return dump_core_of(crasher_path(name), args, dir);
}

std::optional<std::string> dump_core_of(const std::string& path, const std::vector<std::string>& args,
                                        const std::string& dir) {
  std::string program = path;
  std::vector<char*> argv{program.data()};
  std::vector<std::string> copies = args;
  for (auto& a : copies) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
    if (chdir(dir.c_str()) != 0 || setrlimit(RLIMIT_CORE, &unlimited) != 0) _exit(120);
    execv(program.c_str(), argv.data());
    _exit(121);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status) || !WCOREDUMP(status)) return std::nullopt;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().filename().string().rfind("core", 0) == 0) return entry.path().string();
  return std::nullopt;
}

}  // namespace crashgate::testing
