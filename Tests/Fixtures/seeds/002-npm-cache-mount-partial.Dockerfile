# syntax=docker/dockerfile:1
FROM node:20-alpine AS builder
WORKDIR /app

COPY package*.json ./

# Cache npm packages between builds
RUN --mount=type=cache,target=/root/.npm \
 npm ci

COPY . .
RUN npm run build
