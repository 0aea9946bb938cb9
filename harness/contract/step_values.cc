// Typed step values (step_values.h): one check per value type, each naming
// the key, the value as written and what the type wants.
#include "crashgate/step_values.h"

#include <charconv>
#include <cctype>
#include <cmath>
#include <optional>
#include <filesystem>

#include <fmt/format.h>

#include "crashgate/limits.h"

namespace crashgate {
namespace {

using nlohmann::json;

std::string shown(const json& raw) { return raw.dump(); }

Failure wrong(const KeySpec& key, const json& raw, std::string_view wanted) {
  return failure(fmt::format("'{}' must be {}, not {}", key.name, wanted, shown(raw)));
}

std::optional<std::uint64_t> digits(std::string_view s) {
  if (s.empty() || s.front() == '+' || s.front() == '-') return std::nullopt;
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// An integer from a TOML integer or a {param}'s digits.
std::optional<std::uint64_t> as_u64(const json& raw) {
  if (raw.is_number_unsigned()) return raw.get<std::uint64_t>();
  if (raw.is_number_integer()) {
    auto v = raw.get<std::int64_t>();
    if (v < 0) return std::nullopt;
    return static_cast<std::uint64_t>(v);
  }
  if (raw.is_string()) return digits(raw.get_ref<const std::string&>());
  return std::nullopt;
}

std::string range_text(const KeySpec& key, std::string (*show)(std::uint64_t)) {
  if (key.max == kNoMax) return fmt::format("at least {}", show(key.min));
  return fmt::format("from {} to {}", show(key.min), show(key.max));
}

std::string plain(std::uint64_t n) { return std::to_string(n); }
std::string millis(std::uint64_t n) { return format_duration(std::chrono::milliseconds(n)); }
std::string bytes(std::uint64_t n) { return format_size(n); }

Checked<json> in_range(const KeySpec& key, const json& raw, std::uint64_t v, std::string (*show)(std::uint64_t)) {
  if (v < key.min || v > key.max)
    return failure(fmt::format("'{}' = {} is out of range ({})", key.name, shown(raw), range_text(key, show)));
  return json(v);
}

Checked<json> typed_u64(const KeySpec& key, const json& raw) {
  auto v = as_u64(raw);
  if (!v) return wrong(key, raw, "a whole number from 0 (u64)");
  return in_range(key, raw, *v, plain);
}

Checked<json> typed_i64(const KeySpec& key, const json& raw) {
  if (raw.is_number_integer()) return json(raw.get<std::int64_t>());
  if (raw.is_string()) {
    const auto& s = raw.get_ref<const std::string&>();
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (!s.empty() && ec == std::errc() && p == s.data() + s.size()) return json(v);
  }
  return wrong(key, raw, "a whole number (i64)");
}

// A finite number within the key's range (min and max read as numbers: 0 to 1 for a share).
Checked<json> typed_real(const KeySpec& key, const json& raw) {
  std::optional<double> v;
  if (raw.is_number()) v = raw.get<double>();
  if (raw.is_string()) {
    const auto& s = raw.get_ref<const std::string&>();
    double parsed = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
    if (!s.empty() && ec == std::errc() && p == s.data() + s.size()) v = parsed;
  }
  if (!v || !std::isfinite(*v)) return wrong(key, raw, "a finite number (float)");
  if (*v < static_cast<double>(key.min) || (key.max != kNoMax && *v > static_cast<double>(key.max)))
    return failure(fmt::format("'{}' = {} is out of range ({})", key.name, shown(raw), range_text(key, plain)));
  return json(*v);
}

Checked<json> typed_bool(const KeySpec& key, const json& raw) {
  if (raw.is_boolean()) return raw;
  if (raw == "true") return json(true);
  if (raw == "false") return json(false);
  return wrong(key, raw, "true or false");
}

Checked<json> typed_duration(const KeySpec& key, const json& raw, ValueForm form) {
  if (form == ValueForm::canonical && (raw.is_number_unsigned() || (raw.is_number_integer() && raw.get<std::int64_t>() >= 0)))
    return in_range(key, raw, raw.get<std::uint64_t>(), millis);
  // A unit is required: a bare number means seconds to some and milliseconds to others.
  if (!raw.is_string()) return wrong(key, raw, "a duration with its unit, such as \"500ms\" or \"2s\"");
  const auto& s = raw.get_ref<const std::string&>();
  bool has_unit = !s.empty() && std::isalpha(static_cast<unsigned char>(s.back()));
  auto d = has_unit ? parse_duration(s) : std::nullopt;
  if (!d) return wrong(key, raw, "a duration with its unit, such as \"500ms\" or \"2s\"");
  return in_range(key, raw, static_cast<std::uint64_t>(d->count()), millis);
}

Checked<json> typed_size(const KeySpec& key, const json& raw) {
  std::optional<std::uint64_t> v;
  if (raw.is_string()) v = parse_size(raw.get_ref<const std::string&>());
  else v = as_u64(raw);
  if (!v) return wrong(key, raw, "a size in bytes, such as 4096, \"64KiB\" or \"2MiB\"");
  return in_range(key, raw, *v, bytes);
}

Checked<json> typed_offset(const KeySpec& key, const json& raw) {
  std::string text;
  if (auto n = as_u64(raw); n && !raw.is_string()) text = std::to_string(*n);
  else if (raw.is_string()) text = raw.get<std::string>();
  else return wrong(key, raw, "an offset expression such as \"header-1\" or \"slot(17)+5\"");
  auto terms = parse_offset_expression(text);
  if (!terms) return failure(fmt::format("'{}': {}", key.name, terms.error()));
  return json(text);
}

Checked<json> typed_u64_list(const KeySpec& key, const json& raw) {
  if (!raw.is_array()) return wrong(key, raw, "a list of whole numbers, such as [0, 7]");
  json out = json::array();
  for (const auto& item : raw) {
    auto v = as_u64(item);
    if (!v) return failure(fmt::format("'{}' must hold only whole numbers from 0, not {}", key.name, shown(item)));
    if (*v < key.min || *v > key.max)
      return failure(fmt::format("'{}' holds {}, out of range ({})", key.name, shown(item), range_text(key, plain)));
    out.push_back(*v);
  }
  return out;
}

std::string join_words(const std::vector<std::string_view>& words) {
  std::string out;
  for (auto w : words) out += (out.empty() ? "" : ", ") + std::string(w);
  return out;
}

Checked<json> typed_enum(const KeySpec& key, const json& raw, const std::vector<std::string>* engine_values) {
  if (!raw.is_string() || raw.get_ref<const std::string&>().empty()) return wrong(key, raw, "one of the key's values (a string)");
  const auto& s = raw.get_ref<const std::string&>();
  if (!key.engine_values()) {
    auto allowed = op_keys(key.values);
    for (auto v : allowed)
      if (v == s) return raw;
    return failure(fmt::format("'{}' = {} is not one of: {}", key.name, shown(raw), join_words(allowed)));
  }
  if (!engine_values) return raw;
  std::vector<std::string_view> allowed;
  for (const auto& v : *engine_values) {
    if (v == s) return raw;
    allowed.push_back(v);
  }
  return failure(fmt::format("'{}' = {} is not one the target accepts (it lists: {})", key.name, shown(raw),
                             allowed.empty() ? std::string("none") : join_words(allowed)));
}

Checked<json> typed_fill(const KeySpec& key, const json& raw) {
  constexpr std::string_view wanted = "\"flip\", a byte from 0 to 255, \"u32le:N\" or \"u64le:N\"";
  if (raw == "flip") return raw;
  if (auto byte = as_u64(raw)) {
    if (*byte > 255) return wrong(key, raw, wanted);
    return json(std::to_string(*byte));
  }
  if (raw.is_string()) {
    const auto& s = raw.get_ref<const std::string&>();
    bool u32 = s.rfind("u32le:", 0) == 0, u64 = s.rfind("u64le:", 0) == 0;
    if (u32 || u64) {
      auto n = digits(std::string_view(s).substr(6));
      if (n && (u64 || *n <= 0xFFFFFFFFull)) return raw;
    }
  }
  return wrong(key, raw, wanted);
}

// A path's one form is absolute: the driver runs in the cell's work directory,
// so a path relative to where crashgate runs is made absolute here, before
// cell.json is written (and an absolute one is left as it is).
Checked<json> typed_path(const KeySpec& key, const json& raw) {
  if (!raw.is_string() || raw.get_ref<const std::string&>().empty()) return wrong(key, raw, "a path (a non-empty string)");
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(raw.get<std::string>(), ec);
  if (ec) return failure(fmt::format("'{}' = {}: {}", key.name, shown(raw), ec.message()));
  return json(absolute.lexically_normal().string());
}

bool name_char(char c, bool first) {
  return c == '_' || (c >= 'a' && c <= 'z') || (!first && c >= '0' && c <= '9');
}

}  // namespace

Checked<json> typed_value(const KeySpec& key, const json& raw, const std::vector<std::string>* engine_values, ValueForm form) {
  switch (key.type) {
    case ValueType::u64: return typed_u64(key, raw);
    case ValueType::i64: return typed_i64(key, raw);
    case ValueType::real: return typed_real(key, raw);
    case ValueType::boolean: return typed_bool(key, raw);
    case ValueType::string:
      if (!raw.is_string()) return wrong(key, raw, "a string");
      return raw;
    case ValueType::path: return typed_path(key, raw);
    case ValueType::duration: return typed_duration(key, raw, form);
    case ValueType::size: return typed_size(key, raw);
    case ValueType::offset: return typed_offset(key, raw);
    case ValueType::u64_list: return typed_u64_list(key, raw);
    case ValueType::enumeration: return typed_enum(key, raw, engine_values);
    case ValueType::table:
      if (!raw.is_object()) return wrong(key, raw, "a table, such as { duration = \"1s\" }");
      return raw;
    case ValueType::fill: return typed_fill(key, raw);
  }
  return failure(fmt::format("'{}': unknown type", key.name));
}

Checked<std::vector<OffsetTerm>> parse_offset_expression(std::string_view text) {
  std::string s;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) s += c;
  auto bad = [&](std::string why) {
    return failure(fmt::format("offset expression \"{}\": {} (terms such as 0, header, end, field(NAME), slot(N), "
                               "joined by + and -)", text, why));
  };
  if (s.empty()) return bad("it is empty");
  std::vector<OffsetTerm> terms;
  size_t pos = 0;
  while (pos < s.size()) {
    OffsetTerm term;
    if (s[pos] == '+' || s[pos] == '-') {
      term.sign = s[pos] == '-' ? -1 : 1;
      ++pos;
    } else if (!terms.empty()) {
      return bad(fmt::format("expected + or - at '{}'", s.substr(pos)));
    }
    size_t start = pos;
    if (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      auto n = digits(std::string_view(s).substr(start, pos - start));
      if (!n) return bad(fmt::format("'{}' is too large", s.substr(start, pos - start)));
      term.number = *n;
      if (pos < s.size() && s[pos] != '+' && s[pos] != '-') return bad(fmt::format("'{}' is not a number", s.substr(start)));
    } else if (pos < s.size() && name_char(s[pos], true)) {
      while (pos < s.size() && name_char(s[pos], false)) ++pos;
      term.name = s.substr(start, pos - start);
      if (pos < s.size() && s[pos] == '(') {
        size_t close = s.find(')', pos);
        if (close == std::string::npos) return bad(fmt::format("'(' after {} is not closed", term.name));
        std::string arg = s.substr(pos + 1, close - pos - 1);
        bool valid = !arg.empty();
        for (char c : arg) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.');
        if (!valid) return bad(fmt::format("{}({}) needs a number or a name in its parentheses", term.name, arg));
        term.arg = arg;
        pos = close + 1;
      }
      if (pos < s.size() && s[pos] != '+' && s[pos] != '-') return bad(fmt::format("unexpected '{}'", s.substr(pos)));
    } else {
      return bad(pos < s.size() ? fmt::format("unexpected '{}'", s.substr(pos)) : std::string("it ends with an operator"));
    }
    terms.push_back(std::move(term));
  }
  return terms;
}

Checked<std::uint64_t> evaluate_offset_expression(std::string_view text, const OffsetResolver& resolve) {
  auto terms = parse_offset_expression(text);
  if (!terms) return failure(terms.error());
  __int128 total = 0;
  for (const auto& term : *terms) {
    std::uint64_t v = term.number;
    if (!term.name.empty()) {
      auto resolved = resolve(term);
      if (!resolved) return failure(fmt::format("offset expression \"{}\": {}", text, resolved.error()));
      v = *resolved;
    }
    total += term.sign * static_cast<__int128>(v);
  }
  if (total < 0) return failure(fmt::format("offset expression \"{}\" is negative here", text));
  if (total > static_cast<__int128>(kNoMax)) return failure(fmt::format("offset expression \"{}\" is past 2^64", text));
  return static_cast<std::uint64_t>(total);
}

namespace {

// The alternatives of a step's expect: "ok|error:corrupt" is {"ok", "error:corrupt"}.
std::vector<std::string_view> expect_alternatives(std::string_view expect) {
  std::vector<std::string_view> out;
  for (std::size_t from = 0;;) {
    std::size_t bar = expect.find('|', from);
    out.push_back(expect.substr(from, bar == std::string_view::npos ? std::string_view::npos : bar - from));
    if (bar == std::string_view::npos) return out;
    from = bar + 1;
  }
}

bool valid_expect_alternative(std::string_view e) {
  if (e == "ok" || e == "error") return true;
  if (e.rfind("error:", 0) != 0 || e.size() <= 6) return false;
  for (char c : e.substr(6))
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-')) return false;
  return true;
}

}  // namespace

CheckedDone check_step_expect(std::string_view expect) {
  for (std::string_view e : expect_alternatives(expect))
    if (!valid_expect_alternative(e))
      return failure(fmt::format("'expect' must be \"ok\", \"error\" or \"error:CODE\" (CODE such as corrupt or io), or "
                                 "alternatives joined by | (\"ok|error:corrupt\"), not \"{}\"",
                                 expect));
  return done();
}

StepJudgement judge_step(std::string_view expect, bool ok, std::string_view code, std::string_view message) {
  StepJudgement j;
  auto as_reported = [&] {
    return ok ? std::string("ok") : fmt::format("{}{}{}", code, message.empty() ? "" : ": ", message);
  };
  if (expect.empty()) {
    j.ok = ok;
    if (!ok) {
      j.code = code;
      j.message = message;
    }
    return j;
  }
  bool met = false;
  for (std::string_view e : expect_alternatives(expect))
    met = met || (e == "ok" ? ok : e == "error" ? !ok : !ok && e.rfind("error:", 0) == 0 && code == e.substr(6));
  if (met) {
    if (!ok) j.note = fmt::format("ended as expected: {}", as_reported());
    return j;
  }
  j.ok = false;
  j.code = "wrong-result";
  j.message = fmt::format("step expected {}, got {}", expect, as_reported());
  return j;
}

}  // namespace crashgate
