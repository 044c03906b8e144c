# Shared set-up for kiln's scripts: find Swift, install the few Debian packages kiln needs.
set -euo pipefail

KILN_ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Swift ships in /opt/swift on this machine kind; make sure it is on PATH.
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="$PATH:/opt/swift/usr/bin"
fi
if ! command -v swift >/dev/null 2>&1; then
    echo "error: swift not found (expected at /opt/swift/usr/bin)" >&2
    exit 1
fi

# install_packages PKG...: apt-get install what is missing (as root, after apt-get update).
install_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: packages missing (${missing[*]}); run as root or install them" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# What building kiln needs from Debian besides Swift: pkg-config and the zlib and zstd headers.
KILN_BUILD_PACKAGES=(pkg-config zlib1g-dev libzstd-dev git ca-certificates python3)
# Independent tools the integration tests check kiln's output against.
KILN_TEST_PACKAGES=(skopeo umoci podman gzip tar docker-registry apache2-utils crun runc busybox-static debootstrap qemu-user-static binfmt-support curl xz-utils slirp4netns)

# The shared corpora live next to the checkout (../shared) unless KILN_SHARED says otherwise.
export KILN_SHARED="${KILN_SHARED:-$(cd "$KILN_ROOT_DIR/.." && pwd)/shared}"
