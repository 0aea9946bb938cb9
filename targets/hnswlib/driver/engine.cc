// The one translation unit that includes hnswlib (engine.h says why).
#include "engine.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>

#include <fmt/format.h>

namespace crashgate::hnswlib_driver {

namespace {

using Index = hnswlib::HierarchicalNSW<float>;

hnswlib::SpaceInterface<float>* space_of(void* p) { return static_cast<hnswlib::SpaceInterface<float>*>(p); }

// Runs `work`, turning what hnswlib throws into a step error "DOING: what".
template <class F>
StepResult guarded(const std::string& doing, F&& work) {
  try {
    work();
    return StepResult::ok();
  } catch (const std::bad_alloc& e) {
    return StepResult::error(code_of_exception(e.what(), true), fmt::format("{}: std::bad_alloc: {}", doing, e.what()));
  } catch (const std::length_error& e) {
    return StepResult::error(code_of_exception(e.what(), true), fmt::format("{}: std::length_error: {}", doing, e.what()));
  } catch (const std::exception& e) {
    return StepResult::error(code_of_exception(e.what(), false), fmt::format("{}: {}", doing, e.what()));
  }
}

}  // namespace

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = {"l2", "ip", "cosine"};
  return names;
}

std::optional<Metric> metric_from(const std::string& name) {
  if (name == "l2") return Metric::l2;
  if (name == "ip") return Metric::ip;
  if (name == "cosine") return Metric::cosine;
  return std::nullopt;
}

std::vector<float> stored_form(const std::vector<float>& v, Metric metric) {
  if (metric != Metric::cosine) return v;
  float norm = 0.0f;
  for (float x : v) norm += x * x;
  norm = 1.0f / (std::sqrt(norm) + 1e-30f);
  std::vector<float> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = v[i] * norm;
  return out;
}

std::string code_of_exception(const std::string& what, bool bad_alloc) {
  if (bad_alloc) return "resource-exhausted";
  if (what.find("Label not found") != std::string::npos || what.find("already deleted") != std::string::npos ||
      what.find("Cannot open file") != std::string::npos)
    return "not-found";
  if (what.find("Not enough memory") != std::string::npos || what.find("exceeds the specified limit") != std::string::npos)
    return "resource-exhausted";
  if (what.find("Cannot resize") != std::string::npos) return "invalid-argument";
  return "corrupt";
}

struct Engine::Impl {
  std::unique_ptr<Index> index;
};

Engine::Engine(std::uint32_t dim, Metric metric) : dim_(dim), metric_(metric) {
  if (metric == Metric::l2) space_ = new hnswlib::L2Space(dim);
  else space_ = new hnswlib::InnerProductSpace(dim);
}

Engine::~Engine() {
  index_.reset();
  delete space_of(space_);
}

StepResult Engine::init(std::size_t max_elements, std::size_t m, std::size_t ef_construction, std::size_t random_seed) {
  auto impl = std::make_unique<Impl>();
  StepResult r = guarded("HierarchicalNSW(max_elements, M, ef_construction)", [&] {
    impl->index = std::make_unique<Index>(space_of(space_), max_elements, m, ef_construction, random_seed);
  });
  if (r.is_ok) index_ = std::move(impl);
  return r;
}

StepResult Engine::load(const std::string& path, std::size_t max_elements) {
  auto impl = std::make_unique<Impl>();
  StepResult r = guarded("loadIndex", [&] { impl->index.reset(new Index(space_of(space_), path, false, max_elements)); });
  if (r.is_ok) index_ = std::move(impl);
  return r;
}

StepResult Engine::save(const std::string& path) const {
  return guarded("saveIndex", [&] { index_->index->saveIndex(path); });
}

StepResult Engine::add(const std::vector<float>& v, std::uint64_t label) {
  std::vector<float> stored = stored_form(v, metric_);
  return guarded(fmt::format("addPoint(label {})", label), [&] { index_->index->addPoint(stored.data(), label); });
}

StepResult Engine::mark_delete(std::uint64_t label) {
  return guarded(fmt::format("markDelete(label {})", label), [&] { index_->index->markDelete(label); });
}

StepResult Engine::get(std::uint64_t label, std::optional<std::vector<float>>& out) const {
  out.reset();
  return guarded(fmt::format("getDataByLabel(label {})", label), [&] {
    try {
      out = index_->index->getDataByLabel<float>(label);
    } catch (const std::runtime_error& e) {
      if (std::strcmp(e.what(), "Label not found") != 0) throw;  // not there (or marked deleted): no record
    }
  });
}

StepResult Engine::search(const std::vector<float>& q, std::size_t k, std::size_t ef,
                          std::vector<std::pair<float, std::uint64_t>>& hits) const {
  std::vector<float> stored = stored_form(q, metric_);
  hits.clear();
  return guarded(fmt::format("searchKnn(k {}, ef {})", k, ef), [&] {
    Index& index = *index_->index;
    if (ef != 0 && index.ef_ != ef) index.setEf(ef);
    auto found = index.searchKnn(stored.data(), k);
    for (; !found.empty(); found.pop()) hits.emplace_back(found.top().first, found.top().second);
    std::reverse(hits.begin(), hits.end());  // searchKnn's queue pops the farthest first
  });
}

StepResult Engine::resize(std::size_t max_elements) {
  return guarded(fmt::format("resizeIndex({})", max_elements), [&] { index_->index->resizeIndex(max_elements); });
}

void Engine::set_ef(std::size_t ef) { index_->index->setEf(ef); }

std::size_t Engine::max_elements() const { return index_->index->max_elements_; }
std::size_t Engine::element_count() const { return index_->index->cur_element_count; }

std::uint64_t Engine::live_count() const {
  const Index& index = *index_->index;
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < index.cur_element_count; ++i)
    if (!index.isMarkedDeleted(static_cast<hnswlib::tableint>(i))) ++n;
  return n;
}

std::vector<std::uint64_t> Engine::labels() const {
  std::vector<std::uint64_t> out;
  for (const auto& [label, internal] : index_->index->label_lookup_) out.push_back(label);
  return out;
}

std::uint64_t Engine::save_size() const {
  const Index& index = *index_->index;
  std::uint64_t n = 96 + std::uint64_t{index.cur_element_count} * index.size_data_per_element_;
  for (std::size_t i = 0; i < index.cur_element_count; ++i)
    n += 4 + (index.element_levels_[i] > 0 ? index.size_links_per_element_ * index.element_levels_[i] : 0);
  return n;
}

}  // namespace crashgate::hnswlib_driver
