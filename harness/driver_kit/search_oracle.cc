// The kit's search oracle (search_oracle.h): exact k nearest by its own
// distances, recall against them, self-queries.
#include "crashgate/search_oracle.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

namespace crashgate::kit {

std::optional<Metric> metric_named(std::string_view name) {
  if (name == "l2") return Metric::l2;
  if (name == "ip" || name == "inner_product") return Metric::inner_product;
  if (name == "cosine") return Metric::cosine;
  return std::nullopt;
}

std::string_view metric_name(Metric metric) {
  switch (metric) {
    case Metric::l2: return "l2";
    case Metric::inner_product: return "ip";
    case Metric::cosine: return "cosine";
  }
  return "?";
}

double reference_distance(Metric metric, std::span<const float> a, std::span<const float> b) {
  const std::size_t n = std::min(a.size(), b.size());
  double sum = 0, aa = 0, bb = 0;
  switch (metric) {
    case Metric::l2:
      for (std::size_t i = 0; i < n; ++i) {
        double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
        sum += d * d;
      }
      return sum;
    case Metric::inner_product:
      for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * static_cast<double>(b[i]);
      return -sum;
    case Metric::cosine:
      for (std::size_t i = 0; i < n; ++i) {
        sum += static_cast<double>(a[i]) * static_cast<double>(b[i]);
        aa += static_cast<double>(a[i]) * static_cast<double>(a[i]);
        bb += static_cast<double>(b[i]) * static_cast<double>(b[i]);
      }
      if (aa == 0 || bb == 0) return 1;
      return 1 - sum / (std::sqrt(aa) * std::sqrt(bb));
  }
  return 0;
}

std::vector<OracleRecord> oracle_records(const Records& model) {
  std::vector<OracleRecord> out;
  for (std::uint64_t id : model.live())
    if (auto r = model.expected(id)) out.push_back({id, std::move(r->vector)});
  return out;
}

std::vector<OracleQuery> oracle_queries(std::span<const OracleRecord> records, std::uint32_t dim, std::uint64_t n,
                                        std::mt19937_64& rng) {
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::vector<OracleQuery> out;
  out.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    OracleQuery q;
    if (i % 2 == 1 && !records.empty()) {
      const OracleRecord& r = records[std::uniform_int_distribution<std::size_t>(0, records.size() - 1)(rng)];
      q.vector = r.vector;
      q.self = r.id;
    } else {
      q.vector.resize(dim);
      for (float& v : q.vector) v = value(rng);
    }
    out.push_back(std::move(q));
  }
  return out;
}

std::map<std::string, double> RecallMeasure::figures() const {
  std::map<std::string, double> f = {{"recall", recall()}, {"k", static_cast<double>(k)}, {"queries", static_cast<double>(queries)}};
  if (self_queries) {
    f["self_queries"] = static_cast<double>(self_queries);
    f["self_found"] = static_cast<double>(self_found);
  }
  return f;
}

namespace {

// A distance no more than `limit`, allowing for float kernels rounding otherwise.
bool within(double d, double limit) { return d <= limit + 1e-4 * std::max(1.0, std::fabs(limit)); }

}  // namespace

RecallMeasure measure_recall(Metric metric, std::span<const OracleRecord> records, std::span<const OracleQuery> queries,
                             std::span<const std::vector<std::uint64_t>> hits, std::uint64_t k) {
  RecallMeasure m;
  m.metric = metric;
  m.k = k;
  m.queries = queries.size();
  std::unordered_map<std::uint64_t, std::size_t> index;
  index.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) index.emplace(records[i].id, i);
  std::vector<std::pair<double, std::uint64_t>> exact(records.size());
  for (std::size_t qi = 0; qi < queries.size(); ++qi) {
    const OracleQuery& q = queries[qi];
    for (std::size_t i = 0; i < records.size(); ++i) exact[i] = {reference_distance(metric, q.vector, records[i].vector), records[i].id};
    const std::size_t want = std::min<std::size_t>(k, exact.size());
    std::partial_sort(exact.begin(), exact.begin() + static_cast<std::ptrdiff_t>(want), exact.end());
    const double kth = want ? exact[want - 1].first : 0;
    // What came back: the first k distinct ids; ids the model does not hold count as nothing.
    std::unordered_set<std::uint64_t> seen;
    std::uint64_t found = 0;
    const std::vector<std::uint64_t> none;
    const std::vector<std::uint64_t>& got = qi < hits.size() ? hits[qi] : none;
    for (std::size_t h = 0; h < got.size() && seen.size() < k; ++h) {
      if (!seen.insert(got[h]).second) continue;
      auto it = index.find(got[h]);
      if (it == index.end()) continue;
      if (within(reference_distance(metric, q.vector, records[it->second].vector), kth)) ++found;
    }
    found = std::min<std::uint64_t>(found, want);
    m.expected += want;
    m.found += found;
    double recall = want ? static_cast<double>(found) / static_cast<double>(want) : 1.0;
    if (recall < m.worst_recall) {
      m.worst_recall = recall;
      m.worst_query = qi;
      m.worst_missed.reset();
      for (std::size_t i = 0; i < want && !m.worst_missed; ++i)
        if (!seen.count(exact[i].second)) m.worst_missed = exact[i].second;
    }
    if (q.self && metric != Metric::inner_product && index.count(*q.self)) {
      ++m.self_queries;
      if (seen.count(*q.self)) ++m.self_found;
      else if (!m.self_missed) m.self_missed = *q.self;
    }
  }
  return m;
}

StepResult oracle_searches(const OracleSearch& ask, const std::function<std::vector<OracleRecord>()>& records, std::mt19937_64& rng,
                           const SearchOne& search, const Context& context) {
  const bool oracle = ask.metric && ask.model_exact && oracle_affordable(ask.live, ask.dim, ask.queries);
  if (ask.min_recall && !oracle)
    return StepResult::error(
        "invalid-argument",
        !ask.metric ? "search: min_recall: the oracle has no exact search for this engine's metric"
        : !ask.model_exact
            ? "search: min_recall needs a store the model knows record for record (created in this cell; no import, outside "
              "damage, replaced file, failpoint, second process or workload since)"
            : fmt::format("search: min_recall: an exact search of {} queries over {} records of {} dimensions is too large for a cell",
                          ask.queries, ask.live, ask.dim));
  std::vector<OracleRecord> known;
  std::vector<OracleQuery> queries;
  if (oracle) {
    known = records();
    queries = oracle_queries(known, ask.dim, ask.queries, rng);
  } else {
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    queries.resize(ask.queries);
    for (OracleQuery& q : queries) {
      q.vector.resize(ask.dim);
      for (float& v : q.vector) v = value(rng);
    }
  }
  std::vector<std::vector<std::uint64_t>> returned(queries.size());
  for (std::size_t i = 0; i < queries.size(); ++i)
    if (StepResult r = search(queries[i].vector, returned[i]); !r.is_ok || r.descendant_signal) return r;
  if (!oracle) return StepResult::ok();
  RecallMeasure m = measure_recall(*ask.metric, known, queries, returned, ask.k);
  context.log(fmt::format("recall@{} {:.4f} ({} of {} exact neighbours, {} distance); self-queries {} of {}", m.k, m.recall(), m.found,
                          m.expected, metric_name(m.metric), m.self_found, m.self_queries));
  StepResult judged = judge_recall(m, ask.min_recall);
  judged.measured = m.figures();
  return judged;
}

StepResult judge_recall(const RecallMeasure& m, std::optional<double> min_recall) {
  if (!min_recall) return StepResult::ok();
  if (m.recall() < *min_recall) {
    std::string missed = m.worst_missed ? fmt::format(", missing id {} of the exact {} nearest", *m.worst_missed, m.k) : "";
    return StepResult::error(
        "wrong-result",
        fmt::format("search recall@{} is {:.4f} over {} queries ({} of {} exact neighbours returned, {} distance), below "
                    "min_recall {}; the worst was query {} at {:.2f}{}",
                    m.k, m.recall(), m.queries, m.found, m.expected, metric_name(m.metric), *min_recall, m.worst_query,
                    m.worst_recall, missed));
  }
  if (m.self_missed)
    return StepResult::error("wrong-result",
                             fmt::format("a search for record {}'s own vector did not return it ({} of {} self-queries "
                                         "returned their record, {} distance)",
                                         *m.self_missed, m.self_found, m.self_queries, metric_name(m.metric)));
  return StepResult::ok();
}

}  // namespace crashgate::kit
