// What a changed file can affect, by where it is in the repository: data,
// first match wins, each row with a path it takes and one it must not
// (tests/harness/change_selection_test.cc holds every row to both).
#include <vector>

#include "crashgate/change_selection.h"

namespace crashgate {

const std::vector<ChangeRule>& change_rules() {
  using R = ChangeReach;
  static const std::vector<ChangeRule> rules = {
      // Words about the code never change what a cell does.
      {"**/*.md", R::nothing, "documentation", "targets/lmdb/README.md", "targets/lmdb/driver/md.cc"},
      {"docs/**", R::nothing, "documentation", "docs/driver-protocol.txt", "harness/docs.cc"},
      // The harness runs every cell; its build files and CI's setup build every driver.
      {"harness/**", R::everything, "the harness runs every cell", "harness/src/run/run_matrix.cc", "harnesses/x.cc"},
      {"**/CMakeLists.txt", R::everything, "a build file builds every driver", "targets/lmdb/driver/CMakeLists.txt",
       "targets/lmdb/driver/CMakeLists.txt.orig"},
      {"CMakePresets.json", R::everything, "the build presets", "CMakePresets.json", "tests/CMakePresets.json"},
      {"cmake/**", R::everything, "the toolchain", "cmake/Toolchain.cmake", "cmakefiles/Toolchain.cmake"},
      {"ci/setup", R::everything, "what a fresh machine installs", "ci/setup", "ci/setup.d/x"},
      {"ci/packages.txt", R::everything, "what a fresh machine installs", "ci/packages.txt", "ci/packages.txt.bak"},
      {"ci/build", R::everything, "how every driver is built", "ci/build", "ci/builder"},
      {"ci/gate", R::everything, "the gate itself", "ci/gate", "ci/gates"},
      // A scenario file: its own cells.
      {"scenarios/**/*.toml", R::scenario, "a scenario file", "scenarios/corrupt-files/lmdb-header-fields.toml",
       "scenarios/README.toml.txt"},
      {"targets/*/scenarios/**/*.toml", R::scenario, "a scenario file", "targets/hnswlib/scenarios/races.toml",
       "targets/hnswlib/scenarios.toml"},
      // An engine's driver, then the rest of its code.
      {"targets/*/driver/**", R::driver, "the engine's driver", "targets/lmdb/driver/fsck.cc", "targets/lmdb/drivers.cc"},
      {"targets/*/fuzz/**", R::nothing, "fuzz targets (the fuzz farm runs them, not the gate)",
       "targets/vstore/fuzz/vstore_open.cc", "targets/vstore/src/fuzz.cc"},
      {"targets/*/**", R::engine_code, "the engine's code", "targets/vstore/src/storage/manifest.cc", "targets.cc"},
      // What the gate does not run, or reads afresh every time.
      {"tests/**", R::nothing, "tests (ci/test runs them, not the gate)", "tests/harness/run_test.cc", "testsuite/x.cc"},
      {"reports/**", R::nothing, "known issues and baseline (the gate applies them afresh every time)",
       "reports/known-issues.toml", "reportsx/known-issues.toml"},
      {"corpora/**", R::nothing, "fuzz corpora", "corpora/vstore_open/seed-1", "corpus.cc"},
      {"examples/**", R::nothing, "examples", "examples/driver-kit/python/my_engine.py", "example.cc"},
      {".ci/**", R::nothing, "CI's entry point", ".ci/run", "ci/run"},
      {"ci/*/**", R::nothing, "other CI systems' files", "ci/github/cflite_pr.yml", "ci/gate"},
      {"ci/*", R::nothing, "CI scripts the gate does not run", "ci/nightly", "ci/github/x.yml"},
      {".clusterfuzzlite/**", R::nothing, "ClusterFuzzLite's build (fuzzing, not the gate)", ".clusterfuzzlite/build.sh",
       "clusterfuzzlite.cc"},
      {".git*", R::nothing, "git's own files", ".gitignore", "harness/.gitignore.cc"},
  };
  return rules;
}

}  // namespace crashgate
