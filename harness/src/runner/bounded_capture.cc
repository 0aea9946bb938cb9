#include "runner/bounded_capture.h"

#include <algorithm>
#include <cstring>

namespace crashgate {

void BoundedCapture::append(const char* data, std::size_t size) {
  total_ += size;
  if (head_.size() < bounds_.head_bytes) {
    std::size_t take = std::min(size, bounds_.head_bytes - head_.size());
    head_.append(data, take);
    data += take;
    size -= take;
  }
  if (size == 0 || bounds_.tail_bytes == 0) return;
  if (size >= bounds_.tail_bytes) {  // only the end of this chunk can survive
    ring_.assign(data + size - bounds_.tail_bytes, bounds_.tail_bytes);
    ring_next_ = 0;
    return;
  }
  if (ring_.size() < bounds_.tail_bytes) {
    std::size_t room = bounds_.tail_bytes - ring_.size();
    std::size_t take = std::min(size, room);
    ring_.append(data, take);
    data += take;
    size -= take;
    ring_next_ = ring_.size() == bounds_.tail_bytes ? 0 : ring_.size();
    if (size == 0) return;
  }
  while (size > 0) {
    std::size_t take = std::min(size, ring_.size() - ring_next_);
    std::memcpy(ring_.data() + ring_next_, data, take);
    ring_next_ = (ring_next_ + take) % ring_.size();
    data += take;
    size -= take;
  }
}

OutputExcerpt BoundedCapture::excerpt() const {
  OutputExcerpt out;
  out.head = head_;
  out.total_bytes = total_;
  if (ring_.size() < bounds_.tail_bytes) {
    out.tail = ring_;
  } else {
    out.tail = ring_.substr(ring_next_) + ring_.substr(0, ring_next_);
  }
  return out;
}

}  // namespace crashgate
