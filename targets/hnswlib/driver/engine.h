// hnswlib 0.6.2 behind a small interface: the only file that includes
// hnswlib.h is engine.cc (hnswlib.h defines non-inline functions and globals,
// so two translation units including it do not link).
//
// Every call catches what hnswlib throws and returns it as a step error
// (code_of_exception); nothing here adds a check hnswlib does not make, so a
// damaged index reaches hnswlib's own code as it would in a user's process.
//
// hnswlib keeps each element's vector and its label (the record's id, a
// size_t) and nothing else. The metrics are its spaces: l2 (L2Space), ip
// (InnerProductSpace); cosine is ip over vectors normalized on the way in, as
// hnswlib's Python binding does (normalize_vector: float norm summed in order,
// 1 / (sqrtf(norm) + 1e-30f)); stored_form() is that normalization, so
// verify can compare what comes back bit for bit.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crashgate/driver_kit.h"

namespace crashgate::hnswlib_driver {

using kit::StepResult;

enum class Metric { l2, ip, cosine };
const std::vector<std::string>& metric_names();  // l2, ip, cosine: the first is the default
std::optional<Metric> metric_from(const std::string& name);

// The vector hnswlib stores for `v` under `metric` (cosine: normalized).
std::vector<float> stored_form(const std::vector<float>& v, Metric metric);

// The protocol's code for what hnswlib threw:
//   not-found           "Label not found", "already deleted", "Cannot open file"
//   resource-exhausted  "Not enough memory...", "exceeds the specified limit", std::bad_alloc, std::length_error
//   invalid-argument    "Cannot resize, max element is less than..."
//   corrupt             everything else ("Index seems to be corrupted or unsupported", "cand error", ...)
std::string code_of_exception(const std::string& what, bool bad_alloc);

// One hnswlib index (HierarchicalNSW<float>) and its space.
class Engine {
 public:
  Engine(std::uint32_t dim, Metric metric);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // A new, empty index (the init constructor).
  StepResult init(std::size_t max_elements, std::size_t m, std::size_t ef_construction, std::size_t random_seed);
  // loadIndex, as users call it: new HierarchicalNSW(space, path, false, max_elements).
  StepResult load(const std::string& path, std::size_t max_elements = 0);
  StepResult save(const std::string& path) const;
  bool loaded() const { return index_ != nullptr; }

  // addPoint(stored_form(v), label): a label already there is updated (and undeleted).
  StepResult add(const std::vector<float>& v, std::uint64_t label);
  StepResult mark_delete(std::uint64_t label);
  // getDataByLabel: `out` empty when hnswlib says "Label not found".
  StepResult get(std::uint64_t label, std::optional<std::vector<float>>& out) const;
  // setEf(ef) when it differs (ef 0: leave ef_ as it is), then searchKnn(q, k); hits nearest first (distance, label).
  StepResult search(const std::vector<float>& q, std::size_t k, std::size_t ef,
                    std::vector<std::pair<float, std::uint64_t>>& hits) const;
  StepResult resize(std::size_t max_elements);
  void set_ef(std::size_t ef);

  std::size_t max_elements() const;
  std::size_t element_count() const;  // cur_element_count: removed ones included
  // Elements not marked deleted, counted by their marks (isMarkedDeleted):
  // num_deleted_ is not initialized by hnswlib 0.6.2's loading constructor.
  std::uint64_t live_count() const;
  // Every label of label_lookup_ (removed ones included).
  std::vector<std::uint64_t> labels() const;
  // The bytes saveIndex writes: the header, the level-0 blocks, each element's link lists.
  std::uint64_t save_size() const;
  std::uint32_t dim() const { return dim_; }
  Metric metric() const { return metric_; }

 private:
  struct Impl;
  std::uint32_t dim_;
  Metric metric_;
  std::unique_ptr<Impl> index_;
  void* space_ = nullptr;  // hnswlib::SpaceInterface<float>*, owned
};

}  // namespace crashgate::hnswlib_driver
