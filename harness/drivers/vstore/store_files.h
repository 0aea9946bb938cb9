// Where a step's `file` lives in a vstore directory and what its offset
// expressions mean: "0", "header", "header-1", "slot(17)+5", "committed",
// "end-1", or a plain number, with any number of +N / -N terms.
#pragma once

#include <cstdint>
#include <string>

#include "vstore/status.h"

namespace crashgate::vstore_driver {

// The current file for a logical name: vectors, attrs, ids, graph (or index),
// manifest. not-found when the store has no such file.
vstore::Result<std::string> store_file(const std::string& store_dir, const std::string& logical);

// Evaluates an offset expression against that file. invalid-argument for an
// expression it cannot read, naming the part it could not.
vstore::Result<uint64_t> evaluate_offset(const std::string& store_dir, const std::string& logical, const std::string& expr);

}  // namespace crashgate::vstore_driver
