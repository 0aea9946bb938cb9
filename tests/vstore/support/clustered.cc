#include "vstore/support/clustered.h"

#include <algorithm>
#include <random>
#include <unordered_set>

namespace vstore::testing {

std::vector<float> clustered_vectors(uint64_t n, uint32_t dim, uint64_t seed, uint32_t clusters, float sigma) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.0f, sigma);
  // The centres depend on the seed's cluster layout only, so that queries drawn
  // with another seed but the same `clusters` land in the same clusters.
  std::mt19937_64 centre_rng(0xC1A57E5ull + clusters * 131 + dim);
  std::vector<float> centres(uint64_t{clusters} * dim);
  for (float& c : centres) c = std::uniform_real_distribution<float>(-1.0f, 1.0f)(centre_rng);
  std::vector<float> out(n * dim);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t c = rng() % clusters;
    for (uint32_t j = 0; j < dim; ++j) out[i * dim + j] = centres[c * dim + j] + noise(rng);
  }
  return out;
}

std::vector<float> uniform_vectors(uint64_t n, uint32_t dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<float> out(n * dim);
  for (float& v : out) v = unit(rng);
  return out;
}

std::vector<std::vector<uint64_t>> exact_neighbours(const std::vector<float>& data, const std::vector<float>& queries, uint32_t dim, size_t k) {
  uint64_t n = data.size() / dim, nq = queries.size() / dim;
  std::vector<std::vector<uint64_t>> out(nq);
  std::vector<std::pair<float, uint64_t>> all(n);
  for (uint64_t q = 0; q < nq; ++q) {
    for (uint64_t i = 0; i < n; ++i) {
      float d = 0;
      for (uint32_t j = 0; j < dim; ++j) {
        float t = data[i * dim + j] - queries[q * dim + j];
        d += t * t;
      }
      all[i] = {d, i};
    }
    std::partial_sort(all.begin(), all.begin() + std::min<uint64_t>(k, n), all.end());
    for (size_t i = 0; i < std::min<uint64_t>(k, n); ++i) out[q].push_back(all[i].second);
  }
  return out;
}

double recall_at_k(const std::vector<std::vector<uint64_t>>& truth, const std::vector<std::vector<uint64_t>>& got) {
  double found = 0, total = 0;
  for (size_t q = 0; q < truth.size(); ++q) {
    std::unordered_set<uint64_t> want(truth[q].begin(), truth[q].end());
    for (uint64_t id : got[q]) found += want.count(id);
    total += truth[q].size();
  }
  return total == 0 ? 1.0 : found / total;
}

}  // namespace vstore::testing
