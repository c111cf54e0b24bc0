/*
 * The MDS's destroy thread (see mds_dthr.h): it drains the durable
 * destroy queue (mds_destroy.c) by asking the OSSes to destroy the
 * objects of unlinked files, off every request's path.
 *
 * Contract:
 *  1. Woken by the store after a commit that queued objects (one wakeup
 *     per pass, not per unlink), and, while objects are left because an
 *     OST is down, every DESTROY_RETRY_S; with nothing left it has no
 *     timer (an idle MDS costs nothing here).
 *  2. A row leaves the queue only after its object is gone (ENOENT
 *     counts): a crash at any point leaves it to the next run.
 *  3. mds_dthr_stop returns once the thread has ended; the store's hook
 *     is cleared before that, so no commit kicks a freed thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "mds/mds_dthr.h"
#include "mds/mds_ns.h"
#include "mds/mds_ost.h"

#define DESTROY_BATCH		256
#define DESTROY_RETRY_S		3
#define DESTROY_COALESCE_MS	50
#define DESTROY_DOWN_MAX	64

struct mds_dthr {
	struct mds_ns	*ns;
	struct mds_osts	*osts;
	pthread_t	 thr;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	atomic_int	 kick;
	int		 stop;
	atomic_uint_fast64_t destroyed;
};

/* Called after every commit that queued objects: only the first kick
 * until the next pass wakes the thread (no wakeup per unlink). */
static void
destroy_kick(void *arg)
{
	struct mds_dthr *m = arg;

	if (atomic_exchange(&m->kick, 1) != 0)
		return;
	pthread_mutex_lock(&m->lock);
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

static int
ost_in(const uint32_t *v, int n, uint32_t ost)
{
	for (int i = 0; i < n; i++)
		if (v[i] == ost)
			return 1;
	return 0;
}

/* One object, the old way: 0 when it is gone. */
static int
destroy_one(struct mds_dthr *m, const struct mds_destroy *row)
{
	struct msg_obj ob;
	int rc;

	memset(&ob, 0, sizeof(ob));
	ob.ost = row->ost;
	ob.oid = row->oid;
	rc = mds_ost_call(m->osts, ob.ost, MSG_OP_OST_DESTROY, &ob, sizeof(ob),
	    NULL, 0, NULL);
	if (rc == -ENOENT)
		rc = 0;
	if (rc < 0)
		log_debug("mds: destroy %u:%llu: %d", ob.ost,
		    (unsigned long long)ob.oid, rc);
	return rc;
}

/*
 * The rows of one OST in a batch: one OST_DESTROY_MANY, or one DESTROY
 * each when that fails (an OSS that does not know it, an object that
 * would not go). Marks the rows done; returns the failures.
 */
static int
destroy_ost(struct mds_dthr *m, const struct mds_destroy *rows, int n,
    uint32_t ost, int64_t *done, int *ndone)
{
	uint64_t oids[DESTROY_BATCH];
	int idx[DESTROY_BATCH], k = 0, failed = 0, rc;
	struct msg_obj ob;

	for (int i = 0; i < n; i++)
		if (rows[i].ost == ost) {
			idx[k] = i;
			oids[k++] = rows[i].oid;
		}
	memset(&ob, 0, sizeof(ob));
	ob.ost = ost;
	rc = mds_ost_call_bulk(m->osts, ost, MSG_OP_OST_DESTROY_MANY, &ob,
	    sizeof(ob), oids, (uint32_t)(k * sizeof(oids[0])), NULL, 0, NULL);
	for (int j = 0; j < k; j++) {
		if (rc != 0 && destroy_one(m, &rows[idx[j]]) < 0) {
			failed++;
			if (j == 0)	/* the OST is down: leave the rest */
				return k;
			continue;
		}
		done[(*ndone)++] = rows[idx[j]].id;
	}
	return failed;
}

/*
 * One pass over the queue; returns the number of failures. Each batch
 * of rows costs one request per OST (destroy_ost); an OST that fails is
 * skipped for the rest of the pass, so a dead OSS costs one attempt per
 * pass, not one per queued object. The rows of destroyed objects are
 * removed in one transaction per batch.
 */
static int
destroy_pass(struct mds_dthr *m)
{
	struct mds_destroy rows[DESTROY_BATCH];
	int64_t done[DESTROY_BATCH];
	uint32_t down[DESTROY_DOWN_MAX], seen[DESTROY_BATCH];
	int64_t after = 0;
	int n, ndone, ndown = 0, nseen, failed = 0, f;

	do {
		n = mds_destroy_next(m->ns, after, rows, DESTROY_BATCH);
		if (n < 0)
			return 1;
		ndone = 0;
		nseen = 0;
		for (int i = 0; i < n; i++) {
			uint32_t ost = rows[i].ost;

			after = rows[i].id;
			if (ost_in(seen, nseen, ost))
				continue;
			seen[nseen++] = ost;
			if (ost_in(down, ndown, ost)) {
				for (int j = i; j < n; j++)
					failed += rows[j].ost == ost;
				continue;	/* unreachable in this pass */
			}
			f = destroy_ost(m, rows, n, ost, done, &ndone);
			failed += f;
			if (f > 0 && ndown < DESTROY_DOWN_MAX)
				down[ndown++] = ost;
			pthread_mutex_lock(&m->lock);
			if (m->stop)
				n = 0;
			pthread_mutex_unlock(&m->lock);
		}
		if (mds_destroy_done_many(m->ns, done, ndone) < 0)
			failed += ndone;
		else
			atomic_fetch_add(&m->destroyed, (uint64_t)ndone);
	} while (n == DESTROY_BATCH);
	return failed;
}

/*
 * Wake on a kick (a commit queued objects; mds_srv_new kicks once for
 * what the last run left) or, while objects are left (an OST down),
 * every DESTROY_RETRY_S: with nothing left an idle MDS has no timer here
 * (issue 14's idle scale).
 * After a kick it waits DESTROY_COALESCE_MS more, so that a burst of
 * unlinks is drained in a few passes instead of one pass (and one
 * transaction) per unlink: destruction never runs in a request's path
 * and never competes with each request. After a pass that left failures
 * (an OST down), kicks are ignored until the retry time, so queued rows
 * are not rescanned after every unlink.
 */
static void *
destroy_main(void *arg)
{
	struct mds_dthr *m = arg;
	struct timespec until;
	int failed = 0;

	for (;;) {
		pthread_mutex_lock(&m->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += DESTROY_RETRY_S;
		while (!m->stop && (failed > 0 || !m->kick)) {
			if (failed == 0)
				pthread_cond_wait(&m->cond, &m->lock);
			else if (pthread_cond_timedwait(&m->cond, &m->lock,
			    &until) != 0)
				break;
		}
		if (!m->stop && m->kick && failed == 0) {
			/* later kicks do not signal until dkick is cleared */
			clock_gettime(CLOCK_REALTIME, &until);
			timespec_add_ms(&until, DESTROY_COALESCE_MS);
			while (!m->stop && pthread_cond_timedwait(&m->cond,
			    &m->lock, &until) == 0)
				;
		}
		if (m->stop) {
			pthread_mutex_unlock(&m->lock);
			break;
		}
		atomic_store(&m->kick, 0);
		pthread_mutex_unlock(&m->lock);
		failed = destroy_pass(m);
		if (failed > 0)
			log_debug("mds: %d objects left to destroy", failed);
	}
	return NULL;
}

int
mds_dthr_start(struct mds_ns *ns, struct mds_osts *osts, struct mds_dthr **out)
{
	struct mds_dthr *m = xcalloc(1, sizeof(*m));
	int rc;

	*out = NULL;
	m->ns = ns;
	m->osts = osts;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	mds_destroy_set_hook(ns, destroy_kick, m);
	rc = pthread_create(&m->thr, NULL, destroy_main, m);
	if (rc != 0) {
		mds_destroy_set_hook(ns, NULL, NULL);
		pthread_cond_destroy(&m->cond);
		pthread_mutex_destroy(&m->lock);
		free(m);
		return -rc;
	}
	destroy_kick(m);	/* drain what the last run left */
	*out = m;
	return 0;
}

void
mds_dthr_stop(struct mds_dthr *m)
{
	if (m == NULL)
		return;
	mds_destroy_set_hook(m->ns, NULL, NULL);
	pthread_mutex_lock(&m->lock);
	m->stop = 1;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thr, NULL);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

uint64_t
mds_dthr_destroyed(struct mds_dthr *m)
{
	return m != NULL ? atomic_load(&m->destroyed) : 0;
}
