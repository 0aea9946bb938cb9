// faiss_read_index: the input becomes a damaged copy of a small valid FAISS
// index (one of the three the crashgate driver writes: IndexIDMap2 over
// IndexFlatL2, IndexIDMap2 over IndexHNSWFlat, IndexIVFFlat with a hashtable
// direct map), which read_index loads from memory (faiss::VectorIOReader) and,
// if it loads, is queried: a search, reconstruct of every id the template had,
// and of each stored vector by FAISS's own position. Every FaissException
// (and std::bad_alloc, std::length_error) is a clean refusal; anything else
// that stops the process is a finding.
//
// Structure-aware: the first byte chooses the index (byte % 3); the rest is an
// edit list against that index's bytes, whose fields index_walk.h names, so
// the fuzzer edits header fields and vector sizes by number:
//   op % 4 == 0  FIELD KIND [8 bytes]  the FIELD-th field (mod the count) set to
//                                      0, all ones, +1, -1, INT32_MAX, or the 8
//                                      bytes given (KIND % 6), over min(width, 8)
//   op % 4 == 1  OFF(2) LEN BYTES      LEN % 17 raw bytes written at OFF (mod size)
//   op % 4 == 2  OFF(2)                truncated at OFF (mod size + 1)
//   op % 4 == 3  FIELD                 truncated where the FIELD-th field starts
// libFuzzer sees only this file's edges (libfaiss is not instrumented).
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "index_walk.h"

extern "C" void omp_set_num_threads(int);  // libgomp's (targets/faiss/CMakeLists.txt)

namespace {

using idx_t = faiss::Index::idx_t;

constexpr std::uint64_t kRecords = 24, kIdStep = 7, kDim = 4;

std::vector<float> vector_of(std::uint64_t i) { return {float(i), 0.5f, -1.0f, float(i) / 3}; }

std::string serialize(faiss::Index* index) {
  faiss::VectorIOWriter w;
  faiss::write_index(index, &w);
  return std::string(w.data.begin(), w.data.end());
}

void fill(faiss::Index* index) {
  std::vector<float> x;
  std::vector<idx_t> ids;
  for (std::uint64_t i = 0; i < kRecords; ++i) {
    auto v = vector_of(i);
    x.insert(x.end(), v.begin(), v.end());
    ids.push_back(static_cast<idx_t>(i * kIdStep));
  }
  index->add_with_ids(kRecords, x.data(), ids.data());
}

struct Template {
  std::string bytes;
  crashgate::faiss_driver::Walk walk;
};

const std::vector<Template>& templates() {
  static const std::vector<Template> t = [] {
    omp_set_num_threads(1);
    std::vector<Template> out;
    {
      faiss::IndexIDMap2 flat(new faiss::IndexFlatL2(kDim));
      flat.own_fields = true;
      fill(&flat);
      faiss::IDSelectorBatch sel(1, std::vector<idx_t>{14}.data());
      flat.remove_ids(sel);
      out.push_back({serialize(&flat), {}});
    }
    {
      faiss::IndexIDMap2 hnsw(new faiss::IndexHNSWFlat(kDim, 4));
      hnsw.own_fields = true;
      fill(&hnsw);
      out.push_back({serialize(&hnsw), {}});
    }
    {
      faiss::IndexIVFFlat ivf(new faiss::IndexFlatL2(kDim), kDim, 4);
      ivf.own_fields = true;
      ivf.cp.verbose = false;
      std::vector<float> train;
      for (std::uint64_t i = 0; i < 160; ++i) {
        auto v = vector_of(i % 40);
        v[1] += float(i) / 160;
        train.insert(train.end(), v.begin(), v.end());
      }
      ivf.train(160, train.data());
      ivf.set_direct_map_type(faiss::DirectMap::Hashtable);
      fill(&ivf);
      std::vector<idx_t> gone{14};
      faiss::IDSelectorArray sel(1, gone.data());
      ivf.remove_ids(sel);
      out.push_back({serialize(&ivf), {}});
    }
    for (auto& tpl : out) {
      tpl.walk = crashgate::faiss_driver::walk_index(tpl.bytes);
      if (!tpl.walk.stopped.empty()) std::abort();  // the walk must know every template whole
    }
    return out;
  }();
  return t;
}

std::string apply_edits(const Template& t, const std::uint8_t* data, std::size_t size) {
  std::string b = t.bytes;
  const auto& fields = t.walk.fields;
  std::size_t i = 1;
  auto byte = [&]() -> std::uint8_t { return i < size ? data[i++] : 0; };
  while (i < size) {
    std::uint8_t op = byte();
    switch (op % 4) {
      case 0: {
        const auto& f = fields[byte() % fields.size()];
        std::uint8_t kind = byte() % 6;
        std::uint64_t width = std::min<std::uint64_t>(f.width, 8), v = 0;
        if (f.offset + width > b.size()) break;
        std::memcpy(&v, b.data() + f.offset, width);
        switch (kind) {
          case 0: v = 0; break;
          case 1: v = ~std::uint64_t{0}; break;
          case 2: v += 1; break;
          case 3: v -= 1; break;
          case 4: v = width >= 8 ? 0x7fffffffffffffffull : 0x7fffffffull; break;
          default:
            v = 0;
            for (int k = 0; k < 8; ++k) v |= std::uint64_t{byte()} << (8 * k);
        }
        std::memcpy(b.data() + f.offset, &v, width);
        break;
      }
      case 1: {
        std::size_t off = std::size_t{byte()} | std::size_t{byte()} << 8;
        std::size_t len = byte() % 17;
        if (b.empty()) break;
        off %= b.size();
        for (std::size_t k = 0; k < len && off + k < b.size(); ++k) b[off + k] = static_cast<char>(byte());
        break;
      }
      case 2: {
        std::size_t off = std::size_t{byte()} | std::size_t{byte()} << 8;
        b.resize(off % (b.size() + 1));
        break;
      }
      default: {
        const auto& f = fields[byte() % fields.size()];
        if (f.offset < b.size()) b.resize(f.offset);
      }
    }
  }
  return b;
}

void query(faiss::Index& index) {
  if (index.d <= 0 || index.d > 4096) return;  // a query of d floats: d must be one to make
  const auto d = static_cast<std::size_t>(index.d);
  std::vector<float> q(d, 0.25f), distances(5);
  std::vector<idx_t> labels(5);
  try {
    index.search(1, q.data(), 5, distances.data(), labels.data());
  } catch (const faiss::FaissException&) {
  }
  std::vector<float> v(d);
  for (std::uint64_t i = 0; i < kRecords; ++i) {
    try {
      index.reconstruct(static_cast<idx_t>(i * kIdStep), v.data());
    } catch (const faiss::FaissException&) {
    }
  }
  // Each stored vector by FAISS's own position, as far as its own counts say.
  faiss::Index* inner = &index;
  if (auto* map = dynamic_cast<faiss::IndexIDMap2*>(&index)) inner = map->index;
  if (inner->d != index.d || dynamic_cast<faiss::IndexIVF*>(inner)) return;
  for (idx_t i = 0; i < inner->ntotal && i < 64; ++i) {
    try {
      inner->reconstruct(i, v.data());
    } catch (const faiss::FaissException&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& ts = templates();
  const Template& t = ts[size == 0 ? 0 : data[0] % ts.size()];
  std::string bytes = apply_edits(t, data, size);
  faiss::VectorIOReader reader;
  reader.data.assign(bytes.begin(), bytes.end());
  std::unique_ptr<faiss::Index> index;
  try {
    index.reset(faiss::read_index(&reader));
  } catch (const faiss::FaissException&) {
    return 0;
  } catch (const std::bad_alloc&) {
    return 0;
  } catch (const std::length_error&) {
    return 0;
  }
  try {
    query(*index);
  } catch (const std::bad_alloc&) {
  } catch (const std::length_error&) {
  }
  return 0;
}
