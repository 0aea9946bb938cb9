// Damage from outside: truncate, corrupt and replace the index file. The index
// is closed first (saved if it changed: session.h), as a program that has
// ended would leave it, unless `while_open` asks for damage to the file while
// the index is in memory (FAISS keeps no file open: it read the whole file).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <faiss/IndexFlat.h>
#include <faiss/IndexIDMap.h>
#include <faiss/index_io.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "errors.h"
#include "session.h"

namespace crashgate::faiss_driver {

namespace {

constexpr std::uint64_t kForeignRecords = 50;

bool parse_number(std::string_view text, std::uint64_t& n) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  return ec == std::errc() && end == text.data() + text.size();
}

StepResult errno_error(int err, std::string_view doing) {
  std::string code = err == ENOENT ? "not-found" : (err == ENOSPC || err == EFBIG) ? "resource-exhausted" : "io";
  return StepResult::error(code, fmt::format("{}: {} (errno {})", doing, std::strerror(err), err));
}

}  // namespace

StepResult Session::damage_target(const Args& step, const char* offset_key, std::string& path, std::uint64_t& offset) {
  records_.unsure();  // outside damage: what the engine reads next is not what the model holds
  std::string file = step.string("file");
  const kit::LayoutFile* layout = layout_of(file);
  if (!layout) return StepResult::error("invalid-argument", fmt::format("FAISS's index files are flat, hnsw and ivf, not '{}'", file));
  if (created_ && file != type_name(type_))
    return StepResult::error("invalid-argument", fmt::format("file = \"{}\": this store's index is {} (the layouts differ)", file, type_name(type_)));
  if (!step.boolean("while_open", false))
    if (StepResult o = close_index(); !o.is_ok) return o;
  path = index_path();
  Checked<std::uint64_t> at = kit::evaluate_offset(*layout, path, step.string(offset_key), walk_terms(path));
  if (!at) return StepResult::error("invalid-argument", fmt::format("{} = \"{}\": {}", offset_key, step.string(offset_key), at.error()));
  offset = *at;
  return StepResult::ok();
}

StepResult Session::truncate(const Args& step) {
  std::string path;
  std::uint64_t to = 0;
  if (StepResult o = damage_target(step, "to", path, to); !o.is_ok) return o;
  if (::truncate(path.c_str(), static_cast<off_t>(to)) != 0) return errno_error(errno, fmt::format("truncate index.faiss to {}", to));
  context_.log(fmt::format("truncated index.faiss to {} bytes", to));
  return StepResult::ok();
}

StepResult Session::corrupt(const Args& step) {
  std::string path;
  std::uint64_t at = 0;
  if (StepResult o = damage_target(step, "at", path, at); !o.is_ok) return o;
  std::uint64_t bytes = step.u64("bytes", 1);
  std::string value = step.string("value", "flip");
  std::vector<unsigned char> buf(bytes, 0);
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return errno_error(errno, "corrupt: open index.faiss");
  auto fail = [&](const char* call) {
    int err = errno;
    ::close(fd);
    return errno_error(err, fmt::format("corrupt: {} index.faiss at {}", call, at));
  };
  for (std::uint64_t done = 0; done < bytes;) {
    ssize_t n = ::pread(fd, buf.data() + done, bytes - done, static_cast<off_t>(at + done));
    if (n < 0) return fail("pread");
    if (n == 0) break;
    done += static_cast<std::uint64_t>(n);
  }
  if (value.rfind("u32le:", 0) == 0 || value.rfind("u64le:", 0) == 0) {
    std::uint64_t width = value[1] == '3' ? 4 : 8, n = 0;
    if (bytes != width || !parse_number(std::string_view(value).substr(6), n)) {
      ::close(fd);
      return StepResult::error("invalid-argument", fmt::format("corrupt: value {} needs bytes = {} and a number", value, width));
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
    ssize_t n = ::pwrite(fd, buf.data() + done, bytes - done, static_cast<off_t>(at + done));
    if (n < 0) return fail("pwrite");
    done += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  if (step.boolean("rechecksum", false)) context_.log("FAISS's index files have no checksums: nothing to recompute");
  context_.log(fmt::format("corrupted {} bytes of index.faiss at {}", bytes, at));
  return StepResult::ok();
}

StepResult Session::make_foreign(const std::string& path) {
  // Another index, written whole: a flat index of 2 dim + 8 dimensions and other vectors.
  std::uint32_t dim = dim_ * 2 + 8;
  return guarded("replace: the foreign index", "io", [&] {
    faiss::IndexIDMap2 map(new faiss::IndexFlatL2(dim));
    map.own_fields = true;
    std::vector<float> x;
    std::vector<idx_t> ids;
    for (std::uint64_t id = 0; id < kForeignRecords; ++id) {
      kit::RecordData r = kit::record_for(id, dim, seed_ + 1);
      x.insert(x.end(), r.vector.begin(), r.vector.end());
      ids.push_back(static_cast<idx_t>(id));
    }
    map.add_with_ids(static_cast<idx_t>(ids.size()), x.data(), ids.data());
    faiss::write_index(&map, path.c_str());
    return StepResult::ok();
  });
}

StepResult Session::replace(const Args& step) {
  records_.unsure();  // another file in its place
  std::string file = step.string("file"), with = step.string("with");
  if (!layout_of(file)) return StepResult::error("invalid-argument", fmt::format("FAISS's index files are flat, hnsw and ivf, not '{}'", file));
  if (StepResult o = close_index(); !o.is_ok) return o;
  std::string path = index_path();
  std::error_code ec;
  if (with == "foreign") {
    std::string other = work_dir_ + "/foreign.faiss";
    if (!std::filesystem::exists(other, ec))
      if (StepResult o = make_foreign(other); !o.is_ok) return o;
    std::filesystem::copy_file(other, path, std::filesystem::copy_options::overwrite_existing, ec);
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
  if (ec) return errno_error(ec.value(), fmt::format("replace index.faiss with {}", with));
  context_.log(fmt::format("replaced index.faiss with {}", with == "foreign" ? "a foreign index" : with));
  return StepResult::ok();
}

}  // namespace crashgate::faiss_driver
