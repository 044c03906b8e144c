#!/usr/bin/env bash
# The frontend fuzz pass at scale: N mutated Dockerfiles (default 1 000 000), release build.
# Every input must be accepted or rejected with a positioned error; a crash or hang fails the run.
source "$(dirname "$0")/../scripts/common.sh"
cd "$KILN_ROOT_DIR"
export KILN_FUZZ_ITERATIONS="${1:-1000000}"
export KILN_FUZZ_SEED="${KILN_FUZZ_SEED:-$RANDOM$RANDOM}"
echo "fuzzing $KILN_FUZZ_ITERATIONS inputs, seed $KILN_FUZZ_SEED"
swift test -c release --filter FuzzTests
