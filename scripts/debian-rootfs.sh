#!/usr/bin/env bash
# Makes the Debian root filesystem tarballs kiln's example and test base images come from, offline except for
# Debian's mirror (no container registry is reachable on these machines):
#   DIR/debian-bookworm.tar  debootstrap --variant=minbase bookworm
#   DIR/gcc-12.tar           the same plus gcc 12, libc6-dev and make
# A tarball already in DIR is kept, so only the first run downloads (about 150 MB, a few minutes).
# Usage: scripts/debian-rootfs.sh DIR   (as root)
set -euo pipefail
dir="$1"
debian="$dir/debian-bookworm.tar"
gcc="$dir/gcc-12.tar"
[ -s "$debian" ] && [ -s "$gcc" ] && exit 0

if ! command -v debootstrap >/dev/null 2>&1; then
    echo "error: debootstrap is not installed" >&2
    exit 1
fi
mkdir -p "$dir"
scratch="$(mktemp -d /dev/shm/kiln-debian-XXXXXX)"
trap 'rm -rf "$scratch"' EXIT
rootfs="$scratch/rootfs"

# pack NAME: the tree as a tarball with numeric owners, without debootstrap's device nodes and host files
# (the runtime provides /dev, /etc/hostname and /etc/resolv.conf to every RUN).
pack() {
    rm -rf "$rootfs"/dev/* "$rootfs"/var/cache/apt/archives/*.deb
    rm -f "$rootfs/etc/hostname" "$rootfs/etc/resolv.conf"
    tar --numeric-owner --xattrs -C "$rootfs" -cf "$1.part" .
    mv "$1.part" "$1"
}

debootstrap --variant=minbase bookworm "$rootfs" >"$scratch/debootstrap.log" 2>&1 \
    || { tail -n 20 "$scratch/debootstrap.log" >&2; exit 1; }
[ -s "$debian" ] || pack "$debian"

# apt inside the chroot needs the host's resolver and a /dev/null.
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
mknod -m 666 "$rootfs/dev/null" c 1 3
chroot "$rootfs" apt-get install -y -qq --no-install-recommends gcc libc6-dev make >"$scratch/apt.log" 2>&1 \
    || { tail -n 20 "$scratch/apt.log" >&2; exit 1; }
pack "$gcc"
