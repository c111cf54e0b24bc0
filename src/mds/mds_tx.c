/*
 * The MDS store's transactions (see mds_int.h for who may call what):
 * the SQLite glue (statements, errno mapping), the store lock, group
 * commit, the id ranges that live and die with a transaction, and the
 * checkpointer thread.
 *
 * Contract:
 *  1. A writer takes mds_tx_wlock(), runs mds_tx_begin() .. mds_tx_end()
 *     around its statements and ends with mds_tx_sync(), which commits (or
 *     joins the group commit of concurrent writers) before it returns: a
 *     change acknowledged to a client survives kill -9.
 *  2. A reader takes mds_tx_rlock(): it waits until no batch is open, so
 *     it reads only committed state.
 *  3. A rolled back request forgets every cached id range, so an id is
 *     never handed out twice (mds_ns.c, design note 3).
 *  4. Checkpoints run on their own connection and thread, so their fsyncs
 *     never delay a request.
 *  5. A batch that failed tells each of its requests why (the commit's
 *     errno); a request that sees ENOSPC may free the space reserve and
 *     run once more (unlink, rmdir: removals never answer ENOSPC while
 *     the reserve lasts). The checkpointer allocates it again.
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
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "mds/mds_int.h"
#include "mds/mds_reply.h"

/* ---- SQLite glue ---- */

int
mds_tx_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_TOOBIG:
		return -E2BIG;
	case SQLITE_READONLY:
		return -EROFS;
	default:
		return -EIO;
	}
}

sqlite3_stmt *
mds_tx_st(struct mds_ns *ns, enum q q)
{
	sqlite3_stmt *s = ns->st[q];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Step a statement that returns no rows, then reset it. */
int
mds_tx_exec(struct mds_ns *ns, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_warn("mds_ns: %s: %s", sqlite3_sql(s),
		    sqlite3_errmsg(ns->db));
		return mds_tx_errno(rc);
	}
	return 0;
}

/* Step a statement expected to return a row: 1 row, 0 none, or -errno. */
int
mds_tx_row(struct mds_ns *ns, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	log_warn("mds_ns: %s: %s", sqlite3_sql(s), sqlite3_errmsg(ns->db));
	return mds_tx_errno(rc);
}

static void
ranges_forget(struct mds_ns *ns)
{
	ns->inos.valid = 0;
	for (unsigned i = 0; i < ns->noids; i++)
		ns->oids[i].valid = 0;
}

/*
 * Group commit. A mutating request runs in a SAVEPOINT inside the current
 * batch transaction (mds_tx_begin/mds_tx_end: a failed request rolls back only
 * itself). Then mds_tx_sync(): if no other mutating request is waiting for
 * the lock (or the batch is full), it commits the batch and wakes the
 * requests that were in it; otherwise it leaves the batch open for the
 * next one and waits for that commit. Either way a request returns only
 * after its changes are committed. Invariant: while a batch is open, a
 * counted waiter (ns->waiters) exists and will reach mds_tx_sync().
 *
 * The request that opens a batch (one client alone: every request) needs
 * no SAVEPOINT: nothing precedes it in the transaction, so rolling it back
 * is ROLLBACK and BEGIN again, which leaves the same empty open batch as
 * ROLLBACK TO would. Its statements then skip the savepoint's journal of
 * each page they change (a copy of every page, and two statements, per
 * request).
 */
void
mds_tx_wlock(struct mds_ns *ns)
{
	atomic_fetch_add(&ns->waiters, 1);
	pthread_mutex_lock(&ns->lock);
	atomic_fetch_sub(&ns->waiters, 1);
}

/*
 * Readers take the lock once no batch is open, so they only ever see
 * committed state: a lookup never returns a file whose create could still
 * be lost, and the destroy thread never sees the queued objects of an
 * unlink that could still roll back. A reader is not a counted waiter:
 * the batch commits without it.
 */
void
mds_tx_rlock(struct mds_ns *ns)
{
	pthread_mutex_lock(&ns->lock);
	while (ns->in_tx)
		pthread_cond_wait(&ns->commit_cond, &ns->lock);
}

int
mds_tx_begin(struct mds_ns *ns)
{
	int rc;

	ns->files_delta = 0;
	ns->tx_queued = 0;
	ns->tx_first = 0;
	if (!ns->in_tx) {
		rc = mds_tx_exec(ns, mds_tx_st(ns, Q_BEGIN));
		if (rc < 0)
			return rc;
		ns->in_tx = 1;
		ns->tx_first = 1;
		ns->batch++;
		ns->batch_ops = 0;
		ns->batch_delta = 0;
		ns->batch_queued = 0;
		return 0;
	}
	return mds_tx_exec(ns, mds_tx_st(ns, Q_SAVEPOINT));
}

/* Undo the current request: its savepoint, or (it opened the batch) the
 * whole transaction, then an empty one again. */
static void
tx_undo(struct mds_ns *ns)
{
	if (!ns->tx_first) {
		mds_tx_exec(ns, mds_tx_st(ns, Q_ROLLBACK_TO));
		mds_tx_exec(ns, mds_tx_st(ns, Q_RELEASE));
		return;
	}
	if (!sqlite3_get_autocommit(ns->db))	/* else SQLite did */
		mds_tx_exec(ns, mds_tx_st(ns, Q_ROLLBACK));
	if (mds_tx_exec(ns, mds_tx_st(ns, Q_BEGIN)) < 0) {
		ns->in_tx = 0;		/* nothing to commit: none waits */
		ns->committed = ns->batch;
		pthread_cond_broadcast(&ns->commit_cond);
	}
}

int
mds_tx_end(struct mds_ns *ns, int rc)
{
	if (rc == 0)	/* a resend must find the change's record with it */
		rc = mds_reply_note(ns);
	if (rc == 0 && !ns->tx_first)
		rc = mds_tx_exec(ns, mds_tx_st(ns, Q_RELEASE));
	if (rc < 0) {
		tx_undo(ns);
		ranges_forget(ns);
		ns->files_delta = 0;
		ns->tx_queued = 0;
		ns->tx_first = 0;
		return rc;
	}
	ns->batch_ops++;
	ns->batch_delta += ns->files_delta;
	ns->batch_queued |= ns->tx_queued;
	ns->files_delta = 0;
	ns->tx_queued = 0;
	ns->tx_first = 0;
	return rc;
}

/* Why batch failed (a negative errno), or 0 if it did not. */
static int
batch_failed(struct mds_ns *ns, uint64_t batch)
{
	for (int i = 0; i < FAILED_RING; i++)
		if (ns->failed[i] == batch)
			return ns->failed_rc[i];
	return 0;
}

static void	mds_tx_ckpt_kick(struct mds_ns *ns);

int
mds_tx_sync(struct mds_ns *ns, int rc)
{
	uint64_t mine = ns->batch;
	int crc;

	if (!ns->in_tx)
		return rc;
	if (atomic_load(&ns->waiters) > 0 && ns->batch_ops < BATCH_MAX) {
		while (ns->committed < mine)
			pthread_cond_wait(&ns->commit_cond, &ns->lock);
		if (rc == 0 && (crc = batch_failed(ns, mine)) < 0) {
			mds_reply_note_lost();
			rc = crc;
		}
		return rc;
	}
	crc = mds_tx_exec(ns, mds_tx_st(ns, Q_COMMIT));
	if (crc == 0)
		crc = mds_vfs_flush(ns->db);	/* the VFS did it at the sync */
	if (crc < 0) {
		log_err("mds_ns: commit: %s", strerror(-crc));
		if (!sqlite3_get_autocommit(ns->db))	/* else SQLite did */
			mds_tx_exec(ns, mds_tx_st(ns, Q_ROLLBACK));
		ranges_forget(ns);
		mds_reply_note_lost();
		ns->failed_rc[ns->nfailed % FAILED_RING] = crc == -ENOSPC ?
		    -ENOSPC : -EIO;
		ns->failed[ns->nfailed++ % FAILED_RING] = mine;
		if (rc == 0)
			rc = crc;
	} else {
		ns->files += ns->batch_delta;
		if (!atomic_exchange(&ns->ckdirty, 1))	/* wake the checkpointer */
			mds_tx_ckpt_kick(ns);
		if (ns->batch_queued && ns->destroy_hook != NULL)
			ns->destroy_hook(ns->destroy_arg);
	}
	ns->in_tx = 0;
	ns->committed = mine;
	pthread_cond_broadcast(&ns->commit_cond);
	return rc;
}

/* ---- counters: inode numbers and object ids ---- */

static int
range_alloc(struct mds_ns *ns, struct idrange *r, const char *name,
    uint64_t first, uint64_t *out)
{
	sqlite3_stmt *s;
	int rc;

	if (!r->valid) {
		s = mds_tx_st(ns, Q_CTR_GET);
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		rc = mds_tx_row(ns, s);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			r->next = (uint64_t)sqlite3_column_int64(s, 0);
			sqlite3_reset(s);
		} else
			r->next = first;
		if (r->next < first)
			r->next = first;
		r->end = r->next;
		r->valid = 1;
	}
	if (r->next >= r->end) {
		if (r->end > INT64_MAX - MDS_OID_BATCH)
			return -ENOSPC;
		s = mds_tx_st(ns, Q_CTR_SET);
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (int64_t)(r->end + MDS_OID_BATCH));
		rc = mds_tx_exec(ns, s);
		if (rc < 0)
			return rc;
		r->end += MDS_OID_BATCH;
	}
	*out = r->next++;
	return 0;
}

int
mds_tx_ino_alloc(struct mds_ns *ns, uint64_t *ino)
{
	return range_alloc(ns, &ns->inos, "ino", MDS_ROOT_INO + 1, ino);
}

int
mds_tx_oid_alloc(struct mds_ns *ns, uint32_t ost, uint64_t *oid)
{
	struct idrange *r = NULL;
	char name[32];

	for (unsigned i = 0; i < ns->noids; i++)
		if (ns->oids[i].ost == ost)
			r = &ns->oids[i];
	if (r == NULL) {
		struct idrange *n;

		n = realloc(ns->oids, (ns->noids + 1) * sizeof(*n));
		if (n == NULL)
			return -ENOMEM;
		ns->oids = n;
		r = &ns->oids[ns->noids++];
		memset(r, 0, sizeof(*r));
		r->ost = ost;
	}
	snprintf(name, sizeof(name), "ost.%u", ost);
	return range_alloc(ns, r, name, 1, oid);
}

/*
 * Checkpoints run in their own thread on their own connection, so the
 * fsyncs they need never delay a request: the request path only appends
 * to the WAL (a commit reaches the kernel, see mds_vfs.h). The request
 * connection checkpoints (and restarts the WAL) only when the WAL
 * outgrows 65536 pages, and then only copies what was appended since the
 * checkpointer's last pass. Idle (no commit since the last pass) the
 * thread sleeps without a timer; the first commit after a pass wakes it
 * (ckdirty goes 0 -> 1), and it checkpoints 200 ms later.
 */
/* ---- the space reserve (contract 5) ---- */

/* Allocate the reserve (again): 0, or -errno with the reserve left out. */
static int
reserve_alloc(struct mds_ns *ns)
{
	int rc = posix_fallocate(ns->rsv_fd, 0, MDS_RESERVE_BYTES);

	ns->rsv_out = rc != 0;
	return -rc;
}

void
mds_tx_reserve_open(struct mds_ns *ns, const char *dir)
{
	char *path = xasprintf("%s/mds.reserve", dir);

	ns->rsv_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (ns->rsv_fd < 0)
		log_warn("mds_ns: %s: %s (no space reserve)", path,
		    strerror(errno));
	else if (reserve_alloc(ns) < 0)
		log_warn("mds_ns: %s: cannot allocate %d bytes", path,
		    MDS_RESERVE_BYTES);
	free(path);
}

void
mds_tx_reserve_close(struct mds_ns *ns)
{
	if (ns->rsv_fd >= 0)
		close(ns->rsv_fd);
	ns->rsv_fd = -1;
}

int
mds_tx_reserve_release(struct mds_ns *ns)
{
	int freed = 0, rc;

	pthread_mutex_lock(&ns->rsv_mu);
	if (ns->rsv_fd >= 0 && !ns->rsv_out && ftruncate(ns->rsv_fd, 0) == 0) {
		ns->rsv_out = 1;
		freed = 1;
		log_warn("mds_ns: the disk is full: space reserve freed");
	}
	pthread_mutex_unlock(&ns->rsv_mu);
	/* and the WAL's own space: checkpointed whole, it is truncated */
	mds_tx_rlock(ns);
	rc = sqlite3_wal_checkpoint_v2(ns->db, NULL,
	    SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	pthread_mutex_unlock(&ns->lock);
	return freed || rc == SQLITE_OK;
}

/* After a checkpoint: the reserve again, if it was freed and the disk
 * has room for it three times over (a nearly full disk keeps the space
 * for the removals that need it). */
static void
reserve_rearm(struct mds_ns *ns)
{
	struct statvfs sv;

	pthread_mutex_lock(&ns->rsv_mu);
	if (ns->rsv_fd >= 0 && ns->rsv_out && fstatvfs(ns->rsv_fd, &sv) == 0 &&
	    (uint64_t)sv.f_bavail * sv.f_frsize >= 3ull * MDS_RESERVE_BYTES &&
	    reserve_alloc(ns) == 0)
		log_info("mds_ns: space reserve allocated again");
	pthread_mutex_unlock(&ns->rsv_mu);
}

static void
mds_tx_ckpt_kick(struct mds_ns *ns)
{
	pthread_mutex_lock(&ns->cklock);
	pthread_cond_signal(&ns->ckcond);
	pthread_mutex_unlock(&ns->cklock);
}

static void *
ckpt_main(void *arg)
{
	struct mds_ns *ns = arg;
	struct timespec until;
	int stop = 0;

	while (!stop) {
		pthread_mutex_lock(&ns->cklock);
		while (!ns->ckstop && !atomic_load(&ns->ckdirty))
			pthread_cond_wait(&ns->ckcond, &ns->cklock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		if (!ns->ckstop)
			pthread_cond_timedwait(&ns->ckcond, &ns->cklock,
			    &until);
		stop = ns->ckstop;
		pthread_mutex_unlock(&ns->cklock);
		atomic_store(&ns->ckdirty, 0);	/* what is committed now is in */
		(void)sqlite3_wal_checkpoint_v2(ns->ckdb, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		reserve_rearm(ns);
	}
	return NULL;
}

int
mds_tx_ckpt_start(struct mds_ns *ns, const char *path)
{
	int rc;

	rc = sqlite3_open_v2(path, &ns->ckdb, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NS_VFS);
	if (rc != SQLITE_OK) {
		log_err("mds_ns: checkpointer: %s", ns->ckdb ?
		    sqlite3_errmsg(ns->ckdb) : "out of memory");
		return mds_tx_errno(rc) ? mds_tx_errno(rc) : -EIO;
	}
	sqlite3_busy_timeout(ns->ckdb, 1000);
	rc = sqlite3_exec(ns->ckdb, "PRAGMA synchronous = FULL;"
	    "PRAGMA checkpoint_fullfsync = ON;", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_err("mds_ns: checkpointer: %s", sqlite3_errmsg(ns->ckdb));
		return mds_tx_errno(rc) ? mds_tx_errno(rc) : -EIO;
	}
	/* A connection learns the database is in WAL mode (and opens the
	 * WAL) at its first read: until then a checkpoint does nothing. */
	rc = sqlite3_exec(ns->ckdb, "SELECT count(*) FROM sqlite_master",
	    NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_err("mds_ns: checkpointer: %s", sqlite3_errmsg(ns->ckdb));
		return mds_tx_errno(rc) ? mds_tx_errno(rc) : -EIO;
	}
	rc = pthread_create(&ns->ckthr, NULL, ckpt_main, ns);
	if (rc != 0)
		return -rc;
	ns->ckthr_started = 1;
	return 0;
}
