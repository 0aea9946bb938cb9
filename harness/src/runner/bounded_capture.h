// Keeps the first and last bytes of a stream and counts the rest, so a child
// printing gigabytes costs crashgate a fixed amount of memory.
#pragma once

#include <cstddef>
#include <string>

#include "crashgate/outcome.h"
#include "crashgate/runner.h"

namespace crashgate {

class BoundedCapture {
 public:
  explicit BoundedCapture(CaptureBounds bounds) : bounds_(bounds) {}
  void append(const char* data, std::size_t size);
  OutputExcerpt excerpt() const;

 private:
  CaptureBounds bounds_;
  std::string head_;
  std::string ring_;           // the last tail_bytes after the head, circular
  std::size_t ring_next_ = 0;  // where the next byte goes once the ring is full
  std::uint64_t total_ = 0;
};

}  // namespace crashgate
