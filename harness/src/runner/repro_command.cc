#include <fmt/format.h>

#include "crashgate/runner.h"

namespace crashgate {
namespace {

// "2MiB" rather than 2097152: what a person would type.
std::string compact_size(std::uint64_t bytes) {
  if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0) return fmt::format("{}GiB", bytes >> 30);
  if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0) return fmt::format("{}MiB", bytes >> 20);
  if (bytes >= (1ull << 10) && bytes % (1ull << 10) == 0) return fmt::format("{}KiB", bytes >> 10);
  return std::to_string(bytes);
}

}  // namespace

std::string shell_quote(std::string_view word) {
  bool plain = !word.empty();
  for (char c : word)
    if (!(isalnum(static_cast<unsigned char>(c)) || std::string_view("@%+=:,./_-").find(c) != std::string_view::npos))
      plain = false;
  if (plain) return std::string(word);
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

// Only what differs from the defaults is spelled out, so the command stays readable.
std::string repro_command(const RunSpec& spec) {
  std::string out;
  if (!spec.work_dir.empty()) out += "cd " + shell_quote(spec.work_dir) + " && ";
  for (const auto& [key, value] : spec.env) out += shell_quote(key + "=" + value) + " ";
  out += "crashgate exec";
  const Limits& l = spec.limits;
  const Limits defaults;
  if (l.wall != defaults.wall) out += " --timeout " + format_duration(l.wall);
  if (l.stack) out += " --stack " + compact_size(*l.stack);
  if (l.worker_stack) out += " --worker-stack " + compact_size(*l.worker_stack);
  if (l.address_space) out += " --as " + compact_size(*l.address_space);
  if (l.open_files) out += fmt::format(" --nofile {}", *l.open_files);
  if (l.cpu) out += " --cpu " + format_duration(*l.cpu);
  if (l.core != defaults.core) out += " --core " + compact_size(l.core);
  out += " --";
  for (const auto& arg : spec.argv) out += " " + shell_quote(arg);
  return out;
}

}  // namespace crashgate
