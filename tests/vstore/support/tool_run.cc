#include "vstore/support/tool_run.h"

#include <sys/wait.h>

#include <cstdio>

#include <fmt/format.h>

namespace vstore::testing {

ToolRun run_tool(const std::string& args, const std::string& env) {
  ToolRun r;
  std::string cmd = fmt::format("{}{}{} {} 2>&1", env, env.empty() ? "" : " ", VSTORE_TOOL_PATH, args);
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    r.output = "popen failed: " + cmd;
    return r;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = ::pclose(p);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

}  // namespace vstore::testing
