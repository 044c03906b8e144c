#!/usr/bin/env bash
# Pulling and unpacking an image from a loopback registry: `kiln pull` (download, verify, unpack every layer
# into its snapshot) against `skopeo copy` to an OCI layout + `umoci unpack` of it, measured in the same run,
# with the physical floors: `curl` of the same blobs piped into `sha256sum`, and `pigz -dc | tar -x` of them.
# The image is the peer lab's gcc:12 (2 layers, 126 MB compressed, 333 MB unpacked) in its registry on
# 127.0.0.1:5000: run ../shared/lab/setup.sh first. Stores and bundles live on tmpfs.
# Writes bench/results/pull-DATE.txt. Target: kiln <= 0.8x skopeo+umoci.
source "$(dirname "$0")/../scripts/common.sh"
source "$(dirname "$0")/lib.sh"
cd "$KILN_ROOT_DIR"
install_packages "${KILN_BUILD_PACKAGES[@]}" skopeo umoci pigz curl jq tar
runs="${RUNS:-5}"
registry="${REGISTRY:-127.0.0.1:5000}"
repository="${REPOSITORY:-library/gcc}"
tag="${TAG:-12}"
if ! curl -sf "http://$registry/v2/$repository/manifests/$tag" -H 'Accept: application/vnd.oci.image.manifest.v1+json' >/dev/null; then
    echo "error: $registry/$repository:$tag is not there; run ../shared/lab/setup.sh" >&2
    exit 1
fi
swift build -c release --static-swift-stdlib --product kiln >/dev/null
kiln="$(swift build -c release --show-bin-path)/kiln"
work="$(mktemp -d /dev/shm/kiln-pull-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

manifest=$(curl -sf "http://$registry/v2/$repository/manifests/$tag" -H 'Accept: application/vnd.oci.image.manifest.v1+json')
layers=$(echo "$manifest" | jq -r '.layers[].digest')
compressed=$(echo "$manifest" | jq '[.layers[].size] | add')
blob_urls=""
for digest in $layers; do blob_urls+=" http://$registry/v2/$repository/blobs/$digest"; done
mkdir -p "$work/blobs"
for digest in $layers; do curl -sf "http://$registry/v2/$repository/blobs/$digest" -o "$work/blobs/${digest#sha256:}"; done

reset="rm -rf $work/kiln $work/oci $work/bundle $work/tree"
download_floor=$(median "for url in $blob_urls; do curl -sf \$url | sha256sum; done")
unpack_floor=$(median "mkdir -p $work/tree && for blob in $work/blobs/*; do pigz -dc \$blob | tar -x -C $work/tree; done" "$reset")
kiln_pull=$(median "KILN_ROOT=$work/kiln $kiln pull -q $registry/$repository:$tag" "$reset")
skopeo_copy=$(median "skopeo copy -q --src-tls-verify=false docker://$registry/$repository:$tag oci:$work/oci:$tag" "$reset")
skopeo_umoci=$(median "skopeo copy -q --src-tls-verify=false docker://$registry/$repository:$tag oci:$work/oci:$tag && umoci unpack --image $work/oci:$tag $work/bundle" "$reset")
KILN_ROOT=$work/kiln $kiln pull -q "$registry/$repository:$tag" >/dev/null
snapshots=$(ls "$work/kiln/snapshots" | grep -vc '^\.')
eval "$reset"

mkdir -p bench/results
report="bench/results/pull-$(date -u +%Y-%m-%d).txt"
python3 - "$compressed" "$download_floor" "$unpack_floor" "$kiln_pull" "$skopeo_copy" "$skopeo_umoci" "$runs" "$registry/$repository:$tag" "$snapshots" <<'PY' | tee "$report"
import sys, os, datetime
size = int(sys.argv[1]) / 1e6
download, unpack, kiln, skopeo, both = map(float, sys.argv[2:7])
runs, image, snapshots = int(sys.argv[7]), sys.argv[8], sys.argv[9]
print(f"date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, {image} ({size:.0f} MB compressed), median of {runs} runs, all on tmpfs")
print(f"floor curl | sha256sum, layers one after the other: {download:.2f} s")
print(f"floor pigz -dc | tar -x, layers one after the other: {unpack:.2f} s")
print(f"floor sum (download then unpack):                   {download + unpack:.2f} s")
print(f"skopeo copy (to an OCI layout):                     {skopeo:.2f} s")
print(f"skopeo copy + umoci unpack:                         {both:.2f} s")
print(f"kiln pull (download, verify, unpack {snapshots} snapshots): {kiln:.2f} s -> {kiln / both:.2f}x skopeo+umoci (target <= 0.8x), {kiln / (download + unpack):.2f}x the floor sum")
PY
