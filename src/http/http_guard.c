/*
 * Slow-client guard for fsxd's HTTP front end (see http_guard.h).
 *
 * Invariants:
 *   1. A connection is on the waiting list exactly when it has been
 *      accepted (or answered, kept alive) and its next request's headers
 *      are not complete; the list is in order of `since`.
 *   2. `fd` is valid while the record exists: CLOSED removes the record
 *      under the mutex before libmicrohttpd closes the socket.
 *   3. A connection is shut down at most once; `pending` counts those shut
 *      and not yet CLOSED, which still hold a slot.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "core/dlist.h"
#include "core/log.h"
#include "core/util.h"
#include "http/http_guard.h"

#define HTTP_GUARD_CONN_MAX	16384u	/* connections, at most */
#define HTTP_GUARD_FD_RESERVE	1024u	/* files kept for everything else */
#define HTTP_GUARD_SWEEP_MS	250
#define HTTP_GUARD_EVICT_BATCH	64	/* per new connection */

struct http_guard_conn {
	struct dlink		 link;		/* first: the waiting list */
	struct http_guard	*g;
	int			 fd;
	int			 waiting;
	int			 shut;
	uint64_t		 since;		/* ns, monotonic */
	uint64_t		 deadline;	/* ns, monotonic */
};

struct http_guard {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	pthread_t		 sweeper;
	int			 stop;
	unsigned		 limit, high;
	uint64_t		 idle_ns;
	unsigned		 open, pending;
	struct dlist		 waiting;	/* in order of `since` */
};

unsigned
http_guard_limit(void)
{
	struct rlimit rl;
	rlim_t n;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max == RLIM_INFINITY ? 65536 : rl.rlim_max;
		struct rlimit nl = { want, rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &nl) == 0)
			rl.rlim_cur = want;
		else
			log_warn("%s: cannot raise RLIMIT_NOFILE to %llu: %s",
			    __func__, (unsigned long long)want, strerror(errno));
	}
	n = rl.rlim_cur;
	if (n > 4 * HTTP_GUARD_FD_RESERVE)
		n -= HTTP_GUARD_FD_RESERVE;
	else
		n -= n / 4;
	if (n > HTTP_GUARD_CONN_MAX)
		n = HTTP_GUARD_CONN_MAX;
	return n < 64 ? 64 : (unsigned)n;
}

/* Called with g->mu held. */
static void
http_guard_unlink(struct http_guard *g, struct http_guard_conn *k)
{
	if (!k->waiting)
		return;
	dlist_remove(&g->waiting, &k->link);
	k->waiting = 0;
}

/* Called with g->mu held. */
static void
http_guard_wait(struct http_guard *g, struct http_guard_conn *k,
    uint64_t allow_ns)
{
	http_guard_unlink(g, k);
	k->since = now_mono_ns();
	k->deadline = k->since + allow_ns + HTTP_GUARD_HEADER_SEC * 1000000000ull;
	dlist_append(&g->waiting, &k->link);
	k->waiting = 1;
}

/* Called with g->mu held: end the connection (libmicrohttpd closes it). */
static void
http_guard_shut_one(struct http_guard *g, struct http_guard_conn *k)
{
	http_guard_unlink(g, k);
	if (k->shut)
		return;
	k->shut = 1;
	g->pending++;
	(void)shutdown(k->fd, SHUT_RDWR);
}

/* Called with g->mu held: free slots by shutting the oldest waiters. */
static void
http_guard_evict(struct http_guard *g)
{
	uint64_t old = now_mono_ns() - HTTP_GUARD_EVICT_MIN_MS * 1000000ull;
	int n = 0;

	struct http_guard_conn *k;

	for (;;) {
		k = (struct http_guard_conn *)g->waiting.head;
		if (k == NULL || g->open - g->pending < g->high ||
		    k->since > old || n++ >= HTTP_GUARD_EVICT_BATCH)
			break;
		http_guard_shut_one(g, k);
	}
}

static void *
http_guard_sweep(void *arg)
{
	struct http_guard *g = arg;
	struct timespec ts;

	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		uint64_t now = now_mono_ns();
		struct http_guard_conn *k, *next;

		for (k = (struct http_guard_conn *)g->waiting.head; k != NULL;
		    k = next) {
			next = (struct http_guard_conn *)k->link.next;
			if (k->deadline <= now)
				http_guard_shut_one(g, k);
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += HTTP_GUARD_SWEEP_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->cv, &g->mu, &ts);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

struct http_guard *
http_guard_new(unsigned limit, unsigned idle_sec)
{
	struct http_guard *g = xcalloc(1, sizeof(*g));
	pthread_condattr_t ca;

	g->limit = limit;
	g->high = limit - limit / 8;
	g->idle_ns = (uint64_t)idle_sec * 1000000000ull;
	pthread_mutex_init(&g->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&g->sweeper, NULL, http_guard_sweep, g) != 0) {
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g);
		return NULL;
	}
	return g;
}

void
http_guard_free(struct http_guard *g)
{
	struct http_guard_conn *k;

	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = 1;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->sweeper, NULL);
	/* none after MHD_stop_daemon */
	while (g->waiting.head != NULL) {
		k = (struct http_guard_conn *)g->waiting.head;
		http_guard_unlink(g, k);
		free(k);
	}
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

void
http_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http_guard *g = cls;
	struct http_guard_conn *k = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		k = xcalloc(1, sizeof(*k));
		k->g = g;
		k->fd = ci != NULL ? ci->connect_fd : -1;
		pthread_mutex_lock(&g->mu);
		g->open++;
		http_guard_wait(g, k, 0);
		if (g->open - g->pending >= g->high)
			http_guard_evict(g);
		pthread_mutex_unlock(&g->mu);
		*socket_context = k;
		return;
	}
	if (k == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	http_guard_unlink(g, k);
	g->open--;
	if (k->shut)
		g->pending--;
	pthread_mutex_unlock(&g->mu);
	free(k);
	*socket_context = NULL;
}

static struct http_guard_conn *
http_guard_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

void
http_guard_headers_done(struct MHD_Connection *c)
{
	struct http_guard_conn *k = http_guard_of(c);

	if (k == NULL)
		return;
	pthread_mutex_lock(&k->g->mu);
	http_guard_unlink(k->g, k);
	pthread_mutex_unlock(&k->g->mu);
}

void
http_guard_request_done(struct MHD_Connection *c)
{
	struct http_guard_conn *k = http_guard_of(c);

	if (k == NULL)
		return;
	pthread_mutex_lock(&k->g->mu);
	if (!k->shut)
		http_guard_wait(k->g, k, k->g->idle_ns);
	pthread_mutex_unlock(&k->g->mu);
}
