// Damage from outside: truncate, corrupt and replace the index file. The index
// is closed first (saved when it changed, as a process that ended cleanly
// would leave it), unless `while_open` asks for damage to the file while the
// index is loaded (hnswlib reads the file only in loadIndex, so that damage
// shows at the next load).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "session.h"

namespace crashgate::hnswlib_driver {

namespace {

// The foreign index `replace with = "foreign"` takes its file from: other records, another dimension.
constexpr std::uint64_t kForeignRecords = 50;

// A number after "u32le:" / "u64le:" (crashgate checked its form).
bool parse_damage_number(std::string_view text, std::uint64_t& n) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  return ec == std::errc() && end == text.data() + text.size();
}

StepResult errno_error(int err, const std::string& doing) {
  std::string code = err == ENOENT ? "not-found" : err == ENOSPC || err == EFBIG ? "resource-exhausted" : "io";
  return StepResult::error(code, fmt::format("{}: {} (errno {})", doing, std::strerror(err), err));
}

}  // namespace

StepResult Session::damage_target(const Args& step, const char* offset_key, DamageTarget& target) {
  records_.unsure();  // outside damage: what the engine reads next is not what the model holds
  if (!step.boolean("while_open", false))
    if (StepResult r = close_index(); !r.is_ok) return r;
  std::string file = step.string("file");
  const kit::LayoutFile* layout = layout_of(file);
  if (!layout) return StepResult::error("invalid-argument", fmt::format("hnswlib's one file is index, not '{}'", file));
  if (!created_) return StepResult::error("not-found", "there is no store: no create step made one");
  target.path = index_path();
  Checked<std::uint64_t> offset = kit::evaluate_offset(*layout, target.path, step.string(offset_key), extra_terms(target.path));
  if (!offset)
    return StepResult::error("invalid-argument", fmt::format("{} = \"{}\": {}", offset_key, step.string(offset_key), offset.error()));
  target.offset = *offset;
  return StepResult::ok();
}

StepResult Session::truncate(const Args& step) {
  DamageTarget t;
  if (StepResult r = damage_target(step, "to", t); !r.is_ok) return r;
  if (::truncate(t.path.c_str(), static_cast<off_t>(t.offset)) != 0)
    return errno_error(errno, fmt::format("truncate {} to {}", kIndexFile, t.offset));
  context_.log(fmt::format("truncated {} to {} bytes{}", kIndexFile, t.offset, engine_ ? " (the index loaded)" : ""));
  return StepResult::ok();
}

StepResult Session::corrupt(const Args& step) {
  DamageTarget t;
  if (StepResult r = damage_target(step, "at", t); !r.is_ok) return r;
  std::uint64_t bytes = step.u64("bytes", 1);
  // value: a byte (0-255) over each byte, "flip" (the default) to invert
  // them, or "u32le:N" / "u64le:N", a little-endian number of bytes = 4 or 8.
  std::string value = step.string("value", "flip");
  std::vector<unsigned char> buf(bytes, 0);
  if (value.rfind("u32le:", 0) == 0 || value.rfind("u64le:", 0) == 0) {
    std::uint64_t width = value[1] == '3' ? 4 : 8, n = 0;
    if (bytes != width) return StepResult::error("invalid-argument", fmt::format("corrupt: value {} needs bytes = {}", value, width));
    if (!parse_damage_number(std::string_view(value).substr(6), n) || (width == 4 && n > 0xFFFFFFFFu))
      return StepResult::error("invalid-argument", fmt::format("corrupt: '{}' is not u32le:N or u64le:N", value));
  } else if (value != "flip") {
    std::uint64_t byte = 0;
    if (!parse_damage_number(value, byte) || byte > 255)
      return StepResult::error("invalid-argument", fmt::format("corrupt: value '{}' is not flip, a byte, u32le:N or u64le:N", value));
  }
  int fd = ::open(t.path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return errno_error(errno, fmt::format("corrupt: open {}", kIndexFile));
  auto fail = [&](const char* call) {
    int err = errno;
    ::close(fd);
    return errno_error(err, fmt::format("corrupt: {} {} at {}", call, kIndexFile, t.offset));
  };
  // What is there now (past the end: zeros), so that `flip` inverts it.
  for (std::uint64_t done = 0; done < bytes;) {
    ssize_t n = ::pread(fd, buf.data() + done, bytes - done, static_cast<off_t>(t.offset + done));
    if (n < 0) return fail("pread");
    if (n == 0) break;
    done += static_cast<std::uint64_t>(n);
  }
  if (value.rfind("u32le:", 0) == 0 || value.rfind("u64le:", 0) == 0) {
    std::uint64_t n = 0;
    parse_damage_number(std::string_view(value).substr(6), n);
    for (std::uint64_t i = 0; i < bytes; ++i) buf[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xFF);
  } else if (value == "flip") {
    for (unsigned char& c : buf) c = static_cast<unsigned char>(~c);
  } else {
    std::uint64_t byte = 0;
    parse_damage_number(value, byte);
    std::fill(buf.begin(), buf.end(), static_cast<unsigned char>(byte));
  }
  for (std::uint64_t done = 0; done < bytes;) {
    ssize_t n = ::pwrite(fd, buf.data() + done, bytes - done, static_cast<off_t>(t.offset + done));
    if (n < 0) return fail("pwrite");
    done += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  if (step.boolean("rechecksum", false)) context_.log("hnswlib's index has no checksums: nothing to recompute");
  context_.log(fmt::format("corrupted {} bytes of {} at {}{}", bytes, kIndexFile, t.offset, engine_ ? " (the index loaded)" : ""));
  return StepResult::ok();
}

StepResult Session::make_foreign(const std::string& path) {
  // Another index, saved whole: a dimension of 2 dim + 8, other vectors, the same metric.
  std::uint32_t dim = records_.dim() * 2 + 8;
  Engine other(dim, metric_);
  if (StepResult r = other.init(kForeignRecords, 16, 200, 7); !r.is_ok) return r;
  for (std::uint64_t id = 0; id < kForeignRecords; ++id)
    if (StepResult r = other.add(kit::record_for(id, dim, seed_ + 1).vector, id); !r.is_ok) return r;
  if (StepResult r = other.save(path); !r.is_ok) return r;
  context_.log(fmt::format("made a foreign index: {} records of {} dimensions", kForeignRecords, dim));
  return StepResult::ok();
}

StepResult Session::replace(const Args& step) {
  records_.unsure();  // another file in its place
  // `with`: empty (a file of no bytes), directory, fifo (loadIndex's ifstream
  // opens it and waits for a writer that never comes), or foreign (another
  // index's file: other records, another dimension).
  if (StepResult r = close_index(); !r.is_ok) return r;
  if (!created_) return StepResult::error("not-found", "there is no store: no create step made one");
  std::string with = step.string("with");
  std::string path = index_path();
  std::error_code ec;
  if (with == "foreign") {
    std::string other = work_dir_ + "/foreign.bin";
    if (!std::filesystem::exists(other, ec))
      if (StepResult r = make_foreign(other); !r.is_ok) return r;
    std::filesystem::remove_all(path, ec);
    if (!ec) std::filesystem::copy_file(other, path, std::filesystem::copy_options::overwrite_existing, ec);
  } else if (with == "empty" || with == "directory" || with == "fifo") {
    std::filesystem::remove_all(path, ec);
    if (!ec && with == "directory") std::filesystem::create_directory(path, ec);
    if (!ec && with == "empty") {
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) ec = std::error_code(errno, std::generic_category());
      else ::close(fd);
    }
    if (!ec && with == "fifo" && ::mkfifo(path.c_str(), 0644) != 0) ec = std::error_code(errno, std::generic_category());
  } else {
    return StepResult::error("invalid-argument", fmt::format("replace: with must be empty, directory, fifo or foreign, not '{}'", with));
  }
  if (ec) return errno_error(ec.value(), fmt::format("replace {} with {}", kIndexFile, with));
  context_.log(fmt::format("replaced {} with {}", kIndexFile, with == "foreign" ? "a foreign index's" : with));
  return StepResult::ok();
}

}  // namespace crashgate::hnswlib_driver
