// The failpoint registry: the table, the configured terms and their evaluation.
#include <pthread.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "failpoint/evaluate.h"
#include "failpoint/spec.h"
#include "load_once.h"

namespace vstore {
namespace {

constexpr FailSiteInfo kSites[] = {
#define VSTORE_X(e, name, syscall, write_path, what) {FailSite::e, name, syscall, write_path, what},
    VSTORE_FAILPOINT_SITES(VSTORE_X)
#undef VSTORE_X
};
static_assert(std::size(kSites) == static_cast<size_t>(FailSite::count_));
constexpr size_t kSiteCount = std::size(kSites);

#ifdef VSTORE_FAILPOINTS_ENABLED
struct SiteState {
  std::vector<internal::FailTerm> chain;
  size_t current = 0;  // the chain's term now in force
  uint64_t fired = 0;  // times that term has fired
};

struct Registry {
  std::mutex mu;
  std::array<SiteState, kSiteCount> sites;  // under mu
  std::array<std::atomic<bool>, kSiteCount> active{};
  std::array<std::atomic<uint64_t>, kSiteCount> hits{};
  std::atomic<bool> any{false};
  std::atomic<bool> crash{false};
  uint64_t rng = 0x9E3779B97F4A7C15ull;
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: sites may fire during exit
  return *r;
}

uint64_t splitmix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Status install(std::string_view spec) {
  std::vector<internal::FailSpec> specs;
  VSTORE_RETURN_IF_ERROR(internal::parse_failpoint_spec(spec, &specs));
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  bool any = false, crash = false;
  for (size_t i = 0; i < kSiteCount; ++i) {
    r.sites[i] = SiteState();
    r.hits[i].store(0, std::memory_order_relaxed);
  }
  for (const internal::FailSpec& fs : specs) r.sites[static_cast<size_t>(fs.site)].chain = fs.chain;
  for (size_t i = 0; i < kSiteCount; ++i) {
    bool live = false;
    for (const internal::FailTerm& t : r.sites[i].chain) {
      live |= t.action != internal::FailActionKind::off;
      crash |= t.action == internal::FailActionKind::crash;
    }
    r.active[i].store(live, std::memory_order_release);
    any |= live;
  }
  r.crash.store(crash, std::memory_order_release);
  r.any.store(any, std::memory_order_release);
  return Status::Ok();
}

internal::LoadOnce g_env_once;
const Status* g_env_error = nullptr;  // set once, under g_env_once
void load_from_environment() {
  if (const char* seed = std::getenv("VSTORE_FAILPOINTS_SEED")) {
    registry().rng = std::strtoull(seed, nullptr, 10);
  }
  const char* env = std::getenv("VSTORE_FAILPOINTS");
  if (env == nullptr) return;
  Status st = install(env);
  if (!st.ok()) {
    // A typo would silently run without faults. Remember it: opening or creating a
    // store then fails with this message instead of testing the wrong thing.
    g_env_error = new Status(Status::Invalid(fmt::format("VSTORE_FAILPOINTS: {}", st.message())));
  }
}
#endif

}  // namespace

const FailSiteInfo* failpoint_table(size_t* size) {
  *size = kSiteCount;
  return kSites;
}

std::string_view failpoint_name(FailSite site) { return kSites[static_cast<size_t>(site)].name; }

#ifdef VSTORE_FAILPOINTS_ENABLED

Status configure_failpoints(std::string_view spec) {
  g_env_once(load_from_environment);
  return install(spec);
}

void set_failpoint_seed(uint64_t seed) {
  g_env_once(load_from_environment);
  std::lock_guard lock(registry().mu);
  registry().rng = seed;
}

uint64_t failpoint_hits(FailSite site) {
  return registry().hits[static_cast<size_t>(site)].load(std::memory_order_relaxed);
}

namespace internal {

Status failpoint_environment_status() {
  g_env_once(load_from_environment);
  return g_env_error ? *g_env_error : Status::Ok();
}

bool crash_armed() {
  g_env_once(load_from_environment);
  return registry().crash.load(std::memory_order_acquire);
}

FailOutcome failpoint_eval(FailSite site) {
  g_env_once(load_from_environment);
  Registry& r = registry();
  if (!r.any.load(std::memory_order_acquire)) return {};
  size_t i = static_cast<size_t>(site);
  if (!r.active[i].load(std::memory_order_acquire)) return {};
  FailTerm term;
  {
    std::lock_guard lock(r.mu);
    SiteState& st = r.sites[i];
    for (;;) {
      if (st.current >= st.chain.size()) return {};
      const FailTerm& t = st.chain[st.current];
      if (t.max_count && st.fired >= *t.max_count) {
        ++st.current;  // used up: the next term of the chain takes over
        st.fired = 0;
        continue;
      }
      term = t;
      break;
    }
    if (term.probability < 100.0) {
      double draw = static_cast<double>(splitmix64(&r.rng) >> 11) * (100.0 / 9007199254740992.0);
      if (draw >= term.probability) return {};
    }
    ++st.fired;
  }
  if (term.action == FailActionKind::off) return {};
  r.hits[i].fetch_add(1, std::memory_order_relaxed);
  switch (term.action) {
    case FailActionKind::off:
      return {};
    case FailActionKind::error:
      return {FailOutcome::error, static_cast<int>(term.arg), 0};
    case FailActionKind::short_io:
      return {FailOutcome::short_io, 0, term.arg};
    case FailActionKind::delay:
      std::this_thread::sleep_for(std::chrono::milliseconds(term.arg));
      return {};
    case FailActionKind::yield:
      std::this_thread::yield();
      return {};
    case FailActionKind::crash:
      fmt::print(stderr, "vstore: failpoint {} fired: crash (power cut for unsynced data)\n", failpoint_name(site));
      simulate_power_cut_and_die();
  }
  return {};
}

}  // namespace internal

#else  // !VSTORE_FAILPOINTS_ENABLED

Status configure_failpoints(std::string_view spec) {
  std::vector<internal::FailSpec> specs;
  VSTORE_RETURN_IF_ERROR(internal::parse_failpoint_spec(spec, &specs));
  if (specs.empty()) return Status::Ok();
  return Status::Invalid("failpoints are not compiled into this build (configure with VSTORE_FAILPOINTS=ON, e.g. the debug, asan or tsan preset)");
}
void set_failpoint_seed(uint64_t) {}
uint64_t failpoint_hits(FailSite) { return 0; }

namespace internal {
Status failpoint_environment_status() {
  const char* env = std::getenv("VSTORE_FAILPOINTS");
  if (env == nullptr || *env == '\0') return Status::Ok();
  Status st = configure_failpoints(env);
  if (st.ok()) return st;
  return Status::Invalid(fmt::format("VSTORE_FAILPOINTS: {}", st.message()));
}
}  // namespace internal

#endif

namespace internal {
Status failpoint_status(FailSite site) {
  FailOutcome o = failpoint_eval(site);
  if (o.kind == FailOutcome::error)
    return status_from_errno(o.err, fmt::format("failpoint {}", failpoint_name(site)));
  return Status::Ok();
}
}  // namespace internal

}  // namespace vstore
