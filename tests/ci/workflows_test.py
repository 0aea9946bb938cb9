#!/usr/bin/env python3
"""The CI workflow files parse as YAML and keep the shape the README promises:
4 shards running ci/gate --shard, a merge + gate job, SARIF upload, junit
reports, summary.md posted. Run by ctest (ci-workflows); exits 1 naming
every broken promise."""
import sys

import yaml

root = sys.argv[1] if len(sys.argv) > 1 else "."
problems = []


def check(cond, what):
    if not cond:
        problems.append(what)


def load(path):
    with open(f"{root}/{path}") as f:
        return yaml.safe_load(f)


gh = load("ci/github/crashgate.yml")
triggers = gh.get("on", gh.get(True))  # YAML 1.1 reads a bare `on` as true
check(isinstance(triggers, dict) and "pull_request" in triggers, "github: runs on pull_request")
shard = gh["jobs"]["shard"]
check(shard["strategy"]["matrix"]["shard"] == [1, 2, 3, 4], "github: 4 shards")
shard_runs = " ".join(s.get("run", "") for s in shard["steps"])
check("ci/gate --shard ${{ matrix.shard }}/4" in shard_runs, "github: shards run ci/gate --shard I/4")
gate = gh["jobs"]["gate"]
check(gate["needs"] == "shard", "github: the gate job waits for the shards")
gate_runs = " ".join(s.get("run", "") for s in gate["steps"])
for command in ("crashgate\" merge", "crashgate\" gate", "GITHUB_STEP_SUMMARY"):
    check(command in gate_runs, f"github: the gate job runs {command}")
uses = [s.get("uses", "") for s in gate["steps"]]
check(any(u.startswith("github/codeql-action/upload-sarif@") for u in uses), "github: uploads SARIF")
check(any(u.startswith("actions/github-script@") for u in uses), "github: posts a PR comment")
check(any(s.get("uses", "").startswith("actions/upload-artifact@") for s in shard["steps"]), "github: shards upload artifacts")

gl = load("ci/gitlab/crashgate.gitlab-ci.yml")
gl_shard = gl["crashgate:shard"]
check(gl_shard["parallel"] == 4, "gitlab: parallel: 4")
check(any("ci/gate --shard \"${CI_NODE_INDEX}/${CI_NODE_TOTAL}\"" in line for line in gl_shard["script"]),
      "gitlab: shards run ci/gate --shard")
check("junit" in gl_shard["artifacts"]["reports"], "gitlab: shard artifacts report junit")
gl_gate = gl["crashgate:gate"]
gl_script = " ".join(gl_gate["script"])
check("crashgate merge" in gl_script and "crashgate gate" in gl_script, "gitlab: the gate job merges and gates")
check(gl_gate["artifacts"]["reports"]["junit"].endswith("junit.xml"), "gitlab: gate artifacts report junit")
for job in ("crashgate:shard", "crashgate:gate"):
    check(gl[job].get("extends") == ".crashgate" and gl[".crashgate"]["image"].startswith("debian:"),
          f"gitlab: {job} runs on Debian")

for p in problems:
    print("workflow check failed:", p)
sys.exit(1 if problems else 0)
