#include "vstore/regression.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>

#include <fmt/format.h>

#include "load_once.h"

namespace vstore {
namespace {

constexpr RegressionInfo kTable[] = {
#define VSTORE_X(e, id, report, what, shows) {Regression::e, id, report, what, shows},
    VSTORE_REGRESSIONS_TABLE(VSTORE_X)
#undef VSTORE_X
};
static_assert(std::size(kTable) == static_cast<size_t>(Regression::count_));
static_assert(std::size(kTable) <= 64, "the active set is a 64-bit mask");

// Parses "a,b" into a bit mask; invalid-argument naming the first unknown id.
Status parse_ids(std::string_view ids, uint64_t* mask) {
  *mask = 0;
  size_t pos = 0;
  while (pos <= ids.size()) {
    size_t comma = ids.find(',', pos);
    if (comma == std::string_view::npos) comma = ids.size();
    std::string_view id = ids.substr(pos, comma - pos);
    while (!id.empty() && id.front() == ' ') id.remove_prefix(1);
    while (!id.empty() && id.back() == ' ') id.remove_suffix(1);
    if (!id.empty()) {
      bool found = false;
      for (const RegressionInfo& info : kTable) {
        if (info.id == id) {
          *mask |= uint64_t{1} << static_cast<unsigned>(info.regression);
          found = true;
        }
      }
      if (!found) {
        std::string known;
        for (const RegressionInfo& info : kTable) known += fmt::format("{}{}", known.empty() ? "" : ", ", info.id);
        return Status::Invalid(fmt::format("unknown regression id '{}' (known: {})", id, known));
      }
    }
    pos = comma + 1;
  }
  return Status::Ok();
}

#ifdef VSTORE_REGRESSIONS_ENABLED
std::atomic<uint64_t> g_active{0};
internal::LoadOnce g_env_once;
const Status* g_env_error = nullptr;  // set once, under g_env_once

void load_from_environment() {
  const char* env = std::getenv("VSTORE_REGRESSION");
  if (env == nullptr) return;
  uint64_t mask = 0;
  Status st = parse_ids(env, &mask);
  if (!st.ok()) {
    // A typo here would silently test the hardened engine: stores refuse to open.
    g_env_error = new Status(Status::Invalid(fmt::format("VSTORE_REGRESSION: {}", st.message())));
    return;
  }
  g_active.store(mask, std::memory_order_relaxed);
}
#endif

}  // namespace

const RegressionInfo* regression_table(size_t* size) {
  *size = std::size(kTable);
  return kTable;
}

#ifdef VSTORE_REGRESSIONS_ENABLED
bool regression_enabled(Regression r) {
  g_env_once(load_from_environment);
  return (g_active.load(std::memory_order_relaxed) >> static_cast<unsigned>(r)) & 1;
}
#endif

Status regression_environment_status() {
#ifdef VSTORE_REGRESSIONS_ENABLED
  g_env_once(load_from_environment);
  return g_env_error ? *g_env_error : Status::Ok();
#else
  const char* env = std::getenv("VSTORE_REGRESSION");
  if (env == nullptr || *env == '\0') return Status::Ok();
  Status st = set_regressions(env);
  return st.ok() ? st : Status::Invalid(fmt::format("VSTORE_REGRESSION: {}", st.message()));
#endif
}

Status set_regressions(std::string_view ids) {
  uint64_t mask = 0;
  VSTORE_RETURN_IF_ERROR(parse_ids(ids, &mask));
#ifdef VSTORE_REGRESSIONS_ENABLED
  g_env_once(load_from_environment);
  g_active.store(mask, std::memory_order_relaxed);
  return Status::Ok();
#else
  if (mask == 0) return Status::Ok();
  return Status::Invalid("regression switches are not compiled into this build (configure with VSTORE_REGRESSIONS=ON, e.g. the debug or asan preset)");
#endif
}

}  // namespace vstore
