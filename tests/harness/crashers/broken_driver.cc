// A driver written by hand, without the kit, that conforms to the driver
// protocol unless BROKEN names one rule it then breaks: the test of
// `crashgate driver-check`, which must fail it on that rule and say why.
// Its "store" is one file, store/data, holding the record count as text.
//   create [dim vectors]  count [equals]  get ids  sleep duration  truncate file to
// BROKEN: no-hello, bad-list, list-unknown-ok, bad-layout, exit-0-on-failure,
// accept-unknown-op, accept-wrong-protocol, late-step-start, ignore-stack,
// nondeterministic, listed-op-crashes.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

using nlohmann::json;

namespace {

std::string broken() {
  const char* b = std::getenv("BROKEN");
  return b ? b : "";
}

void emit(const json& event) {
  std::string line = event.dump() + "\n";
  if (write(3, line.data(), line.size()) < 0) {
  }
}

volatile bool g_forever = true;

[[gnu::noinline]] int recurse(int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  if (!g_forever) return frame[0];
  return recurse(depth + 1) + frame[0];
}

// Runs fn on a thread with this stack (0: the default), and waits.
void on_thread(std::size_t stack, void* (*fn)(void*), void* arg) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  if (stack) pthread_attr_setstacksize(&attr, stack);
  pthread_t t;
  pthread_create(&t, &attr, fn, arg);
  pthread_join(t, nullptr);
  pthread_attr_destroy(&attr);
}

int list(const std::string& what) {
  if (what == "ops") {
    if (broken() == "bad-list") std::printf("create, count, get\n");
    std::printf("%s\n", json{{"op", "create"}, {"needs_store", false}, {"values", {{"metric", {"l2"}}}}}.dump().c_str());
    for (const char* op : {"count", "get", "sleep"}) {
      bool store = std::strcmp(op, "sleep") != 0;
      std::printf("%s\n", json{{"op", op}, {"needs_store", store}, {"values", json::object()}}.dump().c_str());
    }
    std::printf("%s\n", json{{"op", "truncate"}, {"needs_store", false}, {"values", {{"file", {"data"}}}}}.dump().c_str());
    return 0;
  }
  if (what == "layout") {
    json fields = {{{"name", "count"}, {"offset", 0}, {"width", broken() == "bad-layout" ? 32 : 8}, {"meaning", "records, as text"}}};
    std::printf("%s\n", json{{"file", "data"}, {"pattern", "data"}, {"header_size", 16}, {"meaning", "the count"}, {"fields", fields}}.dump().c_str());
    return 0;
  }
  return broken() == "list-unknown-ok" ? 0 : 2;
}

struct Result {
  std::string code;  // "" ok
  std::string message;
};

Result run_step(const json& step, const std::string& dir) {
  std::string op = step["op"];
  std::string data = dir + "/data";
  long count = 0;
  std::ifstream(data) >> count;
  if (op == "create") {
    std::ofstream(data) << step.value("vectors", 0) << "\n";
    return {};
  }
  if (op == "count") {
    if (broken() == "nondeterministic")
      emit({{"event", "log"}, {"message", std::to_string(std::chrono::steady_clock::now().time_since_epoch().count())}});
    if (step.contains("equals") && step["equals"] != count) return {"wrong-result", "count is " + std::to_string(count)};
    return {};
  }
  if (op == "get") {
    if (broken() == "listed-op-crashes") raise(SIGSEGV);
    for (const auto& id : step["ids"])
      if (id.get<long>() >= count) return {"not-found", "no record " + id.dump()};
    return {};
  }
  if (op == "sleep") {
    std::this_thread::sleep_for(std::chrono::milliseconds(step["duration"].get<long>()));
    return {};
  }
  if (op == "truncate") {
    if (truncate(data.c_str(), std::stol(step["to"].get<std::string>())) != 0) return {"io", "truncate failed"};
    return {};
  }
  return {"invalid-argument", "unknown op " + op};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--list") return list(argv[2]);
  if (argc != 3 || std::string(argv[1]) != "--cell") return 2;
  std::ifstream in(argv[2]);
  json cell = json::parse(in, nullptr, false);
  if (cell.is_discarded()) return 2;
  if (cell.value("protocol", 0) != 1 && broken() != "accept-wrong-protocol") return 2;
  for (const auto& step : cell["steps"]) {
    std::string op = step["op"];
    if (op != "create" && op != "count" && op != "get" && op != "sleep" && op != "truncate" && broken() != "accept-unknown-op") return 2;
  }
  if (broken() != "no-hello") emit({{"event", "hello"}, {"protocol", 1}, {"driver", "broken"}});
  std::size_t stack = cell.value("worker_stack", 0);
  if (const char* probe = std::getenv("CRASHGATE_PROBE")) {
    if (std::string(probe) == "crash-in-step") {
      if (broken() != "late-step-start") emit({{"event", "step-start"}, {"index", 0}, {"op", "probe-crash"}});
      raise(SIGSEGV);
    }
    on_thread(broken() == "ignore-stack" ? 0 : stack, [](void*) -> void* {
      emit({{"event", "step-start"}, {"index", 0}, {"op", "probe-stack"}});
      recurse(0);
      return nullptr;
    }, nullptr);
    return 2;
  }
  std::string dir = cell["work_dir"];
  for (const auto& step : cell["steps"]) {
    int index = step["index"];
    emit({{"event", "step-start"}, {"index", index}, {"op", step["op"]}});
    Result r = run_step(step, dir);
    if (!r.code.empty()) {
      emit({{"event", "step-end"}, {"index", index}, {"status", "error"}, {"code", r.code}, {"message", r.message}});
      return broken() == "exit-0-on-failure" ? 0 : 1;
    }
    emit({{"event", "step-end"}, {"index", index}, {"status", "ok"}});
  }
  emit({{"event", "done"}});
  return 0;
}
