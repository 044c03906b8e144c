# syntax=docker/dockerfile:1

# Stage 1 — Build
FROM node:20-alpine AS builder
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci # all deps including devDependencies
COPY . .
RUN npm run build # TypeScript -> dist/

# Stage 2 — Production
FROM node:20-alpine AS production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev # production deps only
COPY --from=builder /app/dist ./dist

RUN addgroup -S app && adduser -S app -G app
USER app

EXPOSE 8080
CMD ["node", "dist/server.js"]

# Before multi-stage: ~1.8GB
# After multi-stage: ~178MB
