// check_crash_states: record each cell, write out its crash states a batch at
// a time, and run a recovery cell for each distinct one (crash_check_run.h).
#include "crashgate/crash_check_run.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <xxhash.h>

#include "crashgate/crash_check.h"
#include "crashgate/driver_location.h"
#include "crashgate/driver_protocol.h"
#include "crashgate/fs_recording.h"
#include "crashgate/record_model.h"

namespace fs = std::filesystem;

namespace crashgate {
namespace {

// The state's files and what recovery must find, as one text: two states
// that leave the same files and promise the same records check the same thing.
// Hashed as it is read (XXH3, 128 bits): a state's files can be an engine's whole map.
std::string state_fingerprint(const std::string& dir, const CrashExpectation& e) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  auto add = [&](const std::string& text) { XXH3_128bits_update(state, text.data(), text.size()); };
  add(expectation_to_json(e).dump());
  std::error_code ec;
  std::set<std::string> paths;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    paths.insert(it->path().string());
  std::vector<char> buffer(1 << 16);
  for (const auto& p : paths) {
    add("\n" + p.substr(dir.size()) + (fs::is_directory(p, ec) ? "/" : ""));
    if (!fs::is_regular_file(p, ec)) continue;
    std::ifstream in(p, std::ios::binary);
    std::uint64_t size = 0;
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
      XXH3_128bits_update(state, buffer.data(), static_cast<std::size_t>(in.gcount()));
      size += static_cast<std::uint64_t>(in.gcount());
    }
    add("\n" + std::to_string(size));  // where one file's bytes end and the next name begins
  }
  XXH128_hash_t h = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  return fmt::format("{:016x}{:016x}", h.high64, h.low64);
}

bool cancelled(const CrashCheckSetup& s) { return s.context.cancellation && s.context.cancellation->cancelled(); }

// Records cell i into r; false (with r.error) when its states cannot be checked.
bool record_cell(const CrashCheckSetup& s, std::size_t i, CrashCheckedCell& r) {
  const Cell& cell = s.cells[i];
  std::string driver = driver_path(s.build_root, cell.build, cell.target);
  if (auto missing = missing_driver_message(driver, cell.build, cell.target)) {
    r.error = *missing;
    return false;
  }
  std::string work = fmt::format("{}/recorded/{}/work", s.run_dir, i);
  auto spec = attempt_spec(cell, driver, work);
  if (!spec) {
    r.error = spec.error();
    return false;
  }
  // The store's directory is the application's to make durable before the engine
  // runs: made here, so its own entry is in the initial state, not a pending mkdir.
  std::error_code ec;
  fs::create_directories(work + "/store", ec);
  if (ec) {
    r.error = fmt::format("{}/store: {}", work, ec.message());
    return false;
  }
  RecordOptions ro;
  ro.argv = spec->argv;
  ro.dir = work;
  ro.out = r.recording;
  ro.wall = cell.limits.wall * 20;  // recording costs a few times the run; a hang still ends
  ro.cancel = s.context.cancellation;
  ro.events_fd = kDriverEventFd;
  ro.env = spec->env;
  ro.env.emplace_back("CRASHGATE_MODEL_EVENTS", "1");
  if (cell.limits.worker_stack) ro.env.emplace_back("CRASHGATE_WORKER_STACK", std::to_string(*cell.limits.worker_stack));
  if (s.note) s.note(fmt::format("recording {} ...", cell.id));
  Checked<RecordSummary> summary = record_fs_calls(ro);
  if (!summary) {
    r.error = "recording: " + summary.error();
  } else if (summary->cancelled) {
    r.error = "interrupted while recording";
  } else if (!summary->exit_code || *summary->exit_code != 0) {
    r.error = fmt::format("the recorded run {} (`crashgate run` this cell: its steps must pass before its crash states mean anything)",
                          summary->timed_out ? "ran out of time"
                          : summary->signal  ? fmt::format("was killed by signal {}", *summary->signal)
                                             : fmt::format("exited {}", summary->exit_code.value_or(-1)));
  } else {
    r.calls = summary->calls;
    r.seconds = summary->seconds;
  }
  return r.error.empty();
}

}  // namespace

CrashCheckRun check_crash_states(const CrashCheckSetup& s) {
  CrashCheckRun run;
  // The states are written out and checked a batch at a time, and a state that
  // recovered is deleted at once: a store of a few MiB has thousands of states.
  std::vector<PlannedCell> batch;
  constexpr std::size_t kBatch = 200;
  std::size_t batches = 0;
  std::map<std::pair<std::string, std::string>, std::size_t> kept_failures;
  auto run_batch = [&] {
    if (batch.empty() || cancelled(s)) return;
    RunPlan plan;
    plan.cells = std::move(batch);
    batch.clear();
    plan.build_root = s.build_root;
    plan.run_dir = fmt::format("{}/batches/{}", s.run_dir, batches++);
    plan.jobs = s.jobs;
    plan.repro_program = "crashgate";
    plan.repro_run_dir = s.repro_run_dir.empty() ? s.run_dir : s.repro_run_dir;
    if (s.batch_started) s.batch_started(plan.cells.size());
    auto checking = std::chrono::steady_clock::now();
    std::vector<CellResult> done = run_matrix(plan, s.context, [&](std::size_t i, const CellResult& cell, const Attempt& attempt) {
      if (s.attempt_done) s.attempt_done(i, cell, attempt);
    });
    if (s.batch_finished) s.batch_finished();
    run.check_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - checking).count();
    for (CellResult& c : done) {
      const CheckedState& info = run.states[run.results.size()];
      bool keep = c.verdict != Verdict::pass && kept_failures[{info.site + " " + info.caller, info.state.kind}]++ < kKeptFailedStates;
      if (!keep && !c.cell.steps.empty()) {
        std::error_code ec;
        fs::remove_all(fs::path(c.cell.steps.front().args.value("from", "")).parent_path(), ec);
      }
      run.results.push_back(std::move(c));
    }
  };
  for (std::size_t i = 0; i < s.cells.size() && !cancelled(s); ++i) {
    CrashCheckedCell r;
    r.cell = s.cells[i];
    r.recording = fmt::format("{}/recorded/{}/recording", s.run_dir, i);
    bool recorded = record_cell(s, i, r);
    Checked<Recording> rec = recorded ? load_recording(r.recording) : Checked<Recording>(failure(""));
    Checked<std::vector<ModelEvent>> events = rec ? model_events(*rec) : Checked<std::vector<ModelEvent>>(failure(""));
    if (r.error.empty() && !rec) r.error = rec.error();
    if (r.error.empty() && !events) r.error = events.error();
    if (r.error.empty() && events->empty())
      r.error = fmt::format("the driver wrote no records events: {} reports no record model (kit::Driver::record_model)", r.cell.target);
    std::pair<std::uint64_t, std::uint64_t> phase{1, rec ? rec->calls.size() : 0};
    if (r.error.empty() && s.steps) {
      auto p = phase_calls(*rec, s.steps->first, s.steps->second);
      if (p)
        phase = *p;
      else
        r.error = p.error();
    }
    if (!r.error.empty()) {
      if (s.problem) s.problem(fmt::format("{}: {}", r.cell.id, r.error));
      run.recorded.push_back(std::move(r));
      continue;
    }
    r.events = events->size();
    std::vector<std::uint64_t> points = sample_crash_points(phase.first, phase.second, s.sample, r.cell.seed);
    r.points = points.size();
    std::vector<CrashState> states = crash_states(*rec, {s.model, points});
    r.states = states.size();
    std::string work = fmt::format("{}/recorded/{}/work", s.run_dir, i);
    std::set<std::string> seen;
    for (std::size_t k = 0; k < states.size() && !cancelled(s); ++k) {
      const CrashState& st = states[k];
      std::string dir = fmt::format("{}/states/{}-{}", s.run_dir, i, k);
      CrashExpectation e = expectation_at(*events, st.point);
      if (CheckedDone d = materialize_crash_state(*rec, st, dir); !d) {
        run.fatal = fmt::format("{}: state {}: {}", r.cell.id, k, d.error());
        run.recorded.push_back(std::move(r));
        return run;
      }
      if (!seen.insert(state_fingerprint(dir, e)).second) {
        std::error_code ec;
        fs::remove_all(dir, ec);
        continue;
      }
      ++r.unique;
      // The operation the state is about: the one dropped or torn, the first one lost; for `all`, the crash point's.
      std::uint64_t about = st.point;
      if (st.torn) {
        about = *st.torn;
      } else {
        for (auto p : st.pending)
          if (std::find(st.kept.begin(), st.kept.end(), p) == st.kept.end()) {
            about = p;
            break;
          }
      }
      const FsCall& at = rec->calls[about - 1];
      std::string shown = at.path.rfind(work + "/", 0) == 0 ? at.path.substr(work.size() + 1) : at.path;
      CheckedState info{i, st, call_site(at), caller_of_site(at), at.stack, fmt::format("#{} {} {}", about, at.call, shown)};
      PlannedCell p;
      p.cell = recovery_cell(r.cell, k, e, dir);
      p.scenario_file = s.scenario_file;
      p.summary = fmt::format("{} ({}); {}", st.describe(), info.call, e.describe());
      p.origin = "crash-check";
      batch.push_back(std::move(p));
      run.states.push_back(std::move(info));
      if (batch.size() == kBatch) run_batch();
    }
    run_batch();
    if (s.note)
      s.note(fmt::format("  {} calls recorded in {:.2f} s, {} records events; {} states at {} crash points, {} distinct", r.calls,
                         r.seconds, r.events, r.states, r.points, r.unique));
    run.recorded.push_back(std::move(r));
  }
  return run;
}

}  // namespace crashgate
