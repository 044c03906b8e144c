#!/usr/bin/env python3
"""Writes a realistic N-line multi-stage Dockerfile (continuations, heredocs, mounts, args) to stdout."""
import sys

target = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
lines = ["# syntax=docker/dockerfile:1", "ARG BASE=debian:bookworm", "ARG VERSION=1.0"]
stage = 0
while len(lines) < target:
    lines += [f"FROM ${{BASE}} AS stage{stage}", "ARG VERSION", f"ENV APP_HOME=/opt/app{stage} PATH=/opt/app{stage}/bin:$PATH",
              "WORKDIR $APP_HOME", f"COPY --chown=1000:1000 --chmod=0644 src/{stage}/ ./src/",
              "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\",
              "    apt-get update && \\", "    apt-get install -y --no-install-recommends gcc make && \\",
              "    make -C src VERSION=${VERSION:-dev} && \\", "    rm -rf /var/lib/apt/lists/*",
              "RUN <<EOF", "set -e", f"echo building {stage}", "echo \"version $VERSION\"", "EOF",
              f"LABEL org.opencontainers.image.version=\"${{VERSION}}\" stage=\"{stage}\"",
              "EXPOSE 8080/tcp 9090", "HEALTHCHECK --interval=30s CMD [\"/bin/true\"]", ""]
    if stage > 0:
        lines.insert(len(lines) - 1, f"COPY --from=stage{stage - 1} /opt/app{stage - 1}/src /prev/")
    stage += 1
lines = lines[:target - 3] + ["FROM scratch", f"COPY --from=stage{stage - 1} /opt /opt", "ENTRYPOINT [\"/opt/app\"]"]
print("\n".join(lines))
