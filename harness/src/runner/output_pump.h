// The second thread of a run: drains stdout, stderr and the driver's event
// pipe into bounded captures, and enforces the deadline and cancellation by
// signalling the whole run (the tracer thread is blocked in wait4 meanwhile).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "crashgate/driver_protocol.h"
#include "crashgate/runner.h"
#include "runner/bounded_capture.h"
#include "runner/run_state.h"

namespace crashgate {

class OutputPump {
 public:
  OutputPump(RunState& state, const RunSpec& spec, const Cancellation* cancellation,
             std::chrono::steady_clock::time_point started, int stdout_fd, int stderr_fd, int events_fd);
  ~OutputPump();
  void start();
  // The main process is gone: drain what is left (briefly) and stop.
  void finish();

  OutputExcerpt stdout_excerpt() const { return stdout_.excerpt(); }
  OutputExcerpt stderr_excerpt() const { return stderr_.excerpt(); }
  const std::vector<EventLine>& event_lines() const { return events_; }
  std::vector<std::string> notes() const { return notes_; }

 private:
  void loop();
  void read_events(const char* data, std::size_t size);

  RunState& state_;
  const RunSpec& spec_;
  const Cancellation* cancellation_;
  std::chrono::steady_clock::time_point started_;
  int fds_[3];
  int wake_fd_;
  BoundedCapture stdout_;
  BoundedCapture stderr_;
  std::string partial_event_;
  std::vector<EventLine> events_;
  std::vector<std::string> notes_;
  std::thread thread_;
};

}  // namespace crashgate
