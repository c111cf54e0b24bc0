# fsx-local: fsxd and the engine binaries.
#
#   docker build -t fsx-local .
#   docker run --rm -p 127.0.0.1:4566:4566 -v fsx-state:/var/lib/fsx fsx-local
#
# fsxd listens on 0.0.0.0 inside the container (publish it on loopback
# only). Mounting a file system with fsx-mount inside the container needs
# FUSE: --device /dev/fuse --cap-add SYS_ADMIN (and, with AppArmor,
# --security-opt apparmor:unconfined).

FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
	build-essential pkg-config libmicrohttpd-dev libjansson-dev \
	libsqlite3-dev libcurl4-openssl-dev libssl-dev uuid-dev libfuse3-dev \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make -j"$(nproc)" all

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
	libmicrohttpd12 libjansson4 libsqlite3-0 libcurl4 libssl3 libuuid1 \
	libfuse3-3 fuse3 ca-certificates \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --home /var/lib/fsx fsx \
	&& mkdir -p /var/lib/fsx && chown fsx /var/lib/fsx
COPY --from=build /src/build/bin/ /usr/local/bin/
COPY --from=build /src/tools/mount.fsx /sbin/mount.fsx
USER fsx
VOLUME /var/lib/fsx
EXPOSE 4566
ENTRYPOINT ["/usr/local/bin/fsxd", "--listen", "0.0.0.0", "--port", "4566", \
	"--state-dir", "/var/lib/fsx"]
