// The engine's tables as the driver lists them: `--list failpoints|regressions`
// as JSON lines, so that scenarios can enumerate failpoint sites
// (`[params] site = { from = "failpoints", ... }`) and `crashgate matrix` knows
// each regression switch and how it shows; and the file layout (`--list
// layout`, from vstore/testing.h) that offset expressions are evaluated against.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "session.h"
#include "vstore/failpoint.h"
#include "vstore/regression.h"
#include "vstore/testing.h"

namespace crashgate::vstore_driver {

int print_failpoints() {
  using nlohmann::json;
  size_t n = 0;
  const vstore::FailSiteInfo* t = vstore::failpoint_table(&n);
  for (size_t i = 0; i < n; ++i) {
    json line = {{"name", t[i].name},
                 {"syscall", t[i].syscall},
                 {"write_path", t[i].write_path},
                 {"what", t[i].what},
                 {"compiled_in", vstore::failpoints_compiled_in()}};
    fmt::print("{}\n", line.dump());
  }
  return 0;
}

int print_regressions() {
  using nlohmann::json;
  size_t n = 0;
  const vstore::RegressionInfo* t = vstore::regression_table(&n);
  for (size_t i = 0; i < n; ++i) {
    json line = {{"id", t[i].id},
                 {"field_report", t[i].field_report},
                 {"what", t[i].what},
                 {"shows_as", t[i].shows_as},
                 {"compiled_in", vstore::regressions_compiled_in()}};
    fmt::print("{}\n", line.dump());
  }
  return 0;
}

std::vector<kit::LayoutFile> store_layout() {
  std::vector<kit::LayoutFile> out;
  for (const vstore::testing::FileLayout& l : vstore::testing::file_layouts()) {
    kit::LayoutFile f;
    f.file = l.file;
    f.pattern = l.pattern;
    f.header_size = l.header_size;
    f.meaning = l.meaning;
    for (const auto& field : l.fields) f.fields.push_back({field.name, field.offset, field.width, field.meaning});
    f.slot_base = l.slot_base;
    f.slot_size_field = l.slot_size_field;
    out.push_back(std::move(f));
  }
  return out;
}

const kit::LayoutFile* layout_of(std::string_view file) {
  static const std::vector<kit::LayoutFile> layout = store_layout();
  for (const auto& f : layout)
    if (f.file == file) return &f;
  return nullptr;
}

}  // namespace crashgate::vstore_driver
