// The driver's side of the event pipe (fd 3, protocol v1): one JSON object a
// line, each written with a single write(2) so a crash never tears one.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace crashgate::vstore_driver {

class EventPipe {
 public:
  // Uses $CRASHGATE_EVENT_FD (default 3); a closed descriptor makes every emit a no-op.
  EventPipe();
  void emit(const nlohmann::json& event);
  void hello();
  void step_start(int index, std::string_view op);
  void step_end(int index, bool ok, std::string_view code, std::string_view message, double duration_ms);
  void log(std::string_view message);
  void done();

 private:
  int fd_ = -1;
};

}  // namespace crashgate::vstore_driver
