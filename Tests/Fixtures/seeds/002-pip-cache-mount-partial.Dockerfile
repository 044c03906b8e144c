# syntax=docker/dockerfile:1
FROM python:3.12-slim AS builder
WORKDIR /app

COPY requirements.txt .

# Cache pip packages between builds
RUN --mount=type=cache,target=/root/.cache/pip \
 pip install -r requirements.txt
