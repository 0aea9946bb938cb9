#!/bin/bash
# Runs ci/oss-fuzz/build.sh as OSS-Fuzz would, with its variables set to local
# values, then checks what landed in $OUT: for every corpora/<target>/, the
# binary, <target>_seed_corpus.zip, and the .dict/.options the checkout has;
# and that each binary runs its unzipped seed corpus cleanly.
#   ci/oss-fuzz/check-build.sh [SCRATCH_DIR]     (slow: a full build; ctest -L oss-fuzz)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
scratch=${1:-$(mktemp -d /tmp/crashgate-oss-fuzz.XXXXXX)}
mkdir -p "$scratch/out" "$scratch/work"
export CC=clang CXX=clang++
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,fuzzer-no-link"
export CXXFLAGS="$CFLAGS"
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
export OUT=$scratch/out WORK=$scratch/work SRC=$(dirname "$repo")
echo "== build.sh (OUT=$OUT WORK=$WORK SRC=$SRC)"
nice "$repo/ci/oss-fuzz/build.sh" > "$scratch/build.log" 2>&1 || { tail -40 "$scratch/build.log"; echo "FAIL: build.sh failed (log: $scratch/build.log)"; exit 1; }

fail=0
for d in "$repo"/corpora/*/; do
  [ -d "$d/seed" ] || continue
  t=$(basename "$d")
  for f in "$t" "${t}_seed_corpus.zip"; do
    [ -s "$OUT/$f" ] || { echo "FAIL: $OUT/$f is missing"; fail=1; }
  done
  [ -x "$OUT/$t" ] || { echo "FAIL: $OUT/$t is not executable"; fail=1; continue; }
  for ext in dict options; do
    if [ -f "$d/$t.$ext" ] && ! cmp -s "$d/$t.$ext" "$OUT/$t.$ext"; then echo "FAIL: $OUT/$t.$ext is not corpora/$t/$t.$ext"; fail=1; fi
  done
  seeds=$scratch/seeds/$t
  rm -rf "$seeds" && mkdir -p "$seeds"
  unzip -q "$OUT/${t}_seed_corpus.zip" -d "$seeds"
  want=$(find "$d/seed" -type f | wc -l)
  got=$(find "$seeds" -type f | wc -l)
  [ "$want" = "$got" ] || { echo "FAIL: ${t}_seed_corpus.zip holds $got files, corpora/$t/seed has $want"; fail=1; }
  if (cd "$scratch" && "$OUT/$t" -runs=0 "$seeds" > "$scratch/$t.run.log" 2>&1); then
    echo "ok: $t runs its $got seeds"
  else
    tail -30 "$scratch/$t.run.log"; echo "FAIL: $OUT/$t -runs=0 on its seeds failed"; fail=1
  fi
done
[ $fail = 0 ] && echo "PASS: OSS-Fuzz build contract ($OUT)"
exit $fail
