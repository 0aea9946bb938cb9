// HNSW side by side with hnswlib (Debian libhnswlib-dev), in one run, on the
// same data with the same M and ef_construction: build time on 1 and 2
// threads, RSS growth over the build, and single-thread search QPS and
// recall@10 over a sweep of ef; the comparison is made at the smallest ef of
// the sweep where both reach recall@10 >= 0.95.
//   build/release/tests/bench/hnsw_bench [--n 100000] [--dim 128] [--queries 1000]
// The last line is the summary the issue asks for:
//   vstore/hnswlib qps ratio: X at recall@10 vstore Y hnswlib Z; build ratio: B
#include <hnswlib/hnswlib.h>
#include "vstore/support/clustered.h"
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>

#include <fmt/format.h>

#include "index/distance.h"
#include "vstore/store.h"

namespace {

using namespace vstore;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kM = 16, kEfConstruction = 200;
constexpr size_t kK = 10;
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

struct Point {
  size_t ef;
  double qps, recall;
};

struct Result {
  double build1 = 0, build2 = 0;
  uint64_t rss = 0;
  std::vector<Point> sweep;
};

std::string bench_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = fmt::format("{}/vstore-hnsw-bench-{}", tmp && *tmp ? tmp : "/tmp", ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void die(const Status& st, const char* what) {
  if (st.ok()) return;
  fmt::print(stderr, "{}: {}\n", what, st.to_string());
  std::exit(1);
}

std::unique_ptr<Store> build_vstore(const std::string& dir, const std::vector<float>& data, uint32_t dim, int threads, double* secs) {
  CreateOptions o;
  o.dim = dim;
  o.index.m = kM;
  o.index.ef_construction = kEfConstruction;
  auto s = Store::create(dir, o);
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
  *secs = seconds_since(t0);
  return std::move(s).value();
}

std::unique_ptr<hnswlib::HierarchicalNSW<float>> build_hnswlib(hnswlib::L2Space* space, const std::vector<float>& data, uint32_t dim, int threads,
                                                              double* secs) {
  uint64_t n = data.size() / dim;
  auto index = std::make_unique<hnswlib::HierarchicalNSW<float>>(space, n, kM, kEfConstruction);
  auto t0 = Clock::now();
  auto work = [&](int t) {
    for (uint64_t i = t; i < n; i += threads) index->addPoint(data.data() + i * dim, i);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& t : pool) t.join();
  *secs = seconds_since(t0);
  return index;
}

template <typename SearchFn>
std::vector<Point> sweep(const std::vector<float>& queries, uint32_t dim, const std::vector<std::vector<uint64_t>>& truth, SearchFn&& search) {
  std::vector<Point> out;
  uint64_t nq = queries.size() / dim;
  for (size_t ef : kEfSweep) {
    std::vector<std::vector<uint64_t>> got(nq);
    for (uint64_t q = 0; q < nq; ++q) search(queries.data() + q * dim, ef, &got[q]);  // warm
    auto t0 = Clock::now();
    int rounds = 0;
    do {
      for (uint64_t q = 0; q < nq; ++q) search(queries.data() + q * dim, ef, &got[q]);
      ++rounds;
    } while (seconds_since(t0) < 0.5);
    out.push_back({ef, rounds * nq / seconds_since(t0), recall(truth, got)});
  }
  return out;
}

struct Comparison {
  Result ours, theirs;
};

Comparison run(const char* label, const std::vector<float>& data, const std::vector<float>& queries, uint32_t dim) {
  fmt::print("== {}: {} x {}, {} queries, M {}, ef_construction {}\n", label, data.size() / dim, dim, queries.size() / dim, kM, kEfConstruction);
  std::fflush(stdout);
  auto truth = ground_truth(data, queries, dim);
  std::string root = bench_dir();
  Comparison c;
  {
    double secs;
    build_vstore(root + "/two", data, dim, 2, &secs);
    c.ours.build2 = secs;
    std::filesystem::remove_all(root + "/two");
    hnswlib::L2Space space(dim);
    build_hnswlib(&space, data, dim, 2, &secs);
    c.theirs.build2 = secs;
  }
  uint64_t before = rss_bytes();
  auto store = build_vstore(root + "/one", data, dim, 1, &c.ours.build1);
  c.ours.rss = rss_bytes() - before;
  c.ours.sweep = sweep(queries, dim, truth, [&](const float* q, size_t ef, std::vector<uint64_t>* out) {
    out->clear();
    auto hits = store->search({q, dim}, {.k = kK, .ef = ef});
    for (const SearchHit& h : *hits) out->push_back(h.id);
  });
  store.reset();
  std::filesystem::remove_all(root);
  hnswlib::L2Space space(dim);
  before = rss_bytes();
  auto index = build_hnswlib(&space, data, dim, 1, &c.theirs.build1);
  c.theirs.rss = rss_bytes() - before;
  c.theirs.sweep = sweep(queries, dim, truth, [&](const float* q, size_t ef, std::vector<uint64_t>* out) {
    out->clear();
    index->setEf(ef);
    auto top = index->searchKnn(q, kK);
    for (; !top.empty(); top.pop()) out->push_back(top.top().second);
  });

  fmt::print("{:<8} {:>12} {:>12} {:>12}\n", "", "build 1t s", "build 2t s", "RSS MiB");
  fmt::print("{:<8} {:>12.2f} {:>12.2f} {:>12.1f}\n", "vstore", c.ours.build1, c.ours.build2, c.ours.rss / 1048576.0);
  fmt::print("{:<8} {:>12.2f} {:>12.2f} {:>12.1f}\n", "hnswlib", c.theirs.build1, c.theirs.build2, c.theirs.rss / 1048576.0);
  fmt::print("{:>5} {:>12} {:>10} {:>12} {:>10}\n", "ef", "vstore qps", "recall", "hnswlib qps", "recall");
  for (size_t i = 0; i < c.ours.sweep.size(); ++i)
    fmt::print("{:>5} {:>12.0f} {:>10.4f} {:>12.0f} {:>10.4f}\n", c.ours.sweep[i].ef, c.ours.sweep[i].qps, c.ours.sweep[i].recall,
               c.theirs.sweep[i].qps, c.theirs.sweep[i].recall);
  std::fflush(stdout);
  return c;
}

// The first ef of the sweep where both reach recall@10 >= 0.95 (the last if none).
size_t pick(const Comparison& c) {
  for (size_t i = 0; i < c.ours.sweep.size(); ++i)
    if (c.ours.sweep[i].recall >= 0.95 && c.theirs.sweep[i].recall >= 0.95) return i;
  return c.ours.sweep.size() - 1;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = 100000, nq = 1000;
  uint32_t dim = 128;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--n") n = std::strtoull(argv[i + 1], nullptr, 10);
    else if (a == "--dim") dim = static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    else if (a == "--queries") nq = std::strtoull(argv[i + 1], nullptr, 10);
  }
  fmt::print("distance kernels: {}; hnswlib as compiled here (baseline x86-64: SSE)\n", internal::kernels().name);
  Comparison uni = run("uniform", uniform(n, dim, 7), uniform(nq, dim, 8), dim);
  size_t ui = pick(uni);
  fmt::print("uniform at ef {}: qps ratio {:.2f} (recall vstore {:.4f}, hnswlib {:.4f})\n", uni.ours.sweep[ui].ef,
             uni.ours.sweep[ui].qps / uni.theirs.sweep[ui].qps, uni.ours.sweep[ui].recall, uni.theirs.sweep[ui].recall);
  Comparison clu = run("clustered", clustered(n, dim, 1), clustered(nq, dim, 2), dim);
  size_t ci = pick(clu);
  double build_ratio = std::max(clu.ours.build1 / clu.theirs.build1, clu.ours.build2 / clu.theirs.build2);
  fmt::print("clustered at ef {}; build ratio 1 thread {:.2f}, 2 threads {:.2f} (the line below gives the larger)\n", clu.ours.sweep[ci].ef,
             clu.ours.build1 / clu.theirs.build1, clu.ours.build2 / clu.theirs.build2);
  fmt::print("vstore/hnswlib qps ratio: {:.2f} at recall@10 vstore {:.4f} hnswlib {:.4f}; build ratio: {:.2f}\n",
             clu.ours.sweep[ci].qps / clu.theirs.sweep[ci].qps, clu.ours.sweep[ci].recall, clu.theirs.sweep[ci].recall, build_ratio);
  return 0;
}
