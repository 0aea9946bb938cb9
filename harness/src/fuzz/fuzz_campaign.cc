#include "fuzz/fuzz_campaign.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "crashgate/utc_time.h"
#include "crashgate/limits.h"
#include "crashgate/result_json.h"
#include "crashgate/summary_text.h"
#include "fuzz/crash_triage.h"
#include "fuzz/fuzzer_pool.h"
#include "fuzz/libfuzzer_output.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;


std::uint64_t count_files(const std::string& dir) {
  std::error_code ec;
  std::uint64_t n = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) ++n;
  return n;
}

std::string hms(milliseconds d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  return fmt::format("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
}

bool is_artifact(const std::string& name) {
  for (const char* p : {"crash-", "timeout-", "oom-", "leak-"})
    if (name.rfind(p, 0) == 0) return true;
  return false;
}

// The console and OUT/events.log, from any thread.
class Events {
 public:
  Events(const FuzzConsole& console, const std::string& path) : console_(console), log_(path, std::ios::app) {}

  void event(const std::string& line) {
    std::lock_guard lock(mu_);
    std::string stamped = utc_now("%H:%M:%S ") + line;
    log_ << stamped << "\n";
    log_.flush();
    if (console_.live) std::fputs("\r\033[K", console_.out);
    std::fprintf(console_.out, "%s\n", stamped.c_str());
    if (console_.live && !status_.empty()) std::fputs(status_.c_str(), console_.out);
    std::fflush(console_.out);
  }

  void status(const std::string& line) {
    std::lock_guard lock(mu_);
    std::string shown = line.size() > static_cast<std::size_t>(std::max(console_.width - 1, 20))
                            ? line.substr(0, static_cast<std::size_t>(std::max(console_.width - 1, 20)))
                            : line;
    if (console_.live) {
      status_ = shown;
      std::fprintf(console_.out, "\r\033[K%s", shown.c_str());
      std::fflush(console_.out);
      return;
    }
    auto now = Clock::now();
    if (now - last_plain_status_ < std::chrono::seconds(60)) return;
    last_plain_status_ = now;
    std::string stamped = utc_now("%H:%M:%S ") + line;
    log_ << stamped << "\n";
    log_.flush();
    std::fprintf(console_.out, "%s\n", stamped.c_str());
    std::fflush(console_.out);
  }

  void finish() {
    std::lock_guard lock(mu_);
    if (console_.live && !status_.empty()) std::fputs("\r\033[K", console_.out);
    status_.clear();
    std::fflush(console_.out);
  }

 private:
  FuzzConsole console_;
  std::mutex mu_;
  std::ofstream log_;
  std::string status_;
  Clock::time_point last_plain_status_{};
};

// Triages artifacts on a thread of its own, so that the fuzzer keeps fuzzing.
class CrashTriage {
 public:
  CrashTriage(const FuzzOptions& options, const Cancellation& cancel, Events& events, std::vector<FuzzCrash>& crashes)
      : options_(options), cancel_(cancel), events_(events), crashes_(crashes), worker_([this] { work(); }) {}

  ~CrashTriage() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  void add(const FuzzTargetRun& t, const std::string& artifact, std::int64_t found_after_ms) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back({t, artifact, found_after_ms});
      ++pending_;
    }
    cv_.notify_all();
  }

  // Waits until every artifact added so far is triaged.
  void drain() {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [this] { return pending_ == 0; });
  }

  std::size_t distinct(const std::string& target) {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const FuzzCrash& c : crashes_) n += c.target == target && !c.signature.empty();
    return n;
  }

 private:
  struct Item {
    FuzzTargetRun target;
    std::string artifact;
    std::int64_t found_after_ms;
  };

  void work() {
    while (true) {
      Item item;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        item = std::move(queue_.front());
        queue_.pop_front();
      }
      triage(item);
      {
        std::lock_guard lock(mu_);
        --pending_;
      }
      idle_.notify_all();
    }
  }

  void triage(const Item& item) {
    RunContext context;  // not cancellable: a reproduction is short, and the report needs it
    Outcome outcome = reproduce_crash(item.target, item.artifact, context);
    std::string signature = outcome.signature;
    std::string name = fs::path(item.artifact).filename().string();
    {
      std::lock_guard lock(mu_);
      for (FuzzCrash& c : crashes_) {
        if (c.target == item.target.target && c.signature == signature) {
          c.inputs.push_back(item.artifact);
          append_input_list(c);
          events_.event(fmt::format("{}: {} is crash {} again ({} inputs)", item.target.target, name,
                                    signature.empty() ? "not-reproduced" : signature, c.inputs.size()));
          return;
        }
      }
    }
    FuzzCrash c;
    c.target = item.target.target;
    c.signature = signature;
    c.dir = fmt::format("{}/crashes/{}-{}", options_.out_dir, c.target, signature.empty() ? "not-reproduced" : signature);
    c.inputs.push_back(item.artifact);
    c.found_after_ms = item.found_after_ms;
    std::error_code ec;
    fs::create_directories(c.dir, ec);
    fs::copy_file(item.artifact, c.dir + "/input", fs::copy_options::overwrite_existing, ec);
    c.input_bytes = fs::file_size(c.dir + "/input", ec);
    if (signature.empty()) {
      events_.event(fmt::format("{}: {} did not crash again when rerun alone ({})", c.target, name, outcome.detail));
    } else {
      events_.event(fmt::format("{}: NEW crash {} after {}: {}", c.target, signature, hms(milliseconds(c.found_after_ms)), outcome.detail));
    }
    c.outcome = outcome;
    c.minimized_bytes = c.input_bytes;
    if (!signature.empty() && !cancel_.cancelled()) {
      RunContext cancellable;
      cancellable.cancellation = &cancel_;  // Ctrl-C must not wait for a minimization
      Minimized m = minimize_crash(item.target, c.dir + "/input", outcome, c.dir + "/minimized", options_.minimize_time, cancellable);
      c.minimized = m.reduced;
      c.minimize_note = m.note;
      c.minimized_bytes = fs::file_size(m.path, ec);
      if (m.reduced) c.outcome = m.outcome;
      events_.event(fmt::format("{}: crash {} minimized: {} -> {} bytes{}", c.target, signature, c.input_bytes, c.minimized_bytes,
                                m.reduced ? "" : " (" + m.note + ")"));
    } else {
      fs::copy_file(c.dir + "/input", c.dir + "/minimized", fs::copy_options::overwrite_existing, ec);
      if (!signature.empty()) c.minimize_note = "not minimized: interrupted";
    }
    c.repro = crash_repro_command(item.target, c.dir + "/minimized");
    write_crash_dir(c);
    std::lock_guard lock(mu_);
    crashes_.push_back(std::move(c));
  }

  void append_input_list(const FuzzCrash& c) {
    std::ofstream(c.dir + "/inputs.txt", std::ios::app) << c.inputs.back() << "\n";
  }

  void write_crash_dir(const FuzzCrash& c) {
    {
      std::ofstream d(c.dir + "/diagnosis.txt");
      d << "target: " << c.target << "\n";
      d << "signature: " << (c.signature.empty() ? "(did not crash again when rerun alone)" : c.signature) << "\n";
      if (!options_.regression.empty()) d << "regression switched on: " << options_.regression << "\n";
      d << "found after: " << hms(milliseconds(c.found_after_ms)) << "\n";
      d << "input: " << c.input_bytes << " bytes; minimized: " << c.minimized_bytes << " bytes"
        << (c.minimize_note.empty() ? "" : " (" + c.minimize_note + ")") << "\n";
      d << "repro: " << c.repro << "\n\n";
      if (!c.outcome.crash_state.empty()) d << "crash state:\n" << c.outcome.crash_state << "\n\n";
      d << summary_text(c.outcome) << "\n";
    }
    std::ofstream(c.dir + "/result.json") << to_json(c.outcome).dump(2) << "\n";
    {
      std::ofstream r(c.dir + "/repro.sh");
      r << "#!/bin/sh\n# Reproduces crash " << c.signature << " of " << c.target << " (exits non-zero while it crashes).\n";
      r << c.repro << "\n";
    }
    std::error_code ec;
    fs::permissions(c.dir + "/repro.sh", fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                    fs::perm_options::add, ec);
    nlohmann::json meta{{"target", c.target}, {"signature", c.signature}, {"crash_state", c.outcome.crash_state},
                        {"kind", std::string(to_string(c.outcome.kind))}, {"regression", options_.regression},
                        {"found_after_ms", c.found_after_ms}, {"input_bytes", c.input_bytes},
                        {"minimized_bytes", c.minimized_bytes}, {"minimized", c.minimized}};
    std::ofstream(c.dir + "/crash.json") << meta.dump(2) << "\n";
    std::ofstream(c.dir + "/inputs.txt") << c.inputs.front() << "\n";
  }

  const FuzzOptions& options_;
  const Cancellation& cancel_;
  Events& events_;
  std::vector<FuzzCrash>& crashes_;
  std::mutex mu_;
  std::condition_variable cv_, idle_;
  std::deque<Item> queue_;
  std::size_t pending_ = 0;
  bool stopping_ = false;
  std::thread worker_;  // last: starts once everything above exists
};

std::vector<std::pair<std::string, std::string>> target_env(const FuzzOptions& o) {
  std::vector<std::pair<std::string, std::string>> env;
  if (!o.regression.empty()) env.emplace_back("VSTORE_REGRESSION", o.regression);
  return env;
}

void merge_corpus(const FuzzTargetRun& t, const std::string& corpus, const std::string& seed_dir, const std::string& work,
                  Events& events, FuzzTargetSummary& summary) {
  std::string merged = corpus + ".merge";
  std::error_code ec;
  fs::remove_all(merged, ec);
  fs::create_directories(merged, ec);
  RunSpec spec;
  // Inputs that crash the merge leave their crash- files in work/, not in crashgate's working directory.
  spec.argv = {t.binary, "-merge=1", "-merge_control_file=" + merged + ".control", "-artifact_prefix=" + work + "/merge-"};
  for (const std::string& f : t.flags)
    if (f.rfind("-max_len=", 0) == 0) spec.argv.push_back(f);
  spec.argv.insert(spec.argv.end(), {merged, corpus, seed_dir});
  spec.env = t.env;
  spec.trace = false;
  spec.limits.wall = std::chrono::minutes(10);
  Outcome o = run_observed(spec);
  fs::remove(merged + ".control", ec);
  // With a regression switched on, seeds crash during the merge; libFuzzer's
  // outer merge process restarts its inner one and still succeeds (exit 0).
  if (o.exit_code != 0 || count_files(merged) == 0) {
    summary.notes.push_back(fmt::format("corpus merge failed ({}); the working corpus is kept as it was", o.detail));
    fs::remove_all(merged, ec);
    return;
  }
  fs::remove_all(corpus, ec);
  fs::rename(merged, corpus, ec);
  events.event(fmt::format("{}: corpus merged and pruned: {} -> {} inputs", t.target, summary.corpus_before, count_files(corpus)));
}

}  // namespace

std::string fuzzer_mode(const FuzzOptions& o) {
  if (o.fork) return fmt::format("libFuzzer -fork={}", std::max(1u, o.jobs));
  unsigned n = std::max(1u, o.jobs);
  return fmt::format("{} libFuzzer process{} over the whole corpus, restarted after each crash", n, n == 1 ? "" : "es");
}

std::vector<std::string> known_fuzz_targets(const std::string& corpora_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(corpora_dir, ec), end; !ec && it != end; it.increment(ec))
    if (fs::is_directory(it->path() / "seed")) out.push_back(it->path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

Checked<FuzzCampaign> run_fuzz_campaign(const FuzzOptions& options, const Cancellation& cancel,
                                        const FuzzConsole& console) {
  // Everything that can be checked before fuzzing is, so that a typo costs seconds, not a night.
  std::vector<FuzzTargetRun> runs;
  for (const std::string& target : options.targets) {
    FuzzTargetRun t;
    t.target = target;
    t.binary = fs::absolute(options.fuzzer_dir + "/" + target).string();
    t.env = target_env(options);
    if (::access(t.binary.c_str(), X_OK) != 0)
      return failure(fmt::format("{}: no libFuzzer binary at {} (build it with `ci/build fuzz`, or name another folder with --fuzzer-dir)",
                                 target, t.binary));
    std::string dir = options.corpora_dir + "/" + target;
    if (!fs::is_directory(dir + "/seed")) return failure(fmt::format("{}: no seed corpus at {}/seed", target, dir));
    std::string opts = dir + "/" + target + ".options";
    if (fs::exists(opts)) {
      auto flags = read_fuzzer_options(opts);
      if (!flags) return failure(flags.error());
      t.flags = *flags;
    }
    std::string dict = dir + "/" + target + ".dict";
    bool has_dict = std::any_of(t.flags.begin(), t.flags.end(), [](const std::string& f) { return f.rfind("-dict=", 0) == 0; });
    if (!has_dict && fs::exists(dict)) t.flags.push_back("-dict=" + fs::absolute(dict).string());
    runs.push_back(std::move(t));
  }
  std::error_code ec;
  fs::create_directories(options.out_dir + "/crashes", ec);
  if (ec) return failure(fmt::format("{}: cannot create: {}", options.out_dir, ec.message()));

  FuzzCampaign campaign;
  campaign.options = options;
  campaign.started_at = utc_now();
  auto campaign_start = Clock::now();
  Events events(console, options.out_dir + "/events.log");
  events.event(fmt::format("crashgate fuzz: {} for {}, {}{}", fmt::join(options.targets, ", "), format_duration(options.time),
                           fuzzer_mode(options), options.regression.empty() ? "" : ", regression " + options.regression));
  {
    CrashTriage triage(options, cancel, events, campaign.crashes);
    milliseconds slice(options.time.count() / static_cast<long long>(std::max<std::size_t>(runs.size(), 1)));
    for (const FuzzTargetRun& t : runs) {
      if (cancel.cancelled()) break;
      FuzzTargetSummary summary;
      summary.target = t.target;
      summary.binary = t.binary;
      std::string work = options.out_dir + "/" + t.target;
      std::string artifacts = work + "/artifacts";
      std::string corpus = options.corpus_dir + "/" + t.target;
      std::string seed_dir = fs::absolute(options.corpora_dir + "/" + t.target + "/seed").string();
      fs::create_directories(artifacts, ec);
      fs::create_directories(corpus, ec);
      summary.corpus_before = count_files(corpus);

      // The seeds are copied, so that one that crashes by itself can be moved
      // out of the fuzzers' way without touching the repository's corpora/.
      std::string seed_copy = work + "/seed";
      fs::remove_all(seed_copy, ec);
      fs::copy(seed_dir, seed_copy, fs::copy_options::recursive, ec);
      if (ec)
        return failure(fmt::format("{}: cannot copy the seed corpus to {}: {}", t.target, seed_copy, ec.message()));
      FuzzerPoolConfig pool_config;
      pool_config.argv = {t.binary};
      pool_config.artifact_dir = artifacts;
      pool_config.argv.insert(pool_config.argv.end(), t.flags.begin(), t.flags.end());
      pool_config.env = t.env;
      pool_config.corpus_dirs = {corpus, seed_copy};
      pool_config.quarantine_dir = work + "/quarantine";
      pool_config.processes = options.jobs;
      pool_config.seed = options.seed;
      pool_config.fork = options.fork;
      std::ofstream log(work + "/fuzzer.log");
      auto started = Clock::now();
      FuzzerPool pool(pool_config, log);
      if (auto pool_started = pool.start(started + slice); !pool_started) return failure(pool_started.error());
      events.event(fmt::format("{}: fuzzing for {} (log: {})", t.target, format_duration(slice), work + "/fuzzer.log"));

      std::set<std::string> seen;
      auto deadline = started + slice + std::chrono::seconds(120);  // libFuzzer stops itself; this is the backstop
      std::size_t settled_scanned = 0;  // pool.settled_artifact_dirs() taken so far
      auto scan_artifacts = [&] {
        std::vector<std::string> fresh;
        // A file libFuzzer named by its content's hash: the first of a name is kept, later ones
        // (a later run crashing on the same input) are the same bytes.
        auto take = [&](const fs::path& path) {
          std::string name = path.filename().string();
          if (!is_artifact(name) || seen.count(name)) return;
          seen.insert(name);
          // Triage, maybe seconds from now, reads a copy in one place whichever run wrote it.
          std::string kept = work + "/crash-inputs/" + name;
          std::error_code copy_ec;  // not `ec`: that one ends the directory walk
          fs::create_directories(work + "/crash-inputs", copy_ec);
          if (!fs::copy_file(path, kept, fs::copy_options::overwrite_existing, copy_ec) || copy_ec) kept = path.string();
          fresh.push_back(kept);
        };
        // The folders of runs that have ended hold complete files that nothing writes again.
        const std::vector<std::string>& settled = pool.settled_artifact_dirs();
        for (; settled_scanned < settled.size(); ++settled_scanned)
          for (fs::directory_iterator it(settled[settled_scanned], ec), end; !ec && it != end; it.increment(ec)) take(it->path());
        // With --fork the one run goes on for the whole slice while its jobs write artifacts: a file
        // there is taken once it has stood a second unchanged and is not empty (libFuzzer writes it
        // in one go, truncating first); whatever is left is taken when the run ends.
        if (options.fork)
          for (const std::string& dir : pool.live_artifact_dirs())
            for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
              std::error_code sec;
              auto age = fs::file_time_type::clock::now() - fs::last_write_time(it->path(), sec);
              if (!sec && age >= std::chrono::seconds(1) && fs::file_size(it->path(), sec) > 0 && !sec) take(it->path());
            }
        std::sort(fresh.begin(), fresh.end());
        for (const std::string& a : fresh) {
          ++summary.crash_artifacts;
          auto after = std::chrono::duration_cast<milliseconds>(Clock::now() - started).count();
          events.event(fmt::format("{}: crash artifact {} after {}", t.target, fs::path(a).filename().string(), hms(milliseconds(after))));
          triage.add(t, a, after);
        }
      };
      while (!pool.done()) {
        pool.poll(milliseconds(500));
        scan_artifacts();
        auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
        FuzzerPoolStatus st = pool.status();
        events.status(fmt::format("{} {}/{} | exec/s {} | cov {} ft {} | corpus {} | crashes {} distinct ({} inputs)", t.target,
                                  hms(elapsed), hms(slice), st.execs_per_s, st.coverage, st.features, st.corpus,
                                  triage.distinct(t.target), summary.crash_artifacts));
        if (cancel.cancelled()) {
          events.event(fmt::format("{}: interrupted; stopping the fuzzer", t.target));
          campaign.interrupted = true;
          break;
        }
        if (options.until_crash && summary.crash_artifacts > 0) {
          events.event(fmt::format("{}: stopping at the first crash (--until-crash)", t.target));
          break;
        }
        if (Clock::now() > deadline) {
          summary.notes.push_back("the fuzzer overran its time and was stopped");
          break;
        }
      }
      pool.stop();
      // Every run has ended: its folder is settled, so the scan takes what is left.
      scan_artifacts();
      summary.duration_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - started).count();
      FuzzerPoolStatus st = pool.status();
      summary.execs = st.execs;
      summary.execs_per_s = st.execs_per_s;
      summary.coverage = st.coverage;
      summary.features = st.features;
      summary.fuzzer_runs = st.runs;
      summary.fuzzer_exit = pool.failed_exit();
      summary.notes.insert(summary.notes.end(), pool.notes().begin(), pool.notes().end());
      triage.drain();
      if (options.merge && !cancel.cancelled()) merge_corpus(t, corpus, seed_dir, work, events, summary);
      summary.corpus_after = count_files(corpus);
      events.event(fmt::format("{}: done: {} execs, cov {}, {} crash artifacts, {} distinct crashes", t.target, summary.execs,
                               summary.coverage, summary.crash_artifacts, triage.distinct(t.target)));
      campaign.targets.push_back(std::move(summary));
    }
    triage.drain();
  }
  events.finish();
  campaign.interrupted |= cancel.cancelled();
  campaign.duration_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - campaign_start).count();
  return campaign;
}

}  // namespace crashgate
