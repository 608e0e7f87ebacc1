# syntax=docker/dockerfile:1
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY templates ./templates
COPY migrations ./migrations
COPY assets ./assets
RUN cargo build --release --locked --bin jitgate && strip target/release/jitgate

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/jitgate --create-home jitgate
COPY --from=build /src/target/release/jitgate /usr/local/bin/jitgate
USER 10001:10001
WORKDIR /var/lib/jitgate
ENV JITGATE_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/jitgate"]
CMD ["serve", "--config", "/etc/jitgate/jitgate.toml"]
