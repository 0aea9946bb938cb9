// triage_input: what `crashgate triage` reads from the field, held to the
// standard it enforces. The first input byte picks a crash log format to force
// (0: detect it from the content); the rest is the log. Failing to find a crash
// is fine; a crash, a hang, an accepted log with an outcome that does not hold
// together (no format name, a harness-error kind, a crashing thread out of
// range) is not. An input whose log starts with ELF's magic goes to the
// core-file reader instead (through a memfd), which must refuse what is not a
// whole core's notes with an error naming the file, never crash.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "crashgate/core_file.h"
#include "crashgate/crash_log.h"
#include "crashgate/triage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto formats = crashgate::crash_log_formats();
  std::size_t pick = data[0] % (formats.size() + 1);
  std::string_view forced = pick == 0 ? std::string_view{} : formats[pick - 1].name;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (text.substr(0, 4) == "\x7f" "ELF") {
    int fd = memfd_create("fuzz-core", MFD_CLOEXEC);
    if (fd < 0 || write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) std::abort();
    std::string path = "/proc/self/fd/" + std::to_string(fd);
    auto core = crashgate::read_core(path);
    close(fd);
    if (!core.ok() && core.error().rfind(path, 0) != 0) std::abort();  // a failure names its file
    if (core.ok() && core->threads.empty()) std::abort();               // a core read has its threads
    return 0;
  }
  auto parsed = crashgate::parse_crash_log(text, "fuzz.log", forced);
  if (!parsed.ok()) {
    if (parsed.error().rfind("fuzz.log", 0) != 0) std::abort();  // a failure names its source
    return 0;
  }
  crashgate::Outcome outcome = parsed->outcome;
  if (parsed->format.empty() || (!forced.empty() && parsed->format != forced)) std::abort();
  if (outcome.kind == crashgate::OutcomeKind::harness_error) std::abort();
  if (outcome.crashing_thread < -1 || outcome.crashing_thread >= static_cast<int>(outcome.threads.size())) std::abort();
  crashgate::triage(outcome, nullptr);
  return 0;
}
