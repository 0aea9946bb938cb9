// spawn-workload, join, and second-process.
//
// Workloads: threads beside the steps, on the cell's worker stack (or the
// step's `stack`), until their duration ends or the index closes.
//   search          searchers: 4 queries, k 10, at a time, under the shared lock;
//                   every hit an id the driver handed out, nearest first
//   add             adders: 20 new records at a time, under the lock alone
//   mixed           thread 0 an adder, the others searchers, each under the
//                   lock: FAISS's advice (no add beside a search) kept
//   mixed-unlocked  the same with no lock at all: add_with_ids beside
//                   searches, which FAISS says is not thread-safe. What it
//                   does (a crash, a wrong hit, or nothing seen) is the finding.
//
// second-process `killed-during-save`: the driver, re-run as a child
// (--second-process), loads the index, adds args.add new records (default 0)
// and saves it with write_index to the store's own file, as a program saving
// its index does; the parent watches the file's size and SIGKILLs the child
// once the file holds args.fraction (default 0.5) of what the save writes.
// To kill at that byte and not somewhere past it, the child saves under
// RLIMIT_FSIZE = that many bytes and waits in its SIGXFSZ handler, where the
// kill finds it. Then the parent loads the file and verifies it: write_index
// truncates the file and writes it again in place, so a save killed partway
// leaves neither the old index nor the new one (the step's error, corrupt).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "errors.h"
#include "session.h"

extern char** environ;
extern "C" void omp_set_num_threads(int);  // libgomp's; gcc's omp.h is not on clang's path

namespace crashgate::faiss_driver {

namespace {

constexpr std::uint64_t kRecordsPerAdd = 20;
constexpr std::uint64_t kQueriesPerSearch = 4;

std::string arg_after(int argc, char** argv, const char* flag) {
  for (int i = 0; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], flag) == 0) return argv[i + 1];
  return "";
}

void on_file_size_limit(int) {
  // The save reached the byte the parent kills it at: wait here for the kill.
  for (;;) ::pause();
}

}  // namespace

void omp_one_thread() {
  // CRASHGATE_FAISS_OMP_THREADS=N lets FAISS use N OpenMP threads: only to
  // look at what TSan says of libgomp's threads (main.cc); cells run with 1.
  int n = 1;
  if (const char* v = std::getenv("CRASHGATE_FAISS_OMP_THREADS"); v && std::atoi(v) > 0) n = std::atoi(v);
  omp_set_num_threads(n);
}

StepResult Session::spawn_workload(const Args& step) {
  records_.unsure();  // threads racing on the store: the model follows them, not record for record
  std::string workload = step.string("workload");
  if (workload != "search" && workload != "add" && workload != "mixed" && workload != "mixed-unlocked")
    return StepResult::error("invalid-argument", fmt::format("spawn-workload: workload must be search, add, mixed or mixed-unlocked, not '{}'", workload));
  std::uint64_t threads = step.u64("threads", 2), duration_ms = step.duration_ms("duration", 500);
  std::uint64_t stack = step.size("stack", context_.worker_stack);
  Deadline deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(duration_ms);
  bool locked = workload != "mixed-unlocked";
  for (std::uint64_t t = 0; t < threads; ++t) {
    bool adder = workload == "add" || (workload != "search" && t == 0);
    std::uint64_t thread = workers_.size();
    workers_.push_back(kit::start_thread(stack, [this, adder, locked, thread, deadline] {
      omp_one_thread();
      std::mt19937_64 rng(seed_ ^ (0x9E3779B97F4A7C15ull * (thread + 1)));
      while (!stop_workers_ && std::chrono::steady_clock::now() < deadline) {
        StepResult r;
        if (adder) {
          std::uint64_t first = allocate_ids(kRecordsPerAdd);
          std::vector<std::uint64_t> ids(kRecordsPerAdd);
          for (std::uint64_t i = 0; i < kRecordsPerAdd; ++i) ids[i] = first + i;
          std::vector<float> x;
          for (std::uint64_t id : ids) {
            kit::RecordData rec = kit::record_for(id, dim_, seed_);
            x.insert(x.end(), rec.vector.begin(), rec.vector.end());
          }
          std::vector<idx_t> keys(ids.begin(), ids.end());
          auto work = [&] {
            return guarded("workload add", "corrupt", [&] {
              index_->add_with_ids(static_cast<idx_t>(keys.size()), x.data(), keys.data());
              dirty_ = true;
              records_.added(ids, seed_);
              return StepResult::ok();
            });
          };
          if (locked) {
            std::unique_lock lock(index_mu_);
            r = work();
          } else {
            r = work();
          }
          ++workload_adds_;
        } else {
          if (locked) {
            std::shared_lock lock(index_mu_);
            r = run_searches(*index_, kQueriesPerSearch, 10, rng, false, "workload search");
          } else {
            r = run_searches(*index_, kQueriesPerSearch, 10, rng, false, "workload search (unlocked)");
          }
          ++workload_searches_;
        }
        if (!r.is_ok) {
          workload_failed(r);
          return;
        }
      }
    }));
  }
  context_.log(fmt::format("started {} threads of {} for {} ms", threads, workload, duration_ms));
  return StepResult::ok();
}

void Session::workload_failed(const StepResult& r) {
  std::lock_guard lock(workload_mu_);
  if (!workload_error_) workload_error_ = r;
}

void Session::wait_for_workloads() {
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

void Session::stop_workloads() {
  if (workers_.empty()) return;
  stop_workers_ = true;
  wait_for_workloads();
  stop_workers_ = false;
}

StepResult Session::join() {
  wait_for_workloads();
  std::uint64_t searches = workload_searches_.exchange(0), adds = workload_adds_.exchange(0);
  if (searches || adds)
    context_.log(fmt::format("workloads: {} searches of {} queries, {} adds of {} records", searches, kQueriesPerSearch, adds, kRecordsPerAdd));
  std::lock_guard lock(workload_mu_);
  std::optional<StepResult> error = std::move(workload_error_);
  workload_error_.reset();
  return error ? *error : StepResult::ok();
}

StepResult Session::second_process(const Args& step) {
  records_.unsure();  // another process on the same files
  std::string action = step.string("action");
  if (action != "killed-during-save")
    return StepResult::error("invalid-argument", fmt::format("second-process: action must be killed-during-save, not '{}'", action));
  return kill_during_save(step);
}

StepResult Session::kill_during_save(const Args& step) {
  nlohmann::json args = step.table("args");
  double fraction = 0.5;
  std::uint64_t add = 0;
  if (args.contains("fraction")) {
    const auto& f = args["fraction"];
    if (f.is_number()) fraction = f.get<double>();
    else if (f.is_string()) {
      try {
        fraction = std::stod(f.get<std::string>());
      } catch (const std::exception&) {
        fraction = -1;
      }
    } else fraction = -1;
  }
  if (!(fraction >= 0 && fraction <= 1))
    return StepResult::error("invalid-argument", "second-process killed-during-save: args.fraction must be a number from 0 to 1");
  if (args.contains("add")) {
    const auto& a = args["add"];
    if (!a.is_number_integer() || a.get<std::int64_t>() < 0 || a.get<std::int64_t>() > 10'000'000)
      return StepResult::error("invalid-argument", "second-process killed-during-save: args.add must be a whole number up to 10,000,000");
    add = a.get<std::uint64_t>();
  }
  for (const auto& [key, value] : args.items())
    if (key != "fraction" && key != "add")
      return StepResult::error("invalid-argument", fmt::format("second-process killed-during-save: no argument '{}' (fraction, add)", key));
  // The file must hold the model before the child loads it.
  if (StepResult o = close_index(); !o.is_ok) return o;
  std::uint64_t first = allocate_ids(add);
  std::string cut_file = fmt::format("{}/save-cut-{}", work_dir_, first);
  std::vector<std::string> argv_s = {"crashgate-driver-faiss", "--second-process", "killed-during-save", "--index", index_path(),
                                     "--dim", std::to_string(dim_), "--seed", std::to_string(seed_), "--first-id", std::to_string(first),
                                     "--add", std::to_string(add), "--fraction", fmt::format("{}", fraction), "--cut-file", cut_file};
  std::vector<char*> argv;
  for (std::string& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclose(&actions, 3);  // the event pipe is the parent's alone
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return StepResult::error("io", fmt::format("second-process: spawn failed: {}", std::strerror(rc)));
  // Watch the file: once it holds the cut, kill the child; or the child ends first.
  std::uint64_t cut = UINT64_MAX, full = 0, seen = 0;
  int status = 0;
  bool killed = false;
  for (;;) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (cut == UINT64_MAX) {
      std::ifstream in(cut_file);
      in >> cut >> full;
      if (!in) cut = UINT64_MAX;
    }
    struct stat st {};
    if (cut != UINT64_MAX && ::stat(index_path().c_str(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) >= cut) {
      seen = static_cast<std::uint64_t>(st.st_size);
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      killed = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  if (!killed) {
    if (WIFSIGNALED(status)) {
      StepResult o = StepResult::error("second-process", fmt::format("the saving process died of signal {} ({}) before the kill",
                                                                     WTERMSIG(status), strsignal(WTERMSIG(status))));
      o.descendant_signal = WTERMSIG(status);
      return o;
    }
    if (WEXITSTATUS(status) != 0)
      return StepResult::error("second-process", fmt::format("the saving process exited {} (see stderr)", WEXITSTATUS(status)));
    context_.log(fmt::format("the save ended whole before the cut ({} of {} bytes)", cut, full));
  } else {
    context_.log(fmt::format("killed the saving process with index.faiss at {} of {} bytes (fraction {})", seen, full, fraction));
  }
  // The parent loads what the file holds now and verifies it.
  std::vector<std::uint64_t> child_ids;
  {
    std::unique_lock lock(index_mu_);
    if (StepResult o = load(); !o.is_ok) {
      o.message = fmt::format("after a save killed at {} of {} bytes, the index is lost (write_index writes in place): {}", seen, full, o.message);
      return o;
    }
    for (std::uint64_t i = 0; i < add; ++i)
      if (index_has(first + i)) child_ids.push_back(first + i);
  }
  records_.added(child_ids, seed_);  // what the child added and the file kept
  return verify(step);
}

int run_second_process(int argc, char** argv) {
  std::string action = arg_after(argc, argv, "--second-process");
  if (action != "killed-during-save") {
    fmt::print(stderr, "second process: no action '{}'\n", action);
    return 2;
  }
  std::string path = arg_after(argc, argv, "--index"), cut_file = arg_after(argc, argv, "--cut-file");
  auto dim = static_cast<std::uint32_t>(std::stoul(arg_after(argc, argv, "--dim")));
  std::uint64_t seed = std::stoull(arg_after(argc, argv, "--seed")), first = std::stoull(arg_after(argc, argv, "--first-id"));
  std::uint64_t add = std::stoull(arg_after(argc, argv, "--add"));
  double fraction = std::stod(arg_after(argc, argv, "--fraction"));
  omp_one_thread();
  try {
    std::unique_ptr<faiss::Index> index(faiss::read_index(path.c_str()));
    if (add > 0) {
      std::vector<float> x;
      std::vector<idx_t> ids;
      for (std::uint64_t i = 0; i < add; ++i) {
        kit::RecordData r = kit::record_for(first + i, dim, seed);
        x.insert(x.end(), r.vector.begin(), r.vector.end());
        ids.push_back(static_cast<idx_t>(first + i));
      }
      index->add_with_ids(static_cast<idx_t>(add), x.data(), ids.data());
    }
    // How long the save is: the same bytes, written to memory first.
    faiss::VectorIOWriter sizer;
    faiss::write_index(index.get(), &sizer);
    std::uint64_t full = sizer.data.size();
    auto cut = static_cast<std::uint64_t>(std::floor(fraction * static_cast<double>(full)));
    // write_index's fopen("wb") truncates the file first; doing it here, before
    // the parent learns the cut, keeps the parent from reading the old file's size.
    if (::truncate(path.c_str(), 0) != 0) throw std::runtime_error(fmt::format("truncate {}: {}", path, std::strerror(errno)));
    {
      std::ofstream out(cut_file + ".tmp");
      out << cut << ' ' << full << '\n';
    }
    std::rename((cut_file + ".tmp").c_str(), cut_file.c_str());
    // The limit after the cut file is written: it holds for every file the process writes.
    if (cut < full) {
      struct sigaction sa {};
      sa.sa_handler = on_file_size_limit;
      ::sigaction(SIGXFSZ, &sa, nullptr);
      struct rlimit lim {cut, cut};
      ::setrlimit(RLIMIT_FSIZE, &lim);
    }
    faiss::write_index(index.get(), path.c_str());
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "second process: {}\n", e.what());
    return 1;
  }
}

}  // namespace crashgate::faiss_driver
