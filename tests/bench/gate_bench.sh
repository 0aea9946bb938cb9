#!/usr/bin/env bash
# How long the PR gate (`ci/gate --changed HEAD`) takes after each kind of
# change, and how many cells it selects: medians of ROUNDS per case, every
# figure from this one run. Each round makes a fresh one-line edit, runs the
# gate, and takes the edit back. In the engine the line is added at the top of
# one function's body, as a fix would be; it declares a static volatile int
# holding the round's number, so the binaries really change (a comment would
# leave them byte for byte the same, and ci/gate would rightly gate its last
# run again). In the harness it is a function with external linkage, and in a
# scenario a comment, which changes the file the run reads:
#   storage   targets/vstore/src/storage/store_read.cc, in StoreImpl::get()
#   index     targets/vstore/src/index/hnsw_graph.cc, in HnswGraph::grow_files()
#   filter    targets/vstore/src/filter/filter.cc, in Filter::parse()
#   scenario  scenarios/concurrency/readers-during-growth.toml
#   harness   harness/src/run/run_matrix.cc (reaches every cell: the whole run and matrix)
# ci/selection-proof counts the cells the same engine edits select.
#   nothing   no edit: the gate finds its inputs unchanged and gates the last run again
# Usage: tests/bench/gate_bench.sh [ROUNDS (default 3)] [CASE...]   (default: every case)
# The working tree must be clean (the edits are undone with git checkout).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rounds=${1:-3}
shift || true
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(nothing storage index filter scenario harness)
[ -z "$(git status --porcelain --untracked-files=no)" ] || { echo "gate_bench: the working tree has changes; commit or stash them" >&2; exit 2; }

declare -A file=(
  [storage]=targets/vstore/src/storage/store_read.cc [index]=targets/vstore/src/index/hnsw_graph.cc
  [filter]=targets/vstore/src/filter/filter.cc [scenario]=scenarios/concurrency/readers-during-growth.toml
  [harness]=harness/src/run/run_matrix.cc [nothing]=)
declare -A function=(
  [storage]="Result<Record> StoreImpl::get(uint64_t id) const {" [index]="Status HnswGraph::grow_files("
  [filter]="Result<Filter> Filter::parse(")
log=$(mktemp /tmp/crashgate-gate-bench-XXXXXX.log)
trap 'git checkout --quiet -- targets scenarios harness' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

ci/gate --changed HEAD >"$log" 2>&1 || true   # everything built and one run made, so each case starts alike
printf '%-9s %-48s %10s %10s %s\n' case "file" "median s" "selected" "each round (s)"
for c in "${cases[@]}"; do
  [ -n "${file[$c]+x}" ] || { echo "gate_bench: unknown case '$c' (${!file[*]})" >&2; exit 2; }
  f=${file[$c]}
  times=() selected=
  for ((r = 1; r <= rounds; r++)); do
    if [ -n "$f" ]; then
      if [ -n "${function[$c]+x}" ]; then
        at=$(grep -nF -m1 -- "${function[$c]}" "$f" | cut -d: -f1)
        [ -n "$at" ] || { echo "gate_bench: '${function[$c]}' is no longer in $f" >&2; exit 2; }
        sed -i "${at}a\\  static volatile int crashgate_gate_bench = $r$$; (void)crashgate_gate_bench;" "$f"
      else
        case "$f" in
          *.toml) echo "# gate_bench $c $r $$" ;;
          *) echo "extern \"C\" int crashgate_gate_bench_$c() { return $r$$; }" ;;
        esac >>"$f"
      fi
    fi
    start=$(date +%s%N)
    ci/gate --changed HEAD >"$log" 2>&1 || { echo "gate_bench: ci/gate failed on $c (round $r); see $log" >&2; exit 1; }
    end=$(date +%s%N)
    times+=("$(( (end - start) / 1000000 ))")
    selected=$(grep -o 'selected: [0-9,]* of [0-9,]* cells' "$log" | head -1 | sed 's/selected: //; s/ cells//')
    [ -n "$f" ] && git checkout --quiet -- "$f"
  done
  med=$(printf '%s\n' "${times[@]}" | median)
  printf '%-9s %-48s %10.1f %10s %s\n' "$c" "${f:--}" "$(awk -v m="$med" 'BEGIN {print m / 1000}')" "${selected:-all}" \
    "$(printf '%s ' "${times[@]}" | awk '{for (i = 1; i <= NF; i++) printf "%.1f ", $i / 1000}')"
done
rm -f "$log"
