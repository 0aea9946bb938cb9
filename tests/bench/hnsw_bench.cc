// vstore's HNSW side by side with hnswlib 0.6.2, in one run, on the same data
// (uniform, then clustered like real embeddings) with the same M (16) and
// ef_construction (200):
//   build 1t s, build 2t s  seconds to insert every vector on 1 and 2 threads
//                           (one build each, not a median)
//   RSS MiB                 resident memory the 1-thread build added
//   L2 kernel               the distance kernel the engine runs on this CPU
//   qps, recall             single-thread queries per second (k 10) and
//                           recall@10 against exact search, at each ef
//
// The engines, in turn:
//   vstore               ours; picks AVX-512, AVX2+FMA or portable kernels at
//                        run time
//   hnswlib-portable     Debian's libhnswlib-dev compiled with the bench's flags
//                        (baseline x86-64): hnswlib picks its kernels by the
//                        compiler's macros, so SSE
//   hnswlib-native       the same headers compiled with -march=native: AVX or
//                        AVX-512, as a user who builds hnswlib for the machine
//                        gets it (absent where the compiler rejects the flag)
//   python3-hnswlib      Debian's Python package through /usr/bin/python3
//                        (hnsw_bench_py.py; Debian builds it without
//                        -march=native), queries as one knn_query batch; left
//                        out if not installed, or with --no-python
// The two hnswlib builds are shared libraries of their own (hnswlib_side.cc,
// CMakeLists.txt), so their copies of header-only hnswlib never mix.
//
// Search QPS: at each ef the engines take turns, --repeats times, each turn
// timing at least 0.2 s of queries; the median turn is printed. Each engine is
// then quoted at the first ef of the sweep where it reaches recall@10 >= 0.95
// (its own ef: the same recall target, not the same ef). vstore/it is vstore's
// qps over the engine's (above 1: vstore answers faster); build 1t/2t is
// vstore's build seconds over the engine's (above 1: vstore builds slower).
//   build/release/tests/bench/hnsw_bench [--n 100000] [--dim 128] [--queries 1000] [--repeats 5] [--no-python]
// The last lines are the summary the issue asks for, on the clustered set, one
// per other engine (the build ratio is the larger of the 1- and 2-thread ones):
//   vstore/hnswlib-native qps ratio: X at recall@10 vstore Y (ef E) hnswlib-native Z (ef F); build ratio: B
// README.md (vstore, "Speed against hnswlib") has the figures measured.
#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>

#include "bench/hnswlib_side.h"
#include "index/distance.h"
#include "vstore/store.h"
#include "vstore/support/clustered.h"

namespace {

using namespace vstore;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kM = 16, kEfConstruction = 200;
constexpr size_t kK = 10;
constexpr double kRecallTarget = 0.95, kTurnSeconds = 0.2;
const size_t kEfSweep[] = {10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

uint64_t rss_bytes() {
  std::ifstream f("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * 4096;
}

// The same synthetic data the recall tests use (tests/vstore/support/clustered.cc).
std::vector<float> clustered(uint64_t n, uint32_t dim, uint64_t seed) { return vstore::testing::clustered_vectors(n, dim, seed); }
std::vector<float> uniform(uint64_t n, uint32_t dim, uint64_t seed) { return vstore::testing::uniform_vectors(n, dim, seed); }

std::vector<std::vector<uint64_t>> ground_truth(const std::vector<float>& data, const std::vector<float>& queries, uint32_t dim) {
  const auto& k = internal::kernels();
  uint64_t n = data.size() / dim, nq = queries.size() / dim;
  std::vector<std::vector<uint64_t>> out(nq);
  auto work = [&](uint64_t from, uint64_t to) {
    std::vector<std::pair<float, uint64_t>> all(n);
    for (uint64_t q = from; q < to; ++q) {
      for (uint64_t i = 0; i < n; ++i) all[i] = {k.l2_squared(data.data() + i * dim, queries.data() + q * dim, dim), i};
      std::partial_sort(all.begin(), all.begin() + kK, all.end());
      for (size_t i = 0; i < kK; ++i) out[q].push_back(all[i].second);
    }
  };
  std::thread t(work, 0, nq / 2);
  work(nq / 2, nq);
  t.join();
  return out;
}

double recall(const std::vector<std::vector<uint64_t>>& truth, const std::vector<std::vector<uint64_t>>& got) {
  double found = 0;
  for (size_t q = 0; q < truth.size(); ++q) {
    std::unordered_set<uint64_t> want(truth[q].begin(), truth[q].end());
    for (uint64_t id : got[q]) found += want.count(id);
  }
  return found / (truth.size() * kK);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

void die(const Status& st, const char* what) {
  if (st.ok()) return;
  fmt::print(stderr, "{}: {}\n", what, st.to_string());
  std::exit(1);
}

// One engine under test: holds at most one index at a time.
class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string name() const = 0;
  virtual std::string kernel(uint32_t dim) const = 0;
  // The data set and queries that the calls until the next prepare are about.
  virtual void prepare(const std::vector<float>& data, const std::vector<float>& queries, uint32_t dim) {}
  // Builds an index of data (replacing any held) on `threads` threads; seconds.
  virtual double build(const std::vector<float>& data, uint32_t dim, int threads) = 0;
  // The RSS growth of the last build where the engine measures it itself (in a
  // process of its own); otherwise the bench measures its own process.
  virtual std::optional<uint64_t> own_rss() const { return std::nullopt; }
  virtual void drop() = 0;
  // One pass over all queries at ef: each one's kK nearest ids, nearest first.
  virtual void pass(const std::vector<float>& queries, uint32_t dim, size_t ef, std::vector<std::vector<uint64_t>>* got) = 0;
  // Queries per second over passes for at least `secs`.
  virtual double timed(const std::vector<float>& queries, uint32_t dim, size_t ef, double secs, std::vector<std::vector<uint64_t>>* got) {
    auto t0 = Clock::now();
    int rounds = 0;
    do {
      pass(queries, dim, ef, got);
      ++rounds;
    } while (seconds_since(t0) < secs);
    return rounds * (queries.size() / dim) / seconds_since(t0);
  }
};

class VstoreEngine : public Engine {
 public:
  explicit VstoreEngine(std::string root) : root_(std::move(root)) {}
  ~VstoreEngine() override { drop(); }
  std::string name() const override { return "vstore"; }
  std::string kernel(uint32_t) const override { return internal::kernels().name; }
  double build(const std::vector<float>& data, uint32_t dim, int threads) override {
    drop();
    dir_ = fmt::format("{}/vstore-{}", root_, builds_++);
    CreateOptions o;
    o.dim = dim;
    o.index.m = kM;
    o.index.ef_construction = kEfConstruction;
    auto s = Store::create(dir_, o);
    die(s.status(), "create");
    Store& store = **s;
    uint64_t n = data.size() / dim;
    const uint64_t batch = 1000;
    auto t0 = Clock::now();
    auto work = [&](int t) {
      for (uint64_t first = t * batch; first < n; first += threads * batch) {
        std::vector<Record> records(std::min(batch, n - first));
        for (uint64_t i = 0; i < records.size(); ++i) {
          records[i].id = first + i;
          records[i].vector.assign(data.begin() + (first + i) * dim, data.begin() + (first + i + 1) * dim);
        }
        die(store.add(records), "add");
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& t : pool) t.join();
    die(store.sync(), "sync");
    double secs = seconds_since(t0);
    store_ = std::move(s).value();
    return secs;
  }
  void drop() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    dir_.clear();
  }
  void pass(const std::vector<float>& queries, uint32_t dim, size_t ef, std::vector<std::vector<uint64_t>>* got) override {
    for (size_t q = 0; q < got->size(); ++q) {
      auto& out = (*got)[q];
      out.clear();
      auto hits = store_->search({queries.data() + q * dim, dim}, {.k = kK, .ef = ef});
      for (const SearchHit& h : *hits) out.push_back(h.id);
    }
  }

 private:
  std::string root_, dir_;
  int builds_ = 0;
  std::unique_ptr<Store> store_;
};

class HnswlibEngine : public Engine {
 public:
  explicit HnswlibEngine(const HnswlibSide* side) : side_(side) {}
  ~HnswlibEngine() override { drop(); }
  std::string name() const override { return fmt::format("hnswlib-{}", side_->variant); }
  std::string kernel(uint32_t dim) const override { return side_->kernel(dim); }
  double build(const std::vector<float>& data, uint32_t dim, int threads) override {
    drop();
    double secs = 0;
    index_ = side_->build(data.data(), data.size() / dim, dim, kM, kEfConstruction, threads, &secs);
    return secs;
  }
  void drop() override {
    if (index_) side_->destroy(index_);
    index_ = nullptr;
  }
  void pass(const std::vector<float>& queries, uint32_t dim, size_t ef, std::vector<std::vector<uint64_t>>* got) override {
    for (size_t q = 0; q < got->size(); ++q) {
      auto& out = (*got)[q];
      out.resize(kK);
      out.resize(side_->search(index_, queries.data() + q * dim, kK, ef, out.data()));
    }
  }

 private:
  const HnswlibSide* side_;
  void* index_ = nullptr;
};

// hnswlib through Debian's python3-hnswlib: hnsw_bench_py.py in a child
// /usr/bin/python3, one command a line (the script says which). It runs its
// queries as one knn_query batch and times them itself.
class PythonEngine : public Engine {
 public:
  // Starts the child; the engine is usable when unavailable() is empty.
  PythonEngine(std::string root) : root_(std::move(root)) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
      why_ = "pipe failed";
      return;
    }
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      execl(kPython, kPython, HNSW_BENCH_PY_SCRIPT, static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = fdopen(in[1], "w");
    from_ = fdopen(out[0], "r");
    std::string hello = reply();
    if (hello != "ready") why_ = hello.empty() ? fmt::format("{} did not start", kPython) : hello;
  }
  ~PythonEngine() override {
    if (to_) fclose(to_);
    if (from_) fclose(from_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  const std::string& unavailable() const { return why_; }
  std::string name() const override { return "python3-hnswlib"; }
  std::string kernel(uint32_t) const override { return "as packaged"; }
  void prepare(const std::vector<float>& data, const std::vector<float>& queries, uint32_t dim) override {
    std::string d = root_ + "/py-data.f32", q = root_ + "/py-queries.f32";
    write_floats(d, data);
    write_floats(q, queries);
    ask(fmt::format("data {} {} {}", d, data.size() / dim, dim));
    ask(fmt::format("queries {} {}", q, queries.size() / dim));
  }
  double build(const std::vector<float>&, uint32_t, int threads) override {
    std::string r = ask(fmt::format("build {} {} {}", threads, kM, kEfConstruction));
    double secs = 0;
    unsigned long long rss = 0;
    if (std::sscanf(r.c_str(), "%lf %llu", &secs, &rss) != 2) fail(r);
    rss_ = rss;
    return secs;
  }
  std::optional<uint64_t> own_rss() const override { return rss_; }
  void drop() override { ask("drop"); }
  void pass(const std::vector<float>&, uint32_t, size_t ef, std::vector<std::vector<uint64_t>>* got) override {
    std::string path = root_ + "/py-labels.u64";
    ask(fmt::format("pass {} {}", ef, path));
    std::ifstream f(path, std::ios::binary);
    for (auto& out : *got) {
      out.resize(kK);
      f.read(reinterpret_cast<char*>(out.data()), kK * sizeof(uint64_t));
    }
    if (!f) fail("short labels file");
  }
  double timed(const std::vector<float>&, uint32_t, size_t ef, double secs, std::vector<std::vector<uint64_t>>*) override {
    return std::strtod(ask(fmt::format("time {} {}", ef, secs)).c_str(), nullptr);
  }

 private:
  static constexpr const char* kPython = "/usr/bin/python3";
  static void write_floats(const std::string& path, const std::vector<float>& v) {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
  }
  std::string reply() {
    char* line = nullptr;
    size_t cap = 0;
    ssize_t len = from_ ? getline(&line, &cap, from_) : -1;
    std::string r = len > 0 ? std::string(line, len - (line[len - 1] == '\n')) : "";
    free(line);
    return r;
  }
  std::string ask(const std::string& command) {
    fmt::print(to_, "{}\n", command);
    fflush(to_);
    std::string r = reply();
    if (r.empty() || r.rfind("error", 0) == 0) fail(r);
    return r;
  }
  [[noreturn]] static void fail(const std::string& what) {
    fmt::print(stderr, "python3-hnswlib: {}\n", what.empty() ? "the child exited" : what);
    std::exit(1);
  }
  std::string root_, why_;
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
  uint64_t rss_ = 0;
};

struct Point {
  size_t ef;
  double qps, recall;
};

struct Measured {
  std::string name, kernel;
  double build1 = 0, build2 = 0;
  uint64_t rss = 0;
  std::vector<Point> sweep;
  // The first point of the sweep at recall@10 >= kRecallTarget (the last if none).
  const Point& at_target() const {
    for (const Point& p : sweep)
      if (p.recall >= kRecallTarget) return p;
    return sweep.back();
  }
};

std::string bench_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = fmt::format("{}/vstore-hnsw-bench-{}", tmp && *tmp ? tmp : "/tmp", ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::vector<Measured> run(const char* label, const std::vector<std::unique_ptr<Engine>>& engines, const std::vector<float>& data,
                        const std::vector<float>& queries, uint32_t dim, int repeats) {
  fmt::print("== {}: {} x {}, {} queries, M {}, ef_construction {}\n", label, data.size() / dim, dim, queries.size() / dim, kM, kEfConstruction);
  std::fflush(stdout);
  auto truth = ground_truth(data, queries, dim);
  std::vector<Measured> results(engines.size());
  for (auto& engine : engines) engine->prepare(data, queries, dim);
  for (size_t e = 0; e < engines.size(); ++e) {
    results[e].name = engines[e]->name();
    results[e].kernel = engines[e]->kernel(dim);
    results[e].build2 = engines[e]->build(data, dim, 2);
    engines[e]->drop();
  }
  // The 1-thread builds are the ones searched; each is kept while the next is
  // made. malloc_trim hands back what the dropped builds freed, or malloc would
  // reuse it and the next build's growth would read as none.
  for (size_t e = 0; e < engines.size(); ++e) {
    malloc_trim(0);
    uint64_t before = rss_bytes();
    results[e].build1 = engines[e]->build(data, dim, 1);
    uint64_t after = rss_bytes();
    results[e].rss = engines[e]->own_rss().value_or(after - before);
  }
  std::vector<std::vector<uint64_t>> got(queries.size() / dim);
  for (size_t ef : kEfSweep) {
    std::vector<std::vector<double>> turns(engines.size());
    for (size_t e = 0; e < engines.size(); ++e) {
      engines[e]->pass(queries, dim, ef, &got);  // warms, and gives the recall
      results[e].sweep.push_back({ef, 0, recall(truth, got)});
    }
    for (int r = 0; r < repeats; ++r)
      for (size_t e = 0; e < engines.size(); ++e) turns[e].push_back(engines[e]->timed(queries, dim, ef, kTurnSeconds, &got));
    for (size_t e = 0; e < engines.size(); ++e) results[e].sweep.back().qps = median(turns[e]);
  }
  for (auto& engine : engines) engine->drop();

  fmt::print("{:<19} {:>10} {:>10} {:>8}  {}\n", "", "build 1t s", "build 2t s", "RSS MiB", "L2 kernel");
  for (const Measured& r : results)
    fmt::print("{:<19} {:>10.2f} {:>10.2f} {:>8.1f}  {}\n", r.name, r.build1, r.build2, r.rss / 1048576.0, r.kernel);
  fmt::print("{:>5}", "ef");
  for (const Measured& r : results) fmt::print(" {:>19} {:>7}", r.name + " qps", "recall");
  fmt::print("\n");
  for (size_t i = 0; i < std::size(kEfSweep); ++i) {
    fmt::print("{:>5}", kEfSweep[i]);
    for (const Measured& r : results) fmt::print(" {:>19.0f} {:>7.4f}", r.sweep[i].qps, r.sweep[i].recall);
    fmt::print("\n");
  }
  fmt::print("at recall@10 >= {} (each engine's first ef that reaches it; median qps of {}):\n", kRecallTarget, repeats);
  fmt::print("{:<19} {:>5} {:>7} {:>9} {:>10} {:>10}\n", "", "ef", "recall", "qps", "vstore/it", "build 1t/2t");
  const Point& ours = results[0].at_target();
  for (const Measured& r : results) {
    const Point& p = r.at_target();
    std::string ratio = &r == &results[0] ? "" : fmt::format("{:.2f}", ours.qps / p.qps);
    std::string build = &r == &results[0] ? "" : fmt::format("{:.2f}/{:.2f}", results[0].build1 / r.build1, results[0].build2 / r.build2);
    fmt::print("{:<19} {:>5} {:>7.4f} {:>9.0f} {:>10} {:>10}{}\n", r.name, p.ef, p.recall, p.qps, ratio, build,
               p.recall < kRecallTarget ? "  (below the target at the sweep's last ef)" : "");
  }
  std::fflush(stdout);
  return results;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 100000, nq = 1000;
  uint32_t dim = 128;
  int repeats = 5;
  bool python = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--no-python") {
      python = false;
      continue;
    }
    if (i + 1 == argc) break;
    if (a == "--n") n = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--dim") dim = static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (a == "--queries") nq = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--repeats") repeats = std::max(1, std::atoi(argv[i + 1]));
    else continue;
    ++i;
  }
  std::signal(SIGPIPE, SIG_IGN);  // a python3 child that died is reported, not a silent exit
  std::string root = bench_dir();
  std::vector<std::unique_ptr<Engine>> engines;
  engines.push_back(std::make_unique<VstoreEngine>(root));
  std::vector<const HnswlibSide*> sides = {hnsw_bench_hnswlib_portable()};
#ifdef HNSW_BENCH_NATIVE
  sides.push_back(hnsw_bench_hnswlib_native());
#endif
  fmt::print("vstore: {} kernels (picked at run time)\n", internal::kernels().name);
  for (const HnswlibSide* side : sides) {
    fmt::print("hnswlib-{}: compiled with {}; L2 kernel for dim {}: {}\n", side->variant, *side->flags ? side->flags : "the bench's flags (baseline x86-64)",
               dim, side->kernel(dim));
    engines.push_back(std::make_unique<HnswlibEngine>(side));
  }
#ifndef HNSW_BENCH_NATIVE
  fmt::print("hnswlib-native: not built (the compiler rejects -march=native)\n");
#endif
  if (python) {
    auto py = std::make_unique<PythonEngine>(root);
    if (!py->unavailable().empty()) {
      fmt::print("python3-hnswlib: left out ({})\n", py->unavailable());
    } else {
      fmt::print("python3-hnswlib: Debian's package, through /usr/bin/python3, queries in one knn_query batch\n");
      engines.push_back(std::move(py));
    }
  }
  auto uni = run("uniform", engines, uniform(n, dim, 7), uniform(nq, dim, 8), dim, repeats);
  auto clu = run("clustered", engines, clustered(n, dim, 1), clustered(nq, dim, 2), dim, repeats);
  std::filesystem::remove_all(root);
  // The summary, on the clustered set (the one shaped like real embeddings); the
  // build ratio is the larger of the 1- and 2-thread ones.
  const Measured& ours = clu[0];
  for (size_t e = 1; e < clu.size(); ++e) {
    const Measured& theirs = clu[e];
    fmt::print("vstore/{} qps ratio: {:.2f} at recall@10 vstore {:.4f} (ef {}) {} {:.4f} (ef {}); build ratio: {:.2f}\n", theirs.name,
               ours.at_target().qps / theirs.at_target().qps, ours.at_target().recall, ours.at_target().ef, theirs.name, theirs.at_target().recall,
               theirs.at_target().ef, std::max(ours.build1 / theirs.build1, ours.build2 / theirs.build2));
  }
  return 0;
}
