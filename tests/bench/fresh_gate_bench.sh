#!/usr/bin/env bash
# How long the PR gate takes on a fresh clone: each round clones this
# repository's HEAD into a new directory (no build/, no reports/latest), makes
# the one-line filter edit gate_bench.sh makes (a static volatile int at the top
# of Filter::parse(), so the binaries really change), and times
# `ci/gate --changed HEAD` there: package check, configure, every build the gate
# needs, the selected cells and the matrix switches the change reaches.
# The first round on a machine that lacks the packages installs them too; the
# script says which rounds found packages missing, so the figure is read right.
# Usage: tests/bench/fresh_gate_bench.sh [ROUNDS (default 3)]
# Needs about 10 minutes and 2 GB of disk per round; each clone is removed
# after its round (set KEEP=1 to keep them under /tmp).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rounds=${1:-3}
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "fresh_gate_bench: ROUNDS must be a positive integer, not '$rounds'" >&2; exit 2; }
source_repo=$PWD
head=$(git rev-parse --short HEAD)
edit_file=targets/vstore/src/filter/filter.cc
edit_after="Result<Filter> Filter::parse("

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
missing_packages() {
  local wanted
  mapfile -t wanted < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' ci/packages.txt | awk '{print $1}')
  local installed
  installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${wanted[@]}" 2>/dev/null | awk '$NF=="installed"{print $1}' || true)
  local n=0 p
  for p in "${wanted[@]}"; do grep -qx "$p" <<<"$installed" || n=$((n + 1)); done
  echo "$n"
}

times=()
printf 'fresh clones of %s, edit in %s (%s)\n' "$head" "$edit_file" "$edit_after"
printf '%-6s %10s %12s %-26s %s\n' round "seconds" "packages" "selected" "log"
for ((r = 1; r <= rounds; r++)); do
  dir=$(mktemp -d /tmp/crashgate-fresh-XXXXXX)
  log=$dir.log
  git clone --quiet --no-hardlinks "$source_repo" "$dir"
  at=$(grep -nF -m1 -- "$edit_after" "$dir/$edit_file" | cut -d: -f1)
  [ -n "$at" ] || { echo "fresh_gate_bench: '$edit_after' is no longer in $edit_file" >&2; exit 2; }
  sed -i "${at}a\\  static volatile int crashgate_gate_bench = $r$$; (void)crashgate_gate_bench;" "$dir/$edit_file"
  missing=$(missing_packages)
  start=$(date +%s%N)
  (cd "$dir" && ci/gate --changed HEAD) >"$log" 2>&1 || {
    echo "fresh_gate_bench: ci/gate failed in round $r; see $log (clone kept in $dir)" >&2; exit 1; }
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  times+=("$ms")
  selected=$(grep -o 'selected: [0-9,]* of [0-9,]* cells' "$log" | head -1 | sed 's/selected: //' || true)
  printf '%-6s %10.1f %12s %-26s %s\n' "$r" "$(awk -v m="$ms" 'BEGIN {print m / 1000}')" \
    "$([ "$missing" -eq 0 ] && echo present || echo "$missing missing")" "${selected:-?}" "$log"
  [ -n "${KEEP:-}" ] || rm -rf "$dir"
done
med=$(printf '%s\n' "${times[@]}" | median)
printf 'median of %d: %.1f s\n' "$rounds" "$(awk -v m="$med" 'BEGIN {print m / 1000}')"
