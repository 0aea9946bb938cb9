// Test support: what a Checked result refused with, or "accepted" when it was
// not refused (so that an expected message fails the test visibly).
#pragma once

#include <string>

#include "crashgate/checked.h"

namespace crashgate::testing {

template <class T>
std::string refusal(const Checked<T>& result) {
  return result ? std::string("accepted") : result.error();
}

}  // namespace crashgate::testing
