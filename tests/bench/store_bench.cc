// Storage benchmarks: open and count on 10k, 1M and 10M-record stores (flat
// across sizes is the target), add throughput beside the machine's sequential
// write rate measured in the same run (target: within 2x), get latency.
//   build/release/tests/bench/store_bench [--benchmark_filter=...]
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "vstore/store.h"

namespace {

using namespace vstore;

std::string bench_root() {
  static std::string root = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = fmt::format("{}/vstore-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) std::abort();
    std::atexit([] { std::filesystem::remove_all(bench_root()); });
    return std::string(buf.data());
  }();
  return root;
}

constexpr uint32_t kDim = 8;

std::vector<Record> batch(uint64_t first, uint64_t n, uint32_t dim) {
  std::vector<Record> out(n);
  for (uint64_t i = 0; i < n; ++i) {
    out[i].id = first + i;
    out[i].vector.assign(dim, static_cast<float>(i % 97) * 0.01f);
    out[i].attributes.push_back({"file_path", fmt::format("src/file_{}.py", first + i)});
  }
  return out;
}

// A store of n records, built once per size.
const std::string& store_of(uint64_t n) {
  static std::map<uint64_t, std::string> built;
  auto it = built.find(n);
  if (it != built.end()) return it->second;
  std::string dir = fmt::format("{}/store-{}", bench_root(), n);
  CreateOptions o;
  o.dim = kDim;
  o.index.enabled = false;  // storage figures; the index has its own bench (hnsw_bench)
  auto s = std::move(Store::create(dir, o)).value();
  for (uint64_t first = 0; first < n; first += 100000) {
    if (!s->add(batch(first, std::min<uint64_t>(100000, n - first), kDim)).ok()) std::abort();
  }
  if (!s->close().ok()) std::abort();
  return built.emplace(n, dir).first->second;
}

void BM_Open(benchmark::State& state) {
  const std::string& dir = store_of(static_cast<uint64_t>(state.range(0)));
  for (auto _ : state) {
    auto s = Store::open(dir, {.read_only = true});
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_Open)->Arg(10'000)->Arg(1'000'000)->Arg(10'000'000)->Unit(benchmark::kMicrosecond);

void BM_Count(benchmark::State& state) {
  auto s = std::move(Store::open(store_of(static_cast<uint64_t>(state.range(0))), {.read_only = true})).value();
  for (auto _ : state) benchmark::DoNotOptimize(s->count());
}
BENCHMARK(BM_Count)->Arg(10'000)->Arg(1'000'000)->Arg(10'000'000);

void BM_Get(benchmark::State& state) {
  uint64_t n = static_cast<uint64_t>(state.range(0));
  auto s = std::move(Store::open(store_of(n), {.read_only = true})).value();
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    Result<Record> r = s->get(rng() % n);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_Get)->Arg(10'000)->Arg(1'000'000)->Arg(10'000'000);

// The machine's sequential write rate, with the same durability (fdatasync).
void BM_SequentialWrite(benchmark::State& state) {
  std::string path = bench_root() + "/seq";
  std::vector<char> chunk(1 << 20, 'x');
  const uint64_t total = uint64_t{256} << 20;
  for (auto _ : state) {
    int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    for (uint64_t off = 0; off < total; off += chunk.size())
      if (::pwrite(fd, chunk.data(), chunk.size(), static_cast<off_t>(off)) < 0) std::abort();
    ::fdatasync(fd);
    ::close(fd);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * total));
}
BENCHMARK(BM_SequentialWrite)->Unit(benchmark::kMillisecond)->UseRealTime();

// add() of 200,000 records in batches of 10,000, then sync: records/s and
// bytes/s counted as the slot and attribute bytes the store writes.
void BM_Add(benchmark::State& state) {
  const uint32_t dim = static_cast<uint32_t>(state.range(0));
  const uint64_t n = 200'000;
  std::vector<std::vector<Record>> batches;
  for (uint64_t first = 0; first < n; first += 10'000) batches.push_back(batch(first, 10'000, dim));
  uint64_t bytes = 0;
  int round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::string dir = fmt::format("{}/add-{}-{}", bench_root(), dim, round++);
    CreateOptions o;
    o.dim = dim;
    o.index.enabled = false;  // storage throughput; hnsw_bench measures indexing
    auto s = std::move(Store::create(dir, o)).value();
    state.ResumeTiming();
    for (const auto& b : batches)
      if (!s->add(b).ok()) std::abort();
    if (!s->sync().ok()) std::abort();
    state.PauseTiming();
    StoreStats st = s->stats();
    bytes = st.slots * ((32 + 4ull * dim + 15) & ~15ull) + st.attrs_bytes;
    s.reset();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_Add)->Arg(8)->Arg(128)->Arg(768)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
