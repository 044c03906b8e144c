#!/usr/bin/env bash
# Makes base images offline in kiln's store, since no registry is reachable here:
#   busybox:1        from Debian's busybox-static (always; seconds)
#   debian:bookworm  and gcc:12 from debootstrap (only with KILN_DEBIAN_IMAGES=1; needs the Debian mirror the first time)
# Usage: scripts/base-images.sh KILN_BINARY
source "$(dirname "$0")/common.sh"
kiln="$1"
install_packages busybox-static

scratch="$(mktemp -d /dev/shm/kiln-base-XXXXXX)"
trap 'rm -rf "$scratch"' EXIT

if ! "$kiln" inspect busybox:1 >/dev/null 2>&1; then
    rootfs="$scratch/busybox"
    mkdir -p "$rootfs"/{bin,etc,root,tmp,var,usr/bin}
    chmod 1777 "$rootfs/tmp"
    cp /bin/busybox "$rootfs/bin/busybox"
    for applet in $(/bin/busybox --list); do
        [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
    done
    # busybox-static has no adduser: the account files are written directly.
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$rootfs/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$rootfs/etc/group"
    "$kiln" import --change 'CMD ["sh"]' "$rootfs" busybox:1 >/dev/null
    echo "made busybox:1 from busybox-static"
fi

if [ "${KILN_DEBIAN_IMAGES:-0}" = 1 ]; then
    install_packages debootstrap
    # The root filesystems are cached (the tests use the same ones): only the first run downloads.
    cache="${KILN_IMAGE_CACHE:-/var/cache/kiln-images}"
    bash "$(dirname "$0")/debian-rootfs.sh" "$cache"
    for image in debian:bookworm gcc:12; do
        if ! "$kiln" inspect "$image" >/dev/null 2>&1; then
            "$kiln" import --change 'CMD ["bash"]' "$cache/$(echo "$image" | tr : -).tar" "$image" >/dev/null
            echo "made $image from $cache (debootstrap)"
        fi
    done
fi
