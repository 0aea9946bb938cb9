// hnsw_bench's hnswlib side, behind a plain C interface so that hnswlib can be
// compiled more than once with different flags (tests/bench/CMakeLists.txt):
// each build is its own shared library whose every symbol but its entry point
// is hidden, so the two builds' copies of hnswlib's inline functions and
// templates (and of the standard library templates it instantiates) never
// stand in for one another, and nothing of vstore or the bench is compiled
// with the variant's flags.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {

struct HnswlibSide {
  const char* variant;  // "portable", "native"
  const char* flags;    // the instruction-set flags it was compiled with
  // The L2 kernel hnswlib picks for `dim` in this build on this CPU (its
  // L2Space chooses at run time among the kernels its #ifdefs compiled in).
  const char* (*kernel)(uint32_t dim);
  // An L2 index of the n row-major vectors of `data`, inserted by `threads`
  // threads (labels are row numbers); the seconds the inserts took in *secs.
  void* (*build)(const float* data, uint64_t n, uint32_t dim, uint32_t m, uint32_t ef_construction, int threads, double* secs);
  // The k nearest labels to q, nearest first, into out; returns how many.
  size_t (*search)(void* index, const float* q, size_t k, size_t ef, uint64_t* out);
  void (*destroy)(void* index);
};

const HnswlibSide* hnsw_bench_hnswlib_portable();
// Defined only where the compiler takes -march=native (HNSW_BENCH_NATIVE).
const HnswlibSide* hnsw_bench_hnswlib_native();
}
