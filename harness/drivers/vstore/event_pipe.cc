#include "event_pipe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace crashgate::vstore_driver {

EventPipe::EventPipe() {
  const char* env = std::getenv("CRASHGATE_EVENT_FD");
  int fd = env ? std::atoi(env) : 3;
  if (fd >= 0 && ::fcntl(fd, F_GETFD) != -1) fd_ = fd;
}

void EventPipe::emit(const nlohmann::json& event) {
  if (fd_ < 0) return;
  std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (line.size() > 4000) line = nlohmann::json{{"event", event.value("event", "log")}, {"truncated", true}}.dump();
  line += '\n';
  ssize_t n;
  do {
    n = ::write(fd_, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
}

void EventPipe::hello() { emit({{"event", "hello"}, {"protocol", 1}, {"driver", "vstore"}, {"version", "1"}}); }

void EventPipe::step_start(int index, std::string_view op) { emit({{"event", "step-start"}, {"index", index}, {"op", op}}); }

void EventPipe::step_end(int index, bool ok, std::string_view code, std::string_view message, double duration_ms) {
  nlohmann::json e = {{"event", "step-end"}, {"index", index}, {"status", ok ? "ok" : "error"}, {"duration_ms", duration_ms}};
  if (!ok) {
    e["code"] = code;
    e["message"] = message.size() > 2000 ? std::string(message.substr(0, 2000)) + "..." : std::string(message);
  }
  emit(e);
}

void EventPipe::log(std::string_view message) { emit({{"event", "log"}, {"message", message}}); }

void EventPipe::done() { emit({{"event", "done"}}); }

}  // namespace crashgate::vstore_driver
