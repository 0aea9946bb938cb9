#include "record/fs_syscalls.h"

#include <sys/syscall.h>

namespace crashgate::record {

std::string_view to_string(FsKind k) {
  switch (k) {
    case FsKind::open: return "open";
    case FsKind::write: return "write";
    case FsKind::truncate: return "truncate";
    case FsKind::allocate: return "allocate";
    case FsKind::rename: return "rename";
    case FsKind::link: return "link";
    case FsKind::unlink: return "unlink";
    case FsKind::mkdir: return "mkdir";
    case FsKind::rmdir: return "rmdir";
    case FsKind::persist: return "persist";
    case FsKind::map: return "map";
    case FsKind::unmap: return "unmap";
    case FsKind::remap: return "remap";
    case FsKind::map_sync: return "map-sync";
    case FsKind::close: return "close";
  }
  return "?";
}

const std::vector<FsSyscall>& fs_syscalls() {
  // Argument positions from the kernel's syscall signatures (x86-64).
  static const std::vector<FsSyscall> table = {
      {.nr = SYS_open, .name = "open", .kind = FsKind::open, .path = 0, .flags = 1},
      {.nr = SYS_openat, .name = "openat", .kind = FsKind::open, .dirfd = 0, .path = 1, .flags = 2},
      {.nr = SYS_creat, .name = "creat", .kind = FsKind::open, .path = 0},
      {.nr = SYS_write, .name = "write", .kind = FsKind::write, .fd = 0, .buf = 1, .count = 2},
      {.nr = SYS_pwrite64, .name = "pwrite64", .kind = FsKind::write, .fd = 0, .buf = 1, .count = 2, .offset = 3},
      {.nr = SYS_writev, .name = "writev", .kind = FsKind::write, .fd = 0, .buf = 1, .count = 2, .vectored = true},
      {.nr = SYS_pwritev, .name = "pwritev", .kind = FsKind::write, .fd = 0, .buf = 1, .count = 2, .offset = 3, .vectored = true},
      {.nr = SYS_pwritev2, .name = "pwritev2", .kind = FsKind::write, .fd = 0, .buf = 1, .count = 2, .offset = 3, .flags = 5,
       .vectored = true},
      {.nr = SYS_truncate, .name = "truncate", .kind = FsKind::truncate, .path = 0, .length = 1},
      {.nr = SYS_ftruncate, .name = "ftruncate", .kind = FsKind::truncate, .fd = 0, .length = 1},
      {.nr = SYS_fallocate, .name = "fallocate", .kind = FsKind::allocate, .fd = 0, .offset = 2, .length = 3, .flags = 1},
      {.nr = SYS_rename, .name = "rename", .kind = FsKind::rename, .path = 0, .path2 = 1},
      {.nr = SYS_renameat, .name = "renameat", .kind = FsKind::rename, .dirfd = 0, .path = 1, .dirfd2 = 2, .path2 = 3},
      {.nr = SYS_renameat2, .name = "renameat2", .kind = FsKind::rename, .dirfd = 0, .path = 1, .dirfd2 = 2, .path2 = 3,
       .flags = 4},
      {.nr = SYS_link, .name = "link", .kind = FsKind::link, .path = 0, .path2 = 1},
      {.nr = SYS_linkat, .name = "linkat", .kind = FsKind::link, .dirfd = 0, .path = 1, .dirfd2 = 2, .path2 = 3, .flags = 4},
      {.nr = SYS_unlink, .name = "unlink", .kind = FsKind::unlink, .path = 0},
      {.nr = SYS_unlinkat, .name = "unlinkat", .kind = FsKind::unlink, .dirfd = 0, .path = 1, .flags = 2},
      {.nr = SYS_mkdir, .name = "mkdir", .kind = FsKind::mkdir, .path = 0},
      {.nr = SYS_mkdirat, .name = "mkdirat", .kind = FsKind::mkdir, .dirfd = 0, .path = 1},
      {.nr = SYS_rmdir, .name = "rmdir", .kind = FsKind::rmdir, .path = 0},
      {.nr = SYS_fsync, .name = "fsync", .kind = FsKind::persist, .fd = 0},
      {.nr = SYS_fdatasync, .name = "fdatasync", .kind = FsKind::persist, .fd = 0},
      {.nr = SYS_sync_file_range, .name = "sync_file_range", .kind = FsKind::persist, .fd = 0, .offset = 1, .length = 2,
       .flags = 3},
      {.nr = SYS_syncfs, .name = "syncfs", .kind = FsKind::persist, .fd = 0},
      {.nr = SYS_sync, .name = "sync", .kind = FsKind::persist},
      {.nr = SYS_mmap, .name = "mmap", .kind = FsKind::map, .fd = 4, .offset = 5, .length = 1, .flags = 3},
      {.nr = SYS_munmap, .name = "munmap", .kind = FsKind::unmap, .length = 1},
      {.nr = SYS_mremap, .name = "mremap", .kind = FsKind::remap, .length = 2, .flags = 3},
      {.nr = SYS_msync, .name = "msync", .kind = FsKind::map_sync, .length = 1, .flags = 2},
      {.nr = SYS_close, .name = "close", .kind = FsKind::close, .fd = 0},
  };
  return table;
}

const FsSyscall* fs_syscall(long nr) {
  for (const auto& s : fs_syscalls())
    if (s.nr == nr) return &s;
  return nullptr;
}

}  // namespace crashgate::record
