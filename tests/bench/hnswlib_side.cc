// hnsw_bench's hnswlib side (hnswlib_side.h). Compiled once per variant, each
// into its own shared library with hidden visibility: HNSWLIB_SIDE_VARIANT
// names the variant (portable, native) and so the one exported entry point,
// HNSWLIB_SIDE_FLAGS says what the variant's instruction-set flags are.
// hnswlib picks its L2 kernels by the compiler's macros (__SSE__, __AVX__,
// __AVX512F__ in hnswlib.h) and then, among those compiled in, by cpuid at
// run time: the portable build (baseline x86-64) has only its SSE kernels.
#include "hnswlib_side.h"

#include <hnswlib/hnswlib.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#define HNSWLIB_SIDE_CAT2(a, b) a##b
#define HNSWLIB_SIDE_CAT(a, b) HNSWLIB_SIDE_CAT2(a, b)
#define HNSWLIB_SIDE_STR2(a) #a
#define HNSWLIB_SIDE_STR(a) HNSWLIB_SIDE_STR2(a)

namespace {

struct Index {
  hnswlib::L2Space space;
  hnswlib::HierarchicalNSW<float> hnsw;
  Index(uint32_t dim, uint64_t n, uint32_t m, uint32_t ef_construction) : space(dim), hnsw(&space, n, m, ef_construction) {}
};

const char* kernel(uint32_t dim) {
  hnswlib::L2Space space(dim);  // sets hnswlib's L2SqrSIMD16Ext as it does for the index
  hnswlib::DISTFUNC<float> f = space.get_dist_func();
  if (f == hnswlib::L2Sqr) return "scalar";
#if defined(USE_SSE) || defined(USE_AVX) || defined(USE_AVX512)
  const bool tail = f == hnswlib::L2SqrSIMD16ExtResiduals || f == hnswlib::L2SqrSIMD4ExtResiduals;
  if (f == hnswlib::L2SqrSIMD4Ext || f == hnswlib::L2SqrSIMD4ExtResiduals) return tail ? "SSE 4-wide + scalar tail" : "SSE 4-wide";
  f = hnswlib::L2SqrSIMD16Ext;
#if defined(USE_AVX512)
  if (f == hnswlib::L2SqrSIMD16ExtAVX512) return tail ? "AVX-512 + scalar tail" : "AVX-512";
#endif
#if defined(USE_AVX)
  if (f == hnswlib::L2SqrSIMD16ExtAVX) return tail ? "AVX + scalar tail" : "AVX";
#endif
  if (f == hnswlib::L2SqrSIMD16ExtSSE) return tail ? "SSE + scalar tail" : "SSE";
#endif
  return "unknown";
}

void* build(const float* data, uint64_t n, uint32_t dim, uint32_t m, uint32_t ef_construction, int threads, double* secs) {
  auto index = std::make_unique<Index>(dim, n, m, ef_construction);
  auto t0 = std::chrono::steady_clock::now();
  auto work = [&](int t) {
    for (uint64_t i = t; i < n; i += threads) index->hnsw.addPoint(data + i * dim, i);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& t : pool) t.join();
  *secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return index.release();
}

size_t search(void* index, const float* q, size_t k, size_t ef, uint64_t* out) {
  auto& hnsw = static_cast<Index*>(index)->hnsw;
  hnsw.setEf(ef);
  auto top = hnsw.searchKnn(q, k);
  // searchKnn's queue pops the farthest first.
  size_t found = top.size();
  for (size_t i = found; i-- > 0; top.pop()) out[i] = top.top().second;
  return found;
}

void destroy(void* index) { delete static_cast<Index*>(index); }

const HnswlibSide side = {HNSWLIB_SIDE_STR(HNSWLIB_SIDE_VARIANT), HNSWLIB_SIDE_FLAGS, kernel, build, search, destroy};

}  // namespace

extern "C" __attribute__((visibility("default"))) const HnswlibSide* HNSWLIB_SIDE_CAT(hnsw_bench_hnswlib_, HNSWLIB_SIDE_VARIANT)() {
  return &side;
}
