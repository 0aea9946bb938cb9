// Which outcome kind a sanitizer's check means. A SEGV is a signal whether or
// not ASan caught it first, so a scenario expecting SIGBUS holds in release and
// asan builds alike.
#include <array>

#include "crashgate/sanitizer_report.h"

namespace crashgate {
namespace {

constexpr std::array kRules = {
    SanitizerCheckRule{"*", "SEGV", OutcomeKind::signal, "a deadly signal the sanitizer caught and reported"},
    SanitizerCheckRule{"*", "BUS", OutcomeKind::signal, "a deadly signal the sanitizer caught and reported"},
    SanitizerCheckRule{"*", "FPE", OutcomeKind::signal, "a deadly signal the sanitizer caught and reported"},
    SanitizerCheckRule{"*", "ILL", OutcomeKind::signal, "a deadly signal the sanitizer caught and reported"},
    SanitizerCheckRule{"*", "ABRT", OutcomeKind::signal, "a deadly signal the sanitizer caught and reported"},
    SanitizerCheckRule{"*", "TRAP", OutcomeKind::signal, "a deadly signal the sanitizer caught and reported"},
    SanitizerCheckRule{"*", "stack-overflow", OutcomeKind::stack_overflow, "the sanitizer saw the guard page hit"},
    SanitizerCheckRule{"*", "out-of-memory", OutcomeKind::oom, "the allocator could not get memory"},
    SanitizerCheckRule{"*", "allocation-size-too-big", OutcomeKind::oom, "a request above the allocator's maximum"},
    SanitizerCheckRule{"*", "rss-limit-exceeded", OutcomeKind::oom, "rss_limit_mb reached"},
    SanitizerCheckRule{"*", "malloc-limit-exceeded", OutcomeKind::oom, "malloc_limit_mb reached"},
    SanitizerCheckRule{"*", "failed-to-allocate", OutcomeKind::oom, "the runtime's own mmap failed (RLIMIT_AS?)"},
    SanitizerCheckRule{"libFuzzer", "deadly-signal", OutcomeKind::signal, "libFuzzer's handler saw a signal"},
    SanitizerCheckRule{"libFuzzer", "timeout", OutcomeKind::timeout, "one input ran longer than -timeout"},
    SanitizerCheckRule{"libFuzzer", "fuzz-target-exited", OutcomeKind::exit, "the target called exit()"},
    SanitizerCheckRule{"AddressSanitizer", "*", OutcomeKind::asan, "every other ASan check"},
    SanitizerCheckRule{"UndefinedBehaviorSanitizer", "*", OutcomeKind::ubsan, "every UBSan check"},
    SanitizerCheckRule{"ThreadSanitizer", "*", OutcomeKind::tsan, "every other TSan check"},
    SanitizerCheckRule{"LeakSanitizer", "*", OutcomeKind::lsan, "leaks"},
    SanitizerCheckRule{"libFuzzer", "*", OutcomeKind::asan, "other libFuzzer errors (e.g. overwritten const input)"},
};

}  // namespace

std::span<const SanitizerCheckRule> sanitizer_check_rules() { return kRules; }

OutcomeKind kind_for_check(std::string_view tool, std::string_view check) {
  for (const auto& rule : kRules)
    if ((rule.tool == "*" || rule.tool == tool) && (rule.check == "*" || rule.check == check)) return rule.kind;
  return OutcomeKind::asan;
}

}  // namespace crashgate
