#include "failpoint/spec.h"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

namespace vstore::internal {
namespace {

struct ErrnoName {
  std::string_view name;
  int value;
};
constexpr ErrnoName kErrnos[] = {
    {"EIO", EIO},       {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT}, {"EACCES", EACCES},
    {"EPERM", EPERM},   {"EROFS", EROFS},   {"EMFILE", EMFILE}, {"ENFILE", ENFILE},
    {"ENOMEM", ENOMEM}, {"EFBIG", EFBIG},   {"EINTR", EINTR},   {"EAGAIN", EAGAIN},
    {"EBADF", EBADF},   {"ENOENT", ENOENT}, {"EEXIST", EEXIST}, {"EINVAL", EINVAL},
    {"EBUSY", EBUSY},   {"ENODEV", ENODEV}, {"EOVERFLOW", EOVERFLOW},
};

struct ActionName {
  std::string_view name;
  FailActionKind kind;
  bool takes_arg;
};
constexpr ActionName kActions[] = {
    {"off", FailActionKind::off, false},       {"error", FailActionKind::error, true},
    {"short", FailActionKind::short_io, true}, {"delay", FailActionKind::delay, true},
    {"yield", FailActionKind::yield, false},   {"crash", FailActionKind::crash, false},
};

bool parse_u64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

Status term_error(std::string_view spec, std::string_view at, std::string_view term, std::string_view what) {
  size_t column = static_cast<size_t>(at.data() - spec.data()) + 1;
  return Status::Invalid(fmt::format("failpoint spec column {}: {} in term '{}'", column, what, term));
}

// One term of a chain: [p%][cnt*]action[(arg)].
Status parse_term(std::string_view spec, std::string_view term, std::string_view rest, FailTerm* out) {
  rest = trim(rest);

  // [p%]
  if (size_t pct = rest.find('%'); pct != std::string_view::npos) {
    std::string number(rest.substr(0, pct));
    char* end = nullptr;
    double p = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !(p >= 0.0 && p <= 100.0))
      return term_error(spec, rest, term, "probability must be a number from 0 to 100 before '%'");
    out->probability = p;
    rest = rest.substr(pct + 1);
  }
  // [cnt*]
  if (size_t star = rest.find('*'); star != std::string_view::npos) {
    uint64_t count = 0;
    if (!parse_u64(rest.substr(0, star), &count))
      return term_error(spec, rest, term, "count must be a whole number before '*'");
    out->max_count = count;
    rest = rest.substr(star + 1);
  }
  // action[(arg)]
  std::string_view action = rest, arg;
  bool has_arg = false;
  if (size_t open = rest.find('('); open != std::string_view::npos) {
    if (rest.back() != ')') return term_error(spec, rest, term, "missing ')' after the action's argument");
    action = rest.substr(0, open);
    arg = rest.substr(open + 1, rest.size() - open - 2);
    has_arg = true;
  }
  const ActionName* a = nullptr;
  for (const ActionName& cand : kActions)
    if (cand.name == action) a = &cand;
  if (a == nullptr)
    return term_error(spec, action, term,
                      fmt::format("unknown action '{}' (off, error(ERRNO), short(BYTES), delay(MS), yield, crash)", action));
  if (a->takes_arg != has_arg)
    return term_error(spec, action, term,
                      a->takes_arg ? fmt::format("action '{}' needs an argument", a->name)
                                   : fmt::format("action '{}' takes no argument", a->name));
  out->action = a->kind;
  if (a->kind == FailActionKind::error) {
    std::optional<int> e = parse_errno_name(arg);
    if (!e) return term_error(spec, arg, term, fmt::format("'{}' is not an errno name or number", arg));
    out->arg = static_cast<uint64_t>(*e);
  } else if (has_arg) {
    if (!parse_u64(arg, &out->arg))
      return term_error(spec, arg, term, fmt::format("'{}' is not a whole number", arg));
  }
  return Status::Ok();
}

}  // namespace

std::optional<int> parse_errno_name(std::string_view text) {
  for (const ErrnoName& e : kErrnos)
    if (e.name == text) return e.value;
  uint64_t v = 0;
  if (parse_u64(text, &v) && v > 0 && v < 4096) return static_cast<int>(v);
  return std::nullopt;
}

Status parse_failpoint_spec(std::string_view spec, std::vector<FailSpec>* out) {
  out->clear();
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t semi = spec.find(';', pos);
    if (semi == std::string_view::npos) semi = spec.size();
    std::string_view term = trim(spec.substr(pos, semi - pos));
    pos = semi + 1;
    if (term.empty()) continue;
    size_t eq = term.find('=');
    if (eq == std::string_view::npos) return term_error(spec, term, term, "expected name=action");
    std::string_view name = trim(term.substr(0, eq));
    FailSpec fs;
    bool found = false;
    size_t n = 0;
    const FailSiteInfo* table = failpoint_table(&n);
    for (size_t i = 0; i < n; ++i) {
      if (table[i].name == name) {
        fs.site = table[i].site;
        found = true;
      }
    }
    if (!found) return term_error(spec, name, term, fmt::format("unknown failpoint '{}' (see `vstore failpoints`)", name));
    std::string_view chain = term.substr(eq + 1);
    for (;;) {
      size_t arrow = chain.find("->");
      FailTerm t;
      VSTORE_RETURN_IF_ERROR(parse_term(spec, term, chain.substr(0, arrow), &t));
      fs.chain.push_back(t);
      if (arrow == std::string_view::npos) break;
      chain = chain.substr(arrow + 2);
    }
    for (FailSpec& existing : *out) {
      if (existing.site == fs.site) return term_error(spec, name, term, fmt::format("failpoint '{}' is set twice", name));
    }
    out->push_back(std::move(fs));
  }
  return Status::Ok();
}

}  // namespace vstore::internal
