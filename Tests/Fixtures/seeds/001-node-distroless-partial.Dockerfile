FROM node:20 AS builder
# ... build steps ...

FROM gcr.io/distroless/nodejs20-debian11

WORKDIR /app

COPY --from=builder /app/dist ./dist
COPY --from=builder /app/node_modules ./node_modules
COPY package*.json ./

USER nonroot

CMD ["dist/server.js"]
