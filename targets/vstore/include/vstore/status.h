// vstore/status.h: errors as values. Every fallible vstore call returns a
// [[nodiscard]] Status or Result<T>; nothing in vstore throws or aborts on bad
// input. The codes, their exit statuses and their guidance live in one table.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vstore {

// X(enumerator, name, exit status of the vstore tool, when to use it)
#define VSTORE_STATUS_CODES(X)                                                                  \
  X(ok, "ok", 0, "success")                                                                     \
  X(corrupt, "corrupt", 3,                                                                      \
    "a file's bytes are not what the format requires: wrong magic, bad checksum, a size or "    \
    "offset that does not fit the file; unrecoverable without a rebuild")                       \
  X(io, "io", 4, "the operating system failed a file operation (EIO, ENOSPC, EACCES, ...)")      \
  X(busy, "busy", 5, "another writer holds the store's lock; retry later")                      \
  X(resource_exhausted, "resource-exhausted", 6,                                                \
    "out of file descriptors, address space or memory; the store is unchanged")                 \
  X(invalid_argument, "invalid-argument", 7,                                                    \
    "the caller asked for something malformed: wrong dimension, bad filter, duplicate id")      \
  X(not_found, "not-found", 1, "no such record, store or file")

enum class Code : uint8_t {
#define VSTORE_X(e, name, exit, doc) e,
  VSTORE_STATUS_CODES(VSTORE_X)
#undef VSTORE_X
};

// The code's stable name as used in messages, JSON and scenario files ("corrupt").
std::string_view code_name(Code c);
// Parses a name produced by code_name; false when unknown.
bool parse_code(std::string_view name, Code* out);
// The vstore tool's exit status for the code.
int code_exit_status(Code c);
// One-line guidance on when the code is used.
std::string_view code_doc(Code c);

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(Code code, std::string message) { return Status(code, std::move(message)); }
  static Status Corrupt(std::string m) { return Status(Code::corrupt, std::move(m)); }
  static Status Io(std::string m) { return Status(Code::io, std::move(m)); }
  static Status Busy(std::string m) { return Status(Code::busy, std::move(m)); }
  static Status Exhausted(std::string m) { return Status(Code::resource_exhausted, std::move(m)); }
  static Status Invalid(std::string m) { return Status(Code::invalid_argument, std::move(m)); }
  static Status NotFound(std::string m) { return Status(Code::not_found, std::move(m)); }

  bool ok() const { return code_ == Code::ok; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "corrupt: vectors-000001.bin: offset 4096: ..." (or "ok").
  std::string to_string() const;
  // Explicitly drop a status the caller has decided not to act on.
  void ignore() const {}

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  Code code_ = Code::ok;
  std::string message_;
};

// Converts an errno from a failed system call into a Status, in one place:
// ENOSPC/EIO/EACCES... -> io, EMFILE/ENFILE/ENOMEM/EFBIG -> resource_exhausted,
// ENOENT -> not_found, EWOULDBLOCK/EAGAIN on a lock -> busy.
// `what` names the operation and file ("open vectors-000001.bin").
Status status_from_errno(int err, std::string_view what);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status s) : v_(std::move(s)) {}     // NOLINT: must not be ok
  bool ok() const { return v_.index() == 0; }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(v_);
  }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace vstore

// Early-return helpers for functions returning Status or Result<T>.
#define VSTORE_RETURN_IF_ERROR(expr)            \
  do {                                          \
    ::vstore::Status vstore_st_ = (expr);       \
    if (!vstore_st_.ok()) return vstore_st_;    \
  } while (0)

#define VSTORE_CONCAT_INNER_(a, b) a##b
#define VSTORE_CONCAT_(a, b) VSTORE_CONCAT_INNER_(a, b)
#define VSTORE_ASSIGN_OR_RETURN(lhs, expr) \
  VSTORE_ASSIGN_OR_RETURN_IMPL_(VSTORE_CONCAT_(vstore_r_, __LINE__), lhs, expr)
#define VSTORE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
