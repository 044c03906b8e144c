#!/usr/bin/env bash
# Per-step cost of a no-op `RUN true` in kiln (overlay mount, spec, runtime, stub cleanup, diff, teardown),
# against the bare OCI runtime running the same busybox bundle in the same run:
#   crun run  (through the private mount namespace kiln uses on hybrid-cgroup hosts, when needed)
#   runc run
# kiln's per-step cost is (T(build with N+1 RUN steps) - T(build with 1 RUN step)) / N, so process start, store
# opening and the base image are subtracted out. Every kiln build runs with --no-cache (the runs repeat the
# same Dockerfile). Also measured: --network none (no slirp4netns), a step that writes a file (so a layer is
# committed, gzip), and the copying snapshotter. Writes bench/results/run-step-DATE.txt.
source "$(dirname "$0")/../scripts/common.sh"
source "$(dirname "$0")/lib.sh"
cd "$KILN_ROOT_DIR"
install_packages "${KILN_BUILD_PACKAGES[@]}" crun runc busybox-static python3
steps="${STEPS:-20}"
runs="${RUNS:-3}"
swift build -c release --product kiln >/dev/null
kiln="$(swift build -c release --show-bin-path)/kiln"
work="$(mktemp -d /dev/shm/kiln-run-bench.XXXXXX)"
trap 'for m in $(grep -o "$work[^ ]*" /proc/self/mountinfo | sort -r); do umount -l "$m" 2>/dev/null; done; rm -rf "$work"' EXIT
export KILN_ROOT="$work/store"
bash scripts/base-images.sh "$kiln" >/dev/null

# The bundle for the bare runtimes: the same busybox tree, the runtime's default spec running `true`.
mkdir -p "$work/bundle/rootfs"
"$kiln" run --rm busybox:1 true >/dev/null   # unpacks the snapshot
snapshot=$(ls -d "$KILN_ROOT"/snapshots/*/rootfs | head -1)
cp -a "$snapshot/." "$work/bundle/rootfs/"
(cd "$work/bundle" && crun spec && sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"true"/' config.json)
crun_command="crun run --bundle $work/bundle bench-\$i >/dev/null"
if [ -n "$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)" ]; then
    crun_command="unshare --mount --propagation private sh -c 'umount -l /sys/fs/cgroup/unified && exec crun run --bundle $work/bundle bench-\$i' >/dev/null"
fi

# median seconds per iteration of a command run $steps times, over $runs runs.
per_run() {
    python3 - "$runs" "$steps" "$1" <<'PY'
import subprocess, sys, time
runs, steps, command = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
samples = []
for _ in range(runs):
    script = f"for i in $(seq {steps}); do {command}; done"
    start = time.perf_counter()
    subprocess.run(["bash", "-c", script], check=True)
    samples.append((time.perf_counter() - start) / steps)
samples.sort()
print(f"{samples[len(samples) // 2]:.4f}")
PY
}

dockerfile() {  # dockerfile COUNT COMMAND-PREFIX
    echo "FROM busybox:1"
    for i in $(seq "$1"); do echo "RUN $2 $i"; done
}
mkdir -p "$work/ctx"
dockerfile 1 "true" > "$work/ctx/one"
dockerfile $((steps + 1)) "true" > "$work/ctx/many"
dockerfile 1 "echo >/f" > "$work/ctx/one-write"
dockerfile $((steps + 1)) "echo >/f" > "$work/ctx/many-write"

crun_bare=$(per_run "$crun_command")
runc_bare=$(per_run "runc run --bundle $work/bundle bench-\$i >/dev/null")
step() {  # step RUNTIME KIND [ENVIRONMENT-ASSIGNMENTS [BUILD-FLAGS]]
    local one many
    one=$(median "${3:-} $kiln build -q --no-cache --runtime $1 ${4:-} -f $work/ctx/$2 $work/ctx")
    many=$(median "${3:-} $kiln build -q --no-cache --runtime $1 ${4:-} -f $work/ctx/many${2#one} $work/ctx")
    python3 -c "print(f'{($many - $one) / $steps:.4f}')"
}
network="$(command -v slirp4netns >/dev/null && echo 'slirp4netns' || echo 'loopback only')"
kiln_crun=$(step crun one)
kiln_runc=$(step runc one)
kiln_crun_none=$(step crun one "" "--network none")
kiln_crun_write=$(step crun one-write)
kiln_crun_copy=$(step crun one "KILN_SNAPSHOTTER=copy")
kiln_run=$(per_run "$kiln run --rm busybox:1 true")

ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
report="bench/results/run-step-$(date +%Y-%m-%d).txt"
{
    echo "# bench/run-step.sh, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r), crun $(crun --version | head -1 | cut -d' ' -f3), runc $(runc --version | head -1 | cut -d' ' -f3)"
    echo "# seconds per step (median of $runs runs of $steps steps); ratios against the bare runtime in the same run"
    echo "bare crun run (true)                      $crun_bare"
    echo "bare runc run (true)                      $runc_bare"
    echo "# kiln builds with --no-cache; the default network is docker's (outbound through $network), the bare runtimes get none"
    echo "kiln RUN true, crun                       $kiln_crun   $(ratio "$kiln_crun" "$crun_bare")x bare crun"
    echo "kiln RUN true, runc                       $kiln_runc   $(ratio "$kiln_runc" "$runc_bare")x bare runc"
    echo "kiln RUN true, crun, --network none       $kiln_crun_none   $(ratio "$kiln_crun_none" "$crun_bare")x bare crun"
    echo "kiln RUN echo >/f (a layer), crun         $kiln_crun_write   $(ratio "$kiln_crun_write" "$crun_bare")x bare crun"
    echo "kiln RUN true, crun, copying snapshotter  $kiln_crun_copy   $(ratio "$kiln_crun_copy" "$crun_bare")x bare crun (busybox rootfs copied per step)"
    echo "kiln run --rm busybox true (whole process) $kiln_run   $(ratio "$kiln_run" "$crun_bare")x bare crun"
} | tee "$report"
