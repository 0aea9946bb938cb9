// matrix.json (schema `crashgate.matrix/1`, written by `crashgate matrix`):
// whether the catalog caught each regression switch. The gate reads only
// each regression's id and status; any status but "caught" is an escape.
#pragma once

#include "crashgate/matrix_file.h"
#include <optional>
#include <string>
#include <vector>

namespace crashgate {


struct RegressionStatus {
  std::string id;
  std::string status;   // "caught", "escaped", "wrong-kind", ...
  std::string detail;   // what the file says beyond id and status, one line ("" when nothing)
  bool caught() const { return status == "caught"; }
};

struct RegressionMatrix {
  std::string verdict;  // "pass" or "fail", as the file says
  std::vector<RegressionStatus> regressions;
};

// Reads and checks a matrix.json; `error` names the file and the field.
std::optional<RegressionMatrix> load_regression_matrix(const std::string& path, std::string& error);

}  // namespace crashgate
