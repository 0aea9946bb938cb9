// Internal: the distance kernels of the index, picked once per process for the
// widest SIMD the CPU has (AVX-512, AVX2+FMA, or a portable loop), so release
// builds need no -march flag and run on any x86-64 or other target.
#pragma once

#include <cstddef>

#include "vstore/record.h"

namespace vstore::internal {

using KernelFn = float (*)(const float* a, const float* b, size_t n);

struct Kernels {
  KernelFn l2_squared;
  KernelFn dot;
  const char* name;  // "avx512", "avx2+fma", "portable"
};

// The kernels for this CPU (chosen at first use).
const Kernels& kernels();

// Distance under a metric, smaller is nearer. For cosine, inv_a and inv_b are
// 1/|a| and 1/|b| (0 for a zero vector); other metrics ignore them.
class Distance {
 public:
  Distance(Metric metric, size_t dim) : metric_(metric), dim_(dim), k_(kernels()) {}
  float operator()(const float* a, float inv_a, const float* b, float inv_b) const {
    switch (metric_) {
      case Metric::l2: return k_.l2_squared(a, b, dim_);
      case Metric::ip: return 1.0f - k_.dot(a, b, dim_);
      case Metric::cosine: return 1.0f - k_.dot(a, b, dim_) * inv_a * inv_b;
    }
    return 0;
  }
  bool needs_norms() const { return metric_ == Metric::cosine; }
  // 1/|v|, or 0 for the zero vector.
  float inverse_norm(const float* v) const;
  size_t dim() const { return dim_; }

 private:
  Metric metric_;
  size_t dim_;
  Kernels k_;
};

}  // namespace vstore::internal
