#include "harness/support/schema_docs.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "harness/support/crashers.h"

namespace crashgate::testing {

std::string report_doc(const std::string& name) {
  std::ifstream in(source_dir() + "/reports/" + name);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << "reports/" << name << " is missing";
  return text.str();
}

std::set<std::string> documented_fields(const std::string& doc, const std::string& heading) {
  std::set<std::string> fields;
  auto start = doc.find("\n## " + heading + "\n");
  EXPECT_NE(start, std::string::npos) << "no section '## " << heading << "'";
  if (start == std::string::npos) return fields;
  auto end = doc.find("\n## ", start + 1);
  std::istringstream section(doc.substr(start, end - start));
  for (std::string line; std::getline(section, line);) {
    if (line.rfind("| `", 0) != 0) continue;
    fields.insert(line.substr(3, line.find('`', 3) - 3));
  }
  return fields;
}

}  // namespace crashgate::testing
