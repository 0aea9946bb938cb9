#include "store_files.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "index/graph_format.h"
#include "storage/format.h"
#include "storage/manifest.h"

namespace crashgate::vstore_driver {

namespace fs = std::filesystem;
using vstore::Result;
using vstore::Status;

Result<std::string> store_file(const std::string& store_dir, const std::string& logical) {
  if (logical == "manifest" || logical == "MANIFEST") return store_dir + "/MANIFEST";
  std::string prefix = logical == "index" ? "graph" : logical == "upper" ? "graph-upper" : logical;
  if (prefix != "vectors" && prefix != "attrs" && prefix != "ids" && prefix != "graph" && prefix != "graph-upper")
    return Status::Invalid(fmt::format("unknown store file '{}' (vectors, attrs, ids, graph/index, upper, manifest)", logical));
  // The newest generation's file: compaction leaves one generation behind it.
  std::string best;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(store_dir, ec)) {
    std::string name = e.path().filename().string();
    // PREFIX-<generation digits>.bin: "graph-" must not pick "graph-upper-000001.bin".
    if (name.rfind(prefix + "-", 0) != 0 || !name.ends_with(".bin")) continue;
    std::string generation = name.substr(prefix.size() + 1, name.size() - prefix.size() - 5);
    if (generation.empty() || !std::all_of(generation.begin(), generation.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    if (name > best) best = name;
  }
  if (ec) return Status::NotFound(fmt::format("{}: {}", store_dir, ec.message()));
  if (best.empty()) return Status::NotFound(fmt::format("{}: no {} file", store_dir, prefix));
  return store_dir + "/" + best;
}

namespace {

struct FileFacts {
  uint64_t size = 0;
  uint64_t header = 0;
  uint64_t slot_size = 0;
  uint64_t committed = 0;
};

Result<FileFacts> facts_for(const std::string& store_dir, const std::string& logical, const std::string& path) {
  FileFacts f;
  std::error_code ec;
  f.size = fs::file_size(path, ec);
  if (ec) return Status::NotFound(fmt::format("{}: {}", path, ec.message()));
  bool manifest = logical == "manifest" || logical == "MANIFEST";
  f.header = manifest ? sizeof(vstore::internal::ManifestHeader) : vstore::internal::kDataStart;
  f.committed = f.size;
  // The slot size and committed ends come from MANIFEST when it is readable.
  Result<vstore::internal::Manifest> m = vstore::internal::read_manifest(vstore::default_env(), store_dir);
  if (m.ok()) {
    f.slot_size = m->slot_size;
    // A graph's "slots" are its node records: node_size from its own params.
    if (logical == "graph" || logical == "index") {
      f.slot_size = 0;
      std::ifstream in(path, std::ios::binary);
      vstore::internal::GraphParams params{};
      in.seekg(static_cast<std::streamoff>(vstore::internal::kParamsOffset));
      if (in.read(reinterpret_cast<char*>(&params), sizeof params)) f.slot_size = params.node_size;
    }
    if (logical == "vectors") f.committed = vstore::internal::kDataStart + m->slot_count * m->slot_size;
    if (logical == "attrs") f.committed = vstore::internal::kDataStart + m->attrs_bytes;
  }
  return f;
}

bool parse_number(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<uint64_t> evaluate_offset(const std::string& store_dir, const std::string& logical, const std::string& expr) {
  VSTORE_ASSIGN_OR_RETURN(std::string path, store_file(store_dir, logical));
  VSTORE_ASSIGN_OR_RETURN(FileFacts f, facts_for(store_dir, logical, path));
  // Split into signed terms: "slot(17)+5" -> +slot(17), +5.
  std::string s;
  for (char c : expr)
    if (!std::isspace(static_cast<unsigned char>(c))) s += c;
  if (s.empty()) return Status::Invalid("empty offset expression");
  __int128 total = 0;
  size_t pos = 0;
  while (pos < s.size()) {
    int sign = 1;
    if (s[pos] == '+' || s[pos] == '-') {
      sign = s[pos] == '-' ? -1 : 1;
      ++pos;
    }
    size_t end = pos;
    int depth = 0;
    while (end < s.size() && (depth > 0 || (s[end] != '+' && s[end] != '-'))) {
      if (s[end] == '(') ++depth;
      if (s[end] == ')') --depth;
      ++end;
    }
    std::string term = s.substr(pos, end - pos);
    uint64_t v = 0;
    if (parse_number(term, &v)) {
    } else if (term == "header") {
      v = f.header;
    } else if (term == "end") {
      v = f.size;
    } else if (term == "committed") {
      v = f.committed;
    } else if (term.rfind("slot(", 0) == 0 && term.back() == ')') {
      uint64_t n = 0;
      if (!parse_number(term.substr(5, term.size() - 6), &n) || f.slot_size == 0)
        return Status::Invalid(fmt::format("offset '{}': cannot evaluate '{}' (slot(N) needs a readable MANIFEST and a number)", expr, term));
      v = vstore::internal::kDataStart + n * f.slot_size;
    } else {
      return Status::Invalid(fmt::format("offset '{}': unknown term '{}' (numbers, header, slot(N), committed, end)", expr, term));
    }
    total += sign * static_cast<__int128>(v);
    pos = end;
  }
  if (total < 0) return Status::Invalid(fmt::format("offset '{}' is negative for {}", expr, path));
  return static_cast<uint64_t>(total);
}

}  // namespace crashgate::vstore_driver
