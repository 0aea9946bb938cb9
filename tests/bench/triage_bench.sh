#!/usr/bin/env bash
# How long `crashgate triage` takes on each kind of input, medians of ROUNDS
# (default 3), every figure from this one run:
#   core    a core of 8 threads x 50 frames (crashers/many_threads), triaged,
#           beside `crashgate exec` of the same program (which also runs it)
#   store   a ~100 MB LMDB env (50,000 records of 256 floats), every read the
#           driver has, each on its own copy
#   promote a 3,000-record LMDB env whose meta pages say a page size of 0,
#           minimized by --promote (into a scratch corpus, never the repo's)
# Usage: tests/bench/triage_bench.sh [BUILD_DIR (default build/release)] [ROUNDS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build=${1:-build/release}
rounds=${2:-3}
crashgate=$build/bin/crashgate
crasher=$build/crashers/many_threads
for f in "$crashgate" "$crasher" "$build/bin/crashgate-driver-lmdb"; do
  [ -x "$f" ] || { echo "triage_bench: $f is missing; build it with ci/build ${build##*/}" >&2; exit 2; }
done
crashgate=$(realpath "$crashgate"); crasher=$(realpath "$crasher")
known=$(realpath reports/known-issues.toml)
scratch=$(mktemp -d /tmp/crashgate-triage-bench-XXXXXX)
trap 'rm -rf "$scratch"' EXIT

# Seconds (3 decimals) the command took; its output goes to $scratch/last.log.
seconds() {
  local start end
  start=$(date +%s%N)
  "$@" >"$scratch/last.log" 2>&1 || true
  end=$(date +%s%N)
  awk -v ns=$((end - start)) 'BEGIN {printf "%.3f", ns / 1e9}'
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

# An LMDB env of N records of DIM floats, made by the driver itself.
make_env() {
  local dim=$1 vectors=$2 out=$3
  cat >"$scratch/make.toml" <<EOF
name = "triage-bench-store"
targets = ["lmdb"]
builds = ["${build##*/}"]
[[step]]
op = "create"
dim = $dim
vectors = $vectors
[[step]]
op = "sync"
[expect]
outcome = "ok"
EOF
  "$crashgate" run "$scratch/make.toml" --build-root "$(dirname "$(realpath "$build")")" --keep-work-dirs \
    --out "$scratch/make-runs" -j 1 >/dev/null
  mv "$scratch/make-runs/latest/cells/0/attempt-1/store" "$out"
  rm -rf "$scratch/make-runs"
}

echo "triage_bench: $crashgate, $rounds rounds each"

# -- a core of 8 threads x 50 frames ------------------------------------------
mkdir -p "$scratch/core"
{ bash -c 'cd "$1" && ulimit -c unlimited && exec "$2"' core "$scratch/core" "$crasher"; } >/dev/null 2>&1 || true
core=$(ls "$scratch"/core/core* 2>/dev/null | head -1 || true)
if [ -z "$core" ]; then
  echo "core:    no core was written (core_pattern: $(cat /proc/sys/kernel/core_pattern)); skipped"
else
  triage=() live=()
  for _ in $(seq "$rounds"); do
    triage+=("$(seconds "$crashgate" triage "$core" --exe "$crasher" --known-issues "$known")")
    live+=("$(seconds "$crashgate" exec -- "$crasher")")
  done
  grep -q "crash state: signal SIGSEGV" "$scratch/last.log" || { echo "triage_bench: exec did not see the SIGSEGV" >&2; exit 1; }
  echo "core:    triage of a core of 8 threads x 50 frames $(median "${triage[@]}") s; crashgate exec of the same crash $(median "${live[@]}") s"
fi

# -- a ~100 MB data directory ---------------------------------------------------
make_env 256 50000 "$scratch/big"
size=$(du -sb "$scratch/big" | cut -f1)
store=()
for _ in $(seq "$rounds"); do
  store+=("$(seconds "$crashgate" triage "$scratch/big" --build "${build##*/}" --known-issues "$known" -j 2)")
done
grep -q "still works: open" "$scratch/last.log" || { echo "triage_bench: the big env did not read" >&2; cat "$scratch/last.log" >&2; exit 1; }
reads=$(grep -c '^    [a-z]* *works' "$scratch/last.log" || true)
echo "store:   triage of a $((size / 1000000)) MB LMDB env, $reads reads, -j 2: $(median "${store[@]}") s"

# -- minimizing a 3,000-record env whose page size is 0 --------------------------
make_env 8 3000 "$scratch/small"
before=$(find "$scratch/small" -type f -printf '%s\n' | awk '{n += $1} END {print n + 0}')
# mm_psize of both meta pages, where the driver's layout table says it is.
offsets=$("$build/bin/crashgate-driver-lmdb" --list layout 2>/dev/null |
  /usr/bin/python3 -c 'import json,sys
for line in sys.stdin:
    row = json.loads(line)
    for f in row.get("fields", []):
        if "mm_psize" in f["name"] and row.get("file") == "data": print(f["offset"], f["width"])')
[ "$(echo "$offsets" | wc -l)" -eq 2 ] || { echo "triage_bench: the driver's layout table has no two mm_psize fields" >&2; exit 1; }
while read -r offset width; do
  dd if=/dev/zero of="$scratch/small/data.mdb" bs=1 seek="$offset" count="$width" conv=notrunc status=none
done <<<"$offsets"
promote=()
for i in $(seq "$rounds"); do
  : >"$scratch/known-$i.toml"  # no known issues: LMDB-1 names this crash, and a known crash is not promoted
  promote+=("$(seconds "$crashgate" triage "$scratch/small" --build "${build##*/}" --known-issues "$scratch/known-$i.toml" \
    --promote --id "BENCH-$i" --corpus-root "$scratch/corpus-$i" --scenario-dir "$scratch/scenarios-$i" -j 2)")
done
minimized=$(find "$scratch/corpus-$rounds" -type f -printf '%s\n' 2>/dev/null | awk '{n += $1} END {print n + 0}')
said=$(grep -o 'minimized to [^)]*)' "$scratch/last.log" | head -1 || true)
[ -n "$said" ] || { echo "triage_bench: --promote did not minimize" >&2; cat "$scratch/last.log" >&2; exit 1; }
echo "promote: a $before-byte 3,000-record env (page size 0) $said, $minimized bytes stored: $(median "${promote[@]}") s"
