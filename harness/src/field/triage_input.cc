// The kinds of input `crashgate triage` takes, and telling them apart by content.
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "crashgate/core_file.h"
#include "crashgate/field_triage.h"

namespace crashgate {
namespace {

constexpr std::array kInputs = {
#define CRASHGATE_TRIAGE_INPUT_INFO(id, name, meaning) TriageInputInfo{TriageInput::id, name, meaning},
    CRASHGATE_TRIAGE_INPUTS(CRASHGATE_TRIAGE_INPUT_INFO)
#undef CRASHGATE_TRIAGE_INPUT_INFO
};

std::string input_names() {
  std::string names;
  for (const auto& info : kInputs) names += (names.empty() ? "" : ", ") + std::string(info.name);
  return names;
}

}  // namespace

std::span<const TriageInputInfo> triage_inputs() { return kInputs; }

std::string_view to_string(TriageInput kind) { return kInputs[static_cast<std::size_t>(kind)].name; }

Checked<TriageInput> parse_triage_input(std::string_view name) {
  for (const auto& info : kInputs)
    if (info.name == name) return info.kind;
  return failure(fmt::format("'{}' is not a kind of input (the kinds: {})", name, input_names()));
}

Checked<TriageInput> detect_triage_input(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return failure(fmt::format("{}: cannot be read: {}", path, std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) return TriageInput::store;
  if (!S_ISREG(st.st_mode)) return failure(fmt::format("{}: not a regular file", path));
  if (st.st_size == 0) return failure(fmt::format("{}: empty (0 bytes): no core and no log in it", path));
  std::ifstream in(path, std::ios::binary);
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  if (!in && !in.eof()) return failure(fmt::format("{}: cannot be read", path));
  if (looks_like_core(head)) return TriageInput::core;
  if (head.size() >= 4 && head.compare(0, 4, "\x7f" "ELF") == 0)
    return failure(fmt::format("{}: an ELF file but not a core (a program or library? give it as --exe)", path));
  // systemd-coredump keeps its cores compressed (/var/lib/systemd/coredump/*.zst).
  struct Compression {
    std::string_view magic, name, tool;
  };
  constexpr Compression kCompressions[] = {{"\x28\xb5\x2f\xfd", "zstd", "zstd -d"},
                                           {"\x04\x22\x4d\x18", "lz4", "lz4 -d"},
                                           {"\xfd" "7zXZ", "xz", "xz -d"},
                                           {"\x1f\x8b", "gzip", "gunzip"}};
  for (const auto& c : kCompressions)
    if (std::string_view(head).substr(0, c.magic.size()) == c.magic)
      return failure(fmt::format("{}: compressed with {}; decompress it first ({}, or `coredumpctl dump PID -o core` for a "
                                 "systemd-coredump core)",
                                 path, c.name, c.tool));
  // A log is text: a NUL byte in its first page means some other binary file.
  if (head.find('\0') != std::string::npos)
    return failure(fmt::format("{}: binary data, neither an ELF core nor a text log", path));
  return TriageInput::log;
}

}  // namespace crashgate
