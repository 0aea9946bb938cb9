#!/bin/bash -eu
# ClusterFuzzLite's build step: the same contract as OSS-Fuzz, so the same script.
exec "$SRC/crashgate/ci/oss-fuzz/build.sh"
