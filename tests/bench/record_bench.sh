#!/usr/bin/env bash
# What `crashgate record` costs, and how fast `crashgate crash-states` builds
# states: each engine's driver runs one cell (create, add, remove, sync,
# reopen, verify) ROUNDS times unrecorded and ROUNDS times recorded, the runs
# interleaved; the medians, their ratio, the recorded calls and traced stops
# per second, and then the crash states of the last recording (how many, in
# how long). Engines: vstore (writes through shared mappings: its graph), LMDB,
# FAISS and hnswlib when their drivers were built, and hnswlib through the
# Python driver kit (pyhnswlib: a Python interpreter traced).
# Usage: tests/bench/record_bench.sh [ROUNDS (default 5)]   (release build first: ci/build release)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rounds=${1:-5}
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "record_bench: ROUNDS must be a positive integer, not '$rounds'" >&2; exit 2; }
bin=build/release/bin
[[ -x $bin/crashgate ]] || { echo "record_bench: $bin/crashgate is missing: build the release preset first (ci/build release)" >&2; exit 2; }
work=$(mktemp -d /tmp/crashgate-record-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
now() { date +%s.%N; }

printf '%-8s %12s %12s %7s %8s %10s %12s %10s %14s\n' engine "plain s" "recorded s" ratio calls "calls/s" "stops/s" states "built/min"
for engine in vstore lmdb faiss hnswlib pyhnswlib; do
  [[ -x $bin/crashgate-driver-$engine ]] || { printf '%-8s (no driver built)\n' "$engine"; continue; }
  extra=""
  [[ $engine == faiss ]] && extra='metric = "hnsw-l2"'
  cat >"$work/$engine.toml" <<EOF
name = "record-bench"
targets = ["$engine"]
[[step]]
op = "create"
dim = 32
vectors = 2000
$extra
[[step]]
op = "add"
vectors = 500
[[step]]
op = "remove"
count = 300
[[step]]
op = "sync"
[[step]]
op = "reopen"
[[step]]
op = "verify"
[expect]
outcome = "ok|error"
EOF
  # One run through crashgate gives the cell file the driver reads; the bench runs the driver on it directly.
  "$bin/crashgate" run "$work/$engine.toml" --build release --out "$work/run-$engine" >/dev/null 2>&1 || true
  cell=$(ls "$work/run-$engine"/latest/cells/*/attempt-1/cell.json 2>/dev/null | head -1 || true)
  [[ -n $cell ]] || { printf '%-8s (the cell did not run: see %s)\n' "$engine" "$work/run-$engine"; continue; }
  store=$work/$engine-store
  jq --arg w "$store" '.work_dir = $w' "$cell" >"$work/$engine-cell.json"
  plain=() recorded=()
  for ((r = 1; r <= rounds; r++)); do
    rm -rf "$store" && mkdir -p "$store"
    t0=$(now); "$bin/crashgate-driver-$engine" --cell "$work/$engine-cell.json" 3>/dev/null >/dev/null 2>&1 || true; t1=$(now)
    plain+=("$(echo "$t1 - $t0" | bc -l)")
    rm -rf "$store" "$work/rec-$engine" && mkdir -p "$store"
    t0=$(now)
    "$bin/crashgate" record --dir "$store" --out "$work/rec-$engine" -- "$bin/crashgate-driver-$engine" --cell "$work/$engine-cell.json" \
      3>/dev/null >/dev/null 2>"$work/rec-$engine.log" || { echo "record_bench: recording $engine failed: $(cat "$work/rec-$engine.log")" >&2; exit 1; }
    t1=$(now)
    recorded+=("$(echo "$t1 - $t0" | bc -l)")
  done
  p=$(printf '%s\n' "${plain[@]}" | median)
  q=$(printf '%s\n' "${recorded[@]}" | median)
  calls=$(jq .calls "$work/rec-$engine/record.json")
  stops=$(jq .stops "$work/rec-$engine/record.json")
  t0=$(now)
  states=$("$bin/crashgate" crash-states "$work/rec-$engine" 2>&1 | sed -n 's/^crashgate crash-states: \([0-9]*\) states.*/\1/p')
  t1=$(now)
  printf '%-8s %12.3f %12.3f %7.2f %8d %10.0f %12.0f %10d %14.0f\n' "$engine" "$p" "$q" "$(echo "$q / $p" | bc -l)" "$calls" \
    "$(echo "$calls / $q" | bc -l)" "$(echo "$stops / $q" | bc -l)" "${states:-0}" "$(echo "${states:-0} * 60 / ($t1 - $t0)" | bc -l)"
done
echo "medians of $rounds interleaved runs each; calls/s and stops/s over the recorded run's wall time; built/min: states crash-states lists from the last recording per minute (built, not yet checked: recovery on each state is not built)"
