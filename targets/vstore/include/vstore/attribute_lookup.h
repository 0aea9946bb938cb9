// vstore/attribute_lookup.h: a non-owning reference to "give me the value of
// attribute `key`", so that a filter can be evaluated against attributes that
// live anywhere (a Record, a row read from mapped memory) without copying them
// into a Record first. Like C++26 std::function_ref: two pointers, no allocation.
#pragma once

#include <optional>
#include <string_view>
#include <type_traits>

namespace vstore {

class AttributeLookup {
 public:
  // Refers to `lookup`, which must outlive every call through this object (bind
  // it to a lambda in the same full expression as the call that uses it).
  template <typename F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, AttributeLookup> &&
             std::is_invocable_r_v<std::optional<std::string_view>, const F&, std::string_view>)
  AttributeLookup(const F& lookup)  // NOLINT: implicit, so callers can pass a lambda
      : object_(&lookup), call_([](const void* object, std::string_view key) {
          return std::optional<std::string_view>((*static_cast<const F*>(object))(key));
        }) {}

  // The value of attribute `key`, or nullopt when the record has none.
  std::optional<std::string_view> operator()(std::string_view key) const { return call_(object_, key); }

 private:
  const void* object_;
  std::optional<std::string_view> (*call_)(const void*, std::string_view);
};

}  // namespace vstore
