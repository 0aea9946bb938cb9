// The `import` op's copy and its keys (store_import.h).
#include "crashgate/store_import.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

namespace crashgate::kit {
namespace {

namespace fs = std::filesystem;

// Closes an fd when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

StepResult io_error(std::string_view doing, const std::string& path, int err) {
  return StepResult::error("io", fmt::format("import: {} {}: {}", doing, path, std::strerror(err)));
}

// Copies [begin, end) of `in` to the same offsets of `out`.
StepResult copy_range(int in, int out, off_t begin, off_t end, const std::string& source) {
  std::vector<char> buffer(1 << 20);
  for (off_t at = begin; at < end;) {
    ssize_t n = ::pread(in, buffer.data(), static_cast<std::size_t>(std::min<off_t>(end - at, static_cast<off_t>(buffer.size()))), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("reading", source, errno);
    if (n == 0) break;  // the file shrank while it was copied: what is there is what it holds
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::pwrite(out, buffer.data() + done, static_cast<std::size_t>(n - done), at + done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return io_error("writing the copy of", source, errno);
      done += w;
    }
    at += n;
  }
  return StepResult::ok();
}

// One regular file, its data regions only (SEEK_DATA/SEEK_HOLE), then its full length.
StepResult copy_file(const std::string& source, const std::string& target) {
  Fd in{::open(source.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)};
  if (in.fd < 0) return io_error("opening", source, errno);
  struct stat st {};
  if (::fstat(in.fd, &st) != 0) return io_error("reading", source, errno);
  Fd out{::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (out.fd < 0) return io_error("creating", target, errno);
  off_t size = st.st_size;
  for (off_t at = 0; at < size;) {
    off_t data = ::lseek(in.fd, at, SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;  // only a hole is left
    if (data < 0) return copy_range(in.fd, out.fd, at, size, source);  // no SEEK_DATA here: copy it all
    off_t hole = ::lseek(in.fd, data, SEEK_HOLE);
    if (hole < 0) hole = size;
    if (StepResult r = copy_range(in.fd, out.fd, data, hole, source); !r.is_ok) return r;
    at = hole;
  }
  if (::ftruncate(out.fd, size) != 0) return io_error("sizing the copy of", source, errno);
  return StepResult::ok();
}

// `inner` is `outer` or lies inside it, symlinks resolved (a path that cannot be resolved is neither).
bool lies_in(const fs::path& inner, const fs::path& outer) {
  std::error_code ec_in, ec_out;
  fs::path a = fs::weakly_canonical(inner, ec_in), b = fs::weakly_canonical(outer, ec_out);
  if (ec_in || ec_out || a.empty() || b.empty()) return false;
  auto parts = [](const fs::path& p) {
    std::vector<fs::path> out;
    for (const auto& part : p)
      if (!part.empty()) out.push_back(part);  // a trailing separator's empty name is no part
    return out;
  };
  std::vector<fs::path> in = parts(a), out = parts(b);
  return out.size() <= in.size() && std::equal(out.begin(), out.end(), in.begin());
}

}  // namespace

StepResult import_store_files(const std::string& from, const std::string& store_dir) {
  struct stat st {};
  if (::stat(from.c_str(), &st) != 0) {
    int err = errno;
    return StepResult::error(err == ENOENT || err == ENOTDIR ? "not-found" : "io",
                             fmt::format("import: from = {}: {}", from, std::strerror(err)));
  }
  if (!S_ISDIR(st.st_mode)) return StepResult::error("invalid-argument", fmt::format("import: from = {} is not a directory", from));
  // The store is emptied: `from` must not be it or lie in it. (The store may
  // lie in `from`, a work directory under the field's: only regular files are copied.)
  std::error_code ec;
  if (lies_in(from, store_dir))
    return StepResult::error("invalid-argument", fmt::format("import: from = {} lies in the store's directory {}, which the import empties",
                                                             from, store_dir));
  // What was in the store goes: the store is the files imported, and only them.
  fs::remove_all(store_dir, ec);
  if (ec) return StepResult::error("io", fmt::format("import: emptying {}: {}", store_dir, ec.message()));
  fs::create_directories(store_dir, ec);
  if (ec) return StepResult::error("io", fmt::format("import: making {}: {}", store_dir, ec.message()));
  fs::directory_iterator entries(from, ec);
  if (ec) return StepResult::error("io", fmt::format("import: listing {}: {}", from, ec.message()));
  for (const fs::directory_entry& entry : entries) {
    if (!entry.is_regular_file(ec)) continue;  // follows symlinks; a fifo would block the open
    std::string name = entry.path().filename().string();
    if (StepResult r = copy_file(entry.path().string(), store_dir + "/" + name); !r.is_ok) return r;
  }
  return StepResult::ok();
}

namespace {

StepResult disagreement(std::string_view key, const std::string& given, const std::string& in_files, const std::string& where) {
  return StepResult::error("invalid-argument", fmt::format("import: {} = {}, but {} says {}", key, given, where, in_files));
}

}  // namespace

StepResult settle_import_key(const Args& step, std::string_view key, const FromFiles<std::uint64_t>& files,
                             std::uint64_t fallback, std::uint64_t& out) {
  out = step.u64(key, fallback);
  if (!files.value) return StepResult::ok();
  if (step.has(key) && out != *files.value) return disagreement(key, std::to_string(out), std::to_string(*files.value), files.where);
  out = *files.value;
  return StepResult::ok();
}

StepResult settle_import_key(const Args& step, std::string_view key, const FromFiles<std::string>& files,
                             std::string fallback, std::string& out) {
  out = step.string(key, std::move(fallback));
  if (!files.value) return StepResult::ok();
  if (step.has(key) && out != *files.value) return disagreement(key, out, *files.value, files.where);
  out = *files.value;
  return StepResult::ok();
}

}  // namespace crashgate::kit
