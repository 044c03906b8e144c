# Stage 0
FROM node:20 AS builder
# ...

# Stage 1
FROM node:20-alpine AS production
# ...

# Stage 2
FROM nginx:alpine
COPY --from=1 /app/dist ./usr/share/nginx/html
