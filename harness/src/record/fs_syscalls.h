// The system calls `crashgate record` stops on: every call that changes or
// persists files, with where each keeps its arguments (x86-64 Linux). One
// table: the seccomp filter, the decoder and `crashgate record --help` all
// read it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace crashgate::record {

// What a call does to the files, for the crash-state model.
enum class FsKind {
  open,        // open, openat, creat: may create a file
  write,       // write, pwrite64, writev, pwritev, pwritev2: data at an offset
  truncate,    // truncate, ftruncate: a new size
  allocate,    // fallocate
  rename,      // rename, renameat, renameat2
  link,        // link, linkat
  unlink,      // unlink, unlinkat (AT_REMOVEDIR: a directory)
  mkdir,       // mkdir, mkdirat
  rmdir,       // rmdir
  persist,     // fsync, fdatasync, sync_file_range, syncfs, sync: a persistence point
  map,         // mmap of a file
  unmap,       // munmap
  remap,       // mremap
  map_sync,    // msync: a persistence point for a mapping
  close,       // close
};
std::string_view to_string(FsKind k);

// Argument slots (0..5) of a call; -1 where the call has none.
struct FsSyscall {
  long nr;
  std::string_view name;
  FsKind kind;
  int fd = -1;       // the file descriptor argument
  int dirfd = -1;    // *at calls: the directory fd of `path`
  int path = -1;     // a path argument
  int dirfd2 = -1;   // renameat/linkat: the second path's directory fd
  int path2 = -1;    // the second path (rename's and link's new name)
  int buf = -1;      // write: the buffer; writev: the iovec array
  int count = -1;    // write: bytes; writev: iovec count
  int offset = -1;   // an explicit file offset (pwrite, fallocate, sync_file_range, mmap)
  int length = -1;   // a length (truncate, fallocate, sync_file_range, mmap, munmap, msync)
  int flags = -1;    // open/renameat2/unlinkat/msync/mmap flags
  bool vectored = false;  // buf/count are an iovec array and its length
};

const std::vector<FsSyscall>& fs_syscalls();
const FsSyscall* fs_syscall(long nr);

}  // namespace crashgate::record
