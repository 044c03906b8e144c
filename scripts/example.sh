#!/usr/bin/env bash
# The main job: build kiln, make a busybox base image offline, build the multi-stage example
# examples/nonroot-busybox with it (a builder stage compresses the site, the final image runs it as a
# non-root user) and print the size summary, then run the image once.
# KILN_DEBIAN_IMAGES=1 also makes debian:bookworm and gcc:12 (debootstrap) and builds the C example.
source "$(dirname "$0")/common.sh"
cd "$KILN_ROOT_DIR"
install_packages "${KILN_BUILD_PACKAGES[@]}" crun runc busybox-static slirp4netns
swift build --product kiln
kiln="$(swift build --show-bin-path)/kiln"
bash scripts/base-images.sh "$kiln"

echo "== kiln build -t kiln-example/web examples/nonroot-busybox"
"$kiln" build --progress plain -t kiln-example/web examples/nonroot-busybox
echo
echo "== kiln run --rm kiln-example/web id"
"$kiln" run --rm kiln-example/web id

if [ "${KILN_DEBIAN_IMAGES:-0}" = 1 ]; then
    echo
    echo "== kiln build -t kiln-example/hello examples/c-static-scratch"
    "$kiln" build --progress plain -t kiln-example/hello examples/c-static-scratch
    "$kiln" run --rm kiln-example/hello
fi
