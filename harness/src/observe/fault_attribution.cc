#include "crashgate/fault_attribution.h"

#include <signal.h>

#include <charconv>
#include <fmt/format.h>

#include "crashgate/limits.h"

namespace crashgate {
namespace {

constexpr std::uint64_t kPage = 4096;
// Linux keeps this gap below a growing main stack (stack_guard_gap = 256 pages);
// a thread's guard is its PROT_NONE mapping, but a large frame can jump past it.
constexpr std::uint64_t kStackGuardWindow = 1024 * 1024;

bool parse_hex(std::string_view text, std::uint64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
  return ec == std::errc{} && ptr == text.data() + text.size();
}

std::string_view next_field(std::string_view& rest) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  auto space = rest.find(' ');
  std::string_view field = rest.substr(0, space);
  rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space);
  return field;
}

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

const MapEntry* find_mapping(std::span<const MapEntry> maps, std::uint64_t address) {
  for (const auto& m : maps)
    if (m.contains(address)) return &m;
  return nullptr;
}

const MapEntry* mapping_ending_at(std::span<const MapEntry> maps, std::uint64_t address) {
  for (const auto& m : maps)
    if (m.end == address) return &m;
  return nullptr;
}

const MapEntry* mapping_starting_at(std::span<const MapEntry> maps, std::uint64_t address) {
  for (const auto& m : maps)
    if (m.start == address) return &m;
  return nullptr;
}

bool no_access(const MapEntry& m) { return m.perms.size() >= 3 && m.perms.substr(0, 3) == "---"; }

// What the faulting instruction tried, as far as the kernel's report allows.
// x86 does not put read/write in siginfo; a denied access to a mapping that
// allows reads but not writes can only have been a write, and any fault a
// read-only mapping lets through to SIGBUS was a read.
std::string access_kind(const FaultContext& ctx, const MapEntry* m) {
  if (ctx.pc && *ctx.pc == ctx.address) return "execute";
  if (!m || m->perms.size() < 3) return "access";
  bool readable = m->perms[0] == 'r', writable = m->perms[1] == 'w';
  if (ctx.signo == SIGSEGV && ctx.si_code == SEGV_ACCERR && readable && !writable) return "write";
  if (ctx.signo == SIGBUS && readable && !writable) return "read";
  return "access";
}

// The stack the faulting thread was running on, found through its stack pointer.
const MapEntry* stack_of(std::span<const MapEntry> maps, std::uint64_t sp) {
  const MapEntry* m = find_mapping(maps, sp);
  if (m && no_access(*m)) return mapping_starting_at(maps, m->end);  // sp already in the guard
  if (!m) {  // sp just below the main stack, in the gap the kernel would not grow into
    for (const auto& candidate : maps)
      if (candidate.path == "[stack]" && sp < candidate.start && candidate.start - sp <= kStackGuardWindow)
        return &candidate;
  }
  return m;
}

}  // namespace

std::vector<MapEntry> parse_maps(std::string_view text) {
  std::vector<MapEntry> maps;
  while (!text.empty()) {
    auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    std::string_view rest = line;
    std::string_view range = next_field(rest), perms = next_field(rest), offset = next_field(rest);
    next_field(rest);  // device
    std::string_view inode = next_field(rest);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    MapEntry m;
    auto dash = range.find('-');
    if (dash == std::string_view::npos || !parse_hex(range.substr(0, dash), m.start) ||
        !parse_hex(range.substr(dash + 1), m.end) || !parse_hex(offset, m.offset) || perms.size() != 4)
      continue;
    std::from_chars(inode.data(), inode.data() + inode.size(), m.inode);
    m.perms = perms;
    m.path = rest;
    m.line = line;
    maps.push_back(std::move(m));
  }
  return maps;
}

Attribution attribute_fault(const FaultContext& ctx, std::span<const MapEntry> maps) {
  Attribution a;
  const MapEntry* m = find_mapping(maps, ctx.address);
  a.access = access_kind(ctx, m);
  if (m) a.mapping = m->line;
  std::string at = fmt::format("{} at 0x{:x}", a.access, ctx.address);

  // A general-protection fault (SI_KERNEL): the kernel reports no address at
  // all, so 0 here is not a null pointer. x86-64 raises it for a non-canonical
  // address, which a wild pointer (a forged index times a stride) often is.
  if (ctx.signo == SIGSEGV && ctx.si_code == SI_KERNEL) {
    a.access = "access";
    a.mapping.clear();
    a.description = "a general-protection fault: the kernel gives no address (a non-canonical pointer, such as a wild index "
                    "far outside the address space)";
    return a;
  }

  if (ctx.address < kNullPageLimit && !m) {
    a.null_page = true;
    a.description = ctx.address == 0 ? fmt::format("{}: a null pointer", at)
                                     : fmt::format("{} in the null page: a null pointer plus {}", at,
                                                   format_thousands(ctx.address));
    return a;
  }

  if (ctx.stack_pointer && (ctx.signo == SIGSEGV || ctx.signo == SIGBUS)) {
    const MapEntry* stack = stack_of(maps, *ctx.stack_pointer);
    if (stack && ctx.address < stack->start) {
      const MapEntry* guard = mapping_ending_at(maps, stack->start);
      bool in_guard_mapping = guard && no_access(*guard) && guard->contains(ctx.address);
      bool in_window = stack->start - ctx.address <= kStackGuardWindow && ctx.address <= *ctx.stack_pointer + kPage;
      if (in_guard_mapping || (in_window && (!m || no_access(*m)))) {
        a.stack_guard = true;
        a.stack_thread = ctx.tid;
        a.stack_thread_name = ctx.thread_name;
        bool main_stack = stack->path == "[stack]";
        a.thread_stack_size = main_stack && ctx.main_stack_limit ? *ctx.main_stack_limit : stack->end - stack->start;
        a.description = fmt::format("{} in the stack guard of thread {}{} (stack size {}): a stack overflow", at,
                                    ctx.tid, ctx.thread_name.empty() ? "" : fmt::format(" '{}'", ctx.thread_name),
                                    format_size(*a.thread_stack_size));
        return a;
      }
    }
  }

  if (!m) {
    a.description = fmt::format("{}, which no mapping holds", at);
    return a;
  }
  if (m->file_backed()) {
    a.file = m->path;
    a.file_offset = ctx.address - m->start + m->offset;
    if (ctx.file_size) a.file_size = ctx.file_size(*m);
    std::string offset_text =
        fmt::format("{} at offset {} of {}", a.access, format_thousands(*a.file_offset), base_name(m->path));
    if (a.file_size) {
      std::uint64_t mapped_end = (*a.file_size + kPage - 1) / kPage * kPage;
      a.past_eof = *a.file_offset >= mapped_end;
      a.description = fmt::format("{}, which is {}{} bytes long{}", offset_text, ctx.file_size_later ? "now " : "",
                                  format_thousands(*a.file_size),
                                  a.past_eof ? " (the page lies past the end of the file)" : "");
    } else {
      a.description = ctx.file_size_later ? fmt::format("{} (the file is not here to measure)", offset_text)
                                          : fmt::format("{} (its size could not be read)", offset_text);
    }
    if (!a.past_eof && ctx.signo == SIGSEGV && a.access == "write")
      a.description += fmt::format(", a mapping that is not writable ({})", m->perms);
    return a;
  }
  std::string name = m->path.empty() ? "an anonymous mapping" : m->path;
  a.description = fmt::format("{} in {} ({})", at, name, m->perms);
  if (ctx.signo == SIGSEGV && ctx.si_code == SEGV_ACCERR)
    a.description += a.access == "write" ? ", which is not writable" : ", which does not allow it";
  return a;
}

}  // namespace crashgate
