#!/usr/bin/env bash
# The main job: build kiln and check every bundled example, printing each stage plan.
# (Once `kiln build` lands, this builds an example for real and prints the size table.)
source "$(dirname "$0")/common.sh"
cd "$KILN_ROOT_DIR"
install_packages "${KILN_BUILD_PACKAGES[@]}"
swift build --product kiln
kiln="$(swift build --show-bin-path)/kiln"
status=0
for example in examples/*/; do
    name="$(basename "$example")"
    echo "== $name"
    args=()
    [ "$name" = parallel-builders ] && args=(--build-arg BASE=debian:bookworm)
    "$kiln" check "${args[@]}" "$example" || status=$?
    echo
done
echo "== parallel-builders --target docs"
"$kiln" check --target docs examples/parallel-builders || status=$?
exit "$status"
