// Damaged stores: every truncation point of every file in the header region
// and at each section boundary, forged header fields with valid checksums,
// random bit flips, swapped, zero-filled and foreign files. Each case must end
// in `corrupt` (or, where the damage lies outside committed data, in a store
// that reads back exactly) and never in a signal. The cases run in a child
// process, so a regression fails the test and names the case instead of
// killing the suite.
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "index/graph_format.h"
#include "storage/format.h"
#include "storage/manifest.h"
#include "vstore/store.h"
#include "vstore/support/child_process.h"
#include "vstore/support/scratch.h"

namespace vstore {
namespace {

using internal::FileHeader;
using internal::kDataStart;
using internal::ManifestHeader;
using testing::ScratchDir;

constexpr uint32_t kDim = 4;
constexpr uint64_t kRecords = 40;

struct Pristine {
  std::string dir;
  std::vector<Record> records;
  uint64_t slot_size = 0;
  uint64_t attrs_bytes = 0;
  uint64_t upper_blocks = 0;  // committed blocks of graph-upper
};

// A committed store with a removal, as the damage's starting point.
Pristine make_pristine(const std::string& dir) {
  Pristine p;
  p.dir = dir;
  p.records = testing::make_records(0, kRecords, kDim);
  CreateOptions o;
  o.dim = kDim;
  auto s = std::move(Store::create(dir, o)).value();
  EXPECT_TRUE(s->add(p.records).ok());
  EXPECT_TRUE(s->remove({5}).ok());
  EXPECT_TRUE(s->close().ok());
  p.records.erase(p.records.begin() + 5);
  p.slot_size = internal::slot_size_for(kDim);
  StoreStats stats = (*Store::open(dir, {.read_only = true}))->stats();
  p.attrs_bytes = stats.attrs_bytes;
  internal::GraphState st;
  std::string graph = testing::read_file(testing::find_file(dir, "graph-0"));
  std::memcpy(&st, graph.data() + internal::graph_state_offset(stats.commit_seq), sizeof st);
  p.upper_blocks = st.upper_blocks;
  return p;
}

enum class Verdict { corrupt, intact, other };

// Opens the damaged store every way there is and reads everything. Returns
// corrupt if any step says corrupt, intact if every record reads back exactly,
// other otherwise (with the reason in *why).
Verdict probe_with(const std::string& dir, const std::vector<Record>& expected, std::string* why, std::vector<uint64_t>* searched_ids) {
  bool any_corrupt = false;
  for (bool read_only : {true, false}) {
    Result<std::unique_ptr<Store>> s = Store::open(dir, {.read_only = read_only});
    if (!s.ok()) {
      if (s.status().code() == Code::corrupt) {
        any_corrupt = true;
        continue;
      }
      *why = s.status().to_string();
      return Verdict::other;
    }
    (void)(*s)->count();
    for (const Record& r : expected) {
      Result<Record> got = (*s)->get(r.id);
      if (got.ok() && !(*got == r)) {
        *why = fmt::format("get({}) returned different data", r.id);
        return Verdict::other;  // never acceptable
      }
      if (!got.ok()) {
        if (got.status().code() == Code::corrupt) any_corrupt = true;
        else if (got.status().code() == Code::not_found) any_corrupt |= false;
      }
    }
    (void)(*s)->scan([](const RecordRef&) { return true; });
    // The index must never crash; what it returns must be records of the store.
    for (size_t i = 0; i < expected.size(); i += 7) {
      Result<std::vector<SearchHit>> hits = (*s)->search(expected[i].vector, {.k = 5, .ef = 16});
      if (!hits.ok()) {
        if (hits.status().code() == Code::corrupt) any_corrupt = true;
        continue;
      }
      for (const SearchHit& h : *hits) searched_ids->push_back(h.id);
    }
  }
  FsckReport report = Store::fsck(dir);
  if (!report.ok()) any_corrupt = true;
  if (any_corrupt) return Verdict::corrupt;
  *why = "no problem found";
  return Verdict::intact;
}

Verdict probe(const std::string& dir, const std::vector<Record>& expected, std::string* why) {
  std::vector<uint64_t> searched;
  Verdict v = probe_with(dir, expected, why, &searched);
  if (v != Verdict::intact) return v;
  for (uint64_t id : searched) {
    bool known = false;
    for (const Record& r : expected) known |= r.id == id;
    if (!known) {
      *why = fmt::format("search returned id {}, which the store does not hold", id);
      return Verdict::other;
    }
  }
  return v;
}

struct Damage {
  std::string name;
  bool must_be_corrupt;  // false: committed data untouched; the store must read back whole
  std::function<void(const std::string& dir)> apply;
};

void truncate_to(const std::string& path, uint64_t size) { ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(size)), 0); }

std::vector<Damage> truncations(const Pristine& p) {
  std::vector<Damage> out;
  auto add_cuts = [&](const std::string& prefix, uint64_t committed_end, std::vector<uint64_t> cuts) {
    std::string file = testing::find_file(p.dir, prefix);
    uint64_t size = testing::file_size(file);
    for (uint64_t c = 0; c <= 200; ++c) cuts.push_back(c);             // every byte of the header's fields
    for (uint64_t c = 256; c <= kDataStart + 64 && c < size; c += 64) cuts.push_back(c);  // the header page
    cuts.push_back(kDataStart - 1);
    cuts.push_back(kDataStart);
    cuts.push_back(kDataStart + 1);
    if (committed_end > 0) cuts.push_back(committed_end - 1);
    cuts.push_back(committed_end);
    cuts.push_back(size - 1);
    std::string base = std::filesystem::path(file).filename();
    for (uint64_t c : cuts) {
      if (c >= size) continue;
      out.push_back({fmt::format("truncate {} to {}", base, c), c < committed_end,
                     [base, c](const std::string& dir) { truncate_to(dir + "/" + base, c); }});
    }
  };
  std::vector<uint64_t> slot_cuts;
  for (uint64_t s = 0; s <= kRecords; ++s) {
    uint64_t edge = kDataStart + s * p.slot_size;
    slot_cuts.insert(slot_cuts.end(), {edge - 1, edge, edge + 5});
  }
  add_cuts("vectors-", kDataStart + kRecords * p.slot_size, slot_cuts);
  add_cuts("attrs-", kDataStart + p.attrs_bytes, {kDataStart + p.attrs_bytes / 2});
  std::string ids = testing::find_file(p.dir, "ids-");
  add_cuts("ids-", testing::file_size(ids), {});
  // The graph: its node table up to the committed nodes, the upper blocks the
  // committed state names.
  const uint64_t node_size = sizeof(internal::NodeHead) + 4 * 32;
  add_cuts("graph-0", kDataStart + kRecords * node_size, {kDataStart + node_size, kDataStart + kRecords * node_size / 2});
  add_cuts("graph-upper-", kDataStart + p.upper_blocks * (4 + 4 * 16), {kDataStart + 17});
  std::string manifest = p.dir + "/MANIFEST";
  for (uint64_t c = 0; c < testing::file_size(manifest); ++c)
    out.push_back({fmt::format("truncate MANIFEST to {}", c), true, [c](const std::string& dir) { truncate_to(dir + "/MANIFEST", c); }});
  return out;
}

// Sets a little-endian field of `width` bytes at `offset`, then recomputes the
// checksum at `checksum_offset` over the `checksum_offset` bytes before it, so
// that only the field's own validation can catch it.
void forge_field(const std::string& path, size_t offset, size_t width, uint64_t value, size_t checksum_offset, size_t checksum_from = 0) {
  std::string bytes = testing::read_file(path);
  std::memcpy(bytes.data() + offset, &value, width);
  uint64_t sum = internal::checksum64(bytes.data() + checksum_from, checksum_offset - checksum_from);
  std::memcpy(bytes.data() + checksum_offset, &sum, 8);
  if (path.ends_with("MANIFEST")) {
    // The pending list's checksum is seeded with the header's.
    ManifestHeader h;
    std::memcpy(&h, bytes.data(), sizeof h);
    if (h.pending_removes < 1000 && bytes.size() >= sizeof h + 8 * h.pending_removes + 8) {
      uint64_t list = internal::checksum64(bytes.data() + sizeof h, 8 * h.pending_removes, sum);
      std::memcpy(bytes.data() + sizeof h + 8 * h.pending_removes, &list, 8);
    }
  }
  testing::write_file(path, bytes);
}

struct Field {
  const char* name;
  size_t offset;
  size_t width;
  bool harmless;  // may take any value without making the store unreadable
};

std::vector<Damage> forged_fields(const Pristine& p) {
  const Field manifest_fields[] = {
      {"version", offsetof(ManifestHeader, version), 4, false},
      {"header_size", offsetof(ManifestHeader, header_size), 4, false},
      {"generation", offsetof(ManifestHeader, generation), 8, false},
      {"commit_seq", offsetof(ManifestHeader, commit_seq), 8, true},
      {"dim", offsetof(ManifestHeader, dim), 4, false},
      {"metric", offsetof(ManifestHeader, metric), 4, false},
      {"slot_size", offsetof(ManifestHeader, slot_size), 8, false},
      {"slot_count", offsetof(ManifestHeader, slot_count), 8, false},
      {"live_count", offsetof(ManifestHeader, live_count), 8, false},
      {"attrs_bytes", offsetof(ManifestHeader, attrs_bytes), 8, false},
      {"pending_removes", offsetof(ManifestHeader, pending_removes), 8, false},
      {"graph_bytes", offsetof(ManifestHeader, graph_bytes), 8, false},
  };
  // The index's parameters and the committed graph state, each with its own checksum.
  using internal::GraphParams;
  using internal::GraphState;
  const Field param_fields[] = {
      {"m", offsetof(GraphParams, m), 4, false},
      {"m0", offsetof(GraphParams, m0), 4, false},
      {"ef_construction", offsetof(GraphParams, ef_construction), 4, false},
      {"max_level", offsetof(GraphParams, max_level), 4, false},
      {"node_size", offsetof(GraphParams, node_size), 8, false},
      {"upper_block_size", offsetof(GraphParams, upper_block_size), 8, false},
  };
  const Field state_fields[] = {
      {"commit_seq", offsetof(GraphState, commit_seq), 8, false},
      {"node_count", offsetof(GraphState, node_count), 8, false},
      {"upper_blocks", offsetof(GraphState, upper_blocks), 8, false},
      {"entry", offsetof(GraphState, entry), 4, false},
      {"max_level", offsetof(GraphState, max_level), 4, false},
  };
  uint64_t seq = (*Store::open(p.dir, {.read_only = true}))->stats().commit_seq;
  const Field file_fields[] = {
      {"version", offsetof(FileHeader, version), 4, false},   {"kind", offsetof(FileHeader, kind), 4, false},
      {"generation", offsetof(FileHeader, generation), 8, false}, {"dim", offsetof(FileHeader, dim), 4, false},
      {"metric", offsetof(FileHeader, metric), 4, false},     {"record_size", offsetof(FileHeader, record_size), 8, false},
      {"capacity", offsetof(FileHeader, capacity), 8, false},
  };
  std::vector<Damage> out;
  for (uint64_t value : {uint64_t{0}, ~uint64_t{0}, (uint64_t{1} << 63) + 1, uint64_t{0x80000001}}) {
    for (const Field& f : manifest_fields) {
      uint64_t v = f.width == 4 ? (value & 0xffffffffu) : value;
      // Values that happen to equal the real one are no damage.
      out.push_back({fmt::format("MANIFEST.{} = {:#x}", f.name, v), false, [f, v](const std::string& dir) {
                       forge_field(dir + "/MANIFEST", f.offset, f.width, v, offsetof(ManifestHeader, checksum));
                     }});
    }
    std::string graph = std::filesystem::path(testing::find_file(p.dir, "graph-0")).filename();
    for (const Field& f : param_fields) {
      uint64_t v = f.width == 4 ? (value & 0xffffffffu) : value;
      out.push_back({fmt::format("{} params.{} = {:#x}", graph, f.name, v), false, [graph, f, v](const std::string& dir) {
                       forge_field(dir + "/" + graph, internal::kParamsOffset + f.offset, f.width, v, internal::kParamsOffset + offsetof(GraphParams, checksum), internal::kParamsOffset);
                     }});
    }
    for (const Field& f : state_fields) {
      uint64_t v = f.width == 4 ? (value & 0xffffffffu) : value;
      uint64_t at = internal::graph_state_offset(seq);
      out.push_back({fmt::format("{} state.{} = {:#x}", graph, f.name, v), false, [graph, f, v, at](const std::string& dir) {
                       forge_field(dir + "/" + graph, at + f.offset, f.width, v, at + offsetof(GraphState, checksum), at);
                     }});
    }
    for (const char* prefix : {"vectors-", "attrs-", "ids-", "graph-0", "graph-upper-"}) {
      std::string base = std::filesystem::path(testing::find_file(p.dir, prefix)).filename();
      for (const Field& f : file_fields) {
        uint64_t v = f.width == 4 ? (value & 0xffffffffu) : value;
        out.push_back({fmt::format("{}.{} = {:#x}", base, f.name, v), false, [base, f, v](const std::string& dir) {
                         forge_field(dir + "/" + base, f.offset, f.width, v, offsetof(FileHeader, checksum));
                       }});
      }
    }
  }
  return out;
}

// Runs every case in one child; each prints START before and its verdict after.
void run_cases(const Pristine& p, const std::vector<Damage>& cases, const std::string& work) {
  testing::ChildResult child = testing::run_in_child([&] {
    int bad = 0;
    for (const Damage& d : cases) {
      fmt::print("START {}\n", d.name);
      std::fflush(stdout);
      testing::copy_dir(p.dir, work);
      d.apply(work);
      std::string why;
      Verdict v = probe(work, p.records, &why);
      bool ok = v == Verdict::corrupt || (v == Verdict::intact && !d.must_be_corrupt);
      if (!ok) {
        fmt::print("FAIL {}: {}\n", d.name, why);
        ++bad;
      }
    }
    fmt::print("DONE {} cases, {} failed\n", cases.size(), bad);
    return bad == 0 ? 0 : 1;
  }, 600);
  ASSERT_TRUE(child.exited) << "the child died; the last START line names the case:\n" << child.describe();
  EXPECT_EQ(child.exit_code, 0) << child.describe();
}

TEST(Corruption, EveryTruncationIsCorruptOrHarmlessNeverASignal) {
  ScratchDir d;
  Pristine p = make_pristine(d / "pristine");
  std::vector<Damage> cases = truncations(p);
  ASSERT_GT(cases.size(), 800u);
  run_cases(p, cases, d / "work");
}

// A neighbour id past the last node, at level 0 and in an upper level's block: searches never
// follow it (links are checked as they are read), and fsck names it, level by level.
TEST(Corruption, ForgedNeighbourIdsAtEveryLevelAreNeverFollowedAndFsckNamesThem) {
  ScratchDir d;
  // Enough records, and few links a level, for upper levels with links in them.
  constexpr uint64_t kMany = 400;
  Pristine p;
  p.dir = d / "pristine";
  p.records = testing::make_records(0, kMany, kDim);
  CreateOptions o;
  o.dim = kDim;
  o.index.m = 4;
  {
    auto s = std::move(Store::create(p.dir, o)).value();
    ASSERT_TRUE(s->add(p.records).ok());
    ASSERT_TRUE(s->close().ok());
  }
  std::string graph = testing::find_file(p.dir, "graph-0");
  std::string upper = testing::find_file(p.dir, "graph-upper-");
  std::string bytes = testing::read_file(graph);
  internal::GraphParams params;
  std::memcpy(&params, bytes.data() + internal::kParamsOffset, sizeof params);
  // A node with an upper level and a link there, and a level-0 link of node 0.
  std::optional<std::pair<uint64_t, internal::NodeHead>> high;
  for (uint64_t n = 0; n < kMany && !high; ++n) {
    internal::NodeHead h;
    std::memcpy(&h, bytes.data() + kDataStart + n * params.node_size, sizeof h);
    uint32_t count = 0;
    if (h.level >= 1) std::memcpy(&count, testing::read_file(upper).data() + kDataStart + uint64_t{h.upper_first} * params.upper_block_size, 4);
    if (count >= 1) high = {n, h};
  }
  ASSERT_TRUE(high) << "no node of " << kMany << " has a level-1 link";
  const uint32_t forged = 0x7f7f7f7f;
  struct Case {
    std::string file;
    uint64_t at;
    std::string says;
  } cases[] = {
      {graph, kDataStart + sizeof(internal::NodeHead), "node 0 level 0 links to node 2139062143, past the last"},
      {upper, kDataStart + uint64_t{high->second.upper_first} * params.upper_block_size + 4,
       fmt::format("node {} level 1 links to node 2139062143, past the last", high->first)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.says);
    std::string work = d / "work";
    std::filesystem::remove_all(work);
    std::filesystem::copy(p.dir, work, std::filesystem::copy_options::recursive);
    std::string file = work + "/" + std::filesystem::path(c.file).filename().string();
    std::string data = testing::read_file(file);
    std::memcpy(data.data() + c.at, &forged, 4);
    testing::write_file(file, data);
    FsckReport report = Store::fsck(work);
    ASSERT_FALSE(report.ok());
    EXPECT_NE(report.problems.at(0).find(c.says), std::string::npos) << report.problems.at(0);
    auto s = Store::open(work, {.read_only = true});
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    for (const Record& r : p.records) {
      auto hits = (*s)->search(r.vector, {.k = 5});
      ASSERT_TRUE(hits.ok()) << hits.status().to_string();
      for (const SearchHit& h : *hits) EXPECT_LT(h.id, kMany) << "a hit no record has";
    }
    s->reset();
    // With the dirty mark, as a crash mid-change leaves the graph, such links are what the writer
    // was adding: left to its rebuild, not reported.
    std::string g = work + "/" + std::filesystem::path(graph).filename().string();
    std::string gbytes = testing::read_file(g);
    const uint32_t dirty = 1;
    std::memcpy(gbytes.data() + internal::kDirtyOffset, &dirty, 4);
    testing::write_file(g, gbytes);
    FsckReport after_crash = Store::fsck(work);
    for (const std::string& problem : after_crash.problems) EXPECT_EQ(problem.find("past the last"), std::string::npos) << problem;
  }
}

TEST(Corruption, ForgedHeaderFieldsWithValidChecksumsAreCaughtByValidation) {
  ScratchDir d;
  Pristine p = make_pristine(d / "pristine");
  run_cases(p, forged_fields(p), d / "work");
}

TEST(Corruption, RandomBitFlipsNeverCrashOrReturnWrongData) {
  ScratchDir d;
  Pristine p = make_pristine(d / "pristine");
  std::vector<Damage> cases;
  std::mt19937_64 rng(20261121);
  for (const char* prefix : {"vectors-", "attrs-", "ids-", "graph-0", "graph-upper-", "MANIFEST"}) {
    std::string base = std::filesystem::path(testing::find_file(p.dir, prefix)).filename();
    uint64_t size = testing::file_size(p.dir + "/" + base);
    // Detection is required where every byte is covered by a check: the
    // manifest, the data files' header fields, the committed slots and attributes.
    uint64_t covered_end = base == "MANIFEST" ? size
                           : prefix == std::string("vectors-") ? kDataStart + kRecords * p.slot_size
                           : prefix == std::string("attrs-") ? kDataStart + p.attrs_bytes
                           : sizeof(FileHeader);
    for (int i = 0; i < 150; ++i) {
      uint64_t offset = rng() % size;
      int bit = static_cast<int>(rng() % 8);
      bool covered = offset < sizeof(FileHeader) || (offset >= kDataStart && offset < covered_end) || base == "MANIFEST";
      cases.push_back({fmt::format("flip bit {} of {} at {}", bit, base, offset), covered, [base, offset, bit](const std::string& dir) {
                         std::string bytes = testing::read_file(dir + "/" + base);
                         bytes[offset] = static_cast<char>(bytes[offset] ^ (1 << bit));
                         testing::write_file(dir + "/" + base, bytes);
                       }});
    }
  }
  run_cases(p, cases, d / "work");
}

TEST(Corruption, ZeroFilledSwappedForeignAndNonRegularFilesAreCorrupt) {
  ScratchDir d;
  Pristine p = make_pristine(d / "pristine");
  CreateOptions other;
  other.dim = 8;
  {
    auto s = std::move(Store::create(d / "other", other)).value();
    ASSERT_TRUE(s->add(testing::make_records(0, 10, 8)).ok());
    ASSERT_TRUE(s->close().ok());
  }
  std::vector<Damage> cases;
  for (const char* prefix : {"vectors-", "attrs-", "ids-", "graph-0", "graph-upper-", "MANIFEST"}) {
    std::string base = std::filesystem::path(testing::find_file(p.dir, prefix)).filename();
    std::string other_file = testing::find_file(d / "other", prefix);
    cases.push_back({"zero-fill " + base, true, [base](const std::string& dir) {
                       testing::write_file(dir + "/" + base, std::string(testing::file_size(dir + "/" + base), '\0'));
                     }});
    cases.push_back({"swap in another store's " + base, true, [base, other_file](const std::string& dir) {
                       testing::write_file(dir + "/" + base, testing::read_file(other_file));
                     }});
    cases.push_back({"foreign " + base, true, [base](const std::string& dir) {
                       std::string text;
                       for (int i = 0; i < 500; ++i) text += "this is not a vector store file\n";
                       testing::write_file(dir + "/" + base, text);
                     }});
    cases.push_back({"empty " + base, true, [base](const std::string& dir) { testing::write_file(dir + "/" + base, ""); }});
    cases.push_back({"directory instead of " + base, true, [base](const std::string& dir) {
                       std::filesystem::remove(dir + "/" + base);
                       std::filesystem::create_directory(dir + "/" + base);
                     }});
    cases.push_back({"FIFO instead of " + base, true, [base](const std::string& dir) {
                       std::filesystem::remove(dir + "/" + base);
                       ASSERT_EQ(::mkfifo((dir + "/" + base).c_str(), 0644), 0);
                     }});
    if (base != "MANIFEST")
      cases.push_back({"missing " + base, true, [base](const std::string& dir) { std::filesystem::remove(dir + "/" + base); }});
  }
  run_cases(p, cases, d / "work");
  // Without MANIFEST the directory is not a store at all.
  testing::copy_dir(p.dir, d / "work");
  std::filesystem::remove(d / "work/MANIFEST");
  EXPECT_EQ(Store::open(d / "work").status().code(), Code::not_found);
}

}  // namespace
}  // namespace vstore
