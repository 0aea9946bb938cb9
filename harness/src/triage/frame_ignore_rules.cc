// The frames that never say where a bug is: they are how every crash gets
// reported, allocated or started. Data, not scattered ifs; see triage.h.
#include <array>

#include "crashgate/triage.h"

namespace crashgate {
namespace {

using M = FrameMatch;

constexpr std::array kRules = {
    // Sanitizer runtimes: interceptors, reporting and their sources.
    FrameIgnoreRule{"sanitizer", M::function_prefix, "__asan", "__asan_report_load4", "asan_buffer_size"},
    FrameIgnoreRule{"sanitizer", M::function_prefix, "__sanitizer", "__sanitizer_print_stack_trace", "sanitizer_ok"},
    FrameIgnoreRule{"sanitizer", M::function_prefix, "__interceptor_", "__interceptor_memcpy", "interceptor_table"},
    FrameIgnoreRule{"sanitizer", M::function_prefix, "___interceptor_", "___interceptor_free", "__interceptor"},
    FrameIgnoreRule{"sanitizer", M::function_prefix, "__ubsan", "__ubsan_handle_add_overflow", "ubsan_mode"},
    FrameIgnoreRule{"sanitizer", M::function_prefix, "__tsan", "__tsan_write4", "tsan_enabled"},
    FrameIgnoreRule{"sanitizer", M::function_prefix, "__lsan", "__lsan_do_leak_check", "lsan_count"},
    FrameIgnoreRule{"sanitizer", M::function_prefix, "__msan", "__msan_warning", "msan_flag"},
    FrameIgnoreRule{"sanitizer", M::module_contains, "libclang_rt.", "/usr/lib/clang/14/lib/linux/libclang_rt.asan-x86_64.so",
                    "/usr/lib/libclang.so"},
    FrameIgnoreRule{"sanitizer", M::file_contains, "compiler-rt/lib/", "/build/llvm/compiler-rt/lib/asan/asan_malloc_linux.cpp",
                    "/src/compiler/lib/x.cc"},
    // The C library: starting threads and processes, aborting, string copies.
    FrameIgnoreRule{"libc", M::module_contains, "/libc.so", "/lib/x86_64-linux-gnu/libc.so.6", "/opt/app/libcore.so"},
    FrameIgnoreRule{"libc", M::module_contains, "/libpthread", "/lib/x86_64-linux-gnu/libpthread.so.0", "/opt/app/libthreads.so"},
    FrameIgnoreRule{"libc", M::function_exact, "abort", "abort", "abort_compaction"},
    FrameIgnoreRule{"libc", M::function_exact, "raise", "raise", "raise_error"},
    FrameIgnoreRule{"libc", M::function_prefix, "__assert_fail", "__assert_fail_base", "assert_sorted"},
    FrameIgnoreRule{"libc", M::function_prefix, "__GI_", "__GI_raise", "GI_table"},
    FrameIgnoreRule{"libc", M::function_prefix, "__libc_", "__libc_start_call_main", "libc_version"},
    FrameIgnoreRule{"libc", M::function_prefix, "__pthread_kill", "__pthread_kill_implementation", "pthread_killer"},
    FrameIgnoreRule{"libc", M::function_exact, "pthread_kill", "pthread_kill", "pthread_kill_all"},
    FrameIgnoreRule{"libc", M::function_exact, "_start", "_start", "_start_engine"},
    FrameIgnoreRule{"libc", M::function_exact, "start_thread", "start_thread", "start_thread_pool"},
    FrameIgnoreRule{"libc", M::function_exact, "clone", "clone", "clone_store"},
    FrameIgnoreRule{"libc", M::function_exact, "clone3", "clone3", "clone3_args"},
    FrameIgnoreRule{"libc", M::function_prefix, "__clone", "__clone3", "_clone"},
    FrameIgnoreRule{"libc", M::function_prefix, "__stack_chk_fail", "__stack_chk_fail", "stack_chk"},
    FrameIgnoreRule{"libc", M::function_prefix, "__fortify_fail", "__fortify_fail", "fortify"},
    FrameIgnoreRule{"libc", M::function_prefix, "__mem", "__memmove_avx_unaligned_erms", "mem_budget"},
    FrameIgnoreRule{"libc", M::function_prefix, "__str", "__strlen_avx2", "str_table"},
    // The dynamic loader and the kernel's vDSO.
    FrameIgnoreRule{"loader", M::module_contains, "/ld-linux", "/lib64/ld-linux-x86-64.so.2", "/opt/ld/linux.so"},
    FrameIgnoreRule{"loader", M::module_contains, "linux-vdso", "[vdso] linux-vdso.so.1", "/opt/vdso.so"},
    // Allocators: the allocation is never the bug; its caller is.
    FrameIgnoreRule{"allocator", M::function_exact, "malloc", "malloc", "malloc_usable"},
    FrameIgnoreRule{"allocator", M::function_exact, "calloc", "calloc", "calloc_arena"},
    FrameIgnoreRule{"allocator", M::function_exact, "realloc", "realloc", "reallocate_slots"},
    FrameIgnoreRule{"allocator", M::function_exact, "free", "free", "freelist_pop"},
    FrameIgnoreRule{"allocator", M::function_exact, "posix_memalign", "posix_memalign", "memalign_size"},
    FrameIgnoreRule{"allocator", M::function_exact, "aligned_alloc", "aligned_alloc", "aligned_alloc_size"},
    FrameIgnoreRule{"allocator", M::function_exact, "operator new", "operator new(unsigned long)", "operator==(A, B)"},
    FrameIgnoreRule{"allocator", M::function_exact, "operator new[]", "operator new[](unsigned long)", "operator[](int)"},
    FrameIgnoreRule{"allocator", M::function_exact, "operator delete", "operator delete(void*)", "operator-(A)"},
    FrameIgnoreRule{"allocator", M::function_exact, "operator delete[]", "operator delete[](void*)", "operator()()"},
    FrameIgnoreRule{"allocator", M::function_prefix, "je_", "je_malloc", "jet_engine"},
    FrameIgnoreRule{"allocator", M::function_prefix, "tc_", "tc_malloc", "tcp_read"},
    // The C++ runtime: throwing, terminating, starting std::thread bodies.
    FrameIgnoreRule{"cxx-runtime", M::function_prefix, "__cxa_", "__cxa_throw", "cxa_table"},
    FrameIgnoreRule{"cxx-runtime", M::function_exact, "std::terminate", "std::terminate()", "std::terminated_flag"},
    FrameIgnoreRule{"cxx-runtime", M::function_prefix, "std::__throw_", "std::__throw_bad_alloc()", "std::throwing"},
    FrameIgnoreRule{"cxx-runtime", M::function_prefix, "__gnu_cxx::__verbose_terminate_handler",
                    "__gnu_cxx::__verbose_terminate_handler()", "__gnu_cxx::__normal_iterator"},
    FrameIgnoreRule{"cxx-runtime", M::function_prefix, "__cxxabiv1::", "__cxxabiv1::__terminate(void (*)())",
                    "cxxabiv1::helper"},
    FrameIgnoreRule{"cxx-runtime", M::function_contains, "std::__invoke", "void std::__invoke_impl<void, F>(F&&)",
                    "std::invoke_later"},
    // The same, inlined into a binary built with -gline-tables-only: an inlined
    // frame then has only its short name, without std::.
    FrameIgnoreRule{"cxx-runtime", M::function_prefix, "__invoke", "__invoke_r<void, F&>", "invoke_handler"},
    // std::function's call machinery: how a driver kit reaches a step's handler.
    FrameIgnoreRule{"cxx-runtime", M::function_prefix, "std::_Function_handler<",
                    "std::_Function_handler<void (), F>::_M_invoke(std::_Any_data const&)", "std::_Function_handlers"},
    FrameIgnoreRule{"cxx-runtime", M::function_prefix, "std::function<", "std::function<void ()>::operator()() const",
                    "std::functional_cast"},
    FrameIgnoreRule{"cxx-runtime", M::function_contains, "std::thread::_", "std::thread::_State_impl<F>::_M_run()",
                    "std::thread_pool::run"},
    FrameIgnoreRule{"cxx-runtime", M::module_contains, "/libstdc++.so", "/lib/x86_64-linux-gnu/libstdc++.so.6",
                    "/opt/app/libstdcore.so"},
    FrameIgnoreRule{"cxx-runtime", M::module_contains, "/libgcc_s.so", "/lib/x86_64-linux-gnu/libgcc_s.so.1",
                    "/opt/app/libgcc_shim.so"},
    FrameIgnoreRule{"cxx-runtime", M::module_contains, "/libc++", "/usr/lib/llvm-14/lib/libc++.so.1",
                    "/opt/app/libcpp_tools.so"},
    // crashgate itself, when its own code shows up in a stack (in-process drivers).
    FrameIgnoreRule{"harness", M::function_prefix, "crashgate::", "crashgate::run_observed(crashgate::RunSpec const&)",
                    "crashgates::open"},
    // The driver kit's step dispatch, inlined into a driver: with line tables
    // only its lambda is just "operator()", so it is known by its header.
    FrameIgnoreRule{"harness", M::file_contains, "crashgate/driver_kit.h", "/usr/include/crashgate/driver_kit.h",
                    "/src/mycrashgate/driver_kits.h"},
    // Fuzzing engines: the loop that called the target is not the bug.
    FrameIgnoreRule{"fuzzer", M::function_prefix, "fuzzer::", "fuzzer::Fuzzer::ExecuteCallback(unsigned char const*, unsigned long)",
                    "fuzzers::seed"},
    FrameIgnoreRule{"fuzzer", M::function_exact, "LLVMFuzzerTestOneInput", "LLVMFuzzerTestOneInput",
                    "LLVMFuzzerInitialize"},
    // The Rust runtime: panicking, unwrapping, starting main and threads (field logs, crash_log.h).
    FrameIgnoreRule{"rust-runtime", M::function_prefix, "std::panicking::", "std::panicking::begin_panic_handler::{{closure}}",
                    "std::panic_hooks::install"},
    FrameIgnoreRule{"rust-runtime", M::function_prefix, "core::panicking::", "core::panicking::panic_fmt", "core::panic_count"},
    FrameIgnoreRule{"rust-runtime", M::function_exact, "rust_begin_unwind", "rust_begin_unwind", "rust_begin_unwinding_guard"},
    FrameIgnoreRule{"rust-runtime", M::function_prefix, "__rust_", "__rust_start_panic", "rust_start"},
    FrameIgnoreRule{"rust-runtime", M::function_prefix, "__rustc::", "__rustc::rust_begin_unwind", "rustc::driver::main"},
    FrameIgnoreRule{"rust-runtime", M::function_contains, "::backtrace::__rust_",
                    "std::sys::backtrace::__rust_end_short_backtrace", "myapp::backtrace::capture"},
    FrameIgnoreRule{"rust-runtime", M::function_prefix, "core::result::unwrap_failed", "core::result::unwrap_failed",
                    "core::result::Result<T,E>::is_err"},
    FrameIgnoreRule{"rust-runtime", M::function_prefix, "core::option::unwrap_failed", "core::option::unwrap_failed",
                    "core::option::Option<T>::is_none"},
    FrameIgnoreRule{"rust-runtime", M::function_prefix, "core::option::expect_failed", "core::option::expect_failed",
                    "core::option::Option<T>::is_some"},
    // unwrap() and expect() themselves, a frame of their own in a debug build
    // (release inlines them): the bug is in the caller that unwrapped.
    FrameIgnoreRule{"rust-runtime", M::function_exact, "core::option::Option<T>::expect", "core::option::Option<T>::expect",
                    "core::option::Option<T>::expected_len"},
    FrameIgnoreRule{"rust-runtime", M::function_exact, "core::option::Option<T>::unwrap", "core::option::Option<T>::unwrap",
                    "core::option::Option<T>::unwrap_or"},
    FrameIgnoreRule{"rust-runtime", M::function_exact, "core::result::Result<T,E>::expect", "core::result::Result<T,E>::expect",
                    "core::result::Result<T,E>::is_ok"},
    FrameIgnoreRule{"rust-runtime", M::function_exact, "core::result::Result<T,E>::unwrap", "core::result::Result<T,E>::unwrap",
                    "core::result::Result<T,E>::unwrap_or_default"},
    FrameIgnoreRule{"rust-runtime", M::function_prefix, "core::ops::function::", "core::ops::function::FnOnce::call_once",
                    "core::ops::range::Range<Idx>::contains"},
    FrameIgnoreRule{"rust-runtime", M::function_prefix, "std::backtrace_rs::", "std::backtrace_rs::backtrace::libunwind::trace",
                    "std::backtracer::run"},
    FrameIgnoreRule{"rust-runtime", M::function_prefix, "std::rt::", "std::rt::lang_start_internal", "std::rtree::insert"},
    // The Go runtime: throw, sigpanic, gopanic, goexit (a Go program's own packages are never "runtime").
    FrameIgnoreRule{"go-runtime", M::function_prefix, "runtime.", "runtime.sigpanic", "runtimeconfig.Load"},
    // Python's import machinery, frozen into the interpreter, between a script and the module it imports.
    FrameIgnoreRule{"python-runtime", M::file_contains, "<frozen importlib.", "<frozen importlib._bootstrap>",
                    "importlib_helpers.py"},
    // Frames nobody could name carry no information.
    FrameIgnoreRule{"unsymbolized", M::unsymbolized, "", "", "main"},
};

bool matches(const FrameIgnoreRule& rule, const Frame& frame) {
  switch (rule.match) {
    case M::function_prefix:
      return frame.function.compare(0, rule.pattern.size(), rule.pattern) == 0;
    case M::function_exact:
      return normalize_function(frame.function) == rule.pattern;
    case M::function_contains:
      return frame.function.find(rule.pattern) != std::string::npos;
    case M::module_contains:
      return frame.module.find(rule.pattern) != std::string::npos;
    case M::file_contains:
      return frame.file.find(rule.pattern) != std::string::npos;
    case M::unsymbolized:
      return frame.function.empty() && frame.module.empty() && frame.file.empty();
  }
  return false;
}

}  // namespace

std::span<const FrameIgnoreRule> frame_ignore_rules() { return kRules; }

const FrameIgnoreRule* frame_ignore_rule(const Frame& frame) {
  for (const auto& rule : kRules)
    if (matches(rule, frame)) return &rule;
  return nullptr;
}

}  // namespace crashgate
