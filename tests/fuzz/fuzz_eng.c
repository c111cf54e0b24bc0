/*
 * In-process engine servers for the fuzz targets (fuzz_eng.h).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "fuzz.h"
#include "fuzz_eng.h"
#include "mds/mds_srv.h"
#include "msg/msg.h"
#include "msg/msg_srv.h"
#include "oss/oss.h"

static const uint8_t fuzz_secret[MSG_SECRET_LEN] = { 0x5a, 0x17 };

/* Serve conf (its secret set here) on an ephemeral loopback port, in a
 * thread; the server lives until the process ends. Returns the port. */
static int
serve(struct msg_srv_conf *conf, void *ctx)
{
	struct msg_srv *srv;

	memcpy(conf->secret, fuzz_secret, sizeof(fuzz_secret));
	srv = msg_srv_new(conf, ctx);
	if (srv == NULL || msg_srv_listen(srv, "127.0.0.1", 0, NULL) != 0 ||
	    msg_srv_start(srv) != 0)
		abort();
	return msg_srv_port(srv);
}

static int
oss_start(const char *dir)
{
	struct msg_srv_conf conf;
	struct oss *oss;
	char d[256];

	oss = oss_new(64);
	if (oss == NULL)
		abort();
	for (uint32_t i = 0; i < 2; i++) {
		snprintf(d, sizeof(d), "%s/ost%u", dir, i);
		if (oss_ost_add(oss, i, d, 64ull << 20) != 0)
			abort();
	}
	memset(&conf, 0, sizeof(conf));
	conf.kind = 2;
	conf.nost = 2;
	conf.dispatch = oss_dispatch;
	conf.stats = oss_stats;
	return serve(&conf, oss);
}

static void *
mds_main(void *arg)
{
	mds_srv_run(arg);
	return NULL;
}

static int
mds_start(const char *dir, int oss_port)
{
	struct mds_srv_conf conf;
	struct msg_ost_ent e[2];
	struct mds_srv *m;
	pthread_t t;
	char pf[256], buf[32];
	int port = 0;

	memset(&conf, 0, sizeof(conf));
	snprintf(pf, sizeof(pf), "%s/mds.port", dir);
	conf.dir = dir;
	conf.host = "127.0.0.1";
	conf.port_file = pf;
	conf.revoke_ms = 200;
	conf.lease_max = 64;	/* sessions give leases back (mds_lease.h, 6) */
	memcpy(conf.secret, fuzz_secret, sizeof(fuzz_secret));
	if (mds_srv_new(&conf, &m) != 0)
		abort();
	memset(e, 0, sizeof(e));
	for (uint32_t i = 0; i < 2; i++) {
		e[i].ost = i;
		e[i].port = (uint16_t)oss_port;
		snprintf(e[i].host, sizeof(e[i].host), "127.0.0.1");
		e[i].capacity = 64ull << 20;
	}
	if (mds_srv_ostadd(m, e, 2) != 0 ||
	    pthread_create(&t, NULL, mds_main, m) != 0)
		abort();
	for (int i = 0; i < 500 && port <= 0; i++) {
		FILE *f = fopen(pf, "r");

		if (f != NULL) {
			if (fgets(buf, sizeof(buf), f) != NULL)
				port = atoi(buf);
			fclose(f);
		}
		if (port <= 0)
			usleep(10000);
	}
	if (port <= 0)
		abort();
	return port;
}

int
fuzz_eng_serve(uint32_t kind,
    int (*dispatch)(void *, struct msg_srv_conn *, const struct msg_hdr *,
	const void *, const void *),
    size_t (*stats)(void *, char *, size_t), void *ctx)
{
	struct msg_srv_conf conf;

	signal(SIGPIPE, SIG_IGN);
	log_init("fuzz", LOG_ERR);
	memset(&conf, 0, sizeof(conf));
	conf.kind = kind;
	conf.dispatch = dispatch;
	conf.stats = stats;
	return serve(&conf, ctx);
}

int
fuzz_eng_start(int mds)
{
	const char *dir = fuzz_tmpdir(mds ? "mds" : "oss");
	char sub[128];
	int port;

	signal(SIGPIPE, SIG_IGN);
	log_init("fuzz", LOG_ERR);	/* malformed requests are logged at warn */
	snprintf(sub, sizeof(sub), "%s/oss", dir);
	if (mkdir_p(sub, 0755) != 0)
		abort();
	port = oss_start(sub);
	if (!mds)
		return port;
	snprintf(sub, sizeof(sub), "%s/mds", dir);
	if (mkdir_p(sub, 0755) != 0)
		abort();
	return mds_start(sub, port);
}

static uint8_t rbody[MSG_BODY_MAX];
static uint8_t rbulk[1024 * 1024];

void
fuzz_eng_run(int port, const uint16_t *ops, size_t nops, const uint8_t *d,
    size_t n)
{
	/* requests are built 8-byte aligned, as msg_srv hands them over */
	static uint64_t body[MSG_BODY_MAX / 8];
	size_t p = 0;
	int fd, trace = getenv("FUZZ_TRACE") != NULL;

	if (n < 6)
		return;
	fd = msg_connect_timeout("127.0.0.1", port, fuzz_secret, NULL, 5000);
	if (fd < 0)	/* the server must keep accepting (the bound is
			   generous: fsync under a loaded machine is slow) */
		abort();
	while (p + 6 <= n) {
		uint16_t op = ops[d[p] % nops];
		uint32_t flags = d[p + 1] & ~MSG_F_REPLY;
		size_t bl = (size_t)d[p + 2] | (size_t)d[p + 3] << 8;
		size_t ul = (size_t)d[p + 4] | (size_t)d[p + 5] << 8;
		struct iovec iov;
		uint32_t rbl = 0, rul = 0;
		int rc;

		p += 6;
		bl = bl <= n - p ? bl : n - p;
		memcpy(body, d + p, bl);
		p += bl;
		ul = ul <= n - p ? ul : n - p;
		iov.iov_base = (void *)(uintptr_t)(d + p);
		iov.iov_len = ul;
		p += ul;
		rc = msg_call(fd, op, flags, body, (uint32_t)bl, &iov,
		    ul ? 1 : 0, rbody, sizeof(rbody), &rbl, rbulk,
		    sizeof(rbulk), &rul);
		if (trace)
			dprintf(2, "fuzz_eng: op %u flags %#x body %zu bulk %zu"
			    " -> %d (reply body %u, bulk %u)\n", op, flags, bl,
			    ul, rc, rbl, rul);
		if (rc == -ECONNRESET || rc == -EPIPE || rc == -ETIMEDOUT ||
		    rc == -EAGAIN || rc == -EPROTO || rc == -EBADMSG)
			break;
		if (rbl > sizeof(rbody) || rul > sizeof(rbulk))
			abort();
	}
	close(fd);
}
