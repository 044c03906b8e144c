#!/usr/bin/env bash
# kiln in the peer lab (../shared/lab): cold, no-op and one-file-edit builds of the lab projects with kiln and
# the peers (buildah, and docker/BuildKit when its daemon runs) in one run, with the lab's own bench.sh.
# Needs the lab set up (`../shared/lab/setup.sh`: packages, loopback registry, base images).
#   BUILDERS="kiln buildah docker" PROJECTS="p1 p2 p3" RUNS=3 bash bench/lab.sh
# Writes bench/results/lab-DATE.tsv (medians), .runs.tsv (every run) and the lab's table on standard output.
source "$(dirname "$0")/../scripts/common.sh"
cd "$KILN_ROOT_DIR"
lab="${KILN_SHARED:-$KILN_ROOT_DIR/../shared}/lab"
[ -x "$lab/bench.sh" ] || { echo "no lab at $lab" >&2; exit 1; }
# Statically linked Swift runtime and Foundation: process start drops from ~15 ms to ~9 ms.
swift build -c release --static-swift-stdlib --product kiln >/dev/null
export KILN="$(swift build -c release --static-swift-stdlib --show-bin-path)/kiln"
date="$(date +%Y-%m-%d)"
out="$KILN_ROOT_DIR/bench/results/lab-$date.tsv"
BUILDERS="${BUILDERS:-kiln buildah docker}" OUT="$out" "$lab/bench.sh"
rm -rf "${out%.tsv}.logs"
