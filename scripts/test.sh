#!/usr/bin/env bash
# Runs kiln's whole test suite: unit tests, the BuildKit/buildah conformance corpora, the fuzz pass and the
# tests that drive the kiln binary. Exits non-zero when any test fails.
source "$(dirname "$0")/common.sh"
cd "$KILN_ROOT_DIR"
install_packages "${KILN_BUILD_PACKAGES[@]}" "${KILN_TEST_PACKAGES[@]}"
if [ ! -d "$KILN_SHARED/conformance" ]; then
    echo "error: conformance corpora not found at $KILN_SHARED/conformance (set KILN_SHARED)" >&2
    exit 1
fi
swift build --build-tests
swift test --skip-build 2>&1 | tee /tmp/kiln-test-output.txt
status=${PIPESTATUS[0]}
echo
echo "conformance pass counts:"
grep -E '^conformance ' /tmp/kiln-test-output.txt | sort || true
exit "$status"
