# syntax=docker/dockerfile:1
FROM node:20-alpine AS builder
WORKDIR /app

# Secret is available only during this RUN step
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc \
 npm ci
