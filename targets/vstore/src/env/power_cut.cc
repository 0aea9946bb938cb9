#include "env/power_cut.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "failpoint/evaluate.h"

namespace vstore::internal {

PowerCutLog& power_cut_log() {
  static PowerCutLog* log = new PowerCutLog();  // used up to the last instant: never destroyed
  return *log;
}

PowerCutLog::FileUndo* PowerCutLog::track(int fd, bool created) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return nullptr;
  Key key{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
  auto it = files_.find(key);
  if (it != files_.end()) return &it->second;
  FileUndo undo;
  undo.fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (undo.fd < 0) return nullptr;
  undo.durable_size = created ? 0 : static_cast<uint64_t>(st.st_size);
  return &files_.emplace(key, std::move(undo)).first->second;
}

void PowerCutLog::record_created(int fd) {
  std::lock_guard lock(mu_);
  track(fd, /*created=*/true);
}

void PowerCutLog::record_write(int fd, uint64_t offset, uint64_t n) {
  std::lock_guard lock(mu_);
  FileUndo* f = track(fd, false);
  if (f == nullptr || offset >= f->durable_size) return;  // beyond the durable size: the cut truncates it
  uint64_t len = std::min<uint64_t>(n, f->durable_size - offset);
  Region r{offset, std::vector<char>(len)};
  ssize_t got = ::pread(f->fd, r.old_bytes.data(), len, static_cast<off_t>(offset));
  if (got < 0) return;
  r.old_bytes.resize(static_cast<size_t>(got));
  f->regions.push_back(std::move(r));
}

void PowerCutLog::record_truncate(int fd) {
  std::lock_guard lock(mu_);
  track(fd, false);
}

void PowerCutLog::record_sync(int fd) {
  std::lock_guard lock(mu_);
  FileUndo* f = track(fd, false);
  if (f == nullptr) return;
  struct stat st;
  if (::fstat(f->fd, &st) == 0) f->durable_size = static_cast<uint64_t>(st.st_size);
  f->regions.clear();
}

// clang's profile runtime, present only in a coverage build (-fprofile-instr-generate):
// a process that dies by SIGKILL never writes its profile at exit.
extern "C" int __llvm_profile_write_file(void) __attribute__((weak));

void PowerCutLog::cut_and_die() {
  mu_.lock();  // never released: other threads stop writing through the seam here
  for (auto& [key, f] : files_) {
    for (auto it = f.regions.rbegin(); it != f.regions.rend(); ++it) {
      if (::pwrite(f.fd, it->old_bytes.data(), it->old_bytes.size(), static_cast<off_t>(it->offset)) < 0) break;
    }
    if (::ftruncate(f.fd, static_cast<off_t>(f.durable_size)) != 0) {
      // Nothing more can be done in a dying process; the file keeps what it has.
    }
  }
  // What this process ran, for crashgate's footprints: a crash point in a second process
  // (power-cut-at-every-write-site) would otherwise leave its cell no footprint of the
  // compaction or commit it died in. Written outside the store, after the undo.
  if (&__llvm_profile_write_file != nullptr) __llvm_profile_write_file();
  ::kill(::getpid(), SIGKILL);
  for (;;) ::pause();
}

[[noreturn]] void simulate_power_cut_and_die() { power_cut_log().cut_and_die(); }

}  // namespace vstore::internal
