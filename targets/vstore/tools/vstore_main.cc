// The vstore command-line tool, for people and for scripts.
// Exit status: 0 success, 1 other engine error, 2 usage, 3 corrupt, 4 I/O,
// 5 busy, 6 resource exhausted, 7 invalid argument (vstore/status.h's table).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "record_source.h"
#include "vstore/failpoint.h"
#include "vstore/filter.h"
#include "vstore/regression.h"
#include "vstore/store.h"

namespace vstore::tool {
namespace {

constexpr int kUsage = 2;

int fail(const Status& st) {
  fmt::print(stderr, "vstore: {}\n", st.to_string());
  return code_exit_status(st.code());
}

Result<std::unique_ptr<Store>> open_store(const std::string& dir, bool read_only) {
  OpenOptions o;
  o.read_only = read_only;
  return Store::open(dir, o);
}

int cmd_create(const std::string& dir, uint32_t dim, const std::string& metric_name) {
  CreateOptions o;
  o.dim = dim;
  if (!parse_metric(metric_name, &o.metric)) return fail(Status::Invalid(fmt::format("--metric '{}': expected l2, ip or cosine", metric_name)));
  Result<std::unique_ptr<Store>> s = Store::create(dir, o);
  if (!s.ok()) return fail(s.status());
  Status st = (*s)->close();
  if (!st.ok()) return fail(st);
  fmt::print("created {} (dim {}, metric {})\n", dir, dim, metric_name);
  return 0;
}

int cmd_add(const std::string& dir, uint64_t random_n, uint64_t seed, const std::string& fvecs, std::optional<uint64_t> first_id) {
  Result<std::unique_ptr<Store>> s = open_store(dir, false);
  if (!s.ok()) return fail(s.status());
  Store& store = **s;
  uint64_t first = 0;
  if (first_id) {
    first = *first_id;
  } else if (store.count() > 0) {
    // Continue after the largest id, so repeated adds never collide.
    uint64_t max_id = 0;
    Status st = store.scan([&](const RecordRef& r) {
      max_id = std::max(max_id, r.id());
      return true;
    });
    if (!st.ok()) return fail(st);
    first = max_id + 1;
  }
  const bool tty = ::isatty(STDERR_FILENO);
  uint64_t added = 0;
  auto sink = [&](std::vector<Record>& batch) -> Status {
    VSTORE_RETURN_IF_ERROR(store.add(batch));
    added += batch.size();
    if (tty) fmt::print(stderr, "\radded {} records", added);
    return Status::Ok();
  };
  Status st = fvecs.empty() ? generate_random(store.dim(), random_n, seed, first, 10000, sink)
                            : read_fvecs(fvecs, store.dim(), first, 10000, sink);
  if (tty) fmt::print(stderr, "\n");
  if (st.ok()) st = store.close();
  if (!st.ok()) return fail(st);
  fmt::print("added {} records (ids {} to {}); count {}\n", added, first, first + added - (added ? 1 : 0), store.count());
  return 0;
}

int cmd_count(const std::string& dir) {
  Result<std::unique_ptr<Store>> s = open_store(dir, true);
  if (!s.ok()) return fail(s.status());
  fmt::print("{}\n", (*s)->count());
  return 0;
}

int cmd_get(const std::string& dir, uint64_t id) {
  Result<std::unique_ptr<Store>> s = open_store(dir, true);
  if (!s.ok()) return fail(s.status());
  Result<Record> r = (*s)->get(id);
  if (!r.ok()) return fail(r.status());
  fmt::print("id {}\nvector {}\n", r->id, fmt::join(r->vector, ","));
  for (const Attribute& a : r->attributes) fmt::print("attr {}={}\n", a.key, a.value);
  return 0;
}

int cmd_remove(const std::string& dir, const std::vector<uint64_t>& ids) {
  Result<std::unique_ptr<Store>> s = open_store(dir, false);
  if (!s.ok()) return fail(s.status());
  Result<uint64_t> n = (*s)->remove(ids);
  if (!n.ok()) return fail(n.status());
  Status st = (*s)->close();
  if (!st.ok()) return fail(st);
  fmt::print("removed {} of {}\n", *n, ids.size());
  if (*n < ids.size()) return fail(Status::NotFound(fmt::format("{} of the ids were not in the store", ids.size() - *n)));
  return 0;
}

int cmd_compact(const std::string& dir) {
  Result<std::unique_ptr<Store>> s = open_store(dir, false);
  if (!s.ok()) return fail(s.status());
  StoreStats before = (*s)->stats();
  Status st = (*s)->compact();
  if (st.ok()) st = (*s)->close();
  if (!st.ok()) return fail(st);
  StoreStats after = (*s)->stats();
  fmt::print("compacted {}: generation {} -> {}, {} slots -> {}\n", dir, before.generation, after.generation, before.slots, after.slots);
  return 0;
}

int cmd_fsck(const std::string& dir) {
  FsckReport report = Store::fsck(dir);
  for (const std::string& p : report.problems) fmt::print("{}\n", p);
  // A store fsck could not read is not a corrupt one: a script told "corrupt"
  // about a mistyped path would rebuild a store that is fine.
  if (!report.unreadable.ok()) return fail(report.unreadable);
  if (report.ok()) {
    fmt::print("fsck {}: ok, {} records checked\n", dir, report.records_checked);
    return 0;
  }
  fmt::print(stderr, "vstore: corrupt: fsck {}: {} problem{} ({} records checked)\n", dir, report.problems.size(),
             report.problems.size() == 1 ? "" : "s", report.records_checked);
  return code_exit_status(Code::corrupt);
}

int cmd_stats(const std::string& dir) {
  Result<std::unique_ptr<Store>> s = open_store(dir, true);
  if (!s.ok()) return fail(s.status());
  StoreStats st = (*s)->stats();
  fmt::print("dim {}\nmetric {}\ngeneration {}\ncommit_seq {}\nlive {}\nslots {}\nvectors_file_bytes {}\nattrs_bytes {}\nattrs_file_bytes {}\nid_table_buckets {}\n",
             st.dim, metric_name(st.metric), st.generation, st.commit_seq, st.live, st.slots, st.vectors_file_bytes, st.attrs_bytes,
             st.attrs_file_bytes, st.id_table_buckets);
  return 0;
}

// "0.5,-1,2e-3" -> floats; invalid-argument naming the bad value.
Result<std::vector<float>> parse_vector(const std::string& text, uint32_t dim) {
  std::vector<float> v;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    float f = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), f);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size())
      return Status::Invalid(fmt::format("--query: value {} ('{}') is not a number", v.size() + 1, item));
    v.push_back(f);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (v.size() != dim) return Status::Invalid(fmt::format("--query has {} values, the store's dimension is {}", v.size(), dim));
  return v;
}

// Query vectors: the given one, or n drawn like `add --random` (uniform in [-1, 1]).
std::vector<std::vector<float>> random_queries(uint32_t dim, uint64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  std::vector<std::vector<float>> out(n, std::vector<float>(dim));
  for (auto& q : out)
    for (float& x : q) x = unit(rng);
  return out;
}

int cmd_search(const std::string& dir, const std::string& query, uint64_t random_queries_n, uint64_t seed, size_t k, size_t ef) {
  Result<std::unique_ptr<Store>> s = open_store(dir, true);
  if (!s.ok()) return fail(s.status());
  std::vector<std::vector<float>> queries;
  if (!query.empty()) {
    Result<std::vector<float>> q = parse_vector(query, (*s)->dim());
    if (!q.ok()) return fail(q.status());
    queries.push_back(std::move(q).value());
  } else {
    queries = random_queries((*s)->dim(), random_queries_n, seed);
  }
  for (size_t i = 0; i < queries.size(); ++i) {
    Result<std::vector<SearchHit>> hits = (*s)->search(queries[i], {.k = k, .ef = ef});
    if (!hits.ok()) return fail(hits.status());
    fmt::print("query {}:", i);
    for (const SearchHit& h : *hits) fmt::print(" {}:{:.6g}", h.id, h.distance);
    fmt::print("\n");
  }
  return 0;
}

int cmd_delete(const std::string& dir, const std::string& where, const std::string& where_file) {
  std::string text = where;
  if (!where_file.empty()) {
    std::ifstream in(where_file, std::ios::binary);
    if (!in) return fail(Status::NotFound(fmt::format("--where-file {}: cannot read it", where_file)));
    std::ostringstream all;
    all << in.rdbuf();
    text = all.str();
  }
  Result<Filter> filter = Filter::parse(text);  // before opening: a bad filter changes nothing
  if (!filter.ok()) return fail(filter.status());
  Result<std::unique_ptr<Store>> s = open_store(dir, false);
  if (!s.ok()) return fail(s.status());
  Result<uint64_t> n = (*s)->delete_where(*filter);
  if (!n.ok()) return fail(n.status());
  Status st = (*s)->close();
  if (!st.ok()) return fail(st);
  fmt::print("removed {}\n", *n);
  return 0;
}

int cmd_recall(const std::string& dir, uint64_t n_queries, size_t k, size_t ef, uint64_t seed) {
  Result<std::unique_ptr<Store>> s = open_store(dir, true);
  if (!s.ok()) return fail(s.status());
  // Queries are stored vectors, slightly perturbed, so they land where the data is.
  std::vector<std::vector<float>> queries;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.01f);
  uint64_t stride = std::max<uint64_t>(1, (*s)->count() / std::max<uint64_t>(1, n_queries)), i = 0;
  Status st = (*s)->scan([&](const RecordRef& r) {
    if (i++ % stride == 0 && queries.size() < n_queries) {
      std::vector<float> q(r.vector().begin(), r.vector().end());
      for (float& x : q) x += noise(rng);
      queries.push_back(std::move(q));
    }
    return queries.size() < n_queries;
  });
  if (!st.ok()) return fail(st);
  if (queries.empty()) return fail(Status::NotFound(fmt::format("{}: the store is empty", dir)));
  double found = 0, total = 0;
  for (const auto& q : queries) {
    Result<std::vector<SearchHit>> exact = (*s)->exact_search(q, k);
    Result<std::vector<SearchHit>> approx = (*s)->search(q, {.k = k, .ef = ef});
    if (!exact.ok()) return fail(exact.status());
    if (!approx.ok()) return fail(approx.status());
    std::unordered_set<uint64_t> want;
    for (const SearchHit& h : *exact) want.insert(h.id);
    for (const SearchHit& h : *approx) found += want.count(h.id);
    total += exact->size();
  }
  fmt::print("recall@{} at ef {}: {:.4f} over {} queries\n", k, ef, total == 0 ? 1.0 : found / total, queries.size());
  return 0;
}

int cmd_failpoints() {
  size_t n = 0;
  const FailSiteInfo* t = failpoint_table(&n);
  fmt::print("# {} failpoint sites; {} in this build. Set with VSTORE_FAILPOINTS='name=[p%][cnt*]action[(arg)];...'\n", n,
             failpoints_compiled_in() ? "compiled in" : "NOT compiled");
  fmt::print("# actions: off, error(ERRNO), short(BYTES), delay(MS), yield, crash\n");
  fmt::print("{:<32} {:<8} {:<10} {}\n", "site", "kind", "write-path", "where");
  for (size_t i = 0; i < n; ++i)
    fmt::print("{:<32} {:<8} {:<10} {}\n", t[i].name, t[i].syscall ? "syscall" : "logic", t[i].write_path ? "yes" : "no", t[i].what);
  return 0;
}

int cmd_regressions() {
  size_t n = 0;
  const RegressionInfo* t = regression_table(&n);
  fmt::print("# {} regression switches; {} in this build. Turn on with VSTORE_REGRESSION=id[,id...]\n", n,
             regressions_compiled_in() ? "compiled in" : "NOT compiled (configure with VSTORE_REGRESSIONS=ON)");
  fmt::print("{:<26} {:<24} {}\n{:<51} {}\n", "id", "field report", "what the bug does", "", "shows as (what catching it means)");
  for (size_t i = 0; i < n; ++i)
    fmt::print("{:<26} {:<24} {}\n{:<51} {}\n", t[i].id, t[i].field_report, t[i].what, "", t[i].shows_as);
  return 0;
}

}  // namespace
}  // namespace vstore::tool

int main(int argc, char** argv) {
  using namespace vstore::tool;
  ::signal(SIGPIPE, SIG_IGN);  // a closed pipe is a write error, not a death
  CLI::App app{"vstore: a memory-mapped vector store.\n"
               "Exit status: 0 ok, 1 other error (e.g. not found), 2 usage, 3 corrupt, 4 I/O, 5 busy, 6 resource exhausted, 7 invalid argument."};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every command");

  std::string dir, metric = "l2", fvecs;
  uint32_t dim = 0;
  uint64_t random_n = 0, seed = 1, id = 0;
  std::optional<uint64_t> first_id;
  std::vector<uint64_t> ids;

  auto* create = app.add_subcommand("create", "Create a store in DIR");
  create->add_option("DIR", dir, "Store directory (must not exist, or be empty)")->required();
  create->add_option("--dim", dim, "Vector dimension (1 to 65536)")->required()->check(CLI::Range(1u, 65536u));
  create->add_option("--metric", metric, "l2, ip or cosine")->check(CLI::IsMember({"l2", "ip", "cosine"}));

  auto* add = app.add_subcommand("add", "Add records: --random N seeded vectors, or the vectors of an .fvecs file");
  add->add_option("DIR", dir, "Store directory")->required();
  auto* random_opt = add->add_option("--random", random_n, "Add N random vectors (file_path = src/file_<id>.py)");
  add->add_option("--seed", seed, "Seed for --random")->capture_default_str();
  auto* fvecs_opt = add->add_option("--fvecs", fvecs, "Add the vectors of an .fvecs file")->check(CLI::ExistingFile);
  add->add_option("--first-id", first_id, "First id to assign (default: one past the largest id in the store)");
  random_opt->excludes(fvecs_opt);
  fvecs_opt->excludes(random_opt);

  auto* count = app.add_subcommand("count", "Print the number of live records");
  count->add_option("DIR", dir, "Store directory")->required();
  auto* get = app.add_subcommand("get", "Print one record");
  get->add_option("DIR", dir, "Store directory")->required();
  get->add_option("ID", id, "Record id")->required();
  auto* remove = app.add_subcommand("remove", "Remove records by id");
  remove->add_option("DIR", dir, "Store directory")->required();
  remove->add_option("ID", ids, "Record ids")->required();
  auto* compact = app.add_subcommand("compact", "Rewrite the live records into a new generation");
  compact->add_option("DIR", dir, "Store directory")->required();
  auto* fsck = app.add_subcommand("fsck", "Verify everything; print every problem, one a line, with file and offset");
  fsck->add_option("DIR", dir, "Store directory")->required();
  auto* stats = app.add_subcommand("stats", "Print the store's statistics");
  stats->add_option("DIR", dir, "Store directory")->required();
  std::string query, where, where_file;
  uint64_t random_queries_n = 0, n_queries = 200;
  size_t k = 10, ef = 64;
  auto* search = app.add_subcommand("search", "Print the k nearest records (id:distance) to each query, through the index");
  search->add_option("DIR", dir, "Store directory")->required();
  auto* query_opt = search->add_option("--query", query, "A query vector: v1,v2,... (the store's dimension)");
  auto* random_queries_opt = search->add_option("--random-queries", random_queries_n, "N random queries, uniform in [-1, 1]");
  search->add_option("--seed", seed, "Seed for --random-queries")->capture_default_str();
  search->add_option("--k", k, "Neighbours per query")->capture_default_str()->check(CLI::Range(size_t{1}, size_t{100000}));
  search->add_option("--ef", ef, "Candidate-list size (max(ef, k) is used)")->capture_default_str()->check(CLI::Range(size_t{1}, size_t{100000}));
  query_opt->excludes(random_queries_opt);
  random_queries_opt->excludes(query_opt);
  auto* del = app.add_subcommand("delete", "Remove every record a filter matches (one commit); prints how many");
  del->add_option("DIR", dir, "Store directory")->required();
  auto* where_opt = del->add_option("--where", where, "Filter, e.g. \"file_path IN ('a.py', 'b.py')\"");
  auto* where_file_opt = del->add_option("--where-file", where_file, "Read the filter from FILE");
  where_opt->excludes(where_file_opt);
  where_file_opt->excludes(where_opt);
  auto* recall = app.add_subcommand("recall", "Measure recall@k of the index against exact search");
  recall->add_option("DIR", dir, "Store directory")->required();
  recall->add_option("--queries", n_queries, "Queries (perturbed stored vectors)")->capture_default_str()->check(CLI::Range(uint64_t{1}, uint64_t{1000000}));
  recall->add_option("--k", k, "Neighbours per query")->capture_default_str()->check(CLI::Range(size_t{1}, size_t{100000}));
  recall->add_option("--ef", ef, "Candidate-list size")->capture_default_str()->check(CLI::Range(size_t{1}, size_t{100000}));
  recall->add_option("--seed", seed, "Seed for the perturbation")->capture_default_str();
  auto* failpoints = app.add_subcommand("failpoints", "Print the failpoint table");
  auto* regressions = app.add_subcommand("regressions", "Print the regression-switch table");

  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands({})) known |= sub->get_name() == argv[1];
    if (!known) {
      fmt::print(stderr, "vstore: unknown command '{}' (run vstore --help for the list)\n", argv[1]);
      return kUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kUsage;
  }
  if (*add && !*random_opt && !*fvecs_opt) {
    fmt::print(stderr, "vstore: add: give --random N or --fvecs FILE\n");
    return kUsage;
  }
  if (*search && !*query_opt && !*random_queries_opt) {
    fmt::print(stderr, "vstore: search: give --query v1,v2,... or --random-queries N\n");
    return kUsage;
  }
  if (*del && !*where_opt && !*where_file_opt) {
    fmt::print(stderr, "vstore: delete: give --where EXPR or --where-file FILE\n");
    return kUsage;
  }
  if (*create) return cmd_create(dir, dim, metric);
  if (*search) return cmd_search(dir, query, random_queries_n, seed, k, ef);
  if (*del) return cmd_delete(dir, where, where_file);
  if (*recall) return cmd_recall(dir, n_queries, k, ef, seed);
  if (*add) return cmd_add(dir, random_n, seed, fvecs, first_id);
  if (*count) return cmd_count(dir);
  if (*get) return cmd_get(dir, id);
  if (*remove) return cmd_remove(dir, ids);
  if (*compact) return cmd_compact(dir);
  if (*fsck) return cmd_fsck(dir);
  if (*stats) return cmd_stats(dir);
  if (*failpoints) return cmd_failpoints();
  if (*regressions) return cmd_regressions();
  return kUsage;
}
