// spawn-workload and join: threads beside the steps, on the cell's worker
// stack (or the step's `stack`), until their duration ends or the index closes.
//
//   add         every thread adds new records (addPoint, 10 ids at a time)
//   search      every thread runs k-NN searches (searchKnn, k 10, ef 64)
//   remove      every thread marks records deleted (markDelete): its share
//               of the records live when the workload started
//   mixed       thread t adds (t % 3 == 0), searches (1) or removes (2)
//   resize      mixed, and an adder that finds the index full grows it
//               (resizeIndex, 256 more) while the others go on
//   serialized  resize, with every call into hnswlib under one lock of the
//               driver's (the steps' too): the same work with no concurrency
//               inside hnswlib, the control of the others
//
// hnswlib 0.6.2 supports addPoint beside addPoint and searchKnn (its own
// per-element locks); markDelete takes no lock, and resizeIndex is documented
// as not thread-safe (it reallocates the level-0 memory and replaces the
// element locks). Users call them from their threads all the same; these
// workloads do what they do, and a crash or a sanitizer report is hnswlib's.
// Before add and mixed the driver grows the index by 20,000 elements (as a
// user sizes it up front); an adder of those that finds it full stops adding.
//
// A search hit must be an id handed out so far (a label the driver never
// wrote is wrong-result); an id a step removed first is not found, counted and
// not judged; `verify` after `join` judges the index whole.
#include <memory>
#include <set>

#include <fmt/format.h>

#include "session.h"

namespace crashgate::hnswlib_driver {

namespace {

constexpr std::uint64_t kIdsPerAdd = 10;
constexpr std::uint64_t kHeadroom = 20'000;
constexpr std::uint64_t kResizeStep = 256;
constexpr std::uint64_t kWorkloadEf = 64;

}  // namespace

StepResult Session::spawn_workload(const Args& step) {
  records_.unsure();  // threads racing on the store: the model follows them, not record for record
  std::string workload = step.string("workload");
  static const std::set<std::string> kinds = {"add", "search", "remove", "mixed", "resize", "serialized"};
  if (!kinds.count(workload))
    return StepResult::error("invalid-argument",
                             fmt::format("spawn-workload: workload must be add, search, remove, mixed, resize or serialized, not '{}'", workload));
  std::uint64_t threads = step.u64("threads", 2);
  std::uint64_t duration_ms = step.duration_ms("duration", 500);
  std::uint64_t stack = step.size("stack", context_.worker_stack);
  bool resize = workload == "resize" || workload == "serialized", serialized = workload == "serialized";
  if ((workload == "add" || workload == "mixed") && workers_.empty()) {
    std::lock_guard lock(call_mu_);
    if (engine_->max_elements() < engine_->element_count() + kHeadroom) {
      if (StepResult r = engine_->resize(engine_->element_count() + kHeadroom); !r.is_ok) return r;
      dirty_ = true;
    }
  }
  {
    // ef once, before the threads: a searcher that set it would race the others reading it (the driver's race, not hnswlib's).
    std::lock_guard lock(call_mu_);
    engine_->set_ef(kWorkloadEf);
  }
  Deadline deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(duration_ms);
  std::set<std::uint64_t> live = records_.live();
  auto initial = std::make_shared<const std::vector<std::uint64_t>>(live.begin(), live.end());
  for (std::uint64_t t = 0; t < threads; ++t) {
    Role role = workload == "add" ? Role::adder : workload == "search" ? Role::searcher : workload == "remove" ? Role::remover
              : t % 3 == 0       ? Role::adder
              : t % 3 == 1       ? Role::searcher
                                 : Role::remover;
    workers_.push_back(kit::start_thread(stack, [this, role, t, threads, deadline, resize, serialized, initial] {
      StepResult r = workload_thread(role, t, threads, deadline, resize, serialized, *initial);
      if (!r.is_ok) workload_failed(r);
    }));
  }
  context_.log(fmt::format("started {} threads of {} for {} ms", threads, workload, duration_ms));
  return StepResult::ok();
}

StepResult Session::workload_thread(Role role, std::uint64_t thread, std::uint64_t threads, Deadline deadline, bool resize,
                                    bool serialized, const std::vector<std::uint64_t>& initial) {
  std::mt19937_64 rng(seed_ ^ (0x9E3779B97F4A7C15ull * (thread + 1)));
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::uint32_t dim = records_.dim();
  std::size_t next_removal = thread;  // this thread removes initial[thread], initial[thread + threads], ...
  // Each call into hnswlib: under the driver's lock when serialized, else as hnswlib's users call it.
  auto call = [&](auto&& work) -> StepResult {
    if (!serialized) return work();
    std::lock_guard lock(call_mu_);
    return work();
  };
  while (!stop_workers_ && std::chrono::steady_clock::now() < deadline) {
    if (role == Role::adder) {
      std::uint64_t first = allocate_ids(kIdsPerAdd);
      for (std::uint64_t id = first; id < first + kIdsPerAdd; ++id) {
        bool full = false;
        StepResult r = call([&] {
          // resize: look at the count and grow, as users do (unsynchronized
          // reads of cur_element_count and max_elements_ beside other adders:
          // part of what the workload tests). Else no look: a full index is
          // hnswlib's "exceeds the specified limit", and the adder stops.
          if (resize && engine_->element_count() + 1 > engine_->max_elements()) {
            ++workload_resizes_;
            if (StepResult g = engine_->resize(engine_->max_elements() + kResizeStep); !g.is_ok) return g;
          }
          StepResult added = engine_->add(kit::record_for(id, dim, seed_).vector, id);
          if (!resize && !added.is_ok && added.message.find("exceeds the specified limit") != std::string::npos) {
            full = true;
            return StepResult::ok();
          }
          return added;
        });
        if (!r.is_ok) return r;
        if (full) {
          context_.log(fmt::format("workload thread {}: the index is full; it stops adding", thread));
          return StepResult::ok();
        }
        dirty_ = true;
        records_.added(std::span<const std::uint64_t>(&id, 1), seed_);
        ++workload_adds_;
      }
    } else if (role == Role::searcher) {
      std::vector<float> q(dim);
      for (float& x : q) x = uniform(rng);
      std::vector<std::pair<float, std::uint64_t>> hits;
      StepResult r = call([&] { return engine_->search(q, 10, 0, hits); });  // ef: kWorkloadEf, set at spawn
      if (!r.is_ok) return r;
      std::uint64_t bound = std::max(records_.next_id(), allocate_ids(0));
      if (hits.size() > 10) return StepResult::error("wrong-result", fmt::format("workload search: {} hits for k = 10", hits.size()));
      for (const auto& [distance, label] : hits)
        if (records_.known() && label >= bound)  // after an import the files' labels are any
          return StepResult::error("wrong-result", fmt::format("workload search returned label {}, an id never added", label));
      ++workload_searches_;
    } else {
      if (next_removal >= initial.size()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      std::uint64_t id = initial[next_removal];
      next_removal += threads;
      StepResult r = call([&] { return engine_->mark_delete(id); });
      if (!r.is_ok && r.code != "not-found") return r;  // not-found: a step removed it first
      if (r.is_ok) {
        dirty_ = true;
        records_.removed(std::span<const std::uint64_t>(&id, 1));
        ++workload_removes_;
      }
    }
  }
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
  std::uint64_t adds = workload_adds_.exchange(0), searches = workload_searches_.exchange(0), removes = workload_removes_.exchange(0),
                resizes = workload_resizes_.exchange(0);
  if (adds || searches || removes || resizes)
    context_.log(fmt::format("workloads: {} adds, {} searches, {} removals, {} resizes", adds, searches, removes, resizes));
  std::lock_guard lock(workload_mu_);
  std::optional<StepResult> error = std::move(workload_error_);
  workload_error_.reset();
  return error ? *error : StepResult::ok();
}

}  // namespace crashgate::hnswlib_driver
