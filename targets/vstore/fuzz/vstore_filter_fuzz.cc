// vstore_filter: parse, print, reparse, evaluate. The printed form must parse
// and print to itself, and both trees must agree on every probe record; no
// input may crash, however deep or long.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "vstore/filter.h"
#include "vstore/record.h"

namespace {

const std::vector<vstore::Record>& probes() {
  static const std::vector<vstore::Record> records = [] {
    std::vector<vstore::Record> out;
    const char* paths[] = {"a", "b", "src/x.py", "", "it's", "a b", "\\", "NOT"};
    for (int i = 0; i < 16; ++i) {
      vstore::Record r;
      r.id = static_cast<uint64_t>(i);
      if (i % 4 != 3) r.attributes.push_back({"file_path", paths[i % 8]});
      if (i % 2) r.attributes.push_back({"lang", i % 3 ? "py" : "rs"});
      if (i % 5 == 0) r.attributes.push_back({"x", paths[(i + 3) % 8]});
      out.push_back(std::move(r));
    }
    return out;
  }();
  return records;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vstore::FilterLimits limits;
  limits.max_input_bytes = 1 << 16;
  limits.max_depth = 5000;
  limits.max_clauses = 20000;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  vstore::Result<vstore::Filter> f = vstore::Filter::parse(text, limits);
  if (!f.ok()) {
    if (f.status().code() != vstore::Code::invalid_argument && f.status().code() != vstore::Code::resource_exhausted) std::abort();
    return 0;
  }
  std::string printed = f->to_string();
  vstore::Result<vstore::Filter> again = vstore::Filter::parse(printed);
  if (!again.ok()) std::abort();               // the canonical text must parse
  if (again->to_string() != printed) std::abort();  // and print to itself
  for (const vstore::Record& r : probes())
    if (f->matches(r) != again->matches(r)) std::abort();  // both trees mean the same
  return 0;
}
