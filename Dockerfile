# fsx-local: fsxd and the engine binaries.
#
#   docker build -t fsx-local .
#   docker run --rm -p 127.0.0.1:4566:4566 -v fsx-state:/var/lib/fsx fsx-local
#
# fsxd listens on 0.0.0.0 inside the container (publish it on loopback
# only). Its engine processes listen on ports 47000-47099 on every
# interface and tell clients FSX_ADVERTISE (default 127.0.0.1): to mount
# from the host, publish the range and advertise an address the host
# reaches the container at, e.g.
#   docker run --rm -p 127.0.0.1:4566:4566 -p 127.0.0.1:47000-47099:47000-47099 \
#       -e FSX_ADVERTISE=127.0.0.1 -v fsx-state:/var/lib/fsx fsx-local
# Mounting a file system with fsx-mount inside the container needs
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
	libfuse3-3 fuse3 ca-certificates openssh-client \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --home /var/lib/fsx fsx \
	&& mkdir -p /var/lib/fsx && chown fsx /var/lib/fsx
COPY --from=build /src/build/bin/ /usr/local/bin/
COPY --from=build /src/tools/mount.fsx /sbin/mount.fsx
USER fsx
VOLUME /var/lib/fsx
EXPOSE 4566
ENV FSX_ADVERTISE=127.0.0.1
EXPOSE 47000-47099
ENTRYPOINT ["/bin/sh", "-c", "exec /usr/local/bin/fsxd --listen 0.0.0.0 --port 4566 \
	--state-dir /var/lib/fsx --engine-listen 0.0.0.0 \
	--engine-advertise \"$FSX_ADVERTISE\" --engine-ports 47000-47099 \"$@\"", "fsxd"]

# A storage node for compose.yaml: the engine binaries and sshd, nothing
# else (fsxd starts the engines here over ssh through fsx-node). The
# authorized key comes from the shared /keys volume at start.
FROM debian:bookworm-slim AS node
RUN apt-get update && apt-get install -y --no-install-recommends \
	libmicrohttpd12 libjansson4 libsqlite3-0 libcurl4 libssl3 libuuid1 \
	libfuse3-3 openssh-server \
	&& rm -rf /var/lib/apt/lists/* && mkdir -p /run/sshd /srv/fsx
COPY --from=build /src/build/bin/ /usr/local/bin/
RUN printf 'PermitRootLogin prohibit-password\nPasswordAuthentication no\nAuthorizedKeysFile /keys/id_ed25519.pub\nStrictModes no\n' \
	> /etc/ssh/sshd_config.d/fsx.conf
EXPOSE 22 47000-47099
ENTRYPOINT ["/bin/sh", "-c", "ssh-keygen -A && exec /usr/sbin/sshd -D -e"]
