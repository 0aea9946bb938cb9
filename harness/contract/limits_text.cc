// The text forms of limits. Parsing is strict on purpose: a limit that silently
// meant something else than written would make a scenario test the wrong thing.
#include <charconv>
#include <cmath>
#include <fmt/format.h>

#include <array>

#include "crashgate/limits.h"

namespace crashgate {
namespace {

constexpr std::array kFields = {
#define CRASHGATE_LIMIT_FIELD(member, key, flag, unit, meaning) \
  LimitField{#member, key, flag, LimitUnit::unit, meaning},
    CRASHGATE_LIMITS(CRASHGATE_LIMIT_FIELD)
#undef CRASHGATE_LIMIT_FIELD
};

// Splits "12.5MiB" into the number and the suffix; false if there is no leading number.
bool split_number(std::string_view text, double& number, std::string_view& suffix) {
  size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, number);
  if (ec != std::errc{} || ptr != text.data() + i) return false;
  suffix = text.substr(i);
  while (!suffix.empty() && suffix.front() == ' ') suffix.remove_prefix(1);
  return std::isfinite(number) && number >= 0;
}

template <class T>
void assign(std::optional<T>& slot, T value) { slot = value; }
template <class T>
void assign(T& slot, T value) { slot = value; }

}  // namespace

std::span<const LimitField> limit_fields() { return kFields; }

std::optional<std::uint64_t> parse_size(std::string_view text) {
  double number = 0;
  std::string_view suffix;
  if (!split_number(text, number, suffix)) return std::nullopt;
  struct Unit {
    std::string_view a, b, c;
    double factor;
  };
  static constexpr std::array kUnits = {
      Unit{"", "B", "b", 1.0},
      Unit{"K", "KiB", "KB", 1024.0},
      Unit{"M", "MiB", "MB", 1024.0 * 1024},
      Unit{"G", "GiB", "GB", 1024.0 * 1024 * 1024},
      Unit{"T", "TiB", "TB", 1024.0 * 1024 * 1024 * 1024},
  };
  for (const auto& u : kUnits) {
    if (suffix == u.a || suffix == u.b || suffix == u.c) {
      double bytes = number * u.factor;
      if (bytes > 1.8e19 || bytes != std::floor(bytes)) return std::nullopt;
      return static_cast<std::uint64_t>(bytes);
    }
  }
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  double number = 0;
  std::string_view suffix;
  if (!split_number(text, number, suffix)) return std::nullopt;
  double ms;
  if (suffix.empty() || suffix == "s") ms = number * 1000;
  else if (suffix == "ms") ms = number;
  else if (suffix == "m" || suffix == "min") ms = number * 60'000;
  else if (suffix == "h") ms = number * 3'600'000;
  else return std::nullopt;
  if (ms > 1e15) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(ms)));
}

std::optional<std::uint64_t> parse_count(std::string_view text) {
  std::uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

std::optional<std::string> set_limit(Limits& limits, const LimitField& field, std::string_view text) {
  std::string what;
  switch (field.unit) {
    case LimitUnit::bytes: what = "a size such as 4096, 512K, 8MiB or 1G"; break;
    case LimitUnit::count: what = "a whole number"; break;
    case LimitUnit::duration: what = "a duration such as 500ms, 30s or 2m"; break;
  }
  auto invalid = [&] {
    return fmt::format("{}: '{}' is not {}", field.scenario_key, text, what);
  };
  // The member is chosen by its name in the table, so a new row needs one line here.
  if (field.unit == LimitUnit::duration) {
    auto d = parse_duration(text);
    if (!d) return invalid();
    if (field.member == "wall") {
      if (d->count() == 0) return fmt::format("{}: must be longer than 0", field.scenario_key);
      assign(limits.wall, *d);
    } else {
      assign(limits.cpu, *d);
    }
    return std::nullopt;
  }
  auto n = field.unit == LimitUnit::bytes ? parse_size(text) : parse_count(text);
  if (!n) return invalid();
  if (field.member == "stack") assign(limits.stack, *n);
  else if (field.member == "worker_stack") assign(limits.worker_stack, *n);
  else if (field.member == "address_space") assign(limits.address_space, *n);
  else if (field.member == "open_files") assign(limits.open_files, *n);
  else if (field.member == "core") assign(limits.core, *n);
  else return fmt::format("{}: no such limit", field.scenario_key);
  return std::nullopt;
}

std::string format_thousands(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count && count % 3 == 0) out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++count;
  }
  return out;
}

std::string format_size(std::uint64_t bytes) {
  static constexpr std::array<std::pair<std::uint64_t, const char*>, 4> kUnits = {{
      {1ull << 40, "TiB"}, {1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}}};
  for (const auto& [factor, name] : kUnits)
    if (bytes >= factor && bytes % factor == 0) return fmt::format("{} {}", bytes / factor, name);
  return fmt::format("{} bytes", format_thousands(bytes));
}

std::string format_duration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return fmt::format("{}s", d.count() / 1000);
  return fmt::format("{}ms", d.count());
}

}  // namespace crashgate
