// The `import` op's engine-independent half: a directory of an engine's files
// (a user's damaged data directory, a minimized one) becomes the cell's store.
// The driver then sets what its `create` sets (dimension, metric, the store
// counted as made) from the files, leaves the store closed, and its next store
// op opens it as it opens one it made: damage shows in that step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crashgate/driver_kit.h"

namespace crashgate::kit {

// Copies every regular file of `from` (symlinks to regular files are followed;
// subdirectories, fifos and devices are left out) into `store_dir`, which is
// emptied first (made when missing). `from` is opened O_RDONLY and never
// written; holes stay holes, so a sparse store is not written out. Errors:
// not-found / invalid-argument naming `from` when it is missing or not a
// directory, invalid-argument when it is the store directory or lies in it
// (emptying the store would change it), io when a file cannot be read or
// written.
StepResult import_store_files(const std::string& from, const std::string& store_dir);

// What the files say of a key that `create` takes (dim, metric) and where
// they say it ("index.bin's data_size_"), or nothing when they cannot say (a
// file too short or missing: the open will judge it). The step's own key
// when the files cannot say, else `fallback`; a step's key that disagrees
// with the files is an invalid-argument error naming both.
template <class T>
struct FromFiles {
  std::optional<T> value;
  std::string where;
};
StepResult settle_import_key(const Args& step, std::string_view key, const FromFiles<std::uint64_t>& files,
                             std::uint64_t fallback, std::uint64_t& out);
StepResult settle_import_key(const Args& step, std::string_view key, const FromFiles<std::string>& files,
                             std::string fallback, std::string& out);

}  // namespace crashgate::kit
