// The libFuzzer processes `crashgate fuzz` keeps running on one target until
// its deadline. By default N plain libFuzzer processes, each over the whole
// corpus (they share what they find through the first corpus folder and
// libFuzzer's -reload), each restarted with the next seed after it stops at a
// crash. A run that crashed on an input of the corpus itself (a seed that
// crashes with a regression switched on) moves that input to the quarantine
// folder first, so the restart does not crash on it again; a run that crashed
// there on nothing it can move is retried twice, then given up with a note.
// With `fork`, one process runs libFuzzer's own -fork=N -ignore_crashes=1
// instead: its jobs fuzz small random subsets of the corpus, which in our
// measurements seldom mutates the one seed a bug is near.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "crashgate/checked.h"
#include "fuzz/fuzzer_process.h"
#include "fuzz/libfuzzer_output.h"

namespace crashgate {

struct FuzzerPoolConfig {
  std::vector<std::string> argv;  // the binary and the flags of every run (dict, max_len, ...)
  // Each run writes its crash artifacts into a folder of its own, ARTIFACT_DIR/run-K/ (libFuzzer's
  // -artifact_prefix). A later run that crashes on the same input would rewrite a shared file of
  // the same name (truncating it first) while it is being read; a run's own folder is complete,
  // and never written again, once the run has ended.
  std::string artifact_dir;
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> corpus_dirs;  // the first receives new inputs; inputs that crash leave the first two
  std::string quarantine_dir;            // where corpus inputs that crash go
  unsigned processes = 1;                // 0 counts as 1
  std::optional<std::uint64_t> seed;     // run k of process i gets seed + k * processes + i
  bool fork = false;                     // one process with -fork=processes, never restarted
};

// What the pool's processes have shown so far, added up.
struct FuzzerPoolStatus {
  std::uint64_t execs = 0;        // every run's, finished or not
  std::uint64_t execs_per_s = 0;  // over the pool's time so far (fork mode: libFuzzer's own figure)
  std::uint64_t coverage = 0, features = 0, corpus = 0;  // the highest any process reported
  std::uint64_t runs = 0;         // processes started, restarts included
};

class FuzzerPool {
 public:
  using Clock = std::chrono::steady_clock;

  // `log` receives every output line (prefixed "[i] " with more than one process)
  // and a "# " line with each run's command.
  FuzzerPool(FuzzerPoolConfig config, std::ostream& log);
  ~FuzzerPool();  // stops whatever still runs

  // Starts every process, each told to stop at `deadline`. Fails, saying why, when one cannot start
  // (and then stops those that did).
  CheckedDone start(Clock::time_point deadline);
  // Reads output for about `wait`, then restarts every run that ended at a
  // crash while a second or more is left before the deadline.
  void poll(std::chrono::milliseconds wait);
  // True once every process has ended and none will be restarted.
  bool done() const;
  // Stops every process; none is restarted after.
  void stop();

  FuzzerPoolStatus status() const;
  // The exit status of the last run that ended without a crash artifact and
  // without being stopped, 0 when none did.
  int failed_exit() const { return failed_exit_; }
  // The artifact folders of the runs that have ended, in the order they ended: complete, and never
  // written again. With `fork`, the one run's folder is only here once it has ended.
  const std::vector<std::string>& settled_artifact_dirs() const { return settled_; }
  // The folder of every run still going (for `fork`, whose one run writes artifacts as it goes).
  std::vector<std::string> live_artifact_dirs() const;
  // What went wrong on the way, for the report: runs that failed, inputs quarantined, restarts given up.
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  struct Slot;
  CheckedDone launch(Slot& slot);  // the failure says why the process could not start
  void take_line(Slot& slot, const std::string& line);  // logs it and reads what it says
  void ended(Slot& slot);
  bool quarantine_corpus_copies(const std::string& artifact);  // true when it moved any

  FuzzerPoolConfig config_;
  std::ostream& log_;
  std::vector<std::unique_ptr<Slot>> slots_;
  Clock::time_point started_{}, deadline_{};
  Clock::time_point last_end_{};  // when a run last ended: the pool's end once done()
  std::uint64_t finished_execs_ = 0, runs_ = 0;
  std::uint64_t coverage_ = 0, features_ = 0, corpus_ = 0, fork_execs_per_s_ = 0;
  bool stopping_ = false;
  int failed_exit_ = 0;
  std::vector<std::string> notes_;
  std::vector<std::string> settled_;
};

}  // namespace crashgate
