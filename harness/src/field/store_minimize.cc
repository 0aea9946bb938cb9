// Minimizing a crashing data directory: the smallest copy on which one read
// still crashes with the same signature. Each trial is one observed cell
// (import the candidate, read it one way); a change is kept only when the
// crash stays the same, so the result reproduces what the field saw.
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "crashgate/driver_protocol.h"
#include "crashgate/limits.h"
#include "crashgate/store_triage.h"
#include "crashgate/triage.h"

namespace crashgate {
namespace {

namespace fs = std::filesystem;

std::uint64_t total_bytes(const fs::path& dir, int* files = nullptr, std::uint64_t* nonzero = nullptr) {
  std::uint64_t bytes = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    bytes += entry.file_size(ec);
    if (files) ++*files;
    if (nonzero) {
      std::ifstream in(entry.path(), std::ios::binary);
      char buffer[65536];
      while (in.read(buffer, sizeof buffer) || in.gcount() > 0)
        for (std::streamsize i = 0; i < in.gcount(); ++i) *nonzero += buffer[i] != 0;
    }
  }
  return bytes;
}

class Minimizer {
 public:
  Minimizer(const EngineLayout& engine, std::string what, std::string signature, const StoreMinimizeOptions& options,
            const RunContext& context)
      : engine_(engine), what_(std::move(what)), signature_(std::move(signature)), options_(options), context_(context) {}

  // Whether the read still crashes the same way on `candidate`.
  bool same_crash(const fs::path& candidate) {
    if (trials_ >= options_.max_trials || cancelled()) {
      out_of_trials_ = trials_ >= options_.max_trials;
      return false;
    }
    ++trials_;
    fs::path work = fs::path(options_.work_root) / fmt::format("trial-{}", trials_);
    Cell cell = store_read_cell(engine_.target, options_.build, what_, candidate.string());
    auto spec = cell_run_spec(cell, {engine_.driver}, work.string());
    if (!spec) return false;
    Outcome o = run_observed(*spec, context_);
    triage(o, nullptr);
    std::error_code ec;
    fs::remove_all(work, ec);
    return o.signature == signature_;
  }
  bool cancelled() const { return context_.cancellation && context_.cancellation->cancelled(); }
  int trials() const { return trials_; }
  bool out_of_trials() const { return out_of_trials_; }

 private:
  const EngineLayout& engine_;
  std::string what_, signature_;
  const StoreMinimizeOptions& options_;
  const RunContext& context_;
  int trials_ = 0;
  bool out_of_trials_ = false;
};

// A trial copy: `best` with one change made by `change` (on the copy's path).
template <class Change>
bool try_change(Minimizer& m, const fs::path& best, const fs::path& trial, Change change) {
  std::error_code ec;
  fs::remove_all(trial, ec);
  fs::copy(best, trial, fs::copy_options::recursive, ec);
  if (ec || !change(trial)) return false;
  if (!m.same_crash(trial)) return false;
  fs::remove_all(best, ec);
  fs::rename(trial, best, ec);
  return !ec;
}

bool zero_region(const fs::path& file, std::uint64_t offset, std::uint64_t length) {
  std::fstream io(file, std::ios::binary | std::ios::in | std::ios::out);
  if (!io) return false;
  io.seekp(static_cast<std::streamoff>(offset));
  std::string zeros(length, '\0');
  io.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
  return static_cast<bool>(io);
}

bool all_zero(const fs::path& file, std::uint64_t offset, std::uint64_t length) {
  std::ifstream in(file, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string bytes(length, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(length));
  return bytes.find_first_not_of('\0', 0) == std::string::npos || in.gcount() == 0;
}

}  // namespace

Checked<StoreMinimized> minimize_store(const std::string& dir, const EngineLayout& engine, const std::string& what,
                                       const std::string& signature, const StoreMinimizeOptions& options,
                                       const RunContext& context) {
  std::error_code ec;
  fs::path root = fs::absolute(options.work_root, ec);
  fs::path best = root / "minimized", trial = root / "candidate";
  fs::remove_all(best, ec);
  fs::create_directories(root, ec);
  fs::copy(dir, best, fs::copy_options::recursive, ec);
  if (ec) return failure(fmt::format("{}: cannot be copied to {}: {}", dir, best.string(), ec.message()));
  StoreMinimized result;
  result.bytes_before = total_bytes(best, &result.files_before);
  Minimizer m(engine, what, signature, options, context);
  if (!m.same_crash(best))
    return failure(fmt::format("{}: read {} does not crash with signature {} on a copy of it, so there is nothing to "
                               "minimize (a crash that comes and goes?)",
                               dir, what, signature));

  // 1. Whole files dropped, the largest first.
  std::vector<std::pair<std::uint64_t, std::string>> files;
  for (const auto& entry : fs::directory_iterator(best, ec))
    if (entry.is_regular_file(ec)) files.emplace_back(entry.file_size(ec), entry.path().filename().string());
  std::sort(files.rbegin(), files.rend());
  std::vector<std::string> kept;
  for (const auto& file : files) {
    const std::string& name = file.second;  // named, not bound: lambdas cannot capture a structured binding (clang 14)
    if (try_change(m, best, trial, [&](const fs::path& t) { return fs::remove(t / name); }))
      result.changes.push_back(fmt::format("dropped {}", name));
    else
      kept.push_back(name);
  }
  // 2. Each file cut shorter: halving the cut while it keeps the crash.
  for (const auto& name : kept) {
    std::uint64_t size = fs::file_size(best / name, ec);
    for (std::uint64_t cut = size / 2; cut >= options.cut_granule && !m.cancelled();) {
      std::uint64_t shorter = size - cut;
      if (try_change(m, best, trial, [&](const fs::path& t) {
            std::error_code resize_ec;
            fs::resize_file(t / name, shorter, resize_ec);
            return !resize_ec;
          })) {
        size = shorter;
        result.changes.push_back(fmt::format("cut {} to {} bytes", name, format_thousands(size)));
        cut = std::min(cut, size / 2);
      } else {
        cut /= 2;
      }
    }
  }
  // 3. Regions zeroed: halves, then quarters, ... down to the granule.
  for (const auto& name : kept) {
    std::uint64_t size = fs::file_size(best / name, ec);
    for (std::uint64_t chunk = size / 2; chunk >= options.zero_granule && !m.cancelled() && !m.out_of_trials(); chunk /= 2)
      for (std::uint64_t at = 0; at < size && !m.out_of_trials(); at += chunk) {
        std::uint64_t length = std::min(chunk, size - at);
        if (all_zero(best / name, at, length)) continue;
        if (try_change(m, best, trial, [&](const fs::path& t) { return zero_region(t / name, at, length); }))
          result.changes.push_back(fmt::format("zeroed {} bytes of {} at {}", format_thousands(length), name, format_thousands(at)));
      }
  }
  fs::remove_all(trial, ec);
  result.dir = best.string();
  result.bytes_after = total_bytes(best, &result.files_after, &result.nonzero_after);
  result.trials = m.trials();
  result.out_of_trials = m.out_of_trials();
  return result;
}

}  // namespace crashgate
