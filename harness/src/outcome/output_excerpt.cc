#include <fmt/format.h>

#include "crashgate/outcome.h"

namespace crashgate {

std::string OutputExcerpt::text() const {
  if (!truncated()) return head + tail;
  // The marker names the gap so nobody mistakes head+tail for the whole output.
  return fmt::format("{}\n[... crashgate: {} bytes not kept ...]\n{}", head,
                     total_bytes - head.size() - tail.size(), tail);
}

}  // namespace crashgate
