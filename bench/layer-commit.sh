#!/usr/bin/env bash
# Committing a ~1 GiB directory tree (on tmpfs) as a layer, kiln against the physical floors measured in the
# same run: `tar | zstd -3 -T0 | sha256sum`, `tar | pigz -1 | sha256sum` and `tar | gzip -1 | sha256sum`.
# kiln does more than the floors (a second hash for the diffID, fsync and rename into the store), so a ratio
# near 1 means kiln costs little beyond compression itself. Also reports kiln's peak RSS.
# Writes bench/results/layer-commit-DATE.txt.
source "$(dirname "$0")/../scripts/common.sh"
source "$(dirname "$0")/lib.sh"
cd "$KILN_ROOT_DIR"
install_packages "${KILN_BUILD_PACKAGES[@]}" zstd pigz gzip tar time
runs="${RUNS:-3}"
swift build -c release --product kiln >/dev/null
kiln="$(swift build -c release --show-bin-path)/kiln"
work="$(mktemp -d /dev/shm/kiln-layer-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# A realistic tree: shared libraries and Swift's runtime (binaries, some text), about 1 GiB.
mkdir -p "$work/tree"
cp -a /usr/lib/x86_64-linux-gnu "$work/tree/lib"
cp -a /opt/swift/usr/lib/swift/linux "$work/tree/swift-linux" 2>/dev/null || true
bytes=$(du -sb "$work/tree" | cut -f1)

store="$work/store"
zstd_floor=$(median "tar -C $work/tree -cf - . | zstd -3 -T0 -q | sha256sum")
pigz_floor=$(median "tar -C $work/tree -cf - . | pigz -1 | sha256sum")
gzip_floor=$(median "tar -C $work/tree -cf - . | gzip -1 | sha256sum")
gzip6_floor=$(median "tar -C $work/tree -cf - . | gzip -6 | sha256sum")
kiln_zstd=$(median "rm -rf $store; KILN_ROOT=$store $kiln import --compression zstd $work/tree")
kiln_gzip=$(median "rm -rf $store; KILN_ROOT=$store $kiln import --compression gzip --compression-level 1 $work/tree")
kiln_gzip6=$(median "rm -rf $store; KILN_ROOT=$store $kiln import --compression gzip $work/tree")
rm -rf "$store"
rss=$( { KILN_ROOT=$store /usr/bin/time -f '%M' "$kiln" import --compression zstd "$work/tree" >/dev/null; } 2>&1 | tail -1)
mkdir -p bench/results
report="bench/results/layer-commit-$(date -u +%Y-%m-%d).txt"
python3 - "$bytes" "$zstd_floor" "$pigz_floor" "$gzip_floor" "$kiln_zstd" "$kiln_gzip" "$rss" "$runs" "$gzip6_floor" "$kiln_gzip6" <<'PY' | tee "$report"
import sys, os, datetime
b, zf, pf, gf, kz, kg, rss, runs = int(sys.argv[1]), *map(float, sys.argv[2:7]), int(sys.argv[7]), int(sys.argv[8])
g6, k6 = float(sys.argv[9]), float(sys.argv[10])
mb = b / 1e6
print(f"date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, tree {mb:.0f} MB on tmpfs, median of {runs} runs")
print(f"floor tar|zstd -3 -T0|sha256sum: {zf:.2f} s ({mb/zf:.0f} MB/s)")
print(f"floor tar|pigz -1|sha256sum:     {pf:.2f} s ({mb/pf:.0f} MB/s)")
print(f"floor tar|gzip -1|sha256sum:     {gf:.2f} s ({mb/gf:.0f} MB/s)")
print(f"kiln import --compression zstd:  {kz:.2f} s ({mb/kz:.0f} MB/s) -> {zf/kz:.2f}x the zstd floor (target >= 0.75x)")
print(f"floor tar|gzip -6|sha256sum:     {g6:.2f} s ({mb/g6:.0f} MB/s)")
print(f"kiln import gzip level 1:        {kg:.2f} s ({mb/kg:.0f} MB/s) -> {gf/kg:.2f}x single-thread gzip -1 (target >= 1.8x), {pf/kg:.2f}x pigz -1")
print(f"kiln import gzip level 6 (default): {k6:.2f} s ({mb/k6:.0f} MB/s) -> {g6/k6:.2f}x single-thread gzip -6")
print(f"kiln peak RSS (zstd commit): {rss/1024:.0f} MB")
PY
