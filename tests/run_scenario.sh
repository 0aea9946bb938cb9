#!/usr/bin/env bash
# One scenario file as a CTest test (tests/CMakeLists.txt registers each):
#   run_scenario.sh CRASHGATE OUT RUN-ARGS...
# runs `crashgate run RUN-ARGS... --out OUT` and, when a cell failed, gates that
# run with no baseline: a crash reports/known-issues.toml knows (an engine's own
# bug, at the version it was found in) passes, and any other failure fails the
# test, as it blocks the gate. Run from the source tree, where the known issues are.
set -u
crashgate=$1 out=$2
shift 2
"$crashgate" run "$@" --out "$out"
status=$?
[ "$status" -eq 1 ] || exit "$status"
echo "== run_scenario.sh: a cell failed; the gate decides whether it is a known issue" >&2
exec "$crashgate" gate "$out/latest" --baseline none --rerun-failures 0
