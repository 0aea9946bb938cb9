#include "cli/record_command.h"

#include <iostream>
#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <memory>

#include <fmt/format.h>

#include "cli/interrupt.h"
#include "crashgate/cli.h"
#include "crashgate/crash_check.h"
#include "crashgate/crash_states.h"
#include "crashgate/fs_recording.h"
#include "crashgate/limits.h"
#include "crashgate/runner.h"
#include "crashgate/utc_time.h"
#include "observe/stack_unwind.h"
#include "record/fs_syscalls.h"

namespace crashgate {
namespace {

struct RecordCliOptions {
  std::string dir;
  std::string out;
  std::string wall = "10m";
  bool events = false;
  bool no_stacks = false;
  std::vector<std::string> command;
};

std::string calls_footer() {
  std::string names;
  for (const auto& sc : record::fs_syscalls()) names += (names.empty() ? "" : ", ") + std::string(sc.name);
  return "The command stops only on these calls (a seccomp filter), and those on files under DIR are kept: " + names +
         "; and, at msync, fsync/fdatasync of a mapped file, munmap and exit, the pages of shared mappings of files under "
         "DIR that changed since (found by comparing each page; written as calls named mapped-write).\n"
         "Writes OUT/initial/ (DIR before the command ran), OUT/calls.jsonl (one call a line), OUT/data.bin (the bytes "
         "each write carried) and OUT/record.json (counts, seconds, the command's exit).\n"
         "Exit status: 0 recorded (whatever the command's own status: record.json has it); 2 usage (no such DIR, OUT "
         "not empty, a bad --wall); 3 the command could not be started or traced; 130 interrupted (what was recorded "
         "is kept).\n";
}

int run_record(const RecordCliOptions& o) {
  std::optional<std::chrono::milliseconds> wall = parse_duration(o.wall);
  if (!wall || wall->count() <= 0) {
    std::cerr << fmt::format("crashgate record: --wall: '{}' is not a duration (e.g. 90s, 10m)\n", o.wall);
    return kExitUsage;
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(o.dir, ec)) {
    std::cerr << fmt::format("crashgate record: --dir {}: not a directory\n", o.dir);
    return kExitUsage;
  }
  RecordOptions options;
  options.argv = o.command;
  options.dir = o.dir;
  options.out = o.out.empty() ? "crashgate-record-" + utc_now("%Y%m%dT%H%M%SZ") : o.out;
  options.wall = *wall;
  if (o.events) options.events_fd = 3;
  if (o.no_stacks) options.stack_frames = 0;
  if (std::filesystem::exists(options.out, ec) && !(std::filesystem::is_directory(options.out, ec) && std::filesystem::is_empty(options.out, ec))) {
    std::cerr << fmt::format("crashgate record: --out {}: exists and is not empty (a recording goes into a new directory)\n", options.out);
    return kExitUsage;
  }
  Cancellation cancellation;
  InterruptGuard guard(cancellation);
  options.cancel = &cancellation;
  Checked<RecordSummary> s = record_fs_calls(options);
  if (!s) {
    std::cerr << "crashgate record: " << s.error() << "\n";
    return kExitHarnessError;
  }
  std::string ended = s->cancelled    ? "was interrupted"
                      : s->timed_out  ? fmt::format("ran past --wall {} and was killed", o.wall)
                      : s->exit_code  ? fmt::format("exited {}", *s->exit_code)
                      : s->signal     ? fmt::format("was killed by signal {}", *s->signal)
                                      : "ended";
  std::cerr << fmt::format(
      "crashgate record: {} calls on files under {} ({} of them writes through shared mappings, found by comparing pages; {} "
      "driver events), {} bytes written, {} traced stops, in {:.2f} s ({:.0f} stops/s); the command {} -> {}\n",
      s->calls, o.dir, s->mapped_writes, s->events, s->data_bytes, s->stops, s->seconds, s->seconds > 0 ? double(s->stops) / s->seconds : 0.0,
      ended, options.out);
  return s->cancelled ? kExitInterrupted : 0;
}

struct CrashStatesCliOptions {
  std::string recording;
  std::string model = "posix";
  std::vector<std::uint64_t> points;
  std::size_t sample = 0;
  std::uint64_t seed = 1;
  bool list = false;
  std::optional<std::size_t> materialize;
  std::string into;
};

// Where in the program a call was made (call_site: its first frame outside the language runtimes), symbolized.
std::string caller_of(const FsCall& call, OfflineSymbolizer& symbols) {
  std::string site = call_site(call);
  return site.empty() ? "" : " from " + symbols.describe(site, site == call.stack.front());
}

int run_crash_states(const CrashStatesCliOptions& o) {
  std::optional<PersistenceModel> model = parse_persistence_model(o.model);
  if (!model) {
    std::cerr << fmt::format("crashgate crash-states: --model: '{}' is not a model (posix, ext4-ordered)\n", o.model);
    return kExitUsage;
  }
  if (o.materialize.has_value() != !o.into.empty()) {
    std::cerr << "crashgate crash-states: --materialize K and --into DIR go together\n";
    return kExitUsage;
  }
  Checked<Recording> recording = load_recording(o.recording);
  if (!recording) {
    std::cerr << "crashgate crash-states: " << recording.error() << "\n";
    return kExitUsage;
  }
  for (auto p : o.points)
    if (p == 0 || p > recording->calls.size()) {
      std::cerr << fmt::format("crashgate crash-states: --point {}: the recording has calls 1 to {}\n", p, recording->calls.size());
      return kExitUsage;
    }
  std::vector<std::uint64_t> points = o.points;
  if (o.sample > 0 && points.empty()) {
    // A seeded sample of crash points, the same for the same seed and recording.
    std::vector<std::uint64_t> all(recording->calls.size());
    std::iota(all.begin(), all.end(), std::uint64_t{1});
    std::mt19937_64 rng(o.seed);
    std::shuffle(all.begin(), all.end(), rng);
    all.resize(std::min(all.size(), o.sample));
    std::sort(all.begin(), all.end());
    points = all;
  }
  std::vector<CrashState> states = crash_states(*recording, {*model, points});
  if (o.materialize) {
    if (*o.materialize >= states.size()) {
      std::cerr << fmt::format("crashgate crash-states: --materialize {}: there are {} states (0 to {})\n", *o.materialize,
                               states.size(), states.empty() ? 0 : states.size() - 1);
      return kExitUsage;
    }
    if (CheckedDone d = materialize_crash_state(*recording, states[*o.materialize], o.into); !d) {
      std::cerr << "crashgate crash-states: " << d.error() << "\n";
      return kExitHarnessError;
    }
    std::cerr << fmt::format("crashgate crash-states: state {} ({}) written to {}\n", *o.materialize, states[*o.materialize].describe(),
                             o.into);
    return 0;
  }
  OfflineSymbolizer symbols;
  std::map<std::string, std::size_t> by_kind;
  std::set<std::uint64_t> crash_points;
  for (std::size_t i = 0; i < states.size(); ++i) {
    ++by_kind[states[i].kind];
    crash_points.insert(states[i].point);
    if (o.list) {
      const FsCall& at = recording->calls[states[i].point - 1];
      std::cout << fmt::format("{}\t{} ({} {}{})\n", i, states[i].describe(), at.call, at.path, caller_of(at, symbols));
    }
  }
  std::string kinds;
  for (const auto& [kind, n] : by_kind) kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", kind, n);
  std::cerr << fmt::format("crashgate crash-states: {} states at {} crash points of {} calls ({} model): {}\n", states.size(),
                           crash_points.size(), recording->calls.size(), to_string(*model), kinds.empty() ? "none" : kinds);
  return 0;
}

}  // namespace

void add_record_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<RecordCliOptions>();
  auto* cmd = app.add_subcommand("record", "Record what a command asks of the file system under a directory (for crash states)");
  cmd->add_option("--dir", options->dir, "The directory whose files to record (snapshotted first into OUT/initial)")->required();
  cmd->add_option("--out", options->out, "The recording directory, new or empty (default: ./crashgate-record-<UTC time>)");
  cmd->add_option("--wall", options->wall, "Kill the command after this long (default 10m)");
  cmd->add_flag("--no-stacks", options->no_stacks, "Keep no stack of each call (taking them costs an unwind a kept call)");
  cmd->add_flag("--events", options->events,
                "The command is a crashgate driver: give it fd 3 and CRASHGATE_EVENT_FD=3, and log each event it writes there "
                "in place (calls named event: which steps had returned at each point)");
  cmd->add_option("command", options->command, "The command and its arguments (after --)")->required();
  cmd->footer(calls_footer());
  cmd->callback([options, &exit_code] { exit_code = run_record(*options); });

  auto states = std::make_shared<CrashStatesCliOptions>();
  auto* cs = app.add_subcommand("crash-states", "The states a power cut may leave, from a `crashgate record` recording");
  cs->add_option("recording", states->recording, "The recording directory (crashgate record --out)")->required();
  cs->add_option("--model", states->model, "What persists: posix (only what fsync, fdatasync, msync, sync promise) or "
                                           "ext4-ordered (posix, and a file's data before its rename or unlink) (default posix)");
  cs->add_option("--point", states->points, "Only crash points right after these calls (their seq); repeatable (default: every call)");
  cs->add_option("--sample", states->sample, "Only this many crash points, chosen by --seed (default: every call; ignored with --point)");
  cs->add_option("--seed", states->seed, "The seed of --sample (default 1)");
  cs->add_flag("--list", states->list, "Print each state: its number, crash point and what it keeps or loses");
  cs->add_option("--materialize", states->materialize, "Write state K's files (with --into)");
  cs->add_option("--into", states->into, "The directory to write the state into (new or empty)");
  cs->footer("Kinds of state at each crash point: none (every pending operation lost), all (every one kept), prefix, drop "
             "(all but one), torn (a write cut at a 512-byte boundary after its first half), dir-undone (pending directory "
             "operations undone).\nExit status: 0 listed or written; 2 usage (an unknown model, a point or state not in the "
             "recording, not a recording); 3 the state could not be written.\n");
  cs->callback([states, &exit_code] { exit_code = run_crash_states(*states); });
}

}  // namespace crashgate
