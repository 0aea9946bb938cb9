// A tiny driver for the driver protocol (reports/driver-protocol.md), just
// enough to prove the runner side: its "store" is one flat file of floats.
//   create  dim vectors   writes store/vectors.bin and remembers its size
//   truncate file to      cuts store/<file>.bin to `to` bytes
//   count   [equals]      maps vectors.bin at the remembered size, reads the last vector
//   sleep   duration      milliseconds ("50ms" or 50)
//   failpoints spec       "fail-once:PATH": fails (code "io") unless PATH exists, and creates it;
//                         relative to the work dir, "../x" is shared by a cell's attempts, so the
//                         cell fails its first run and passes its rerun (a flaky cell, on purpose)
// Anything else ends the step with code "invalid-argument".
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

using nlohmann::json;

namespace {

int g_events = -1;

void emit(const json& event) {
  std::string line = event.dump() + "\n";
  if (g_events >= 0 && write(g_events, line.data(), line.size()) < 0) std::perror("event");
}

long number(const json& value) {
  return value.is_number() ? value.get<long>() : std::strtol(value.get<std::string>().c_str(), nullptr, 10);
}

struct StepResult {
  std::string code;  // "" when the step succeeded
  std::string message;
};

__attribute__((noinline)) float read_last_vector(const float* vectors, long count, long dim) {
  return vectors[(count - 1) * dim];
}

StepResult run_step(const json& step, const std::string& store) {
  std::string op = step["op"];
  if (op == "create") {
    long dim = step.contains("dim") ? number(step["dim"]) : 4, vectors = step.contains("vectors") ? number(step["vectors"]) : 16;
    int fd = open((store + "/vectors.bin").c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, dim * vectors * 4) != 0) return {"io", "cannot create vectors.bin"};
    close(fd);
    std::ofstream(store + "/meta") << dim << " " << vectors << "\n";
    return {};
  }
  if (op == "truncate") {
    std::string file = store + "/" + step["file"].get<std::string>() + ".bin";
    if (truncate(file.c_str(), number(step["to"])) != 0) return {"io", "cannot truncate " + file};
    return {};
  }
  if (op == "count") {
    long dim = 0, vectors = 0;
    std::ifstream(store + "/meta") >> dim >> vectors;
    int fd = open((store + "/vectors.bin").c_str(), O_RDONLY);
    if (fd < 0 || dim <= 0) return {"not-found", "no store"};
    void* map = mmap(nullptr, dim * vectors * 4, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) return {"io", "mmap failed"};
    volatile float last = read_last_vector(static_cast<const float*>(map), vectors, dim);
    (void)last;
    if (step.contains("equals") && number(step["equals"]) != vectors)
      return {"corrupt", "count is " + std::to_string(vectors) + ", expected " + std::to_string(number(step["equals"]))};
    return {};
  }
  if (op == "failpoints") {
    std::string spec = step["spec"];
    if (spec.rfind("fail-once:", 0) != 0) return {"invalid-argument", "the test driver knows only fail-once:PATH"};
    std::string marker = spec.substr(10);
    if (access(marker.c_str(), F_OK) == 0) return {};
    std::ofstream(marker) << "failed once\n";
    return {"io", "fail-once: first run, " + marker + " was not there"};
  }
  if (op == "sleep") {
    usleep(static_cast<useconds_t>(number(step["duration"]) * 1000));
    return {};
  }
  return {"invalid-argument", "the test driver does not implement '" + op + "'"};
}

}  // namespace

// --list ops: what it runs, as every driver says (reports/driver-protocol.md).
int list(const std::string& what) {
  if (what != "ops") return 2;
  std::printf("%s\n", json{{"op", "create"}, {"needs_store", false}, {"values", {{"metric", {"l2"}}}}}.dump().c_str());
  std::printf("%s\n", json{{"op", "truncate"}, {"needs_store", false}, {"values", {{"file", {"vectors"}}}}}.dump().c_str());
  std::printf("%s\n", json{{"op", "count"}, {"needs_store", true}, {"values", json::object()}}.dump().c_str());
  std::printf("%s\n", json{{"op", "failpoints"}, {"needs_store", false}, {"values", json::object()}}.dump().c_str());
  std::printf("%s\n", json{{"op", "sleep"}, {"needs_store", false}, {"values", json::object()}}.dump().c_str());
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--list") return list(argv[2]);
  if (argc != 3 || std::string(argv[1]) != "--cell") {
    std::fprintf(stderr, "usage: test_driver --cell CELL.json\n");
    return 2;
  }
  if (const char* fd = std::getenv("CRASHGATE_EVENT_FD")) g_events = std::atoi(fd);
  std::ifstream in(argv[2]);
  json cell = json::parse(in, nullptr, false);
  if (cell.is_discarded() || cell.value("protocol", 0) != 1) {
    std::fprintf(stderr, "test_driver: %s is not a protocol-1 cell\n", argv[2]);
    return 2;
  }
  emit({{"event", "hello"}, {"protocol", 1}, {"driver", "test_driver"}});
  std::string store = cell["work_dir"].get<std::string>();
  for (const auto& step : cell["steps"]) {
    int index = step["index"];
    emit({{"event", "step-start"}, {"index", index}, {"op", step["op"]}});
    // The step's own time, as the vstore driver reports it: crashgate's
    // fallback (when the events were read) shrinks when it reads late.
    auto started = std::chrono::steady_clock::now();
    StepResult result = run_step(step, store);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    if (!result.code.empty()) {
      emit({{"event", "step-end"}, {"index", index}, {"status", "error"}, {"code", result.code}, {"message", result.message}, {"duration_ms", ms}});
      return 1;
    }
    emit({{"event", "step-end"}, {"index", index}, {"status", "ok"}, {"duration_ms", ms}});
  }
  emit({{"event", "done"}});
  return 0;
}
