// vstore's HNSW side by side with hnswlib 0.6.2 (Debian libhnswlib-dev), in one
// run, on the same data with the same M and ef_construction: build time on 1
// and 2 threads, RSS growth over the 1-thread build, and single-thread search
// QPS and recall@10 over a sweep of ef.
//
// hnswlib is header-only and picks its distance kernels by the flags it is
// compiled with, so it runs here twice (hnswlib_side.cc, each a shared library
// of its own, see CMakeLists.txt):
//   hnswlib-portable  compiled with the bench's flags (baseline x86-64): its SSE
//                     kernels, which is what Debian's python3-hnswlib ships too;
//   hnswlib-native    compiled with -march=native: its AVX or AVX-512 kernels,
//                     as built by a user who compiles it for the machine
//                     (absent where the compiler rejects -march=native).
// vstore picks AVX-512, AVX2+FMA or portable kernels at run time.
//
// Search QPS: at each ef the engines take turns, --repeats times, each turn
// timing at least 0.2 s of queries; the median turn is printed. Each engine is
// then quoted at the first ef of the sweep where it reaches recall@10 >= 0.95
// (its own ef: the same recall target, not the same ef). Ratios are vstore's
// over each hnswlib build: a qps ratio above 1 is vstore faster, a build ratio
// above 1 is vstore slower to build. Build times are one build each.
//   build/release/tests/bench/hnsw_bench [--n 100000] [--dim 128] [--queries 1000] [--repeats 5]
// The last lines are the summary the issue asks for, one per hnswlib build:
//   vstore/hnswlib-portable qps ratio: X at recall@10 vstore Y hnswlib Z; build ratio: B
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
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
  // Builds an index of data (replacing any held) on `threads` threads; seconds.
  virtual double build(const std::vector<float>& data, uint32_t dim, int threads) = 0;
  virtual void drop() = 0;
  // The kK nearest ids to q, nearest first, into out.
  virtual void search(const float* q, uint32_t dim, size_t ef, std::vector<uint64_t>* out) = 0;
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
  void search(const float* q, uint32_t dim, size_t ef, std::vector<uint64_t>* out) override {
    out->clear();
    auto hits = store_->search({q, dim}, {.k = kK, .ef = ef});
    for (const SearchHit& h : *hits) out->push_back(h.id);
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
  void search(const float* q, uint32_t, size_t ef, std::vector<uint64_t>* out) override {
    out->resize(kK);
    out->resize(side_->search(index_, q, kK, ef, out->data()));
  }

 private:
  const HnswlibSide* side_;
  void* index_ = nullptr;
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
    results[e].rss = rss_bytes() - before;
  }
  uint64_t nq = queries.size() / dim;
  std::vector<std::vector<uint64_t>> got(nq);
  auto pass = [&](Engine& engine, size_t ef) {
    for (uint64_t q = 0; q < nq; ++q) engine.search(queries.data() + q * dim, dim, ef, &got[q]);
  };
  for (size_t ef : kEfSweep) {
    std::vector<std::vector<double>> turns(engines.size());
    for (size_t e = 0; e < engines.size(); ++e) {
      pass(*engines[e], ef);  // warms, and gives the recall
      results[e].sweep.push_back({ef, 0, recall(truth, got)});
    }
    for (int r = 0; r < repeats; ++r)
      for (size_t e = 0; e < engines.size(); ++e) {
        auto t0 = Clock::now();
        int rounds = 0;
        do {
          pass(*engines[e], ef);
          ++rounds;
        } while (seconds_since(t0) < kTurnSeconds);
        turns[e].push_back(rounds * nq / seconds_since(t0));
      }
    for (size_t e = 0; e < engines.size(); ++e) results[e].sweep.back().qps = median(turns[e]);
  }
  for (auto& engine : engines) engine->drop();

  fmt::print("{:<17} {:>10} {:>10} {:>8}  {}\n", "", "build 1t s", "build 2t s", "RSS MiB", "L2 kernel");
  for (const Measured& r : results)
    fmt::print("{:<17} {:>10.2f} {:>10.2f} {:>8.1f}  {}\n", r.name, r.build1, r.build2, r.rss / 1048576.0, r.kernel);
  fmt::print("{:>5}", "ef");
  for (const Measured& r : results) fmt::print(" {:>17} {:>7}", r.name + " qps", "recall");
  fmt::print("\n");
  for (size_t i = 0; i < std::size(kEfSweep); ++i) {
    fmt::print("{:>5}", kEfSweep[i]);
    for (const Measured& r : results) fmt::print(" {:>17.0f} {:>7.4f}", r.sweep[i].qps, r.sweep[i].recall);
    fmt::print("\n");
  }
  fmt::print("at recall@10 >= {} (each engine's first ef that reaches it; median qps of {}):\n", kRecallTarget, repeats);
  fmt::print("{:<17} {:>5} {:>7} {:>9} {:>10} {:>10}\n", "", "ef", "recall", "qps", "vstore/it", "build 1t/2t");
  const Point& ours = results[0].at_target();
  for (const Measured& r : results) {
    const Point& p = r.at_target();
    std::string ratio = &r == &results[0] ? "" : fmt::format("{:.2f}", ours.qps / p.qps);
    std::string build = &r == &results[0] ? "" : fmt::format("{:.2f}/{:.2f}", results[0].build1 / r.build1, results[0].build2 / r.build2);
    fmt::print("{:<17} {:>5} {:>7.4f} {:>9.0f} {:>10} {:>10}\n", r.name, p.ef, p.recall, p.qps, ratio, build);
  }
  std::fflush(stdout);
  return results;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 100000, nq = 1000;
  uint32_t dim = 128;
  int repeats = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--n") n = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--dim") dim = static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (a == "--queries") nq = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--repeats") repeats = std::max(1, std::atoi(argv[i + 1]));
  }
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
