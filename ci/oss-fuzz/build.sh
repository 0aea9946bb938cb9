#!/bin/bash -eu
# Builds crashgate's fuzz targets under OSS-Fuzz's build contract, for OSS-Fuzz,
# ClusterFuzz and ClusterFuzzLite alike (.clusterfuzzlite/build.sh runs this).
#
# In:  $CC $CXX $CFLAGS $CXXFLAGS  compilers and their flags (sanitizer and
#                                  coverage instrumentation included)
#      $LIB_FUZZING_ENGINE         what to link a fuzz target with (-fsanitize=fuzzer)
#      $SRC                        where the sources are checked out ($SRC/crashgate,
#                                  unless this script runs from inside a checkout)
#      $WORK                       scratch space for the build
# Out: $OUT/<target>               one libFuzzer binary per folder of corpora/
#      $OUT/<target>_seed_corpus.zip, $OUT/<target>.dict, $OUT/<target>.options
#
# The engine is built hardened (no regression switches, no failpoints): what
# ships is what is fuzzed. Targets: every corpora/<target>/ with a seed/ folder.
: "${CC:?} ${CXX:?} ${CFLAGS?} ${CXXFLAGS?} ${LIB_FUZZING_ENGINE:?} ${OUT:?} ${SRC:?} ${WORK:?}"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -f "$here/../../CMakeLists.txt" ] && [ -d "$here/../../corpora" ]; then
  repo=$(cd "$here/../.." && pwd)
else
  repo=${CRASHGATE_SRC:-$SRC/crashgate}
fi
[ -d "$repo/corpora" ] || { echo "build.sh: no crashgate checkout at $repo (set CRASHGATE_SRC)" >&2; exit 1; }

# The C++ libraries crashgate links (fmt, ...) come from the distribution and
# are built against libstdc++; OSS-Fuzz's default -stdlib=libc++ cannot link
# with them, so it is dropped (the sanitizers do not need it).
CXXFLAGS=$(echo "$CXXFLAGS" | sed 's/-stdlib=libc++//g')
export CC CXX CFLAGS CXXFLAGS

targets=()
for d in "$repo"/corpora/*/; do
  [ -d "$d/seed" ] && targets+=("$(basename "$d")")
done

build=$WORK/crashgate-build
cmake -S "$repo" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE= \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCRASHGATE_SANITIZE= \
  -DCRASHGATE_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
  -DCRASHGATE_BUILD_TESTS=OFF -DCRASHGATE_BUILD_BENCH=OFF -DCRASHGATE_WERROR=OFF \
  -DVSTORE_REGRESSIONS=OFF -DVSTORE_FAILPOINTS=OFF
cmake --build "$build" --target "${targets[@]}"

for t in "${targets[@]}"; do
  cp "$build/fuzz/$t" "$OUT/$t"
  (cd "$repo/corpora/$t/seed" && rm -f "$OUT/${t}_seed_corpus.zip" && zip -q -X -r "$OUT/${t}_seed_corpus.zip" .)
  [ -f "$repo/corpora/$t/$t.dict" ] && cp "$repo/corpora/$t/$t.dict" "$OUT/"
  [ -f "$repo/corpora/$t/$t.options" ] && cp "$repo/corpora/$t/$t.options" "$OUT/"
done
echo "build.sh: ${targets[*]} -> $OUT"
