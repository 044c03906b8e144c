#!/usr/bin/env bash
# Fetches Debian's static busybox for another architecture (for multi-platform examples and tests, run through
# qemu-user-static): DIR/busybox-ARCH. Reads the package index of the Debian mirror in the apt sources
# (or $DEBIAN_MIRROR), so the package version is whatever the mirror has; kept once fetched.
# Usage: scripts/foreign-busybox.sh ARCH DIR     (ARCH as Debian names it: arm64, armhf, ppc64el, s390x, riscv64)
set -euo pipefail
arch="$1"
dir="$2"
binary="$dir/busybox-$arch"
[ -s "$binary" ] && exit 0

mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
    mirror=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
        | grep -v security | sed -E 's/^URIs: *//; s/^deb (\[[^]]*\] )?//; s/ .*//' | head -n 1 || true)
fi
mirror="${mirror:-http://deb.debian.org/debian}"
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
scratch="$(mktemp -d /dev/shm/kiln-busybox-XXXXXX)"
trap 'rm -rf "$scratch"' EXIT

curl -fsSL "$mirror/dists/$suite/main/binary-$arch/Packages.xz" | xz -d > "$scratch/Packages"
filename=$(awk '/^Package: busybox-static$/ { found = 1 } found && /^Filename:/ { print $2; exit }' "$scratch/Packages")
if [ -z "$filename" ]; then
    echo "error: no busybox-static for $arch in $mirror $suite" >&2
    exit 1
fi
curl -fsSL "$mirror/$filename" -o "$scratch/busybox.deb"
dpkg-deb -x "$scratch/busybox.deb" "$scratch/tree"
mkdir -p "$dir"
cp "$scratch/tree/bin/busybox" "$binary.part"
mv "$binary.part" "$binary"
