// Finds the mutants of one C++ source file: parses it with libclang (the
// compiler's own parser, so a `<` of a template is never taken for a
// comparison) and walks every function defined in it, applying each rule of
// mutation_rules.h where it fits. Code under a regression switch
// (`if (regression_enabled(...))`) is left alone: it is a bug on purpose.
#pragma once

#include <string>
#include <vector>

#include "crashgate/checked.h"
#include "crashgate/mutant.h"

namespace crashgate {

struct FinderOptions {
  std::string path;                     // the file to parse
  std::string display_path;             // what Mutant::file says (repository-relative)
  std::vector<std::string> args;        // compiler arguments: -std=c++20, -I..., -D...
};

// Every mutant of the file, in source order; an error when libclang cannot
// parse it (the message holds the first diagnostics).
Checked<std::vector<Mutant>> find_mutants(const FinderOptions& options);

}  // namespace crashgate
