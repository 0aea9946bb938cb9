// vstore/support/small_stack.h: run code on a thread with a chosen, small stack, as a
// worker pool would (field report 003: a 2 MiB tokio worker).
#pragma once

#include <cstddef>
#include <functional>

namespace vstore::testing {

inline constexpr size_t kTinyStack = 64 * 1024;       // what the hardened filter must live with
inline constexpr size_t kWorkerStack = 2 * 1024 * 1024;  // the field's worker thread

// Runs `body` on a new thread with a `stack_bytes` stack and waits for it.
// False when the thread could not be created (the body did not run).
bool run_with_stack(size_t stack_bytes, const std::function<void()>& body);

}  // namespace vstore::testing
