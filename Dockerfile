# milava-bot container image: build with the project's toolchain, run as a non-root user with the database on
# a volume.
#   docker build -t milava-bot .
#   docker run -d --name milava-bot --env-file .env -v milava-data:/data -p 127.0.0.1:8080:8080 milava-bot
# Backups while it runs:  docker exec milava-bot milava-bot backup /data/backup-$(date +%F).db

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# The workspace: the library (crates/milava, with its migrations and fonts), the test kit's manifests (cargo
# reads every member's), and the binary. Without default features the simulator and benchmarks are left out.
COPY Cargo.toml Cargo.lock ./
COPY crates crates
COPY src src
RUN cargo fetch --locked && cargo build --release --locked --no-default-features --bin milava-bot

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 milava \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin milava \
    && mkdir -p /data && chown milava:milava /data && chmod 0700 /data
COPY --from=build /src/target/release/milava-bot /usr/local/bin/milava-bot
COPY dialogues /app/dialogues
# In a container loopback is the container's own: the webhook (if used) must listen on all of its interfaces,
# and only a published port (-p 127.0.0.1:8443:8443 for a proxy on the host) reaches it.
ENV DATABASE_URL=sqlite:///data/milava.db \
    DIALOGUES_DIR=/app/dialogues \
    HEALTH_ADDR=0.0.0.0:8080 \
    WEBHOOK_LISTEN=0.0.0.0:8443 \
    RUST_LOG=info
USER milava
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# /health answers 200 when the database and Telegram are reachable (bash's /dev/tcp: no curl needed).
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
# SIGTERM: the bot stops taking updates, finishes or releases what is in flight, and exits within seconds.
STOPSIGNAL SIGTERM
ENTRYPOINT ["milava-bot"]
CMD ["run"]
