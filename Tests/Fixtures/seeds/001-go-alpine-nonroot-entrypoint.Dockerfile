# Build stage
FROM golang:1.22-alpine AS builder

# Install git for go modules
RUN apk add --no-cache git

WORKDIR /app

# Copy go mod files first for dependency caching
COPY go.mod go.sum ./
RUN go mod download

# Copy source and build
COPY . .
# CGO_ENABLED=0 for static binary, no need for c libraries
RUN CGO_ENABLED=0 GOOS=linux go build -a -installsuffix cgo -ldflags "-w -s" -o myapp .

# Production stage - just the binary
FROM alpine:3.19

WORKDIR /app

# Add CA certificates for HTTPS, create user
RUN apk add --no-cache ca-certificates && \
    addgroup -S appgroup && \
    adduser -S appuser -u 1001 -G appgroup

# Copy binary from builder
COPY --from=builder /app/myapp .

# Switch to non-root user
USER appuser

# No ENTRYPOINT or CMD here - use explicit executable path
EXPOSE 8080

ENTRYPOINT ["./myapp"]
