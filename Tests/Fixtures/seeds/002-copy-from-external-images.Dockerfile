# Copy from an external image (no need to define a stage)
FROM alpine:3.19
COPY --from=docker/buildx-bin:latest /buildx /usr/libexec/docker/cli-plugins/docker-buildx
COPY --from=docker:latest /usr/local/bin/docker /usr/local/bin/docker
