#include "crashgate/driver_listing.h"

#include <stdio.h>
#include <sys/wait.h>

#include <fmt/format.h>

#include "crashgate/runner.h"  // shell_quote

namespace crashgate {

DriverListing list_from_driver(const std::string& driver, const std::string& what, const std::string& key) {
  DriverListing out;
  std::string command = shell_quote(driver) + " --list " + what + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) {
    out.error = fmt::format("cannot run {}", command);
    return out;
  }
  std::string text;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) text.append(buffer, n);
  int status = ::pclose(pipe);
  if (status != 0) {
    out.not_listed = WIFEXITED(status) && WEXITSTATUS(status) == 2;
    out.error = fmt::format("{} --list {} failed (wait status {}; run it by hand to see why)", driver, what, status);
    return out;
  }
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    auto row = nlohmann::json::parse(line, nullptr, false);
    if (row.is_discarded() || !row.is_object() || !row.contains(key)) {
      out.error = fmt::format("{} --list {}: not a JSON object with a {}: {}", driver, what, key, line.substr(0, 200));
      return out;
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

}  // namespace crashgate
