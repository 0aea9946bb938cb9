// The import op: index.faiss of `from` becomes the store. Its header says
// which of the driver's index types it is (the fourccs write_index writes,
// layout.cc) and the dimension (the outer index's d); every type is L2
// (metric_type 1). The index is not read here: the next store op loads it
// (read_index), so damage shows in that step.
#include <array>
#include <optional>

#include <fmt/format.h>

#include "session.h"

namespace crashgate::faiss_driver {

namespace {

// The fourccs that say an index.faiss is one of the driver's types, as layout fields of that type's kind.
struct Signature {
  IndexType type;
  std::string_view metric;  // create's name for it
  std::array<std::pair<std::string_view, std::string_view>, 2> fourccs;  // (layout field, fourcc); an empty field: none
};
constexpr Signature kSignatures[] = {
    {IndexType::flat, "flat-l2", {{{"fourcc", "IxM2"}, {"flat.fourcc", "IxF2"}}}},
    {IndexType::hnsw, "hnsw-l2", {{{"fourcc", "IxM2"}, {"hnsw.fourcc", "IHNf"}}}},
    {IndexType::ivf, "ivf-l2", {{{"fourcc", "IwFl"}, {"", ""}}}},
};
constexpr std::uint64_t kMetricL2 = 1;  // faiss::METRIC_L2

std::string fourcc_text(std::uint64_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  return s;
}

// The signature the file's header matches, or none (short, foreign, damaged: the load judges it).
const Signature* signature_of(const std::string& path) {
  for (const Signature& sig : kSignatures) {
    const kit::LayoutFile* layout = layout_of(type_name(sig.type));
    bool all = layout != nullptr;
    for (const auto& [field, fourcc] : sig.fourccs) {
      if (!all || field.empty()) continue;
      auto v = kit::read_field(*layout, path, field);
      all = v && fourcc_text(*v) == fourcc;
    }
    if (all) return &sig;
  }
  return nullptr;
}

}  // namespace

StepResult Session::import_store(const Args& step) {
  std::string from = step.string("from");
  std::string source = from + "/index.faiss";
  kit::FromFiles<std::string> metric_in_files{std::nullopt, "index.faiss's fourccs and metric_type"};
  kit::FromFiles<std::uint64_t> dim_in_files{std::nullopt, "index.faiss's d"};
  const Signature* sig = signature_of(source);
  if (sig) {
    const kit::LayoutFile& layout = *layout_of(type_name(sig->type));
    if (auto metric = kit::read_field(layout, source, "metric_type"); metric && *metric == kMetricL2) metric_in_files.value = std::string(sig->metric);
    if (auto d = kit::read_field(layout, source, "d"); d && *d >= 1 && *d <= (1u << 20)) dim_in_files.value = *d;
  }
  std::string metric;
  std::uint64_t dim = 0;
  if (StepResult o = kit::settle_import_key(step, "metric", metric_in_files, "flat-l2", metric); !o.is_ok) return o;
  if (StepResult o = kit::settle_import_key(step, "dim", dim_in_files, 64, dim); !o.is_ok) return o;
  const Signature* type = nullptr;
  for (const Signature& s : kSignatures)
    if (s.metric == metric) type = &s;
  if (!type) return StepResult::error("invalid-argument", fmt::format("import: metric must be flat-l2, hnsw-l2 or ivf-l2, not '{}'", metric));
  if (StepResult o = close_index(); !o.is_ok) return o;
  if (step.has("store")) store_dir_ = work_dir_ + "/" + step.string("store");
  if (StepResult o = kit::import_store_files(from, store_dir_); !o.is_ok) return o;
  type_ = type->type;
  dim_ = static_cast<std::uint32_t>(dim);
  records_.imported(dim_);
  {
    std::lock_guard lock(ids_mu_);
    reserved_ids_ = 0;
  }
  created_ = true;
  context_.log(fmt::format("imported {} into {}: a {} index of {} dimensions{} (the next store op loads it)", from, store_dir_,
                           type_name(type_), dim, sig ? "" : ", as the step says (the header does not say)"));
  return StepResult::ok();
}

}  // namespace crashgate::faiss_driver
