// The search oracle of the driver kit: how good an engine's k-NN answers are,
// judged against an exact search the kit computes itself, with its own
// distances in double precision (never the engine's kernel).
//
//   auto queries = kit::oracle_queries(live, dim, n, rng);   // every other one a record's own vector
//   ... run each query on the engine, collect the ids it returned ...
//   kit::RecallMeasure m = kit::measure_recall(metric, live, queries, hits, k);
//   result.measured = m.figures();                           // into results.json
//   if (StepResult bad = kit::judge_recall(m, min_recall); !bad.is_ok) return bad;
//
// recall@k is the share of the exact k nearest an engine returned, summed over
// the queries. A hit that is not among the exact k but lies as near as the
// k-th (within a relative 1e-4: float kernels round differently) counts as
// found, so ties never fail a correct engine. A self-query is a live record's
// own vector: under l2 and cosine the record is at distance 0 and must come
// back (under inner product a longer vector may be nearer, so it is not asked).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crashgate/driver_kit.h"
#include "crashgate/driver_records.h"

namespace crashgate::kit {

enum class Metric { l2, inner_product, cosine };

// "l2", "ip" or "inner_product", "cosine"; nullopt for anything else.
std::optional<Metric> metric_named(std::string_view name);
std::string_view metric_name(Metric metric);

// Smaller is nearer: squared L2; minus the dot product; 1 - cosine similarity
// (1 when either vector is all zeros). Computed in double.
double reference_distance(Metric metric, std::span<const float> a, std::span<const float> b);

// A record the oracle searches over.
struct OracleRecord {
  std::uint64_t id = 0;
  std::vector<float> vector;
};

// The live records of a model, with the vectors they were added with.
std::vector<OracleRecord> oracle_records(const Records& model);

// Whether an exact search of `queries` over `records` of `dim` is cheap enough
// to run in a cell (about a billion multiply-adds at most).
inline bool oracle_affordable(std::uint64_t records, std::uint32_t dim, std::uint64_t queries) {
  return static_cast<double>(records) * dim * static_cast<double>(queries) <= 1e9;
}

struct OracleQuery {
  std::vector<float> vector;
  std::optional<std::uint64_t> self;  // the record whose own vector this is
};

// n queries: even ones uniform in [-1, 1]^dim, odd ones a live record's own
// vector (random ones when there are no records).
std::vector<OracleQuery> oracle_queries(std::span<const OracleRecord> records, std::uint32_t dim, std::uint64_t n,
                                        std::mt19937_64& rng);

struct RecallMeasure {
  Metric metric = Metric::l2;
  std::uint64_t k = 0;
  std::uint64_t queries = 0;
  std::uint64_t expected = 0;       // sum over the queries of min(k, live records)
  std::uint64_t found = 0;          // of those, how many the engine returned (ties counted)
  std::uint64_t self_queries = 0;   // self-queries asked (l2 and cosine only)
  std::uint64_t self_found = 0;
  // The worst query: its index, what it found, and an id it missed.
  std::uint64_t worst_query = 0;
  double worst_recall = 1;
  std::optional<std::uint64_t> worst_missed;
  std::optional<std::uint64_t> self_missed;  // the first record a self-query did not return
  double recall() const { return expected == 0 ? 1.0 : static_cast<double>(found) / static_cast<double>(expected); }
  // The figures a step's `measured` carries into results.json.
  std::map<std::string, double> figures() const;
};

// hits[i]: the ids the engine returned for queries[i], nearest first; only the
// first k count, and an id returned twice counts once.
RecallMeasure measure_recall(Metric metric, std::span<const OracleRecord> records, std::span<const OracleQuery> queries,
                             std::span<const std::vector<std::uint64_t>> hits, std::uint64_t k);

// One query run on the engine: fills `ids` with what it returned, nearest
// first, after the driver's own checks of the hits; an error ends the step.
using SearchOne = std::function<StepResult(const std::vector<float>& query, std::vector<std::uint64_t>& ids)>;

// What a driver's search step asks of the oracle.
struct OracleSearch {
  std::optional<Metric> metric;  // nullopt: the engine's metric is not one the oracle knows
  bool model_exact = false;      // the model knows every record in the store (see each driver)
  std::uint64_t live = 0;        // how many records the model holds
  std::uint32_t dim = 0;
  std::uint64_t queries = 10;
  std::uint64_t k = 10;
  std::optional<double> min_recall;
};

// Runs `queries` searches through `search`. With the model exact, a known
// metric and an affordable exact search, the queries are oracle_queries over
// `records()` and recall@k is measured (into the result's `measured`, and
// logged) and judged against min_recall; otherwise the queries are uniform in
// [-1, 1]^dim and nothing is measured, and a min_recall is an invalid-argument
// error (it cannot be judged, and is never silently dropped).
StepResult oracle_searches(const OracleSearch& ask, const std::function<std::vector<OracleRecord>()>& records, std::mt19937_64& rng,
                           const SearchOne& search, const Context& context);

// A wrong-result error when recall is below min_recall (nullopt: not judged)
// or, with a floor set, when a self-query did not return its record; the
// message says what was expected and what came.
StepResult judge_recall(const RecallMeasure& m, std::optional<double> min_recall);

}  // namespace crashgate::kit
