// Test support: synthetic vector sets with the structure of real embeddings
// (points around random centres) or none (uniform), the same for the same seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vstore::testing {

// n vectors of dim floats, row-major: around `clusters` centres drawn in
// [-1, 1]^dim, with Gaussian spread `sigma` per coordinate.
std::vector<float> clustered_vectors(uint64_t n, uint32_t dim, uint64_t seed, uint32_t clusters = 100, float sigma = 0.15f);
// n vectors uniform in [-1, 1]^dim.
std::vector<float> uniform_vectors(uint64_t n, uint32_t dim, uint64_t seed);

// The ids of the k nearest rows of `data` (squared L2) to each query, nearest first.
std::vector<std::vector<uint64_t>> exact_neighbours(const std::vector<float>& data, const std::vector<float>& queries, uint32_t dim, size_t k);

// Mean fraction of truth[i] found in got[i] (each a list of k ids).
double recall_at_k(const std::vector<std::vector<uint64_t>>& truth, const std::vector<std::vector<uint64_t>>& got);

}  // namespace vstore::testing
