#include "fuzz/fuzzer_pool.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

namespace crashgate {
namespace {

namespace fs = std::filesystem;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

struct FuzzerPool::Slot {
  unsigned index = 0;
  unsigned runs = 0;                      // started so far
  std::optional<FuzzerProcess> process;   // the current run
  bool finished = false;                  // ended and not to be restarted
  std::optional<std::string> artifact;    // what the current run named as its artifact
  std::string artifact_dir;               // the current run's -artifact_prefix folder, if the config has one
  std::optional<std::uint64_t> final_execs;
  std::uint64_t execs = 0;                // the current run's latest count
  bool inited = false;                    // the current run got through the corpus ("INITED")
  unsigned startup_crashes = 0;           // runs in a row that crashed in the corpus on no input of it
};

FuzzerPool::FuzzerPool(FuzzerPoolConfig config, std::ostream& log) : config_(std::move(config)), log_(log) {
  config_.processes = std::max(1u, config_.processes);
  unsigned n = config_.fork ? 1 : config_.processes;
  for (unsigned i = 0; i < n; ++i) {
    slots_.push_back(std::make_unique<Slot>());
    slots_.back()->index = i;
  }
}

FuzzerPool::~FuzzerPool() { stop(); }

CheckedDone FuzzerPool::start(Clock::time_point deadline) {
  started_ = Clock::now();
  deadline_ = deadline;
  for (auto& slot : slots_)
    if (auto launched = launch(*slot); !launched) {
      stop();
      return launched;
    }
  return crashgate::done();  // not FuzzerPool::done()
}

CheckedDone FuzzerPool::launch(Slot& slot) {
  auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline_ - Clock::now() + std::chrono::milliseconds(999));
  std::vector<std::string> argv = config_.argv;
  std::string artifact_dir;
  if (!config_.artifact_dir.empty()) {
    artifact_dir = fmt::format("{}/run-{}/", config_.artifact_dir, runs_ + 1);
    std::error_code ec;
    fs::create_directories(artifact_dir, ec);
    if (ec) return failure(fmt::format("cannot create the artifact folder {}: {}", artifact_dir, ec.message()));
    argv.push_back("-artifact_prefix=" + artifact_dir);
  }
  if (config_.fork)
    argv.insert(argv.end(), {fmt::format("-fork={}", config_.processes), "-ignore_crashes=1", "-ignore_timeouts=1", "-ignore_ooms=1"});
  argv.push_back(fmt::format("-max_total_time={}", std::max<long long>(1, left.count())));
  argv.push_back("-print_final_stats=1");
  if (config_.seed) argv.push_back(fmt::format("-seed={}", *config_.seed + std::uint64_t{slot.runs} * slots_.size() + slot.index));
  argv.insert(argv.end(), config_.corpus_dirs.begin(), config_.corpus_dirs.end());
  log_ << "# " << (slots_.size() > 1 ? fmt::format("[{}] ", slot.index) : "") << "run " << slot.runs + 1 << ": "
       << fmt::format("{}", fmt::join(argv, " ")) << "\n";
  log_.flush();
  auto process = FuzzerProcess::start(argv, config_.env);
  if (!process) return failure(process.error());
  slot.process.emplace(std::move(*process));
  slot.runs++;
  runs_++;
  slot.artifact.reset();
  slot.artifact_dir = artifact_dir;
  slot.final_execs.reset();
  slot.execs = 0;
  slot.inited = false;
  return crashgate::done();  // not FuzzerPool::done()
}

void FuzzerPool::poll(std::chrono::milliseconds wait) {
  std::size_t alive = 0;
  for (auto& slot : slots_) alive += slot->process.has_value();
  if (alive == 0) return;
  auto share = std::max(std::chrono::milliseconds(10), wait / static_cast<long>(alive));
  for (auto& slot : slots_) {
    if (!slot->process) continue;
    bool ended_now = false;
    for (const std::string& line : slot->process->read_lines(share, ended_now)) take_line(*slot, line);
    log_.flush();
    if (ended_now) ended(*slot);
  }
}

void FuzzerPool::take_line(Slot& slot, const std::string& line) {
  if (slots_.size() > 1) log_ << "[" << slot.index << "] ";
  log_ << line << "\n";
  if (auto s = parse_fuzzer_status(line)) {
    if (line.find("INITED") != std::string::npos) slot.inited = true;
    if (s->execs) slot.execs = *s->execs;
    if (s->coverage) coverage_ = std::max(coverage_, *s->coverage);
    if (s->features) features_ = std::max(features_, *s->features);
    if (s->corpus) corpus_ = std::max(corpus_, *s->corpus);
    if (config_.fork && s->execs_per_s) fork_execs_per_s_ = *s->execs_per_s;
  } else if (auto a = parse_artifact_line(line)) {
    slot.artifact = *a;
  } else if (auto n = parse_final_execs(line)) {
    slot.final_execs = *n;
  }
}

void FuzzerPool::ended(Slot& slot) {
  int status = slot.process->wait();
  slot.process.reset();
  if (!slot.artifact_dir.empty()) settled_.push_back(std::exchange(slot.artifact_dir, std::string()));
  last_end_ = Clock::now();
  finished_execs_ += slot.final_execs.value_or(slot.execs);
  slot.execs = 0;
  std::string who = slots_.size() > 1 ? fmt::format("process {} run {}", slot.index, slot.runs) : fmt::format("run {}", slot.runs);
  if (stopping_) {
    slot.finished = true;
    return;
  }
  if (!slot.artifact || config_.fork) {
    slot.finished = true;
    if (status != 0) {
      failed_exit_ = status;
      notes_.push_back(fmt::format("libFuzzer {} exited with status {} without a crash artifact (see fuzzer.log)", who, status));
    }
    return;
  }
  // A crash before libFuzzer got through the corpus was on an input of the
  // corpus: the restart would crash on it again, so it leaves the corpus.
  if (!slot.inited && !quarantine_corpus_copies(*slot.artifact) && ++slot.startup_crashes >= 3) {
    slot.finished = true;
    notes_.push_back(fmt::format("libFuzzer {} crashed while reading the corpus, on no input of it, 3 times in a row; "
                                 "not restarted again (see fuzzer.log)", who));
    return;
  }
  if (slot.inited) slot.startup_crashes = 0;
  if (deadline_ - Clock::now() < std::chrono::seconds(1)) {
    slot.finished = true;
    return;
  }
  if (auto launched = launch(slot); !launched) {
    slot.finished = true;
    notes_.push_back(fmt::format("libFuzzer could not be restarted after {}: {}", who, launched.error()));
  }
}

bool FuzzerPool::quarantine_corpus_copies(const std::string& artifact) {
  std::error_code ec;
  auto size = fs::file_size(artifact, ec);
  if (ec) return false;
  bool moved = false;
  std::string bytes;
  for (const std::string& dir : config_.corpus_dirs) {
    std::vector<fs::path> same;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code fec;
      if (!it->is_regular_file(fec) || it->file_size(fec) != size) continue;
      if (bytes.empty() && size > 0) bytes = read_bytes(artifact);
      if (read_bytes(it->path().string()) == bytes) same.push_back(it->path());
    }
    for (const fs::path& p : same) {
      fs::create_directories(config_.quarantine_dir, ec);
      fs::path to = fs::path(config_.quarantine_dir) / p.filename();
      fs::rename(p, to, ec);
      if (ec) fs::remove(p, ec);
      moved = true;
      notes_.push_back(fmt::format("corpus input {} crashes by itself; moved to {}", p.string(), to.string()));
    }
  }
  return moved;
}

bool FuzzerPool::done() const {
  return std::all_of(slots_.begin(), slots_.end(), [](const auto& s) { return s->finished && !s->process; });
}

void FuzzerPool::stop() {
  stopping_ = true;
  for (auto& slot : slots_) {
    if (!slot->process) {
      slot->finished = true;
      continue;
    }
    slot->process->stop();
    // Its last lines (the final stats) are still in the pipe; read them within a bound.
    auto until = Clock::now() + std::chrono::seconds(2);
    bool ended_now = false;
    while (!ended_now && Clock::now() < until)
      for (const std::string& line : slot->process->read_lines(std::chrono::milliseconds(100), ended_now)) take_line(*slot, line);
    log_.flush();
    ended(*slot);
  }
}

std::vector<std::string> FuzzerPool::live_artifact_dirs() const {
  std::vector<std::string> out;
  for (const auto& slot : slots_)
    if (slot->process && !slot->artifact_dir.empty()) out.push_back(slot->artifact_dir);
  return out;
}

FuzzerPoolStatus FuzzerPool::status() const {
  FuzzerPoolStatus s;
  s.execs = finished_execs_;
  for (const auto& slot : slots_) s.execs += slot->execs;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>((done() ? last_end_ : Clock::now()) - started_).count();
  s.execs_per_s = config_.fork ? fork_execs_per_s_ : (ms > 0 ? s.execs * 1000 / static_cast<std::uint64_t>(ms) : 0);
  s.coverage = coverage_;
  s.features = features_;
  s.corpus = corpus_;
  s.runs = runs_;
  return s;
}

}  // namespace crashgate
