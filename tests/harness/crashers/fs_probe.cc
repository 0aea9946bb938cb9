// fs_probe DIR: one of each file-system call `crashgate record` keeps, in a
// known order, on files under DIR (and a write to stdout, which is not under
// it). Its test (tests/harness/fs_record_test.cc) reads the recording back.
//
//   a      created, "hello" at 0, "world" at 100, fsync, closed, renamed to b
//   DIR    fsynced (the rename's directory)
//   b      cut to 8192 bytes, mapped shared; "page1" stored at 4106 and
//          msynced; "page0" stored at 5 and unmapped without msync
//   c      "ab" + "cd" in one writev, then unlinked
//   d      a directory made and removed
//   e      opened O_APPEND by a second thread, "x" written twice
//   f      mapped, "moved" stored at 7, renamed to g while mapped, fsynced
//   b      fdatasynced
//   h      mapped, "old" stored at 3; h.new written and renamed over h while
//          the old mapping is live; "stale" stored into that mapping, unmapped
//   i      mapped, "gone" stored at 0, unlinked; a new i written; the old
//          mapping stored into and unmapped
//   j      mapped, then a forked child stores "child" at 9 through the
//          mapping it inherited, msyncs it and exits; the parent unmaps
//   k1 k2  k1 mapped, "one" stored and msynced; k2 "two", fsynced; the
//          directory fsynced; renameat2(k1, k2, RENAME_EXCHANGE); "swap"
//          stored at 8 through k1's old mapping (its file is k2 now) and
//          msynced; the directory is not fsynced again
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::perror(what);
    std::exit(2);
  }
}

// A new 4 KiB file at `path`, mapped shared and writable; its fd in `fd`.
char* map_new_page(const std::string& path, int& fd) {
  fd = open(path.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0644);
  check(fd >= 0, "open");
  check(ftruncate(fd, 4096) == 0, "ftruncate");
  auto* map = static_cast<char*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  check(map != MAP_FAILED, "mmap");
  return map;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fs_probe DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  std::string a = dir + "/a", b = dir + "/b", c = dir + "/c", d = dir + "/d", e = dir + "/e";

  int fd = open(a.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  check(fd >= 0, "open a");
  check(write(fd, "hello", 5) == 5, "write a");
  check(pwrite(fd, "world", 5, 100) == 5, "pwrite a");
  check(fsync(fd) == 0, "fsync a");
  close(fd);
  check(rename(a.c_str(), b.c_str()) == 0, "rename a b");
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  check(dfd >= 0, "open dir");
  check(fsync(dfd) == 0, "fsync dir");
  close(dfd);

  fd = open(b.c_str(), O_RDWR);
  check(fd >= 0, "open b");
  check(ftruncate(fd, 8192) == 0, "ftruncate b");
  auto* map = static_cast<char*>(mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  check(map != MAP_FAILED, "mmap b");
  std::memcpy(map + 4096 + 10, "page1", 5);
  check(msync(map + 4096, 4096, MS_SYNC) == 0, "msync b");
  std::memcpy(map + 5, "page0", 5);
  check(munmap(map, 8192) == 0, "munmap b");
  close(fd);

  fd = open(c.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  check(fd >= 0, "open c");
  iovec parts[2] = {{const_cast<char*>("ab"), 2}, {const_cast<char*>("cd"), 2}};
  check(writev(fd, parts, 2) == 4, "writev c");
  close(fd);
  check(unlink(c.c_str()) == 0, "unlink c");
  check(mkdir(d.c_str(), 0755) == 0, "mkdir d");
  check(rmdir(d.c_str()) == 0, "rmdir d");

  std::thread appender([&] {
    int efd = open(e.c_str(), O_CREAT | O_WRONLY | O_APPEND, 0644);
    check(efd >= 0, "open e");
    check(write(efd, "x", 1) == 1, "write e");
    check(write(efd, "x", 1) == 1, "write e");
    close(efd);
  });
  appender.join();

  // f: mapped, stored into, renamed to g while mapped, then fsynced under its new name.
  std::string f = dir + "/f", g = dir + "/g";
  char* fmap = map_new_page(f, fd);
  std::memcpy(fmap + 7, "moved", 5);
  check(rename(f.c_str(), g.c_str()) == 0, "rename f g");
  check(fsync(fd) == 0, "fsync g");
  check(munmap(fmap, 4096) == 0, "munmap g");
  close(fd);

  fd = open(b.c_str(), O_RDWR);
  check(fd >= 0, "open b again");
  check(fdatasync(fd) == 0, "fdatasync b");
  close(fd);

  // h: replaced by a rename while mapped. The old file keeps its mapping but
  // loses its name: a store into it after the rename reaches no named file.
  std::string h = dir + "/h", h_new = dir + "/h.new";
  char* hmap = map_new_page(h, fd);
  std::memcpy(hmap + 3, "old", 3);
  int nfd = open(h_new.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  check(nfd >= 0, "open h.new");
  check(pwrite(nfd, "new", 3, 0) == 3, "pwrite h.new");
  check(fsync(nfd) == 0, "fsync h.new");
  close(nfd);
  check(rename(h_new.c_str(), h.c_str()) == 0, "rename h.new h");
  std::memcpy(hmap + 3, "stale", 5);
  check(munmap(hmap, 4096) == 0, "munmap old h");
  close(fd);

  // i: unlinked while mapped, and a new file made under its name.
  std::string i = dir + "/i";
  char* imap = map_new_page(i, fd);
  std::memcpy(imap, "gone", 4);
  check(unlink(i.c_str()) == 0, "unlink i");
  nfd = open(i.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  check(nfd >= 0, "open new i");
  check(write(nfd, "fresh", 5) == 5, "write new i");
  close(nfd);
  std::memcpy(imap, "stale", 5);
  check(munmap(imap, 4096) == 0, "munmap old i");
  close(fd);
  // j: a forked child writes through the mapping it inherited and msyncs it.
  std::string j = dir + "/j";
  char* jmap = map_new_page(j, fd);
  pid_t child = fork();
  check(child >= 0, "fork");
  if (child == 0) {
    std::memcpy(jmap + 9, "child", 5);
    _exit(msync(jmap, 4096, MS_SYNC) == 0 ? 0 : 3);
  }
  int status = 0;
  check(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's msync of j");
  check(munmap(jmap, 4096) == 0, "munmap j");
  close(fd);
  // k1 and k2 trade names while k1 is mapped.
  std::string k1 = dir + "/k1", k2 = dir + "/k2";
  char* kmap = map_new_page(k1, fd);
  std::memcpy(kmap, "one", 3);
  check(msync(kmap, 4096, MS_SYNC) == 0, "msync k1");
  check(fsync(fd) == 0, "fsync k1");
  nfd = open(k2.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  check(nfd >= 0, "open k2");
  check(write(nfd, "two", 3) == 3, "write k2");
  check(fsync(nfd) == 0, "fsync k2");
  close(nfd);
  dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  check(dfd >= 0 && fsync(dfd) == 0, "fsync dir before the exchange");
  close(dfd);
  check(renameat2(AT_FDCWD, k1.c_str(), AT_FDCWD, k2.c_str(), RENAME_EXCHANGE) == 0, "renameat2 k1 k2 RENAME_EXCHANGE");
  std::memcpy(kmap + 8, "swap", 4);
  check(msync(kmap, 4096, MS_SYNC) == 0, "msync k2 (k1's old file)");
  check(munmap(kmap, 4096) == 0, "munmap k2");
  close(fd);
  std::printf("fs_probe done\n");
  return 0;
}
