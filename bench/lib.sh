# Shared helpers for kiln's benchmarks (sourced after scripts/common.sh).

# median COMMAND [PREPARE]: median wall seconds of the shell COMMAND over $runs runs (default 3); PREPARE, when
# given, runs untimed before each run (e.g. emptying a store). Output of both is discarded.
median() {
    python3 - "${runs:-3}" "$1" "${2:-}" <<'PY'
import subprocess, sys, time
runs, command, prepare = int(sys.argv[1]), sys.argv[2], sys.argv[3]
samples = []
for _ in range(runs):
    if prepare:
        subprocess.run(["bash", "-c", prepare], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = time.perf_counter()
    subprocess.run(["bash", "-c", command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples.append(time.perf_counter() - start)
samples.sort()
print(f"{samples[len(samples) // 2]:.4f}")
PY
}
