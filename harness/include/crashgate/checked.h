// Checked<T>: a value, or the reason there is none. The harness's own result
// type: a failure carries a message that names what was wrong and where, and
// a caller cannot drop one unnoticed ([[nodiscard]]).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace crashgate {

struct Failure {
  std::string message;
};

template <class T>
class [[nodiscard]] Checked {
 public:
  Checked(T value) : state_(std::move(value)) {}                 // NOLINT: implicit, as a return value
  Checked(Failure failure) : state_(std::move(failure)) {}       // NOLINT
  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  const std::string& error() const { return std::get<Failure>(state_).message; }

 private:
  std::variant<T, Failure> state_;
};

// For checks that produce nothing but may fail.
struct Done {};
using CheckedDone = Checked<Done>;
inline CheckedDone done() { return Done{}; }
inline Failure failure(std::string message) { return Failure{std::move(message)}; }

}  // namespace crashgate
