# Stage 1 — Build
FROM golang:1.21-alpine AS builder
WORKDIR /app
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -o payment-api ./cmd/server

# Stage 2 — Final (scratch = empty image)
FROM scratch
COPY --from=builder /app/payment-api /payment-api
COPY --from=builder /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
EXPOSE 8080
CMD ["/payment-api"]

# Before multi-stage: ~400MB (Go toolchain)
# After multi-stage: ~8MB (just the binary)
