#include "vstore/support/hnswlib_reference.h"

#include <hnswlib/hnswlib.h>

namespace vstore::testing {

std::vector<std::vector<uint64_t>> hnswlib_knn(const std::vector<float>& data, const std::vector<float>& queries, uint32_t dim, size_t m,
                                               size_t ef_construction, size_t ef, size_t k) {
  uint64_t n = data.size() / dim, nq = queries.size() / dim;
  hnswlib::L2Space space(dim);
  hnswlib::HierarchicalNSW<float> index(&space, n, m, ef_construction);
  for (uint64_t i = 0; i < n; ++i) index.addPoint(data.data() + i * dim, i);
  index.setEf(ef);
  std::vector<std::vector<uint64_t>> out(nq);
  for (uint64_t q = 0; q < nq; ++q) {
    auto top = index.searchKnn(queries.data() + q * dim, k);
    for (; !top.empty(); top.pop()) out[q].insert(out[q].begin(), top.top().second);
  }
  return out;
}

}  // namespace vstore::testing
