# Name a stage with AS
FROM node:20-alpine AS deps
FROM node:20-alpine AS builder
FROM node:20-alpine AS production

# Copy from a named stage
COPY --from=deps /app/node_modules ./node_modules
COPY --from=builder /app/dist ./dist

# Copy from a specific stage by index (0-based)
COPY --from=0 /app/output ./output

# Copy from an external image
COPY --from=nginx:1.25 /etc/nginx/nginx.conf /etc/nginx/nginx.conf
