// Damage from outside: truncate, corrupt and replace one of the env's files.
// The env is closed first (as a process that has ended would leave it), unless
// `while_open` asks for damage to a file this process still maps.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "errors.h"
#include "guards.h"
#include "session.h"
#include "value.h"

namespace crashgate::lmdb_driver {

namespace {

// The foreign env `replace with = "foreign"` takes a file from: other records, another dimension.
constexpr std::uint64_t kForeignRecords = 50;

// A number after "u32le:" / "u64le:" (crashgate checked its form).
bool parse_number(std::string_view text, std::uint64_t& n) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

kit::ExtraTerm extra_terms(const std::string& path) {
  // `half`: the file's size now, halved (a cut through the middle of the pages).
  return [path](const std::string& name, const std::optional<std::string>& arg) -> std::optional<std::uint64_t> {
    if (name != "half" || arg) return std::nullopt;
    std::error_code ec;
    std::uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) return std::nullopt;
    return size / 2;
  };
}

std::string Session::file_path(const std::string& file) const {
  return store_dir_ + (file == "lock" ? "/lock.mdb" : "/data.mdb");
}

StepResult Session::damage_target(const Args& step, const char* offset_key, DamageTarget& target) {
  records_.unsure();  // outside damage: what the engine reads next is not what the model holds
  if (!step.boolean("while_open", false)) close_env();
  std::string file = step.string("file");
  const kit::LayoutFile* layout = layout_of(file);
  if (!layout) return StepResult::error("invalid-argument", fmt::format("LMDB's files are data and lock, not '{}'", file));
  target.path = file_path(file);
  Checked<std::uint64_t> offset = kit::evaluate_offset(*layout, target.path, step.string(offset_key), extra_terms(target.path));
  if (!offset) return StepResult::error("invalid-argument", fmt::format("{} = \"{}\": {}", offset_key, step.string(offset_key), offset.error()));
  target.offset = *offset;
  return StepResult::ok();
}

StepResult Session::truncate(const Args& step) {
  DamageTarget t;
  if (StepResult o = damage_target(step, "to", t); !o.is_ok) return o;
  std::string name = std::filesystem::path(t.path).filename().string();
  if (::truncate(t.path.c_str(), static_cast<off_t>(t.offset)) != 0) {
    int err = errno;
    return mdb_error(err, fmt::format("truncate {} to {}", name, t.offset));
  }
  context_.log(fmt::format("truncated {} to {} bytes{}", name, t.offset, env_ ? " (the env open)" : ""));
  return StepResult::ok();
}

StepResult Session::corrupt(const Args& step) {
  DamageTarget t;
  if (StepResult o = damage_target(step, "at", t); !o.is_ok) return o;
  std::string name = std::filesystem::path(t.path).filename().string();
  std::uint64_t bytes = step.u64("bytes", 1);
  // value: a byte (0-255) over each byte, "flip" (the default) to invert them,
  // or "u32le:N" / "u64le:N", a little-endian number of bytes = 4 or 8.
  std::string value = step.string("value", "flip");
  std::vector<unsigned char> buf(bytes, 0);
  int fd = ::open(t.path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return mdb_error(err, fmt::format("corrupt: open {}", name));
  }
  auto fail = [&](const char* call) {
    int err = errno;
    ::close(fd);
    return mdb_error(err, fmt::format("corrupt: {} {} at {}", call, name, t.offset));
  };
  // What is there now (past the end: zeros), so that `flip` inverts it.
  for (std::uint64_t done = 0; done < bytes;) {
    ssize_t n = ::pread(fd, buf.data() + done, bytes - done, static_cast<off_t>(t.offset + done));
    if (n < 0) return fail("pread");
    if (n == 0) break;
    done += static_cast<std::uint64_t>(n);
  }
  if (value.rfind("u32le:", 0) == 0 || value.rfind("u64le:", 0) == 0) {
    std::uint64_t width = value[1] == '3' ? 4 : 8, n = 0;
    if (bytes != width) {
      ::close(fd);
      return StepResult::error("invalid-argument", fmt::format("corrupt: value {} needs bytes = {}", value, width));
    }
    if (!parse_number(std::string_view(value).substr(6), n)) {
      ::close(fd);
      return StepResult::error("invalid-argument", fmt::format("corrupt: '{}' is not u32le:N or u64le:N", value));
    }
    for (std::uint64_t i = 0; i < width; ++i) buf[i] = static_cast<unsigned char>((n >> (8 * i)) & 0xFF);
  } else if (value == "flip") {
    for (unsigned char& c : buf) c = static_cast<unsigned char>(~c);
  } else {
    std::uint64_t byte = 0;
    if (!parse_number(value, byte) || byte > 255) {
      ::close(fd);
      return StepResult::error("invalid-argument", fmt::format("corrupt: value '{}' is not flip, a byte, u32le:N or u64le:N", value));
    }
    std::fill(buf.begin(), buf.end(), static_cast<unsigned char>(byte));
  }
  for (std::uint64_t done = 0; done < bytes;) {
    ssize_t n = ::pwrite(fd, buf.data() + done, bytes - done, static_cast<off_t>(t.offset + done));
    if (n < 0) return fail("pwrite");
    done += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  if (step.boolean("rechecksum", false)) context_.log("LMDB keeps no checksums: nothing to recompute");
  context_.log(fmt::format("corrupted {} bytes of {} at {}{}", bytes, name, t.offset, env_ ? " (the env open)" : ""));
  return StepResult::ok();
}

StepResult Session::make_foreign(const std::string& dir) {
  // Another env, written whole and closed: a dimension of 2 dim + 8, other vectors.
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return mdb_error(ec.value(), "replace: the foreign env's directory");
  std::uint32_t dim = records_.dim() * 2 + 8;
  MDB_env* env = nullptr;
  if (int rc = mdb_env_create(&env); rc != 0) return mdb_error(rc, "replace: the foreign env: mdb_env_create");
  auto done = [&](int rc, std::string_view doing) {
    mdb_env_close(env);
    return rc == 0 ? StepResult::ok() : mdb_error(rc, fmt::format("replace: the foreign env: {}", doing));
  };
  if (int rc = mdb_env_set_mapsize(env, std::size_t{16} << 20); rc != 0) return done(rc, "mdb_env_set_mapsize");
  if (int rc = mdb_env_open(env, dir.c_str(), 0, 0644); rc != 0) return done(rc, "mdb_env_open");
  {
    TxnGuard t;
    MDB_dbi dbi = 0;
    if (int rc = mdb_txn_begin(env, nullptr, 0, &t.txn); rc != 0) return done(rc, "mdb_txn_begin");
    if (int rc = mdb_dbi_open(t.txn, nullptr, MDB_INTEGERKEY | MDB_CREATE, &dbi); rc != 0) {
      t.abort();
      return done(rc, "mdb_dbi_open");
    }
    for (std::uint64_t id = 0; id < kForeignRecords; ++id) {
      std::string value = encode_value(kit::record_for(id, dim, seed_ + 1));
      std::uint64_t key = id;
      MDB_val k = key_of(key), v{value.size(), value.data()};
      if (int rc = mdb_put(t.txn, dbi, &k, &v, 0); rc != 0) {
        t.abort();
        return done(rc, "mdb_put");
      }
    }
    if (int rc = t.commit(); rc != 0) return done(rc, "mdb_txn_commit");
  }
  context_.log(fmt::format("made a foreign env: {} records of {} dimensions", kForeignRecords, dim));
  return done(0, "");
}

StepResult Session::replace(const Args& step) {
  records_.unsure();  // another file in its place
  // `with`: empty (a file of no bytes), directory, fifo, or foreign (the same
  // file of another env: other records, another dimension).
  close_env();
  std::string file = step.string("file"), with = step.string("with");
  std::string path = file_path(file);
  std::string name = std::filesystem::path(path).filename().string();
  std::error_code ec;
  if (with == "foreign") {
    std::string other = work_dir_ + "/foreign";
    if (!std::filesystem::exists(other + "/data.mdb", ec))
      if (StepResult o = make_foreign(other); !o.is_ok) return o;
    std::filesystem::copy_file(other + "/" + name, path, std::filesystem::copy_options::overwrite_existing, ec);
  } else if (with == "empty" || with == "directory" || with == "fifo") {
    std::filesystem::remove(path, ec);
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
  if (ec) return mdb_error(ec.value(), fmt::format("replace {} with {}", name, with));
  context_.log(fmt::format("replaced {} with {}", name, with == "foreign" ? "a foreign env's" : with));
  return StepResult::ok();
}

}  // namespace crashgate::lmdb_driver
