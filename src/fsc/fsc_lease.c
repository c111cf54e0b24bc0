/*
 * libfsx sessions, callbacks and locks (the client half of
 * docs/leases.md; the contract is in fsc.h).
 *
 * The session: fs->client, a random id, is said with SESSION on every
 * MDS connection (fsc_session_hello, from the dial). One connection more,
 * the callback connection, is opened and read by the callback thread:
 *
 *   DOWN --dial, SESSION(CALLBACK)--> UP (epoch = new, on_drop)
 *    ^                                 |  REVOKE -> on_revoke -> answer
 *    +--read fails (MDS gone, evicted, +
 *       fsc_session_renew)-- on_drop, epoch = 0
 *
 * Invariants:
 *  1. A REVOKE is answered only after on_revoke returned: the MDS
 *     acknowledges the change that caused it only after our cache
 *     dropped what it revoked.
 *  2. Whenever the callback connection goes down or comes up, on_drop
 *     runs and the epoch changes: revocations sent while there was none
 *     are never needed (the MDS dropped our leases with it).
 *  3. An evicted id is never used again: SESSION answering -ESTALE makes
 *     fsc_session_renew pick a new id (once per old id) and shut the
 *     callback connection down, so the thread re-registers with it.
 *  4. A REVOKE whose on_revoke returned 1 (the recall of a delegation)
 *     is answered when no call is held (fsc_hold_*), by the thread that
 *     ends the last one; the callback thread goes on serving meanwhile,
 *     since the MDS may need other answers before it can make the held
 *     calls. Such an answer for a connection since lost is not sent.
 *
 * Locks: a non-blocking LOCK is an ordinary MDS call; a blocking one goes
 * on a connection of its own, dialled for it, whose reply may take as
 * long as the holder keeps the lock; cancelling shuts that socket down
 * (the MDS forgets a waiter whose connection closed).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "fsc/fsc_int.h"

#define FSC_CB_BACKOFF_MIN_MS	20
#define FSC_CB_BACKOFF_MAX_MS	1000
#define FSC_LOCK_RETRY_MS	100

static uint64_t
fsc_session_newid(void)
{
	uint64_t id = 0;

	while (id == 0)
		if (rand_bytes(&id, sizeof(id)) < 0)
			id = now_mono_ns() ^ (uint64_t)getpid() << 32;
	return id;
}

void
fsc_session_init(struct fsc *fs)
{
	pthread_mutex_init(&fs->smu, NULL);
	pthread_mutex_init(&fs->hmu, NULL);
	pthread_cond_init(&fs->hcv, NULL);
	fs->cb_fd = -1;
	fs->client = fs->conf.leases ? fsc_session_newid() : 0;
}

/* Invariant 3: a new id, unless another thread renewed `old` already. */
static void
fsc_session_renew(struct fsc *fs, uint64_t old)
{
	pthread_mutex_lock(&fs->smu);
	if (fs->client == old) {
		fs->client = fsc_session_newid();
		log_warn("%s: session %016llx was evicted; new session "
		    "%016llx", __func__, (unsigned long long)old,
		    (unsigned long long)fs->client);
		if (fs->cb_fd >= 0)
			(void)shutdown(fs->cb_fd, SHUT_RDWR);
	}
	pthread_mutex_unlock(&fs->smu);
}

int
fsc_session_hello(struct fsc *fs, int fd, uint32_t flags)
{
	struct msg_session_rep rep;
	struct msg_session b;
	struct fsc_req r;
	int rc = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		memset(&b, 0, sizeof(b));
		pthread_mutex_lock(&fs->smu);
		b.client = fs->client;
		pthread_mutex_unlock(&fs->smu);
		b.flags = flags;
		fsc_req_init(&r, MSG_OP_MDS_SESSION, &b, sizeof(b));
		r.rbody = &rep;
		r.rbody_cap = sizeof(rep);
		rc = fsc_conn_call_fd(fs, fd, &r);
		if (rc != -ESTALE)
			break;
		fsc_session_renew(fs, b.client);
	}
	/* an MDS without sessions grants no leases: carry on without */
	return rc == -EOPNOTSUPP ? 0 : rc;
}

uint64_t
fsc_session_epoch(struct fsc *fs)
{
	uint64_t e;

	/* every reply's guard reads it twice: no mutex */
	e = __atomic_load_n(&fs->live_epoch, __ATOMIC_ACQUIRE);
	return e;
}

static void
fsc_cb_drop(struct fsc *fs)
{
	if (fs->conf.on_drop != NULL)
		fs->conf.on_drop(fs->conf.cb_arg);
}

/* ---- held calls (fsc.h, fsc_hold_*) ---- */

static __thread int fsc_hold_exempt_me;

int
fsc_hold_begin(struct fsc *fs)
{
	int rc = 0;

	pthread_mutex_lock(&fs->hmu);
	if (fs->hwaiters > 0)
		rc = -EBUSY;
	else
		__atomic_store_n(&fs->held, fs->held + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&fs->hmu);
	return rc;
}

/* Answer REVOKE reqid on the callback connection of epoch, if it is
 * still up (else the MDS dropped that round with the connection). Under
 * smu: the connection is not closed meanwhile, and two answers never
 * share the socket at once. */
static int
fsc_cb_answer(struct fsc *fs, uint64_t reqid, uint64_t epoch)
{
	int rc = -ENOTCONN;

	pthread_mutex_lock(&fs->smu);
	if (fs->cb_fd >= 0 && fs->epoch == epoch)
		rc = msg_send(fs->cb_fd, MSG_OP_MDS_REVOKE, MSG_F_REPLY, reqid,
		    0, NULL, 0, NULL, 0);
	pthread_mutex_unlock(&fs->smu);
	return rc;
}

void
fsc_hold_end(struct fsc *fs)
{
	struct {
		uint64_t	reqid, epoch;
	} *v = NULL;
	int n = 0;

	pthread_mutex_lock(&fs->hmu);
	__atomic_store_n(&fs->held, fs->held - 1, __ATOMIC_RELEASE);
	if (fs->held == 0) {
		if (fs->ndefer > 0) {
			n = fs->ndefer;
			v = xcalloc((size_t)n, sizeof(*v));
			memcpy(v, fs->defer, (size_t)n * sizeof(*v));
			fs->ndefer = 0;
		}
		pthread_cond_broadcast(&fs->hcv);
	}
	pthread_mutex_unlock(&fs->hmu);
	for (int i = 0; i < n; i++)
		(void)fsc_cb_answer(fs, v[i].reqid, v[i].epoch);
	free(v);
}

void
fsc_hold_exempt(void)
{
	fsc_hold_exempt_me = 1;
}

void
fsc_hold_wait(struct fsc *fs)
{
	if (fsc_hold_exempt_me ||
	    __atomic_load_n(&fs->held, __ATOMIC_ACQUIRE) == 0)
		return;
	pthread_mutex_lock(&fs->hmu);
	fs->hwaiters++;
	while (fs->held > 0)
		pthread_cond_wait(&fs->hcv, &fs->hmu);
	fs->hwaiters--;
	pthread_mutex_unlock(&fs->hmu);
}

/* The callback thread: 1 if the answer to reqid now waits for the held
 * calls (the last fsc_hold_end sends it), 0 to answer at once. */
static int
fsc_hold_defer(struct fsc *fs, uint64_t reqid, uint64_t epoch)
{
	int later = 0;

	pthread_mutex_lock(&fs->hmu);
	while (fs->held > 0 && fs->ndefer == FSC_DEFER_MAX)
		pthread_cond_wait(&fs->hcv, &fs->hmu);
	if (fs->held > 0) {
		fs->defer[fs->ndefer].reqid = reqid;
		fs->defer[fs->ndefer].epoch = epoch;
		fs->ndefer++;
		later = 1;
	}
	pthread_mutex_unlock(&fs->hmu);
	return later;
}

/* Serve REVOKEs on fd until it fails. */
static void
fsc_cb_serve(struct fsc *fs, int fd)
{
	struct {
		struct msg_revoke	rv;
		char			name[MSG_NAME_MAX + 1];
	} b;
	char rbuf[MSG_IN_BUF];
	struct msg_in in;
	struct msg_hdr h;
	uint64_t epoch;
	int rc, later;

	pthread_mutex_lock(&fs->smu);
	epoch = fs->epoch;	/* this connection's (fsc_cb_main) */
	pthread_mutex_unlock(&fs->smu);
	msg_in_init(&in, fd, rbuf, sizeof(rbuf));
	for (;;) {
		rc = msg_in_hdr(&in, &h, 1);
		if (rc < 0)
			return;
		if (h.bulk_len != 0 || h.body_len > sizeof(b) ||
		    (h.flags & MSG_F_REPLY) || h.opcode != MSG_OP_MDS_REVOKE) {
			log_warn("%s: unexpected frame (op %u) on the callback "
			    "connection", __func__, h.opcode);
			return;
		}
		memset(&b, 0, sizeof(b));
		rc = msg_in_payload(&in, &h, &b, sizeof(b), NULL, 0);
		if (rc < 0)
			return;
		if (h.body_len < sizeof(b.rv) || b.rv.namelen > MSG_NAME_MAX ||
		    h.body_len != sizeof(b.rv) + b.rv.namelen) {
			log_warn("%s: malformed REVOKE", __func__);
			return;
		}
		b.name[b.rv.namelen] = '\0';
		later = 0;
		if (fs->conf.on_revoke != NULL)
			later = fs->conf.on_revoke(fs->conf.cb_arg, &b.rv,
			    b.rv.namelen ? b.name : NULL);
		/* invariant 1: answered after on_revoke (a recall: after
		 * the held calls too, invariant 4) */
		if (later > 0 && fsc_hold_defer(fs, h.reqid, epoch))
			continue;
		rc = fsc_cb_answer(fs, h.reqid, epoch);
		if (rc < 0)
			return;
	}
}

static void
fsc_cb_sleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void *
fsc_cb_main(void *arg)
{
	struct fsc *fs = arg;
	int backoff = FSC_CB_BACKOFF_MIN_MS, fd, stop;

	for (;;) {
		pthread_mutex_lock(&fs->smu);
		stop = fs->cb_stop;
		pthread_mutex_unlock(&fs->smu);
		if (stop)
			break;
		fd = fsc_conn_dial_mds(fs, MSG_SESS_CALLBACK);
		if (fd < 0) {
			fsc_cb_sleep(backoff);
			backoff = backoff * 2 > FSC_CB_BACKOFF_MAX_MS ?
			    FSC_CB_BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		backoff = FSC_CB_BACKOFF_MIN_MS;
		pthread_mutex_lock(&fs->smu);
		if (fs->cb_stop) {
			pthread_mutex_unlock(&fs->smu);
			close(fd);
			break;
		}
		fs->cb_fd = fd;
		fs->epoch++;
		__atomic_store_n(&fs->live_epoch, fs->epoch, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&fs->smu);
		fsc_cb_drop(fs);		/* invariant 2: up */
		fsc_cb_serve(fs, fd);
		pthread_mutex_lock(&fs->smu);
		fs->cb_fd = -1;
		fs->epoch++;
		__atomic_store_n(&fs->live_epoch, 0, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&fs->smu);
		close(fd);
		fsc_cb_drop(fs);		/* invariant 2: down */
	}
	return NULL;
}

int
fsc_session_start(struct fsc *fs)
{
	int rc;

	if (fs->client == 0 || fs->cb_started)
		return 0;
	rc = pthread_create(&fs->cb_thr, NULL, fsc_cb_main, fs);
	if (rc != 0)
		return -rc;
	fs->cb_started = 1;
	return 0;
}

void
fsc_session_fini(struct fsc *fs)
{
	if (fs->cb_started) {
		pthread_mutex_lock(&fs->smu);
		fs->cb_stop = 1;
		if (fs->cb_fd >= 0)
			(void)shutdown(fs->cb_fd, SHUT_RDWR);
		pthread_mutex_unlock(&fs->smu);
		pthread_join(fs->cb_thr, NULL);
		fs->cb_started = 0;
	}
	pthread_mutex_destroy(&fs->smu);
	pthread_mutex_destroy(&fs->hmu);
	pthread_cond_destroy(&fs->hcv);
}

/* ---- locks ---- */

void
fsc_lockwait_init(struct fsc_lockwait *w)
{
	pthread_mutex_init(&w->mu, NULL);
	w->fd = -1;
	w->cancelled = 0;
}

void
fsc_lockwait_fini(struct fsc_lockwait *w)
{
	pthread_mutex_destroy(&w->mu);
}

void
fsc_lockwait_cancel(struct fsc_lockwait *w)
{
	pthread_mutex_lock(&w->mu);
	w->cancelled = 1;
	if (w->fd >= 0)
		(void)shutdown(w->fd, SHUT_RDWR);
	pthread_mutex_unlock(&w->mu);
}

/* One blocking LOCK on a connection of its own. */
static int
fsc_lock_wait_once(struct fsc *fs, struct fsc_req *r, struct fsc_lockwait *w)
{
	int fd, rc;

	fd = fsc_conn_dial_mds(fs, 0);
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&w->mu);
	if (w->cancelled) {
		pthread_mutex_unlock(&w->mu);
		close(fd);
		return -EINTR;
	}
	w->fd = fd;
	pthread_mutex_unlock(&w->mu);
	rc = fsc_conn_call_fd(fs, fd, r);
	pthread_mutex_lock(&w->mu);
	w->fd = -1;
	if (w->cancelled)
		rc = -EINTR;
	pthread_mutex_unlock(&w->mu);
	close(fd);
	return rc;
}

int
fsc_lock(struct fsc *fs, struct msg_lock *lk, struct fsc_lockwait *w)
{
	uint64_t deadline = now_mono_ns() + (uint64_t)fs->retry_ms * 1000000;
	struct msg_lock rep;
	struct fsc_req r;
	int rc;

	if (lk->type > MSG_LK_UN || lk->start > lk->end)
		return -EINVAL;
	memset(&rep, 0, sizeof(rep));
	fsc_req_init(&r, MSG_OP_MDS_LOCK, lk, sizeof(*lk));
	r.rbody = &rep;
	r.rbody_cap = sizeof(rep);
	if (!(lk->flags & MSG_LK_WAIT) || w == NULL) {
		lk->flags &= ~MSG_LK_WAIT;
		rc = fsc_mds_call(fs, &r);
	} else {
		for (;;) {
			rc = fsc_lock_wait_once(fs, &r, w);
			/* a lost connection (MDS restart, eviction): ask
			 * again, unless the caller gave up */
			if (rc >= 0 || rc == -EINTR || rc == -EAGAIN ||
			    rc == -EDEADLK || rc == -EINVAL ||
			    rc == -ENOLCK || now_mono_ns() >= deadline)
				break;
			if (rc != -ECONNRESET && rc != -EPIPE &&
			    rc != -ETIMEDOUT && rc != -ECONNREFUSED &&
			    rc != -ESTALE && rc != -EIO)
				break;
			fsc_cb_sleep(FSC_LOCK_RETRY_MS);
		}
	}
	if (rc == 0 && (lk->flags & MSG_LK_TEST)) {
		if (r.rbody_len < sizeof(rep))
			return -EIO;
		lk->type = rep.type;
		lk->start = rep.start;
		lk->end = rep.end;
		lk->pid = rep.pid;
	}
	return rc;
}
