#include <sched.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "crashgate/observation.h"
#include "crashgate/runner.h"

namespace crashgate {

unsigned default_jobs() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// Each worker thread forks, traces and reaps its own runs: ptrace requests are
// only valid from the thread that attached, so a run never changes threads.
std::vector<Outcome> run_parallel(std::span<const RunSpec> specs, unsigned jobs, const RunContext& context,
                                  const std::function<void(std::size_t, const Outcome&)>& on_done) {
  std::vector<Outcome> outcomes(specs.size());
  if (specs.empty()) return outcomes;
  if (jobs == 0) jobs = default_jobs();
  jobs = std::min<unsigned>(jobs, static_cast<unsigned>(specs.size()));
  std::atomic<std::size_t> next{0};
  std::mutex report_mutex;
  auto work = [&] {
    while (true) {
      std::size_t i = next.fetch_add(1);
      if (i >= specs.size()) return;
      outcomes[i] = run_observed(specs[i], context);
      if (on_done) {
        std::lock_guard lock(report_mutex);
        on_done(i, outcomes[i]);
      }
    }
  };
  std::vector<std::thread> workers;
  for (unsigned j = 1; j < jobs; ++j) workers.emplace_back(work);
  work();
  for (auto& w : workers) w.join();
  return outcomes;
}

}  // namespace crashgate
