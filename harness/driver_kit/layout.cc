// Engine file layouts and offset expressions evaluated from them (driver_kit.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "crashgate/driver_kit.h"
#include "crashgate/step_values.h"

namespace crashgate::kit {
namespace {

// Reads a little-endian number of `width` bytes (1 to 8) at `offset` of the file.
Checked<std::uint64_t> read_le(const std::string& path, std::uint64_t offset, std::uint64_t width) {
  if (width == 0 || width > 8) return failure(fmt::format("a field of {} bytes cannot hold a size", width));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failure(fmt::format("cannot open {}", path));
  unsigned char bytes[8] = {};
  ssize_t n = ::pread(fd, bytes, width, static_cast<off_t>(offset));
  ::close(fd);
  if (n != static_cast<ssize_t>(width)) return failure(fmt::format("{} is too short to hold its {}-byte field at {}", path, width, offset));
  std::uint64_t v = 0;
  for (std::uint64_t i = 0; i < width; ++i) v |= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
  return v;
}

}  // namespace

Checked<std::uint64_t> read_field(const LayoutFile& file, const std::string& path, std::string_view field) {
  const LayoutField* f = file.field(field);
  if (!f) return failure(fmt::format("the layout of {} has no field {}", file.file, field));
  return read_le(path, f->offset, f->width);
}

const LayoutField* LayoutFile::field(std::string_view name) const {
  for (const auto& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

std::optional<std::uint64_t> term_number(const std::optional<std::string>& arg) {
  if (!arg || arg->empty() || arg->size() > 19) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : *arg) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

Checked<std::uint64_t> evaluate_offset(const LayoutFile& file, const std::string& path, std::string_view expr,
                                       const ExtraTerm& extra) {
  return evaluate_offset_expression(expr, [&](const OffsetTerm& term) -> Checked<std::uint64_t> {
    if (extra)
      if (auto v = extra(term.name, term.arg)) return *v;
    if (term.name == "header" && !term.arg) return file.header_size;
    if (term.name == "end" && !term.arg) {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) return failure(fmt::format("cannot stat {}", path));
      return static_cast<std::uint64_t>(st.st_size);
    }
    if (term.name == "field" && term.arg) {
      if (const LayoutField* f = file.field(*term.arg)) return f->offset;
      std::string names;
      for (const auto& f : file.fields) names += (names.empty() ? "" : ", ") + f.name;
      return failure(fmt::format("{} has no header field '{}' (it has: {})", file.file, *term.arg, names.empty() ? "none" : names));
    }
    if (term.name == "slot" && term.arg) {
      auto n = typed_value(KeySpec{.name = "slot", .type = ValueType::u64}, *term.arg);
      if (!n) return failure(fmt::format("slot({}) needs a whole number", *term.arg));
      std::uint64_t slot_size = file.slot_size;
      if (!file.slot_size_field.empty()) {
        const LayoutField* f = file.field(file.slot_size_field);
        if (!f) return failure(fmt::format("{}'s layout names slot size field '{}', which it lacks", file.file, file.slot_size_field));
        auto read = read_le(path, f->offset, f->width);
        if (!read) return read;
        slot_size = *read;
      }
      if (slot_size == 0) return failure(fmt::format("{} has no slots (its slot size is 0)", file.file));
      return file.slot_base + n->get<std::uint64_t>() * slot_size;
    }
    return failure(fmt::format("unknown term '{}{}' for {} (header, end, field(NAME), slot(N){})", term.name,
                               term.arg ? "(" + *term.arg + ")" : "", file.file, extra ? ", or the engine's own" : ""));
  });
}

}  // namespace crashgate::kit
