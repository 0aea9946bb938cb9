#include "vstore/status.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace vstore {
namespace {
struct CodeInfo {
  Code code;
  std::string_view name;
  int exit_status;
  std::string_view doc;
};
constexpr CodeInfo kCodes[] = {
#define VSTORE_X(e, name, exit, doc) {Code::e, name, exit, doc},
    VSTORE_STATUS_CODES(VSTORE_X)
#undef VSTORE_X
};
const CodeInfo& info(Code c) { return kCodes[static_cast<size_t>(c)]; }
}  // namespace

std::string_view code_name(Code c) { return info(c).name; }
int code_exit_status(Code c) { return info(c).exit_status; }
std::string_view code_doc(Code c) { return info(c).doc; }

bool parse_code(std::string_view name, Code* out) {
  for (const CodeInfo& ci : kCodes) {
    if (ci.name == name) {
      *out = ci.code;
      return true;
    }
  }
  return false;
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  return fmt::format("{}: {}", code_name(code_), message_);
}

Status status_from_errno(int err, std::string_view what) {
  std::string msg = fmt::format("{}: {} ({})", what, std::strerror(err), err);
  switch (err) {
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case EFBIG:
    case EOVERFLOW:
      return Status::Exhausted(std::move(msg));
    case ENOENT:
      return Status::NotFound(std::move(msg));
    case EWOULDBLOCK:
      return Status::Busy(std::move(msg));
    case EINVAL:
    case ENAMETOOLONG:
      return Status::Invalid(std::move(msg));
    default:
      return Status::Io(std::move(msg));
  }
}

}  // namespace vstore
