// Where `vstore add` gets its records: seeded random vectors or an .fvecs file.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "vstore/record.h"
#include "vstore/status.h"

namespace vstore::tool {

// Calls sink(batch) with up to batch_size records at a time; ids run from
// first_id; every record gets file_path = src/file_<id>.py.
using BatchSink = std::function<Status(std::vector<Record>&)>;

Status generate_random(uint32_t dim, uint64_t n, uint64_t seed, uint64_t first_id, size_t batch_size, const BatchSink& sink);
// .fvecs: each vector is an int32 dimension then that many float32 values.
Status read_fvecs(const std::string& path, uint32_t dim, uint64_t first_id, size_t batch_size, const BatchSink& sink);

}  // namespace vstore::tool
