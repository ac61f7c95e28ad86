# Builds the hookd binary; the image runs `hookd serve` by default (see docker-compose.yml).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin hookd

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/hookd /usr/local/bin/hookd
COPY config /etc/hookd
ENV HOOKD_CONFIG=/etc/hookd/hookd.toml
ENTRYPOINT ["hookd"]
CMD ["serve"]
