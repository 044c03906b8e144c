#!/usr/bin/env bash
# Parsing speed: `kiln check` (parse, resolve every stage, lower to the graph) of a generated 5 000-line
# Dockerfile, release build. Reports lines per second after subtracting the start-up time measured on a
# one-line Dockerfile in the same run. Writes bench/results/parse-DATE.txt.
source "$(dirname "$0")/../scripts/common.sh"
cd "$KILN_ROOT_DIR"
runs="${RUNS:-20}"
swift build -c release --product kiln >/dev/null
kiln="$(swift build -c release --show-bin-path)/kiln"
work="$(mktemp -d /dev/shm/kiln-parse-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/big" "$work/tiny"
python3 bench/generate-dockerfile.py 5000 > "$work/big/Dockerfile"
echo "FROM scratch" > "$work/tiny/Dockerfile"
lines=$(wc -l < "$work/big/Dockerfile")
# time_runs DIR: total seconds for $runs runs of kiln check on DIR.
time_runs() {
    python3 - "$kiln" "$1" "$runs" <<'PY'
import subprocess, sys, time
kiln, directory, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
samples = []
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run([kiln, "check", directory], check=True, stdout=subprocess.DEVNULL)
    samples.append(time.perf_counter() - start)
samples.sort()
print(samples[len(samples) // 2])
PY
}
big=$(time_runs "$work/big")
tiny=$(time_runs "$work/tiny")
mkdir -p bench/results
report="bench/results/parse-$(date -u +%Y-%m-%d).txt"
python3 - "$lines" "$big" "$tiny" <<'PY' | tee "$report"
import sys, platform, os
lines, big, tiny = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
work = max(big - tiny, 1e-9)
print(f"date: {__import__('datetime').datetime.utcnow():%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores")
print(f"input: {lines} lines, median of runs")
print(f"kiln check, 5000-line Dockerfile: {big*1000:.1f} ms; one-line Dockerfile (start-up floor): {tiny*1000:.1f} ms")
print(f"parse+resolve+lower: {work*1000:.1f} ms -> {lines/work:,.0f} lines/s")
PY
