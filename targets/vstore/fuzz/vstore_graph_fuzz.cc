// vstore_graph: the input becomes the index files (graph-G.bin and
// graph-upper-G.bin) of an otherwise valid store; then open (read-only and as
// writer), search, exact search, count and fsck. Links are verified data, never
// trusted (src/index/graph_format.h): the hardened engine must answer every
// query cleanly, whatever the index says.
//
// Structure-aware: an edit list (store_edits.h) against the valid graph file
// (file % 2 == 0) and upper-levels file (file % 2 == 1), so the fuzzer starts
// past the checksummed headers and damages links, counts and levels.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "store_edits.h"
#include "vstore/store.h"

namespace {

constexpr uint64_t kRecords = 48;
constexpr uint32_t kDim = 4;

void build_template(const std::string& dir) {
  vstore::CreateOptions o;
  o.dim = kDim;
  o.index.m = 4;
  o.index.ef_construction = 16;
  auto s = std::move(vstore::Store::create(dir, o)).value();
  std::vector<vstore::Record> recs;
  for (uint64_t i = 0; i < kRecords; ++i) {
    vstore::Record r;
    r.id = i;
    // Points on a spiral, so that the graph has several levels and real choices.
    r.vector = {float(i % 7), float(i % 5) - 2.0f, float(i) / 8, float((i * 13) % 11) / 4};
    r.attributes.push_back({"file_path", fmt::format("src/f{}.py", i)});
    recs.push_back(std::move(r));
  }
  if (!s->add(recs).ok() || !s->remove({5, 17}).ok() || !s->close().ok()) std::abort();
}

const vstore_fuzz::StoreFiles& store_template() {
  static const vstore_fuzz::StoreFiles t =
      vstore_fuzz::make_store_files("vstore-graph-fuzz", build_template, {"graph-0", "graph-upper-"});
  return t;
}

void query(const vstore::Store& store, const uint8_t* data, size_t size) {
  // Queries come from the input's last bytes too, so one damaged link meets many paths.
  float q[kDim] = {1.0f, 0.0f, 2.0f, 1.5f};
  for (uint32_t i = 0; i < kDim && i < size; ++i) q[i] = float(data[size - 1 - i] % 16) - 4.0f;
  (void)store.count();
  (void)store.search(q, {.k = 5, .ef = 8});
  (void)store.search(q, {.k = 40, .ef = 64});
  (void)store.exact_search(q, 3);
  (void)store.get(3);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const vstore_fuzz::StoreFiles& t = store_template();
  vstore_fuzz::write_store(t, vstore_fuzz::apply_edits(t, data, size));
  for (bool read_only : {true, false}) {
    vstore::Result<std::unique_ptr<vstore::Store>> s = vstore::Store::open(t.work, {.read_only = read_only});
    if (s.ok()) query(**s, data, size);
  }
  (void)vstore::Store::fsck(t.work);
  return 0;
}
