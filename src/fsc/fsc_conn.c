/*
 * libfsx connections: a pool of connections per server, framed calls with
 * scatter/gather bulk (data goes straight between the caller's buffers and
 * the socket; the framing is msg.c's, there is no other), reconnects with
 * backoff, the OST map, and a few worker
 * threads that run per-object requests in parallel.
 *
 * A call holds one connection for its round trip, so replies never need
 * matching across threads. Connections stay open: the MDS ties open
 * handles to the connection they were opened on and drops them when it
 * closes. An idle connection is checked (poll) before reuse.
 *
 * Every round trip is counted by opcode (fsc_rt_stats): the process-wide
 * figures of the wire cost of each file operation.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "fsc/fsc_int.h"

#define FSC_DIAL_TIMEOUT_MS	5000
#define FSC_BACKOFF_MIN_MS	20
#define FSC_BACKOFF_MAX_MS	1000
#define FSC_MAP_REFRESH_NS	(200ull * 1000 * 1000)

/* Transport failure: the connection is unusable, the call may be retried. */
#define FSC_TRANSPORT(rc)	((rc) != -EPROTO)

/* round trips sent, by opcode (fsc_rt_stats) */
static atomic_uint_fast64_t fsc_rt[MSG_OP_MAX];

static struct fsc_srv *
fsc_srv_new(const char *host, int port, uint32_t kind, int max)
{
	struct fsc_srv *s = xcalloc(1, sizeof(*s));

	snprintf(s->host, sizeof(s->host), "%s", host);
	s->port = port;
	s->kind = kind;
	s->max = max;
	s->idle = xcalloc(max, sizeof(int));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	return s;
}

static void
fsc_srv_free(struct fsc_srv *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < s->nidle; i++)
		close(s->idle[i]);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->idle);
	free(s);
}

/*
 * One request and its reply on fd, framed by msg.c (msg_send, msg_in_reply:
 * the reply's header, body and a small bulk come in one read(2), larger
 * bulks go straight into r->rbulk). A connection carries one request at a
 * time, so everything read belongs to this reply. Returns 0 with r's reply
 * fields and *status set, or a negative errno for the connection: -EPROTO
 * for a malformed reply (one that does not fit r counts as malformed),
 * others for transport failures.
 */
static int
fsc_roundtrip(int fd, uint64_t reqid, struct fsc_req *r, int *status)
{
	char rbuf[MSG_IN_BUF];
	struct msg_in in;
	int32_t st = 0;
	int rc;

	if (r->nbulk > FSC_IOV_MAX || r->nrbulk > FSC_IOV_MAX)
		return -EPROTO;
	if (r->op < MSG_OP_MAX)
		atomic_fetch_add_explicit(&fsc_rt[r->op], 1,
		    memory_order_relaxed);
	rc = msg_send(fd, r->op, r->flags, reqid, 0, r->body, r->body_len,
	    r->bulk, r->nbulk);
	if (rc == -EINVAL || rc == -EMSGSIZE)
		return -EPROTO;
	if (rc < 0)
		return rc;
	msg_in_init(&in, fd, rbuf, sizeof(rbuf));
	rc = msg_in_reply(&in, reqid, r->op, r->rbody, r->rbody_cap,
	    &r->rbody_len, r->rbulk, r->nrbulk, &r->rbulk_len, &st);
	if (rc == -EMSGSIZE || rc == -EBADMSG ||
	    (rc == 0 && msg_in_pending(&in) != 0))
		rc = -EPROTO;
	if (rc < 0)
		return rc;
	*status = st;
	return 0;
}

static void
fsc_set_timeout(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* Connect and say HELLO (and SESSION to the MDS of a caching client).
 * Returns the fd or a negative errno. */
static int
fsc_dial_flags(struct fsc *fs, struct fsc_srv *s, uint32_t sess_flags)
{
	struct msg_hello_rep rep;
	char host[FSC_HOST_MAX];
	int fd, rc, port, one = 1;

	pthread_mutex_lock(&s->mu);
	port = s->port;
	snprintf(host, sizeof(host), "%s", s->host);
	pthread_mutex_unlock(&s->mu);
	fd = msg_sock_open(host, port, 0, FSC_DIAL_TIMEOUT_MS);
	if (fd < 0)
		return fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rc = msg_hello_client(fd, fs->conf.secret, fs->client_id, &rep);
	if (rc == 0 && s->kind != 0 && rep.kind != s->kind)
		rc = -EPROTO;
	if (rc < 0) {
		close(fd);
		/* A closed connection right after HELLO: wrong secret. */
		return rc == -ECONNRESET ? -EACCES : rc;
	}
	fsc_set_timeout(fd, 0);
	if (s->kind == 1 && fs->client != 0) {
		rc = fsc_session_hello(fs, fd, sess_flags);
		if (rc < 0) {
			close(fd);
			return rc == -EPROTO || rc == -EACCES ? -EIO : rc;
		}
	}
	return fd;
}

static int
fsc_dial(struct fsc *fs, struct fsc_srv *s)
{
	return fsc_dial_flags(fs, s, 0);
}

int
fsc_conn_dial_mds(struct fsc *fs, uint32_t sess_flags)
{
	return fsc_dial_flags(fs, fs->mds, sess_flags);
}

int
fsc_conn_call_fd(struct fsc *fs, int fd, struct fsc_req *r)
{
	int rc, status = 0;

	rc = fsc_roundtrip(fd, __atomic_add_fetch(&fs->reqid, 1,
	    __ATOMIC_RELAXED), r, &status);
	return rc < 0 ? rc : status;
}

/* An idle connection is dead if it is readable (EOF or reset). */
static int
fsc_conn_alive(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

static int
fsc_conn_get(struct fsc *fs, struct fsc_srv *s)
{
	int fd;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->nidle > 0) {
			fd = s->idle[--s->nidle];
			/* checked outside the mutex: a poll(2) under it made
			 * every other call of this client wait (futex) */
			pthread_mutex_unlock(&s->mu);
			if (fsc_conn_alive(fd))
				return fd;
			close(fd);
			pthread_mutex_lock(&s->mu);
			s->nopen--;
			pthread_cond_signal(&s->cv);
		}
		if (s->nopen < s->max)
			break;
		pthread_cond_wait(&s->cv, &s->mu);
	}
	s->nopen++;
	pthread_mutex_unlock(&s->mu);
	fd = fsc_dial(fs, s);
	if (fd < 0) {
		pthread_mutex_lock(&s->mu);
		s->nopen--;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	return fd;
}

static void
fsc_conn_put(struct fsc_srv *s, int fd, int bad)
{
	pthread_mutex_lock(&s->mu);
	if (bad) {
		/* Idle ones are checked before reuse; closing healthy MDS
		 * connections would drop the handles opened on them. */
		close(fd);
		s->nopen--;
		pthread_cond_broadcast(&s->cv);
	} else {
		s->idle[s->nidle++] = fd;
		pthread_cond_signal(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
}

/*
 * One attempt on server s with request id `reqid` (the same for every
 * attempt of a call, so the MDS knows a resend). Returns the reply
 * status, or sets *transport and returns the connection error.
 */
static int
fsc_try(struct fsc *fs, struct fsc_srv *s, struct fsc_req *r, uint64_t reqid,
    int *transport)
{
	int fd, rc, status = 0;

	*transport = 0;
	fd = fsc_conn_get(fs, s);
	if (fd < 0) {
		*transport = fd != -EACCES && fd != -EPROTO;
		return fd;
	}
	rc = fsc_roundtrip(fd, reqid, r, &status);
	if (rc < 0) {
		fsc_conn_put(s, fd, 1);
		if (FSC_TRANSPORT(rc)) {
			*transport = 1;
			return rc;
		}
		log_warn("%s: malformed reply from %s:%d (op %u)", __func__,
		    s->host, s->port, r->op);
		return -EIO;
	}
	if (status == -ESTALE && s->kind == 1 && fs->client != 0) {
		/* our session was evicted: the next dial starts a new one */
		fsc_conn_put(s, fd, 1);
		*transport = 1;
		return status;
	}
	fsc_conn_put(s, fd, 0);
	return status == -EPROTO ? -EIO : status;
}

static void
fsc_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
fsc_mds_call(struct fsc *fs, struct fsc_req *r)
{
	uint64_t deadline = now_mono_ns() + (uint64_t)fs->retry_ms * 1000000;
	uint64_t reqid = __atomic_add_fetch(&fs->reqid, 1, __ATOMIC_RELAXED);
	int backoff = FSC_BACKOFF_MIN_MS, transport, rc;

	fsc_hold_wait(fs);	/* after the calls promised before it */
	for (;;) {
		rc = fsc_try(fs, fs->mds, r, reqid, &transport);
		if (!transport)
			return rc;
		r->flags |= MSG_F_RESENT;	/* the MDS may have run it */
		if (now_mono_ns() >= deadline) {
			log_warn("%s: MDS %s:%d unreachable: %s", __func__,
			    fs->mds->host, fs->mds->port, strerror(-rc));
			return -EIO;
		}
		fsc_sleep_ms(backoff);
		backoff = backoff * 2 > FSC_BACKOFF_MAX_MS ?
		    FSC_BACKOFF_MAX_MS : backoff * 2;
		if (fs->conf.resolve_mds != NULL) {
			char host[FSC_HOST_MAX];
			int port;

			if (fs->conf.resolve_mds(fs->conf.resolve_arg, host,
			    sizeof(host), &port) == 0 &&
			    (strcmp(host, fs->mds->host) != 0 ||
			    port != fs->mds->port)) {
				/* Old connections die on their own. */
				pthread_mutex_lock(&fs->mds->mu);
				snprintf(fs->mds->host, sizeof(fs->mds->host),
				    "%s", host);
				fs->mds->port = port;
				pthread_mutex_unlock(&fs->mds->mu);
			}
		}
	}
}

/* Find or add the server at host:port. Caller holds fs->mu. */
static struct fsc_srv *
fsc_srv_lookup(struct fsc *fs, const char *host, int port)
{
	struct fsc_srv *s;

	for (s = fs->srvs; s != NULL; s = s->next)
		if (s->port == port && strcmp(s->host, host) == 0)
			return s;
	s = fsc_srv_new(host, port, 2, fs->conf.pool_size * 2);
	s->next = fs->srvs;
	fs->srvs = s;
	return s;
}

int
fsc_ostmap_load(struct fsc *fs)
{
	const size_t cap = 1024 * sizeof(struct msg_ost_ent);
	struct msg_ost_ent *ents = xmalloc(cap);
	struct iovec iov = { ents, cap };
	struct fsc_req r;
	uint32_t n, maxidx = 0;
	struct fsc_ost *osts = NULL;
	int rc;

	memset(&r, 0, sizeof(r));
	r.op = MSG_OP_MDS_OSTMAP;
	r.rbulk = &iov;
	r.nrbulk = 1;
	rc = fsc_mds_call(fs, &r);
	if (rc < 0)
		goto out;
	if (r.rbulk_len % sizeof(struct msg_ost_ent) != 0) {
		rc = -EIO;
		goto out;
	}
	n = r.rbulk_len / sizeof(struct msg_ost_ent);
	for (uint32_t i = 0; i < n; i++) {
		if (ents[i].ost > FSC_OST_MAXIDX || ents[i].port == 0 ||
		    memchr(ents[i].host, '\0', sizeof(ents[i].host)) == NULL ||
		    ents[i].host[0] == '\0') {
			rc = -EIO;
			goto out;
		}
		if (ents[i].ost + 1 > maxidx)
			maxidx = ents[i].ost + 1;
	}
	osts = xcalloc(maxidx + 1, sizeof(*osts));
	pthread_mutex_lock(&fs->mu);
	for (uint32_t i = 0; i < n; i++) {
		osts[ents[i].ost].srv = fsc_srv_lookup(fs, ents[i].host,
		    ents[i].port);
		osts[ents[i].ost].capacity = ents[i].capacity;
	}
	free(fs->osts);
	fs->osts = osts;
	fs->nosts = maxidx;
	fs->ost_count = (int)n;
	fs->map_loaded_ns = now_mono_ns();
	pthread_mutex_unlock(&fs->mu);
	osts = NULL;
	rc = 0;
out:
	free(osts);
	free(ents);
	return rc;
}

static struct fsc_srv *
fsc_ost_srv(struct fsc *fs, uint32_t ost)
{
	struct fsc_srv *s = NULL;

	pthread_mutex_lock(&fs->mu);
	if (ost < fs->nosts)
		s = fs->osts[ost].srv;
	pthread_mutex_unlock(&fs->mu);
	return s;
}

/* Reload the map unless it was loaded very recently. */
static void
fsc_ostmap_refresh(struct fsc *fs)
{
	uint64_t last;

	pthread_mutex_lock(&fs->mu);
	last = fs->map_loaded_ns;
	pthread_mutex_unlock(&fs->mu);
	if (now_mono_ns() - last < FSC_MAP_REFRESH_NS)
		return;
	if (fsc_ostmap_load(fs) < 0)
		log_warn("%s: could not reload the OST map", __func__);
}

/* A call to the OSS serving `ost`; every OSS request is idempotent. */
int
fsc_ost_call(struct fsc *fs, uint32_t ost, struct fsc_req *r)
{
	uint64_t deadline = now_mono_ns() + (uint64_t)fs->retry_ms * 1000000;
	uint64_t reqid = __atomic_add_fetch(&fs->reqid, 1, __ATOMIC_RELAXED);
	int backoff = FSC_BACKOFF_MIN_MS, transport, rc;
	struct fsc_srv *s;

	for (;;) {
		s = fsc_ost_srv(fs, ost);
		if (s == NULL) {
			/* an OST added since the map was loaded (a grow):
			 * load it now, however recent our copy is */
			(void)fsc_ostmap_load(fs);
			s = fsc_ost_srv(fs, ost);
			if (s == NULL)
				return -EIO;	/* not in the map */
		}
		rc = fsc_try(fs, s, r, reqid, &transport);
		if (!transport)
			return rc;
		if (now_mono_ns() >= deadline) {
			log_warn("%s: OST %u at %s:%d unreachable: %s",
			    __func__, ost, s->host, s->port, strerror(-rc));
			return -EIO;
		}
		fsc_sleep_ms(backoff);
		backoff = backoff * 2 > FSC_BACKOFF_MAX_MS ?
		    FSC_BACKOFF_MAX_MS : backoff * 2;
		/* A restarted OSS may listen elsewhere now. */
		fsc_ostmap_refresh(fs);
	}
}

static void
fsc_oio_run(struct fsc *fs, struct fsc_oio *o)
{
	struct fsc_req r;
	struct msg_io io;
	struct msg_obj obj;
	struct msg_io_rep rep;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&io, 0, sizeof(io));
	memset(&obj, 0, sizeof(obj));
	io.ost = obj.ost = o->ost;
	io.oid = obj.oid = o->oid;
	io.offset = o->off;
	io.length = o->len;
	r.op = o->op;
	o->got = 0;
	switch (o->op) {
	case MSG_OP_OST_READ:
		if (fsc_local_read(fs, o))
			return;
		r.body = &io;
		r.body_len = sizeof(io);
		r.rbulk = o->iov;
		r.nrbulk = o->niov;
		rc = fsc_ost_call(fs, o->ost, &r);
		if (rc == -ENOENT)
			rc = 0;		/* never written: a hole */
		else if (rc == 0)
			o->got = r.rbulk_len;
		break;
	case MSG_OP_OST_WRITE:
		r.body = &io;
		r.body_len = sizeof(io);
		r.bulk = o->iov;
		r.nbulk = o->niov;
		r.rbody = &rep;
		r.rbody_cap = sizeof(rep);
		rc = fsc_ost_call(fs, o->ost, &r);
		if (rc == 0 && (r.rbody_len < sizeof(rep) ||
		    rep.length != o->len))
			rc = -EIO;
		if (rc == 0)
			o->got = o->len;
		break;
	case MSG_OP_OST_PUNCH:
		io.length = 0;
		r.body = &io;
		r.body_len = sizeof(io);
		rc = fsc_ost_call(fs, o->ost, &r);
		break;
	case MSG_OP_OST_FALLOC: {
		struct msg_falloc fa = { o->ost, o->mode, o->oid, o->off,
		    o->len };

		r.body = &fa;
		r.body_len = sizeof(fa);
		rc = fsc_ost_call(fs, o->ost, &r);
		break;
	}
	case MSG_OP_OST_SYNC:
		r.body = &obj;
		r.body_len = sizeof(obj);
		rc = fsc_ost_call(fs, o->ost, &r);
		if (rc == -ENOENT)
			rc = 0;
		break;
	case MSG_OP_OST_GETATTR:
		memset(&o->attr, 0, sizeof(o->attr));
		r.body = &obj;
		r.body_len = sizeof(obj);
		r.rbody = &o->attr;
		r.rbody_cap = sizeof(o->attr);
		rc = fsc_ost_call(fs, o->ost, &r);
		if (rc == -ENOENT) {
			memset(&o->attr, 0, sizeof(o->attr));
			rc = 0;
		} else if (rc == 0 && r.rbody_len < sizeof(o->attr)) {
			rc = -EIO;
		}
		break;
	case MSG_OP_OST_STATFS:
		memset(&o->st, 0, sizeof(o->st));
		r.body = &obj;
		r.body_len = sizeof(obj);
		r.rbody = &o->st;
		r.rbody_cap = sizeof(o->st);
		rc = fsc_ost_call(fs, o->ost, &r);
		if (rc == 0 && r.rbody_len < sizeof(o->st))
			rc = -EIO;
		break;
	default:
		rc = -EINVAL;
		break;
	}
	o->rc = rc;
}

static void *
fsc_worker(void *arg)
{
	struct fsc *fs = arg;
	struct fsc_oio *o;
	struct fsc_batch *b;

	for (;;) {
		pthread_mutex_lock(&fs->qmu);
		while (fs->qhead == NULL && !fs->stopping)
			pthread_cond_wait(&fs->qcv, &fs->qmu);
		if (fs->qhead == NULL) {
			pthread_mutex_unlock(&fs->qmu);
			return NULL;
		}
		o = fs->qhead;
		fs->qhead = o->next;
		if (fs->qhead == NULL)
			fs->qtail = NULL;
		pthread_mutex_unlock(&fs->qmu);

		b = o->b;
		fsc_oio_run(fs, o);
		pthread_mutex_lock(&b->mu);
		if (--b->left == 0)
			pthread_cond_signal(&b->cv);
		pthread_mutex_unlock(&b->mu);
	}
}

/* Workers start on first use (after fsx-mount has daemonized). */
static int
fsc_workers_start(struct fsc *fs)
{
	int rc = 0;

	pthread_mutex_lock(&fs->qmu);
	if (fs->workers == NULL) {
		int n = fs->conf.workers;

		fs->workers = xcalloc(n, sizeof(pthread_t));
		for (int i = 0; i < n; i++) {
			if (pthread_create(&fs->workers[i], NULL, fsc_worker,
			    fs) != 0)
				break;
			fs->nworkers++;
		}
		if (fs->nworkers == 0)
			rc = -EAGAIN;
	} else if (fs->nworkers == 0) {
		rc = -EAGAIN;
	}
	pthread_mutex_unlock(&fs->qmu);
	return rc;
}

void
fsc_oio_batch(struct fsc *fs, struct fsc_oio *v, int n)
{
	struct fsc_batch b;

	if (n <= 0)
		return;
	if (n == 1 || fsc_workers_start(fs) < 0) {
		for (int i = 0; i < n; i++)
			fsc_oio_run(fs, &v[i]);
		return;
	}
	pthread_mutex_init(&b.mu, NULL);
	pthread_cond_init(&b.cv, NULL);
	b.left = n - 1;
	pthread_mutex_lock(&fs->qmu);
	for (int i = 1; i < n; i++) {
		v[i].b = &b;
		v[i].next = NULL;
		if (fs->qtail != NULL)
			fs->qtail->next = &v[i];
		else
			fs->qhead = &v[i];
		fs->qtail = &v[i];
	}
	pthread_cond_broadcast(&fs->qcv);
	pthread_mutex_unlock(&fs->qmu);

	fsc_oio_run(fs, &v[0]);

	pthread_mutex_lock(&b.mu);
	while (b.left > 0)
		pthread_cond_wait(&b.cv, &b.mu);
	pthread_mutex_unlock(&b.mu);
	pthread_mutex_destroy(&b.mu);
	pthread_cond_destroy(&b.cv);
}

int
fsc_conn_init(struct fsc *fs)
{
	pthread_mutex_init(&fs->mu, NULL);
	pthread_mutex_init(&fs->imu, NULL);
	pthread_mutex_init(&fs->qmu, NULL);
	pthread_cond_init(&fs->qcv, NULL);
	/* Who we are to the MDS for as long as we live (resends). */
	while (fs->client_id == 0)
		if (getrandom(&fs->client_id, sizeof(fs->client_id), 0) !=
		    sizeof(fs->client_id))
			fs->client_id = now_mono_ns() ^ (uint64_t)getpid() << 32;
	fs->mds = fsc_srv_new(fs->mds_host, fs->conf.mds_port, 1,
	    fs->conf.pool_size);
	fsc_session_init(fs);
	return 0;
}

void
fsc_conn_fini(struct fsc *fs)
{
	struct fsc_srv *s, *next;

	fsc_session_fini(fs);
	pthread_mutex_lock(&fs->qmu);
	fs->stopping = 1;
	pthread_cond_broadcast(&fs->qcv);
	pthread_mutex_unlock(&fs->qmu);
	for (int i = 0; i < fs->nworkers; i++)
		pthread_join(fs->workers[i], NULL);
	free(fs->workers);
	for (s = fs->srvs; s != NULL; s = next) {
		next = s->next;
		fsc_srv_free(s);
	}
	fsc_srv_free(fs->mds);
	fsc_local_fini(fs);
	free(fs->osts);
	pthread_mutex_destroy(&fs->mu);
	pthread_mutex_destroy(&fs->imu);
	pthread_mutex_destroy(&fs->qmu);
	pthread_cond_destroy(&fs->qcv);
}

size_t
fsc_counters_text(char *buf, size_t cap, const char *prefix,
    const char *(*name)(int), const atomic_uint_fast64_t *v, int n)
{
	size_t len = 0;
	int k;

	for (int i = 0; i < n; i++) {
		uint64_t x = atomic_load_explicit(&v[i], memory_order_relaxed);

		if (x == 0)
			continue;
		k = snprintf(buf + len, cap - len, "%s%s %llu\n", prefix,
		    name(i), (unsigned long long)x);
		if (k < 0 || (size_t)k >= cap - len)
			break;
		len += (size_t)k;
	}
	return len;
}

static const char *
fsc_rt_name(int op)
{
	return msg_op_name((uint16_t)op);
}

size_t
fsc_rt_stats(char *buf, size_t cap)
{
	size_t n = fsc_counters_text(buf, cap, "rt_", fsc_rt_name, fsc_rt,
	    MSG_OP_MAX);

	return n + fsc_local_stats(buf + n, cap - n);
}
