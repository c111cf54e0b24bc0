/*
 * The MDS store's destroy queue (table destroy): objects to remove from the
 * OSTs, queued in the transaction that made them garbage (an unlink, a
 * truncating SETLAYOUT), drained by mds_srv's destroy thread.
 *
 * Contract: a row leaves the queue only by mds_destroy_done*() after its
 * OSS confirmed (ENOENT counts); the hook runs after a commit that queued
 * rows, under the store lock, and must only signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "mds/mds_int.h"

/* Four objects a statement (a 4-stripe file is one INSERT), the rest one
 * each; ids are handed out in order, so a file's rows stay one run. */
int
mds_destroy_queue(struct mds_ns *ns, const struct mds_layout *l)
{
	uint32_t k = 0;
	int rc;

	while (k < l->hdr.nent) {
		int n = l->hdr.nent - k >= 4 ? 4 : 1;
		sqlite3_stmt *s = mds_tx_st(ns, n == 4 ? Q_DESTROY_INS4 :
		    Q_DESTROY_INS);

		for (int j = 0; j < n; j++, k++) {
			sqlite3_bind_int64(s, 2 * j + 1, l->ent[k].ost);
			sqlite3_bind_int64(s, 2 * j + 2,
			    (int64_t)l->ent[k].oid);
		}
		rc = mds_tx_exec(ns, s);
		if (rc < 0)
			return rc;
		ns->tx_queued = 1;
	}
	return 0;
}

/* ---- destroy queue ---- */

int
mds_destroy_next(struct mds_ns *ns, int64_t after,
    struct mds_destroy *rows, int max)
{
	sqlite3_stmt *s;
	int n = 0, step, rc = 0;

	mds_tx_rlock(ns);
	s = mds_tx_st(ns, Q_DESTROY_NEXT);
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int(s, 2, max);
	while (n < max) {
		step = sqlite3_step(s);
		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = mds_tx_errno(step);
			break;
		}
		rows[n].id = sqlite3_column_int64(s, 0);
		rows[n].ost = (uint32_t)sqlite3_column_int64(s, 1);
		rows[n].oid = (uint64_t)sqlite3_column_int64(s, 2);
		n++;
	}
	sqlite3_reset(s);
	pthread_mutex_unlock(&ns->lock);
	return rc < 0 ? rc : n;
}

static int
id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * The ids are sorted and each run of consecutive ids (a batch of
 * destroyed objects usually is one: ids are handed out in order) goes
 * with one DELETE of the range, not one per row. Only ids that are all
 * in the list make a run, so a row left in the queue (its OST down)
 * between two done ones is never deleted.
 */
int
mds_destroy_done_many(struct mds_ns *ns, const int64_t *ids, int n)
{
	int64_t *v;
	sqlite3_stmt *s;
	int rc, i, j;

	if (n <= 0)
		return 0;
	v = malloc((size_t)n * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	memcpy(v, ids, (size_t)n * sizeof(*v));
	qsort(v, (size_t)n, sizeof(*v), id_cmp);
	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
	if (rc < 0)
		goto out;
	for (i = 0; i < n && rc == 0; i = j) {
		for (j = i + 1; j < n && v[j] <= v[j - 1] + 1; j++)
			;
		s = mds_tx_st(ns, Q_DESTROY_DEL);
		sqlite3_bind_int64(s, 1, v[i]);
		sqlite3_bind_int64(s, 2, v[j - 1]);
		rc = mds_tx_exec(ns, s);
	}
	rc = mds_tx_end(ns, rc);
out:
	rc = mds_tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	free(v);
	return rc;
}

int
mds_destroy_done(struct mds_ns *ns, int64_t id)
{
	return mds_destroy_done_many(ns, &id, 1);
}

uint64_t
mds_destroy_pending(struct mds_ns *ns)
{
	return mds_ns_count_now(ns, "SELECT count(*) FROM destroy");
}

void
mds_destroy_set_hook(struct mds_ns *ns, void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&ns->lock);
	ns->destroy_hook = fn;
	ns->destroy_arg = arg;
	pthread_mutex_unlock(&ns->lock);
}
