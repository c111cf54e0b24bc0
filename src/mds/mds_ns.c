/*
 * The MDS namespace store (see mds_ns.h for the contract).
 *
 * Design notes:
 *
 *  1. One SQLite connection, one mutex (ns->lock). Every public function
 *     takes the lock, runs BEGIN IMMEDIATE .. COMMIT and releases it. A
 *     failed step rolls the whole request back.
 *  2. Tables: inode (one row per inode, the layout blob and symlink target
 *     inline), dentry (parent, name) -> ino with a per-directory entry
 *     sequence number `seq` that is the readdir cookie, xattr, destroy (the
 *     durable queue of objects to destroy on the OSTs), counter (reserved
 *     ends of the inode and per-OST object id ranges), ost (the OST map
 *     as OSTADD and SETCAP left it; the MDS's only record of its OSTs).
 *  3. Inode numbers and object ids are handed out from ranges reserved in
 *     `counter` MDS_OID_BATCH at a time, in the transaction of the request
 *     that needed them. A rolled back request forgets every cached range,
 *     so the next allocation starts past the reserved end read back from the
 *     database: an id is never handed out twice, even across restarts.
 *  4. Readdir cookies: 1 is ".", 2 is "..", entries use seq >= 3, increasing
 *     per directory (inode.dseq holds the last one). A listing resumes after
 *     the cookie, so entries added meanwhile come after it, each entry is
 *     returned once, and deletions never shift anything.
 *  5. Open handles are in memory (struct ofile per open inode, struct
 *     ohandle per handle). An inode whose last link goes while it is open
 *     stays with nlink 0 and is destroyed at its last close, or when the
 *     store is next opened.
 *  6. Layout blobs are native-endian struct msg_layout + entries (the wire
 *     format on the little-endian hosts we support); they are validated each
 *     time they are read back (mds_layout_decode).
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
#include "mds/mds_ns.h"
#include "mds/mds_vfs.h"

#define OHASH_SIZE	4096
#define XATTR_TOTAL_MAX	(1024 * 1024)	/* names + values per inode */
#define BATCH_MAX	128		/* requests per group commit */
#define FAILED_RING	16

/*
 * The store is private to one fsx-mds process: its VFS (mds_vfs.h) is
 * "unix-excl", which takes one exclusive lock on the database file for the
 * life of the process and keeps the WAL index in heap memory shared by
 * this process's connections, so transactions need no fcntl() lock calls
 * (8 per commit, 4 per read otherwise) and no -shm file; a second process
 * opening the same store fails with SQLITE_BUSY. On top of it the WAL
 * frames of a commit are written with one pwrite() (not two per page).
 */
#define NS_VFS		MDS_VFS_NAME

struct mds_ino {
	uint64_t	ino;
	uint32_t	mode;
	uint32_t	uid;
	uint32_t	gid;
	uint32_t	nlink;
	uint64_t	size;
	uint64_t	rdev;
	struct timespec	at, mt, ct;
	uint64_t	gen;
	uint64_t	parent;		/* dirs: the parent directory */
	uint64_t	dseq;		/* dirs: last entry sequence number */
	int		written;	/* regular: data ever written */
};

struct ofile {
	uint64_t	ino;
	uint32_t	opens;
	uint32_t	writers;
	uint32_t	trunc_gen;
	struct timespec	mt_set;		/* last SETATTR of mtime or size */
	int		at_set;		/* atime SETATTR while open */
	struct ofile	*next;
};

struct ohandle {
	uint64_t	handle;
	uint64_t	owner;
	uint64_t	ino;
	uint32_t	flags;
	uint32_t	trunc_gen;
	struct ohandle	*next;
};

struct idrange {
	uint32_t	ost;
	int		valid;
	uint64_t	next;
	uint64_t	end;
};

enum q {
	Q_INO_GET,
	Q_INO_INS,
	Q_INO_UPD,
	Q_INO_DEL,
	Q_LAYOUT_GET,
	Q_LAYOUT_SET,
	Q_TARGET_GET,
	Q_DENT_GET,
	Q_DENT_INS,
	Q_DENT_DEL,
	Q_DENT_UPD,
	Q_DENT_ANY,
	Q_DENT_LIST,
	Q_XA_GET,
	Q_XA_SET,
	Q_XA_DEL,
	Q_XA_DELALL,
	Q_XA_LIST,
	Q_XA_TOTAL,
	Q_DESTROY_INS,
	Q_DESTROY_NEXT,
	Q_DESTROY_DEL,
	Q_CTR_GET,
	Q_CTR_SET,
	Q_OST_PUT,
	Q_OST_SETCAP,
	Q_OST_LIST,
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_SAVEPOINT,
	Q_RELEASE,
	Q_ROLLBACK_TO,
	Q_MAX
};

static const char *const q_sql[Q_MAX] = {
	[Q_INO_GET] = "SELECT mode, uid, gid, nlink, size, rdev, atime_s, "
	    "atime_ns, mtime_s, mtime_ns, ctime_s, ctime_ns, gen, parent, "
	    "dseq, written FROM inode WHERE ino = ?1",
	[Q_INO_INS] = "INSERT INTO inode (ino, mode, uid, gid, nlink, size, "
	    "rdev, atime_s, atime_ns, mtime_s, mtime_ns, ctime_s, ctime_ns, "
	    "gen, parent, dseq, written, target, layout) VALUES (?1, ?2, ?3, "
	    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
	    "?18, ?19)",
	[Q_INO_UPD] = "UPDATE inode SET mode = ?2, uid = ?3, gid = ?4, "
	    "nlink = ?5, size = ?6, rdev = ?7, atime_s = ?8, atime_ns = ?9, "
	    "mtime_s = ?10, mtime_ns = ?11, ctime_s = ?12, ctime_ns = ?13, "
	    "gen = ?14, parent = ?15, dseq = ?16, written = ?17 "
	    "WHERE ino = ?1",
	[Q_INO_DEL] = "DELETE FROM inode WHERE ino = ?1",
	[Q_LAYOUT_GET] = "SELECT layout FROM inode WHERE ino = ?1",
	[Q_LAYOUT_SET] = "UPDATE inode SET layout = ?2 WHERE ino = ?1",
	[Q_TARGET_GET] = "SELECT target FROM inode WHERE ino = ?1",
	[Q_DENT_GET] = "SELECT ino FROM dentry WHERE parent = ?1 AND name = ?2",
	[Q_DENT_INS] = "INSERT INTO dentry (parent, name, ino, seq, type) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_DENT_DEL] = "DELETE FROM dentry WHERE parent = ?1 AND name = ?2",
	[Q_DENT_UPD] = "UPDATE dentry SET ino = ?3, type = ?4 "
	    "WHERE parent = ?1 AND name = ?2",
	[Q_DENT_ANY] = "SELECT 1 FROM dentry WHERE parent = ?1 LIMIT 1",
	[Q_DENT_LIST] = "SELECT name, ino, seq, type FROM dentry "
	    "WHERE parent = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
	[Q_XA_GET] = "SELECT value FROM xattr WHERE ino = ?1 AND name = ?2",
	[Q_XA_SET] = "INSERT OR REPLACE INTO xattr (ino, name, value) "
	    "VALUES (?1, ?2, ?3)",
	[Q_XA_DEL] = "DELETE FROM xattr WHERE ino = ?1 AND name = ?2",
	[Q_XA_DELALL] = "DELETE FROM xattr WHERE ino = ?1",
	[Q_XA_LIST] = "SELECT name FROM xattr WHERE ino = ?1 ORDER BY name",
	[Q_XA_TOTAL] = "SELECT coalesce(sum(length(name) + length(value)), 0) "
	    "FROM xattr WHERE ino = ?1 AND name <> ?2",
	[Q_DESTROY_INS] = "INSERT INTO destroy (ost, oid) VALUES (?1, ?2)",
	[Q_DESTROY_NEXT] = "SELECT id, ost, oid FROM destroy WHERE id > ?1 "
	    "ORDER BY id LIMIT ?2",
	[Q_DESTROY_DEL] = "DELETE FROM destroy WHERE id = ?1",
	[Q_CTR_GET] = "SELECT reserved FROM counter WHERE name = ?1",
	[Q_CTR_SET] = "INSERT OR REPLACE INTO counter (name, reserved) "
	    "VALUES (?1, ?2)",
	[Q_OST_PUT] = "INSERT INTO ost (idx, host, port, capacity) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (idx) DO UPDATE SET "
	    "host = ?2, port = ?3, capacity = ?4",
	[Q_OST_SETCAP] = "UPDATE ost SET capacity = ?2 WHERE idx = ?1",
	[Q_OST_LIST] = "SELECT idx, host, port, capacity FROM ost "
	    "ORDER BY idx",
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SAVEPOINT] = "SAVEPOINT op",
	[Q_RELEASE] = "RELEASE op",
	[Q_ROLLBACK_TO] = "ROLLBACK TO op",
};

/* The store's schema: it lives here because the MDS database is private to
 * fsx-mds (fsxd's migrations/ do not apply to it). */
static const char ns_schema[] =
	"CREATE TABLE IF NOT EXISTS inode ("
	" ino INTEGER PRIMARY KEY, mode INTEGER NOT NULL,"
	" uid INTEGER NOT NULL, gid INTEGER NOT NULL, nlink INTEGER NOT NULL,"
	" size INTEGER NOT NULL, rdev INTEGER NOT NULL,"
	" atime_s INTEGER NOT NULL, atime_ns INTEGER NOT NULL,"
	" mtime_s INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,"
	" ctime_s INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,"
	" gen INTEGER NOT NULL, parent INTEGER NOT NULL,"
	" dseq INTEGER NOT NULL, written INTEGER NOT NULL,"
	" target BLOB, layout BLOB);"
	"CREATE INDEX IF NOT EXISTS inode_orphan ON inode (nlink)"
	" WHERE nlink = 0;"
	"CREATE TABLE IF NOT EXISTS dentry ("
	" parent INTEGER NOT NULL, name BLOB NOT NULL, ino INTEGER NOT NULL,"
	" seq INTEGER NOT NULL, type INTEGER NOT NULL,"
	" PRIMARY KEY (parent, name)) WITHOUT ROWID;"
	"CREATE UNIQUE INDEX IF NOT EXISTS dentry_seq ON dentry (parent, seq);"
	"CREATE TABLE IF NOT EXISTS xattr ("
	" ino INTEGER NOT NULL, name BLOB NOT NULL, value BLOB NOT NULL,"
	" PRIMARY KEY (ino, name)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS destroy ("
	" id INTEGER PRIMARY KEY, ost INTEGER NOT NULL, oid INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS counter ("
	" name TEXT PRIMARY KEY, reserved INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS ost ("
	" idx INTEGER PRIMARY KEY, host TEXT NOT NULL, port INTEGER NOT NULL,"
	" capacity INTEGER NOT NULL);";

struct mds_ns {
	pthread_mutex_t	 lock;
	sqlite3		*db;
	sqlite3_stmt	*st[Q_MAX];

	struct idrange	 inos;
	struct idrange	*oids;		/* one per OST ever used */
	unsigned	 noids;

	uint32_t	*pool;		/* OSTs for new layouts, sorted */
	unsigned	 npool;
	unsigned	 rr;		/* round-robin start */

	uint64_t	 files;		/* inode count */
	int64_t		 files_delta;	/* in the current request */
	int		 tx_queued;	/* destroy rows added by it */

	/* group commit */
	atomic_int	 waiters;	/* mutating requests wanting the lock */
	int		 in_tx;		/* a batch is open */
	uint64_t	 batch;		/* current (or last) batch number */
	uint64_t	 committed;	/* last batch ended */
	int		 batch_ops;
	int64_t		 batch_delta;
	int		 batch_queued;
	uint64_t	 failed[FAILED_RING];
	unsigned	 nfailed;
	pthread_cond_t	 commit_cond;
	void		(*destroy_hook)(void *);
	void		*destroy_arg;

	sqlite3		*ckdb;		/* the checkpointer's connection */
	pthread_t	 ckthr;
	int		 ckthr_started;
	int		 ckstop;
	pthread_mutex_t	 cklock;
	pthread_cond_t	 ckcond;

	struct ofile	*ofiles[OHASH_SIZE];
	struct ohandle	*handles[OHASH_SIZE];
	uint64_t	 handle_next;
};

/* ---- SQLite glue ---- */

static int
sql_errno(int rc)
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

static sqlite3_stmt *
st(struct mds_ns *ns, enum q q)
{
	sqlite3_stmt *s = ns->st[q];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Step a statement that returns no rows, then reset it. */
static int
st_exec(struct mds_ns *ns, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_warn("mds_ns: %s: %s", sqlite3_sql(s),
		    sqlite3_errmsg(ns->db));
		return sql_errno(rc);
	}
	return 0;
}

/* Step a statement expected to return a row: 1 row, 0 none, or -errno. */
static int
st_row(struct mds_ns *ns, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	log_warn("mds_ns: %s: %s", sqlite3_sql(s), sqlite3_errmsg(ns->db));
	return sql_errno(rc);
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
 * batch transaction (tx_begin/tx_end: a failed request rolls back only
 * itself). Then tx_sync(): if no other mutating request is waiting for
 * the lock (or the batch is full), it commits the batch and wakes the
 * requests that were in it; otherwise it leaves the batch open for the
 * next one and waits for that commit. Either way a request returns only
 * after its changes are committed. Invariant: while a batch is open, a
 * counted waiter (ns->waiters) exists and will reach tx_sync().
 */
static void
ns_wlock(struct mds_ns *ns)
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
static void
ns_rlock(struct mds_ns *ns)
{
	pthread_mutex_lock(&ns->lock);
	while (ns->in_tx)
		pthread_cond_wait(&ns->commit_cond, &ns->lock);
}

static int
tx_begin(struct mds_ns *ns)
{
	int rc;

	if (!ns->in_tx) {
		rc = st_exec(ns, st(ns, Q_BEGIN));
		if (rc < 0)
			return rc;
		ns->in_tx = 1;
		ns->batch++;
		ns->batch_ops = 0;
		ns->batch_delta = 0;
		ns->batch_queued = 0;
	}
	ns->files_delta = 0;
	ns->tx_queued = 0;
	return st_exec(ns, st(ns, Q_SAVEPOINT));
}

static int
tx_end(struct mds_ns *ns, int rc)
{
	if (rc == 0)
		rc = st_exec(ns, st(ns, Q_RELEASE));
	if (rc < 0) {
		st_exec(ns, st(ns, Q_ROLLBACK_TO));
		st_exec(ns, st(ns, Q_RELEASE));
		ranges_forget(ns);
		ns->files_delta = 0;
		ns->tx_queued = 0;
		return rc;
	}
	ns->batch_ops++;
	ns->batch_delta += ns->files_delta;
	ns->batch_queued |= ns->tx_queued;
	ns->files_delta = 0;
	ns->tx_queued = 0;
	return rc;
}

static int
batch_failed(struct mds_ns *ns, uint64_t batch)
{
	for (int i = 0; i < FAILED_RING; i++)
		if (ns->failed[i] == batch)
			return 1;
	return 0;
}

static int
tx_sync(struct mds_ns *ns, int rc)
{
	uint64_t mine = ns->batch;
	int crc;

	if (!ns->in_tx)
		return rc;
	if (atomic_load(&ns->waiters) > 0 && ns->batch_ops < BATCH_MAX) {
		while (ns->committed < mine)
			pthread_cond_wait(&ns->commit_cond, &ns->lock);
		if (rc == 0 && batch_failed(ns, mine))
			rc = -EIO;
		return rc;
	}
	crc = st_exec(ns, st(ns, Q_COMMIT));
	if (crc == 0)
		crc = mds_vfs_flush(ns->db);	/* the VFS did it at the sync */
	if (crc < 0) {
		log_err("mds_ns: commit: %s", strerror(-crc));
		st_exec(ns, st(ns, Q_ROLLBACK));
		ranges_forget(ns);
		ns->failed[ns->nfailed++ % FAILED_RING] = mine;
		if (rc == 0)
			rc = crc;
	} else {
		ns->files += ns->batch_delta;
		if (ns->batch_queued && ns->destroy_hook != NULL)
			ns->destroy_hook(ns->destroy_arg);
	}
	ns->in_tx = 0;
	ns->committed = mine;
	pthread_cond_broadcast(&ns->commit_cond);
	return rc;
}

static void
now_ts(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

/* ---- counters: inode numbers and object ids ---- */

static int
range_alloc(struct mds_ns *ns, struct idrange *r, const char *name,
    uint64_t first, uint64_t *out)
{
	sqlite3_stmt *s;
	int rc;

	if (!r->valid) {
		s = st(ns, Q_CTR_GET);
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		rc = st_row(ns, s);
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
		s = st(ns, Q_CTR_SET);
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (int64_t)(r->end + MDS_OID_BATCH));
		rc = st_exec(ns, s);
		if (rc < 0)
			return rc;
		r->end += MDS_OID_BATCH;
	}
	*out = r->next++;
	return 0;
}

static int
ino_alloc(struct mds_ns *ns, uint64_t *ino)
{
	return range_alloc(ns, &ns->inos, "ino", MDS_ROOT_INO + 1, ino);
}

static int
oid_alloc(struct mds_ns *ns, uint32_t ost, uint64_t *oid)
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

/* ---- open handles ---- */

static int
ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

static struct ofile *
ofile_get(struct mds_ns *ns, uint64_t ino)
{
	struct ofile *f;

	for (f = ns->ofiles[ino % OHASH_SIZE]; f != NULL; f = f->next)
		if (f->ino == ino)
			return f;
	return NULL;
}

static struct ofile *
ofile_ref(struct mds_ns *ns, uint64_t ino)
{
	struct ofile *f = ofile_get(ns, ino);

	if (f == NULL) {
		f = xcalloc(1, sizeof(*f));
		f->ino = ino;
		f->next = ns->ofiles[ino % OHASH_SIZE];
		ns->ofiles[ino % OHASH_SIZE] = f;
	}
	return f;
}

static void
ofile_drop_if_unused(struct mds_ns *ns, struct ofile *f)
{
	struct ofile **pp;

	if (f->opens > 0)
		return;
	for (pp = &ns->ofiles[f->ino % OHASH_SIZE]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			free(f);
			return;
		}
	}
}

static int
is_writer(uint32_t flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

static uint64_t
handle_open(struct mds_ns *ns, uint64_t ino, uint32_t flags, uint64_t owner)
{
	struct ofile *f = ofile_ref(ns, ino);
	struct ohandle *h = xcalloc(1, sizeof(*h));

	h->handle = ns->handle_next++;
	if (h->handle == 0)
		h->handle = ns->handle_next++;
	h->ino = ino;
	h->owner = owner;
	h->flags = flags;
	h->trunc_gen = f->trunc_gen;
	h->next = ns->handles[h->handle % OHASH_SIZE];
	ns->handles[h->handle % OHASH_SIZE] = h;
	f->opens++;
	if (is_writer(flags))
		f->writers++;
	return h->handle;
}

/* Remove a handle from the table; the caller frees it. */
static struct ohandle *
handle_take(struct mds_ns *ns, uint64_t handle, uint64_t ino)
{
	struct ohandle **pp, *h;

	for (pp = &ns->handles[handle % OHASH_SIZE]; *pp != NULL;
	    pp = &(*pp)->next) {
		h = *pp;
		if (h->handle == handle && h->ino == ino) {
			*pp = h->next;
			return h;
		}
	}
	return NULL;
}

static uint32_t
open_count(struct mds_ns *ns, uint64_t ino)
{
	struct ofile *f = ofile_get(ns, ino);

	return f ? f->opens : 0;
}

/* ---- inodes ---- */

static int
ino_load(struct mds_ns *ns, uint64_t ino, struct mds_ino *i)
{
	sqlite3_stmt *s = st(ns, Q_INO_GET);
	int rc;

	sqlite3_bind_int64(s, 1, (int64_t)ino);
	rc = st_row(ns, s);
	if (rc <= 0)
		return rc == 0 ? -ENOENT : rc;
	memset(i, 0, sizeof(*i));
	i->ino = ino;
	i->mode = (uint32_t)sqlite3_column_int64(s, 0);
	i->uid = (uint32_t)sqlite3_column_int64(s, 1);
	i->gid = (uint32_t)sqlite3_column_int64(s, 2);
	i->nlink = (uint32_t)sqlite3_column_int64(s, 3);
	i->size = (uint64_t)sqlite3_column_int64(s, 4);
	i->rdev = (uint64_t)sqlite3_column_int64(s, 5);
	i->at.tv_sec = sqlite3_column_int64(s, 6);
	i->at.tv_nsec = sqlite3_column_int64(s, 7);
	i->mt.tv_sec = sqlite3_column_int64(s, 8);
	i->mt.tv_nsec = sqlite3_column_int64(s, 9);
	i->ct.tv_sec = sqlite3_column_int64(s, 10);
	i->ct.tv_nsec = sqlite3_column_int64(s, 11);
	i->gen = (uint64_t)sqlite3_column_int64(s, 12);
	i->parent = (uint64_t)sqlite3_column_int64(s, 13);
	i->dseq = (uint64_t)sqlite3_column_int64(s, 14);
	i->written = sqlite3_column_int(s, 15);
	sqlite3_reset(s);
	return 0;
}

static void
ino_bind(sqlite3_stmt *s, const struct mds_ino *i)
{
	sqlite3_bind_int64(s, 1, (int64_t)i->ino);
	sqlite3_bind_int64(s, 2, i->mode);
	sqlite3_bind_int64(s, 3, i->uid);
	sqlite3_bind_int64(s, 4, i->gid);
	sqlite3_bind_int64(s, 5, i->nlink);
	sqlite3_bind_int64(s, 6, (int64_t)i->size);
	sqlite3_bind_int64(s, 7, (int64_t)i->rdev);
	sqlite3_bind_int64(s, 8, i->at.tv_sec);
	sqlite3_bind_int64(s, 9, i->at.tv_nsec);
	sqlite3_bind_int64(s, 10, i->mt.tv_sec);
	sqlite3_bind_int64(s, 11, i->mt.tv_nsec);
	sqlite3_bind_int64(s, 12, i->ct.tv_sec);
	sqlite3_bind_int64(s, 13, i->ct.tv_nsec);
	sqlite3_bind_int64(s, 14, (int64_t)i->gen);
	sqlite3_bind_int64(s, 15, (int64_t)i->parent);
	sqlite3_bind_int64(s, 16, (int64_t)i->dseq);
	sqlite3_bind_int(s, 17, i->written);
}

static int
ino_store(struct mds_ns *ns, const struct mds_ino *i)
{
	sqlite3_stmt *s = st(ns, Q_INO_UPD);

	ino_bind(s, i);
	return st_exec(ns, s);
}

static int
ino_insert(struct mds_ns *ns, const struct mds_ino *i, const void *target,
    size_t tlen, const struct mds_layout *lay)
{
	sqlite3_stmt *s = st(ns, Q_INO_INS);
	int rc;

	ino_bind(s, i);
	if (target != NULL)
		sqlite3_bind_blob(s, 18, target, (int)tlen, SQLITE_STATIC);
	if (lay != NULL)
		sqlite3_bind_blob(s, 19, lay, (int)mds_layout_size(lay),
		    SQLITE_STATIC);
	rc = st_exec(ns, s);
	if (rc == 0)
		ns->files_delta++;
	return rc;
}

static void
ino_to_attr(struct mds_ns *ns, const struct mds_ino *i, struct msg_attr *a)
{
	struct ofile *f = ofile_get(ns, i->ino);

	memset(a, 0, sizeof(*a));
	a->ino = i->ino;
	a->size = i->size;
	a->blocks = (i->size + 511) / 512;
	a->mode = i->mode;
	a->nlink = i->nlink;
	a->uid = i->uid;
	a->gid = i->gid;
	a->rdev = i->rdev;
	a->atime_sec = i->at.tv_sec;
	a->atime_nsec = i->at.tv_nsec;
	a->mtime_sec = i->mt.tv_sec;
	a->mtime_nsec = i->mt.tv_nsec;
	a->ctime_sec = i->ct.tv_sec;
	a->ctime_nsec = i->ct.tv_nsec;
	a->generation = i->gen;
	a->open_writers = f ? f->writers : 0;
}

/* A directory that may hold entries: exists, is a dir, not removed. */
static int
dir_load(struct mds_ns *ns, uint64_t ino, struct mds_ino *d)
{
	int rc = ino_load(ns, ino, d);

	if (rc < 0)
		return rc;
	if (!S_ISDIR(d->mode))
		return -ENOTDIR;
	if (d->nlink == 0)
		return -ENOENT;
	return 0;
}

static int
name_check(const char *name, size_t len)
{
	if (len == 0)
		return -ENOENT;
	if (len > MSG_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(name, '/', len) != NULL || memchr(name, '\0', len) != NULL)
		return -EINVAL;
	return 0;
}

static int
is_dot(const char *name, size_t len)
{
	return (len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.');
}

/* Look a name up in a directory: 1 and *ino when found, 0 when not. */
static int
dent_get(struct mds_ns *ns, uint64_t parent, const char *name, size_t len,
    uint64_t *ino)
{
	sqlite3_stmt *s = st(ns, Q_DENT_GET);
	int rc;

	sqlite3_bind_int64(s, 1, (int64_t)parent);
	sqlite3_bind_blob(s, 2, name, (int)len, SQLITE_STATIC);
	rc = st_row(ns, s);
	if (rc == 1) {
		*ino = (uint64_t)sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	return rc;
}

/* Add an entry; bumps the directory's sequence (caller stores dir). */
static int
dent_add(struct mds_ns *ns, struct mds_ino *dir, const char *name,
    size_t len, uint64_t ino, uint32_t mode)
{
	sqlite3_stmt *s = st(ns, Q_DENT_INS);

	dir->dseq++;
	sqlite3_bind_int64(s, 1, (int64_t)dir->ino);
	sqlite3_bind_blob(s, 2, name, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (int64_t)ino);
	sqlite3_bind_int64(s, 4, (int64_t)dir->dseq);
	sqlite3_bind_int64(s, 5, mode & S_IFMT);
	return st_exec(ns, s);
}

static int
dent_del(struct mds_ns *ns, uint64_t parent, const char *name, size_t len)
{
	sqlite3_stmt *s = st(ns, Q_DENT_DEL);

	sqlite3_bind_int64(s, 1, (int64_t)parent);
	sqlite3_bind_blob(s, 2, name, (int)len, SQLITE_STATIC);
	return st_exec(ns, s);
}

static int
dent_set(struct mds_ns *ns, uint64_t parent, const char *name, size_t len,
    uint64_t ino, uint32_t mode)
{
	sqlite3_stmt *s = st(ns, Q_DENT_UPD);

	sqlite3_bind_int64(s, 1, (int64_t)parent);
	sqlite3_bind_blob(s, 2, name, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (int64_t)ino);
	sqlite3_bind_int64(s, 4, mode & S_IFMT);
	return st_exec(ns, s);
}

/* 1 when the directory has entries, 0 when empty. */
static int
dir_has_entries(struct mds_ns *ns, uint64_t dir)
{
	sqlite3_stmt *s = st(ns, Q_DENT_ANY);
	int rc;

	sqlite3_bind_int64(s, 1, (int64_t)dir);
	rc = st_row(ns, s);
	if (rc == 1)
		sqlite3_reset(s);
	return rc;
}

/* ---- layouts ---- */

size_t
mds_layout_size(const struct mds_layout *l)
{
	return sizeof(l->hdr) + l->hdr.nent * sizeof(l->ent[0]);
}

int
mds_layout_decode(const void *blob, size_t len, struct mds_layout *l)
{
	if (blob == NULL || len < sizeof(l->hdr))
		return -EINVAL;
	memcpy(&l->hdr, blob, sizeof(l->hdr));
	if (l->hdr.magic != MSG_LOV_MAGIC || l->hdr.nent > MSG_MAX_STRIPES)
		return -EINVAL;
	if (len != mds_layout_size(l))
		return -EINVAL;
	if (l->hdr.stripe_count < -1 ||
	    l->hdr.stripe_count > MSG_MAX_STRIPES)
		return -EINVAL;
	if (l->hdr.stripe_size % (64 * 1024) != 0)
		return -EINVAL;
	memcpy(l->ent, (const char *)blob + sizeof(l->hdr),
	    l->hdr.nent * sizeof(l->ent[0]));
	return 0;
}

/* The stored layout of an inode: 1 when there is one, 0 when none. */
static int
layout_load(struct mds_ns *ns, uint64_t ino, struct mds_layout *l)
{
	sqlite3_stmt *s = st(ns, Q_LAYOUT_GET);
	int rc;

	sqlite3_bind_int64(s, 1, (int64_t)ino);
	rc = st_row(ns, s);
	if (rc <= 0)
		return rc == 0 ? -ENOENT : rc;
	if (sqlite3_column_type(s, 0) == SQLITE_NULL) {
		sqlite3_reset(s);
		return 0;
	}
	rc = mds_layout_decode(sqlite3_column_blob(s, 0),
	    (size_t)sqlite3_column_bytes(s, 0), l);
	sqlite3_reset(s);
	if (rc < 0) {
		log_warn("mds_ns: inode %llu: corrupt layout",
		    (unsigned long long)ino);
		return -EIO;
	}
	return 1;
}

static int
layout_store(struct mds_ns *ns, uint64_t ino, const struct mds_layout *l)
{
	sqlite3_stmt *s = st(ns, Q_LAYOUT_SET);

	sqlite3_bind_int64(s, 1, (int64_t)ino);
	if (l != NULL)
		sqlite3_bind_blob(s, 2, l, (int)mds_layout_size(l),
		    SQLITE_STATIC);
	return st_exec(ns, s);
}

static void
layout_fs_default(struct mds_layout *l)
{
	memset(&l->hdr, 0, sizeof(l->hdr));
	l->hdr.magic = MSG_LOV_MAGIC;
	l->hdr.stripe_size = MDS_STRIPE_SIZE_DEF;
	l->hdr.stripe_count = 1;
	l->hdr.stripe_offset = -1;
}

/* The default layout new files in `dir` get. */
static int
layout_default(struct mds_ns *ns, uint64_t dir, struct mds_layout *l)
{
	int rc = layout_load(ns, dir, l);

	if (rc < 0)
		return rc;
	if (rc == 0 && dir != MDS_ROOT_INO)
		rc = layout_load(ns, MDS_ROOT_INO, l);
	if (rc < 0)
		return rc;
	if (rc == 0)
		layout_fs_default(l);
	l->hdr.nent = 0;
	return 0;
}

static int
pool_index(struct mds_ns *ns, int32_t ost)
{
	for (unsigned i = 0; i < ns->npool; i++)
		if ((int64_t)ns->pool[i] == ost)
			return (int)i;
	return -1;
}

/* Check a requested layout's header (stripe values, not entries). */
static int
layout_hdr_check(struct mds_ns *ns, const struct msg_layout *h)
{
	if (h->stripe_count < -1 || h->stripe_count > MSG_MAX_STRIPES)
		return -EINVAL;
	if (h->stripe_size % (64 * 1024) != 0)
		return -EINVAL;
	if (h->stripe_offset < -1)
		return -EINVAL;
	if (h->stripe_offset >= 0 && pool_index(ns, h->stripe_offset) < 0)
		return -EINVAL;
	return 0;
}

/* Allocate a file layout from a default: OSTs and object ids. */
static int
layout_alloc(struct mds_ns *ns, const struct mds_layout *def,
    struct mds_layout *out)
{
	int32_t count = def->hdr.stripe_count;
	int start, rc;

	if (ns->npool == 0)
		return -ENOSPC;
	if (count == 0)
		count = 1;
	if (count < 0 || (uint32_t)count > ns->npool)
		count = (int32_t)ns->npool;
	if (count > MSG_MAX_STRIPES)
		count = MSG_MAX_STRIPES;
	start = -1;
	if (def->hdr.stripe_offset >= 0)
		start = pool_index(ns, def->hdr.stripe_offset);
	if (start < 0)
		start = (int)(ns->rr++ % ns->npool);
	memset(&out->hdr, 0, sizeof(out->hdr));
	out->hdr.magic = MSG_LOV_MAGIC;
	out->hdr.stripe_size = def->hdr.stripe_size ? def->hdr.stripe_size :
	    MDS_STRIPE_SIZE_DEF;
	out->hdr.stripe_count = count;
	out->hdr.stripe_offset = (int32_t)ns->pool[start];
	out->hdr.nent = (uint32_t)count;
	for (int k = 0; k < count; k++) {
		struct msg_layout_ent *e = &out->ent[k];

		memset(e, 0, sizeof(*e));
		e->ost = ns->pool[((unsigned)start + (unsigned)k) % ns->npool];
		rc = oid_alloc(ns, e->ost, &e->oid);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
destroy_queue(struct mds_ns *ns, const struct mds_layout *l)
{
	int rc;

	for (uint32_t k = 0; k < l->hdr.nent; k++) {
		sqlite3_stmt *s = st(ns, Q_DESTROY_INS);

		sqlite3_bind_int64(s, 1, l->ent[k].ost);
		sqlite3_bind_int64(s, 2, (int64_t)l->ent[k].oid);
		rc = st_exec(ns, s);
		if (rc < 0)
			return rc;
		ns->tx_queued = 1;
	}
	return 0;
}

/* Delete an inode row, its xattrs, and queue its objects. */
static int
ino_destroy(struct mds_ns *ns, const struct mds_ino *i)
{
	struct mds_layout l;
	sqlite3_stmt *s;
	int rc;

	if (S_ISREG(i->mode)) {
		rc = layout_load(ns, i->ino, &l);
		if (rc < 0 && rc != -EIO)
			return rc;
		if (rc == 1) {
			rc = destroy_queue(ns, &l);
			if (rc < 0)
				return rc;
		}
	}
	s = st(ns, Q_XA_DELALL);
	sqlite3_bind_int64(s, 1, (int64_t)i->ino);
	rc = st_exec(ns, s);
	if (rc < 0)
		return rc;
	s = st(ns, Q_INO_DEL);
	sqlite3_bind_int64(s, 1, (int64_t)i->ino);
	rc = st_exec(ns, s);
	if (rc == 0)
		ns->files_delta--;
	return rc;
}

/* Drop one link of a non-directory; destroys it when unused. */
static int
ino_unlink(struct mds_ns *ns, struct mds_ino *i, const struct timespec *now)
{
	if (i->nlink > 0)
		i->nlink--;
	i->ct = *now;
	if (i->nlink == 0 && open_count(ns, i->ino) == 0)
		return ino_destroy(ns, i);
	return ino_store(ns, i);
}

/* ---- open/close of the store ---- */

static int
ns_exec(struct mds_ns *ns, const char *sql)
{
	char *err = NULL;
	int rc = sqlite3_exec(ns->db, sql, NULL, NULL, &err);

	if (rc != SQLITE_OK) {
		log_err("mds_ns: %s: %s", sql, err ? err : "?");
		sqlite3_free(err);
		return sql_errno(rc);
	}
	return 0;
}

static int
ns_bootstrap(struct mds_ns *ns)
{
	struct mds_ino root, o;
	struct timespec now;
	sqlite3_stmt *s = NULL;
	int rc;

	rc = tx_begin(ns);
	if (rc < 0)
		return rc;
	rc = ino_load(ns, MDS_ROOT_INO, &root);
	if (rc == -ENOENT) {
		now_ts(&now);
		memset(&root, 0, sizeof(root));
		root.ino = MDS_ROOT_INO;
		root.mode = S_IFDIR | 0755;
		root.nlink = 2;
		root.at = root.mt = root.ct = now;
		root.gen = 1;
		root.parent = MDS_ROOT_INO;
		root.dseq = 2;
		rc = ino_insert(ns, &root, NULL, 0, NULL);
	}
	if (rc < 0)
		goto out;
	/* Orphans of the previous run: no handle survived it. */
	rc = sqlite3_prepare_v2(ns->db,
	    "SELECT ino FROM inode WHERE nlink = 0 LIMIT 1", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		rc = sql_errno(rc);
		goto out;
	}
	for (;;) {
		sqlite3_reset(s);
		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		rc = ino_load(ns, (uint64_t)sqlite3_column_int64(s, 0), &o);
		sqlite3_reset(s);
		if (rc == 0)
			rc = ino_destroy(ns, &o);
		if (rc < 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : sql_errno(rc);
out:
	sqlite3_finalize(s);
	return tx_sync(ns, tx_end(ns, rc));
}

/*
 * Checkpoints run in their own thread on their own connection, so the
 * fsyncs they need never delay a request: the request path only appends
 * to the WAL (a commit reaches the kernel, see mds_vfs.h). The request
 * connection checkpoints (and restarts the WAL) only when the WAL
 * outgrows 65536 pages, and then only copies what was appended since the
 * checkpointer's last pass.
 */
static void *
ckpt_main(void *arg)
{
	struct mds_ns *ns = arg;
	struct timespec until;
	int stop = 0;

	while (!stop) {
		pthread_mutex_lock(&ns->cklock);
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
		(void)sqlite3_wal_checkpoint_v2(ns->ckdb, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	}
	return NULL;
}

static int
ckpt_start(struct mds_ns *ns, const char *path)
{
	int rc;

	rc = sqlite3_open_v2(path, &ns->ckdb, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NS_VFS);
	if (rc != SQLITE_OK) {
		log_err("mds_ns: checkpointer: %s", ns->ckdb ?
		    sqlite3_errmsg(ns->ckdb) : "out of memory");
		return sql_errno(rc) ? sql_errno(rc) : -EIO;
	}
	sqlite3_busy_timeout(ns->ckdb, 1000);
	rc = sqlite3_exec(ns->ckdb, "PRAGMA synchronous = FULL;"
	    "PRAGMA checkpoint_fullfsync = ON;", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_err("mds_ns: checkpointer: %s", sqlite3_errmsg(ns->ckdb));
		return sql_errno(rc) ? sql_errno(rc) : -EIO;
	}
	/* A connection learns the database is in WAL mode (and opens the
	 * WAL) at its first read: until then a checkpoint does nothing. */
	rc = sqlite3_exec(ns->ckdb, "SELECT count(*) FROM sqlite_master",
	    NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		log_err("mds_ns: checkpointer: %s", sqlite3_errmsg(ns->ckdb));
		return sql_errno(rc) ? sql_errno(rc) : -EIO;
	}
	rc = pthread_create(&ns->ckthr, NULL, ckpt_main, ns);
	if (rc != 0)
		return -rc;
	ns->ckthr_started = 1;
	return 0;
}

static int
ns_count(struct mds_ns *ns, const char *sql, uint64_t *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(ns->db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(s, 0);
		rc = 0;
	} else
		rc = sql_errno(rc) ? sql_errno(rc) : -EIO;
	sqlite3_finalize(s);
	return rc;
}

int
mds_ns_open(const char *dir, struct mds_ns **out)
{
	struct mds_ns *ns;
	char *path;
	int rc;

	*out = NULL;
	rc = mkdir_p(dir, 0700);
	if (rc < 0)
		return rc;
	rc = mds_vfs_register();
	if (rc < 0)
		return rc;
	ns = xcalloc(1, sizeof(*ns));
	pthread_mutex_init(&ns->lock, NULL);
	pthread_mutex_init(&ns->cklock, NULL);
	pthread_cond_init(&ns->ckcond, NULL);
	pthread_cond_init(&ns->commit_cond, NULL);
	path = xasprintf("%s/mds.db", dir);
	rc = sqlite3_open_v2(path, &ns->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NS_VFS);
	if (rc != SQLITE_OK) {
		log_err("mds_ns: open %s: %s", dir,
		    ns->db ? sqlite3_errmsg(ns->db) : "out of memory");
		rc = sql_errno(rc) ? sql_errno(rc) : -EIO;
		goto fail;
	}
	sqlite3_busy_timeout(ns->db, 5000);
	/* 1 KiB pages (only a new store takes it): a create dirties about
	 * four pages, each written whole (and checksummed) to the WAL.
	 * synchronous=FULL with checkpoint_fullfsync is how the VFS tells
	 * a commit (written to the kernel only: synchronous=NORMAL's
	 * durability) from a checkpoint (fsync'd): see mds_vfs.h. */
	rc = ns_exec(ns, "PRAGMA page_size = 1024;"
	    "PRAGMA journal_mode = WAL;"
	    "PRAGMA synchronous = FULL;"
	    "PRAGMA checkpoint_fullfsync = ON;"
	    "PRAGMA cache_size = -65536;"
	    "PRAGMA wal_autocheckpoint = 65536;"
	    "PRAGMA temp_store = MEMORY;");
	if (rc < 0)
		goto fail;
	rc = ns_exec(ns, ns_schema);
	if (rc < 0)
		goto fail;
	for (int q = 0; q < Q_MAX; q++) {
		rc = sqlite3_prepare_v3(ns->db, q_sql[q], -1,
		    SQLITE_PREPARE_PERSISTENT, &ns->st[q], NULL);
		if (rc != SQLITE_OK) {
			log_err("mds_ns: prepare %s: %s", q_sql[q],
			    sqlite3_errmsg(ns->db));
			rc = sql_errno(rc);
			goto fail;
		}
	}
	rc = rand_bytes(&ns->handle_next, sizeof(ns->handle_next));
	if (rc < 0)
		goto fail;
	ns->handle_next &= 0x7fffffff00000000ull;	/* per run, then count */
	ns->handle_next |= 1;
	rc = ns_bootstrap(ns);
	if (rc < 0)
		goto fail;
	rc = ns_count(ns, "SELECT count(*) FROM inode", &ns->files);
	if (rc < 0)
		goto fail;
	rc = ckpt_start(ns, path);
	if (rc < 0)
		goto fail;
	free(path);
	*out = ns;
	return 0;
fail:
	free(path);
	mds_ns_close(ns);
	return rc;
}

void
mds_ns_close(struct mds_ns *ns)
{
	if (ns == NULL)
		return;
	if (ns->ckthr_started) {
		pthread_mutex_lock(&ns->cklock);
		ns->ckstop = 1;
		pthread_cond_signal(&ns->ckcond);
		pthread_mutex_unlock(&ns->cklock);
		pthread_join(ns->ckthr, NULL);
	}
	if (ns->ckdb != NULL)
		sqlite3_close(ns->ckdb);
	for (int q = 0; q < Q_MAX; q++)
		sqlite3_finalize(ns->st[q]);
	if (ns->db != NULL)
		sqlite3_close(ns->db);
	for (int b = 0; b < OHASH_SIZE; b++) {
		while (ns->ofiles[b] != NULL) {
			struct ofile *f = ns->ofiles[b];

			ns->ofiles[b] = f->next;
			free(f);
		}
		while (ns->handles[b] != NULL) {
			struct ohandle *h = ns->handles[b];

			ns->handles[b] = h->next;
			free(h);
		}
	}
	free(ns->oids);
	free(ns->pool);
	pthread_cond_destroy(&ns->ckcond);
	pthread_cond_destroy(&ns->commit_cond);
	pthread_mutex_destroy(&ns->cklock);
	pthread_mutex_destroy(&ns->lock);
	free(ns);
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
mds_ns_set_osts(struct mds_ns *ns, const uint32_t *osts, unsigned n)
{
	uint32_t *p;
	unsigned m = 0;

	p = xcalloc(n ? n : 1, sizeof(*p));
	memcpy(p, osts, n * sizeof(*p));
	qsort(p, n, sizeof(*p), u32_cmp);
	for (unsigned i = 0; i < n; i++)	/* drop duplicates */
		if (m == 0 || p[m - 1] != p[i])
			p[m++] = p[i];
	pthread_mutex_lock(&ns->lock);
	free(ns->pool);
	ns->pool = p;
	ns->npool = m;
	pthread_mutex_unlock(&ns->lock);
	return 0;
}

/* ---- the OST map (table ost) ---- */

/* Store entries in one transaction: whole rows, or (cap_only) only the
 * capacity of rows that must exist already (else -ENODEV). */
static int
ost_store(struct mds_ns *ns, const struct msg_ost_ent *e, unsigned n,
    int cap_only)
{
	sqlite3_stmt *s;
	int rc;

	for (unsigned i = 0; i < n; i++)
		if (e[i].capacity > INT64_MAX)
			return -EINVAL;
	ns_wlock(ns);
	rc = tx_begin(ns);
	if (rc < 0)
		goto out;
	for (unsigned i = 0; i < n && rc == 0; i++) {
		s = st(ns, cap_only ? Q_OST_SETCAP : Q_OST_PUT);
		sqlite3_bind_int64(s, 1, e[i].ost);
		if (cap_only) {
			sqlite3_bind_int64(s, 2, (int64_t)e[i].capacity);
		} else {
			sqlite3_bind_text(s, 2, e[i].host, (int)strnlen(
			    e[i].host, sizeof(e[i].host)), SQLITE_TRANSIENT);
			sqlite3_bind_int(s, 3, e[i].port);
			sqlite3_bind_int64(s, 4, (int64_t)e[i].capacity);
		}
		rc = st_exec(ns, s);
		if (rc == 0 && cap_only && sqlite3_changes(ns->db) == 0)
			rc = -ENODEV;
	}
	rc = tx_end(ns, rc);
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_ns_ost_put(struct mds_ns *ns, const struct msg_ost_ent *e, unsigned n)
{
	return ost_store(ns, e, n, 0);
}

int
mds_ns_ost_setcap(struct mds_ns *ns, uint32_t ost, uint64_t capacity)
{
	struct msg_ost_ent e = { .ost = ost, .capacity = capacity };

	return ost_store(ns, &e, 1, 1);
}

int
mds_ns_ost_list(struct mds_ns *ns, struct msg_ost_ent **out, unsigned *nout)
{
	struct msg_ost_ent *v = NULL;
	unsigned n = 0, cap = 0;
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	*nout = 0;
	ns_rlock(ns);
	s = st(ns, Q_OST_LIST);
	for (;;) {
		const unsigned char *host;

		rc = st_row(ns, s);
		if (rc <= 0)
			break;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			v = realloc(v, cap * sizeof(*v));
			if (v == NULL)
				fatal("out of memory");
		}
		memset(&v[n], 0, sizeof(v[n]));
		v[n].ost = (uint32_t)sqlite3_column_int64(s, 0);
		host = sqlite3_column_text(s, 1);
		snprintf(v[n].host, sizeof(v[n].host), "%s",
		    host ? (const char *)host : "");
		v[n].port = (uint16_t)sqlite3_column_int(s, 2);
		v[n].capacity = (uint64_t)sqlite3_column_int64(s, 3);
		n++;
	}
	sqlite3_reset(s);
	pthread_mutex_unlock(&ns->lock);
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	*nout = n;
	return 0;
}

uint64_t
mds_ns_files(struct mds_ns *ns)
{
	uint64_t n;

	pthread_mutex_lock(&ns->lock);
	n = ns->files;
	pthread_mutex_unlock(&ns->lock);
	return n;
}

/* ---- lookups and attributes ---- */

int
mds_ns_lookup(struct mds_ns *ns, uint64_t parent, const char *name,
    size_t namelen, struct msg_attr *out)
{
	struct mds_ino d, i;
	uint64_t ino;
	int rc;

	ns_rlock(ns);
	rc = name_check(name, namelen);
	if (rc < 0)
		goto out;
	rc = ino_load(ns, parent, &d);
	if (rc < 0)
		goto out;
	if (!S_ISDIR(d.mode)) {
		rc = -ENOTDIR;
		goto out;
	}
	if (is_dot(name, namelen)) {
		ino = namelen == 1 ? d.ino : d.parent;
	} else {
		rc = dent_get(ns, parent, name, namelen, &ino);
		if (rc <= 0) {
			rc = rc == 0 ? -ENOENT : rc;
			goto out;
		}
	}
	rc = ino_load(ns, ino, &i);
	if (rc == 0)
		ino_to_attr(ns, &i, out);
out:
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_ns_getattr(struct mds_ns *ns, uint64_t ino, struct msg_attr *out)
{
	struct mds_ino i;
	int rc;

	ns_rlock(ns);
	rc = ino_load(ns, ino, &i);
	if (rc == 0)
		ino_to_attr(ns, &i, out);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

static int
ts_valid(int64_t sec, int64_t nsec)
{
	(void)sec;
	return nsec >= 0 && nsec < 1000000000;
}

int
mds_ns_setattr(struct mds_ns *ns, const struct msg_setattr *sa,
    struct msg_attr *out)
{
	struct timespec now;
	struct mds_ino i;
	struct ofile *f;
	int rc;

	if (sa->valid & ~0x1ffu)
		return -EINVAL;
	if (((sa->valid & MSG_SA_ATIME) && !ts_valid(sa->atime_sec,
	    sa->atime_nsec)) || ((sa->valid & MSG_SA_MTIME) &&
	    !ts_valid(sa->mtime_sec, sa->mtime_nsec)) ||
	    ((sa->valid & MSG_SA_CTIME) && !ts_valid(sa->ctime_sec,
	    sa->ctime_nsec)))
		return -EINVAL;
	now_ts(&now);
	ns_wlock(ns);
	rc = tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = ino_load(ns, sa->ino, &i);
	if (rc < 0)
		goto end;
	if (sa->valid & MSG_SA_SIZE) {
		if (S_ISDIR(i.mode)) {
			rc = -EISDIR;
			goto end;
		}
		if (!S_ISREG(i.mode)) {
			rc = -EINVAL;
			goto end;
		}
		if (sa->size > (uint64_t)INT64_MAX) {
			rc = -EFBIG;
			goto end;
		}
		i.size = sa->size;
		i.mt = now;
		f = ofile_get(ns, i.ino);
		if (f != NULL)
			f->trunc_gen++;
	}
	if (sa->valid & MSG_SA_MODE)
		i.mode = (i.mode & S_IFMT) | (sa->mode & 07777);
	if (sa->valid & MSG_SA_UID)
		i.uid = sa->uid;
	if (sa->valid & MSG_SA_GID)
		i.gid = sa->gid;
	if (sa->valid & MSG_SA_ATIME_NOW)
		i.at = now;
	else if (sa->valid & MSG_SA_ATIME) {
		i.at.tv_sec = sa->atime_sec;
		i.at.tv_nsec = sa->atime_nsec;
	}
	if (sa->valid & MSG_SA_MTIME_NOW)
		i.mt = now;
	else if (sa->valid & MSG_SA_MTIME) {
		i.mt.tv_sec = sa->mtime_sec;
		i.mt.tv_nsec = sa->mtime_nsec;
	}
	/* a writer's or reader's CLOSE that arrives later must not undo
	   explicit times */
	f = ofile_get(ns, i.ino);
	if (f != NULL && (sa->valid & (MSG_SA_MTIME | MSG_SA_MTIME_NOW |
	    MSG_SA_SIZE)))
		f->mt_set = now;
	if (f != NULL && (sa->valid & (MSG_SA_ATIME | MSG_SA_ATIME_NOW)))
		f->at_set = 1;
	if (sa->valid & MSG_SA_CTIME) {
		i.ct.tv_sec = sa->ctime_sec;
		i.ct.tv_nsec = sa->ctime_nsec;
	} else
		i.ct = now;
	rc = ino_store(ns, &i);
end:
	rc = tx_end(ns, rc);
	if (rc == 0)
		ino_to_attr(ns, &i, out);
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

/* ---- creation ---- */

/* Fill a new inode for a create in `dir` by `cr`. */
static void
ino_new(const struct mds_ino *dir, const struct msg_create *cr,
    uint32_t mode, const struct timespec *now, struct mds_ino *i)
{
	memset(i, 0, sizeof(*i));
	i->mode = mode;
	i->uid = cr->cred.uid;
	i->gid = cr->cred.gid;
	if (dir->mode & S_ISGID) {
		i->gid = dir->gid;
		if (S_ISDIR(mode))
			i->mode |= S_ISGID;
	}
	i->nlink = S_ISDIR(mode) ? 2 : 1;
	i->at = i->mt = i->ct = *now;
	i->gen = 1;
	i->parent = S_ISDIR(mode) ? dir->ino : 0;
	i->dseq = 2;
}

/*
 * The common part of every create: parent checks, name checks, the new
 * inode row, its entry and the parent's times. `lay` is stored as given.
 * Called in a transaction, after create_prep().
 */
static int
create_common(struct mds_ns *ns, const char *name, size_t len,
    struct mds_ino *dir, struct mds_ino *i, const void *target, size_t tlen,
    const struct mds_layout *lay)
{
	int rc;

	rc = ino_alloc(ns, &i->ino);
	if (rc < 0)
		return rc;
	rc = ino_insert(ns, i, target, tlen, lay);
	if (rc < 0)
		return rc;
	rc = dent_add(ns, dir, name, len, i->ino, i->mode);
	if (rc < 0)
		return rc;
	if (S_ISDIR(i->mode)) {
		if (dir->nlink >= MDS_LINK_MAX)
			return -EMLINK;
		dir->nlink++;
	}
	dir->mt = dir->ct = i->ct;
	return ino_store(ns, dir);
}

/* Parent and name checks before a create; 1 and *ino when the name exists. */
static int
create_prep(struct mds_ns *ns, uint64_t parent, const char *name,
    size_t len, struct mds_ino *dir, uint64_t *ino)
{
	int rc;

	rc = name_check(name, len);
	if (rc < 0)
		return rc == -ENOENT ? -EINVAL : rc;
	rc = dir_load(ns, parent, dir);
	if (rc < 0)
		return rc;
	if (is_dot(name, len))
		return -EEXIST;
	return dent_get(ns, parent, name, len, ino);
}

int
mds_ns_create(struct mds_ns *ns, const struct msg_create *cr,
    const char *name, uint64_t owner, struct msg_attr *out,
    uint64_t *handle, struct mds_layout *lay, int *created,
    struct msg_attr *dir_out)
{
	struct mds_layout def;
	struct mds_ino dir, i;
	struct timespec now;
	uint64_t ino;
	int rc;

	*created = 0;
	*handle = 0;
	if ((cr->mode & S_IFMT) != 0 && !S_ISREG(cr->mode))
		return -EINVAL;
	now_ts(&now);
	ns_wlock(ns);
	rc = tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = create_prep(ns, cr->parent, name, cr->namelen, &dir, &ino);
	if (rc < 0)
		goto end;
	if (rc == 1) {
		if (cr->flags & MSG_CR_EXCL) {
			rc = -EEXIST;
			goto end;
		}
		rc = ino_load(ns, ino, &i);
		if (rc < 0)
			goto end;
		if (S_ISDIR(i.mode)) {
			rc = -EISDIR;
			goto end;
		}
		if (!S_ISREG(i.mode)) {
			rc = -EEXIST;
			goto end;
		}
		rc = layout_load(ns, ino, lay);
		if (rc == 0)
			rc = -EIO;
		if (rc == 1)
			rc = 0;
		goto end;
	}
	rc = layout_default(ns, cr->parent, &def);
	if (rc < 0)
		goto end;
	rc = layout_alloc(ns, &def, lay);
	if (rc < 0)
		goto end;
	ino_new(&dir, cr, S_IFREG | (cr->mode & 07777), &now, &i);
	rc = create_common(ns, name, cr->namelen, &dir, &i, NULL, 0, lay);
	if (rc == 0)
		*created = 1;
end:
	rc = tx_end(ns, rc);
	if (rc == 0) {
		*handle = handle_open(ns, i.ino, O_RDWR, owner);
		ino_to_attr(ns, &i, out);
		if (dir_out != NULL)
			ino_to_attr(ns, &dir, dir_out);
	}
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_ns_mknod(struct mds_ns *ns, const struct msg_create *cr,
    const char *name, struct msg_attr *out)
{
	struct mds_layout def, lay;
	struct mds_ino dir, i;
	struct timespec now;
	uint64_t ino;
	uint32_t type = cr->mode & S_IFMT;
	int rc;

	if (type == 0)
		type = S_IFREG;
	switch (type) {
	case S_IFREG:
	case S_IFDIR:
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK:
		break;
	default:
		return -EINVAL;
	}
	now_ts(&now);
	ns_wlock(ns);
	rc = tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = create_prep(ns, cr->parent, name, cr->namelen, &dir, &ino);
	if (rc == 1)
		rc = -EEXIST;
	if (rc < 0)
		goto end;
	ino_new(&dir, cr, type | (cr->mode & 07777), &now, &i);
	if (type == S_IFCHR || type == S_IFBLK)
		i.rdev = cr->rdev;
	if (type == S_IFREG) {
		rc = layout_default(ns, cr->parent, &def);
		if (rc == 0)
			rc = layout_alloc(ns, &def, &lay);
	} else if (type == S_IFDIR) {
		/* Subdirectories inherit the parent's own default. */
		rc = layout_load(ns, cr->parent, &lay);
		if (rc >= 0) {
			if (rc == 0)
				lay.hdr.magic = 0;
			rc = 0;
		}
	}
	if (rc < 0)
		goto end;
	rc = create_common(ns, name, cr->namelen, &dir, &i, NULL, 0,
	    (type == S_IFREG || (type == S_IFDIR &&
	    lay.hdr.magic == MSG_LOV_MAGIC)) ? &lay : NULL);
end:
	rc = tx_end(ns, rc);
	if (rc == 0)
		ino_to_attr(ns, &i, out);
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_ns_symlink(struct mds_ns *ns, const struct msg_create *cr,
    const char *name, const char *target, size_t targetlen,
    struct msg_attr *out)
{
	struct mds_ino dir, i;
	struct timespec now;
	uint64_t ino;
	int rc;

	if (targetlen == 0)
		return -ENOENT;
	if (targetlen >= MSG_PATH_MAX)
		return -ENAMETOOLONG;
	if (memchr(target, '\0', targetlen) != NULL)
		return -EINVAL;
	now_ts(&now);
	ns_wlock(ns);
	rc = tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = create_prep(ns, cr->parent, name, cr->namelen, &dir, &ino);
	if (rc == 1)
		rc = -EEXIST;
	if (rc < 0)
		goto end;
	ino_new(&dir, cr, S_IFLNK | 0777, &now, &i);
	i.size = targetlen;
	rc = create_common(ns, name, cr->namelen, &dir, &i, target,
	    targetlen, NULL);
end:
	rc = tx_end(ns, rc);
	if (rc == 0)
		ino_to_attr(ns, &i, out);
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_ns_link(struct mds_ns *ns, uint64_t ino, uint64_t newparent,
    const char *name, size_t namelen, struct msg_attr *out)
{
	struct mds_ino dir, i;
	struct timespec now;
	uint64_t other;
	int rc;

	now_ts(&now);
	ns_wlock(ns);
	rc = tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = ino_load(ns, ino, &i);
	if (rc < 0)
		goto end;
	if (S_ISDIR(i.mode)) {
		rc = -EPERM;
		goto end;
	}
	if (i.nlink == 0) {
		rc = -ENOENT;
		goto end;
	}
	rc = create_prep(ns, newparent, name, namelen, &dir, &other);
	if (rc == 1)
		rc = -EEXIST;
	if (rc < 0)
		goto end;
	if (i.nlink >= MDS_LINK_MAX) {
		rc = -EMLINK;
		goto end;
	}
	rc = dent_add(ns, &dir, name, namelen, i.ino, i.mode);
	if (rc < 0)
		goto end;
	i.nlink++;
	i.ct = now;
	dir.mt = dir.ct = now;
	rc = ino_store(ns, &i);
	if (rc == 0)
		rc = ino_store(ns, &dir);
end:
	rc = tx_end(ns, rc);
	if (rc == 0)
		ino_to_attr(ns, &i, out);
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

/* ---- removal ---- */

int
mds_ns_unlink(struct mds_ns *ns, uint64_t parent, const char *name,
    size_t namelen, struct msg_attr *dir_out)
{
	struct mds_ino dir, i;
	struct timespec now;
	uint64_t ino;
	int rc;

	now_ts(&now);
	ns_wlock(ns);
	rc = tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = name_check(name, namelen);
	if (rc < 0)
		goto end;
	rc = dir_load(ns, parent, &dir);
	if (rc < 0)
		goto end;
	if (is_dot(name, namelen)) {
		rc = -EISDIR;
		goto end;
	}
	rc = dent_get(ns, parent, name, namelen, &ino);
	if (rc <= 0) {
		rc = rc == 0 ? -ENOENT : rc;
		goto end;
	}
	rc = ino_load(ns, ino, &i);
	if (rc < 0)
		goto end;
	if (S_ISDIR(i.mode)) {
		rc = -EISDIR;
		goto end;
	}
	rc = dent_del(ns, parent, name, namelen);
	if (rc < 0)
		goto end;
	dir.mt = dir.ct = now;
	rc = ino_store(ns, &dir);
	if (rc == 0)
		rc = ino_unlink(ns, &i, &now);
end:
	rc = tx_end(ns, rc);
	if (rc == 0 && dir_out != NULL)
		ino_to_attr(ns, &dir, dir_out);
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_ns_rmdir(struct mds_ns *ns, uint64_t parent, const char *name,
    size_t namelen)
{
	struct mds_ino dir, i;
	struct timespec now;
	uint64_t ino;
	int rc;

	now_ts(&now);
	ns_wlock(ns);
	rc = tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = name_check(name, namelen);
	if (rc < 0)
		goto end;
	rc = dir_load(ns, parent, &dir);
	if (rc < 0)
		goto end;
	if (is_dot(name, namelen)) {
		rc = namelen == 1 ? -EINVAL : -ENOTEMPTY;
		goto end;
	}
	rc = dent_get(ns, parent, name, namelen, &ino);
	if (rc <= 0) {
		rc = rc == 0 ? -ENOENT : rc;
		goto end;
	}
	rc = ino_load(ns, ino, &i);
	if (rc < 0)
		goto end;
	if (!S_ISDIR(i.mode)) {
		rc = -ENOTDIR;
		goto end;
	}
	rc = dir_has_entries(ns, ino);
	if (rc != 0) {
		rc = rc == 1 ? -ENOTEMPTY : rc;
		goto end;
	}
	rc = dent_del(ns, parent, name, namelen);
	if (rc < 0)
		goto end;
	rc = ino_destroy(ns, &i);
	if (rc < 0)
		goto end;
	if (dir.nlink > 2)
		dir.nlink--;
	dir.mt = dir.ct = now;
	rc = ino_store(ns, &dir);
end:
	rc = tx_end(ns, rc);
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

/* 1 when `dir` is `anc` or below it, following the parent links. */
static int
in_subtree(struct mds_ns *ns, uint64_t dir, uint64_t anc)
{
	struct mds_ino d;
	int rc, depth = 0;

	for (;;) {
		if (dir == anc)
			return 1;
		if (dir == MDS_ROOT_INO)
			return 0;
		if (++depth > 100000)
			return -ELOOP;
		rc = ino_load(ns, dir, &d);
		if (rc < 0)
			return rc;
		dir = d.parent;
	}
}

static int
rename_exchange(struct mds_ns *ns, struct mds_ino *op, struct mds_ino *np,
    const char *oldname, size_t oldlen, const char *newname, size_t newlen,
    struct mds_ino *src, struct mds_ino *dst, const struct timespec *now)
{
	int rc;

	if (op->ino != np->ino) {
		if (S_ISDIR(src->mode)) {
			rc = in_subtree(ns, np->ino, src->ino);
			if (rc != 0)
				return rc == 1 ? -EINVAL : rc;
		}
		if (S_ISDIR(dst->mode)) {
			rc = in_subtree(ns, op->ino, dst->ino);
			if (rc != 0)
				return rc == 1 ? -EINVAL : rc;
		}
	}
	rc = dent_set(ns, op->ino, oldname, oldlen, dst->ino, dst->mode);
	if (rc == 0)
		rc = dent_set(ns, np->ino, newname, newlen, src->ino,
		    src->mode);
	if (rc < 0)
		return rc;
	if (op->ino != np->ino) {
		if (S_ISDIR(src->mode)) {
			src->parent = np->ino;
			op->nlink--;
			np->nlink++;
		}
		if (S_ISDIR(dst->mode)) {
			dst->parent = op->ino;
			np->nlink--;
			op->nlink++;
		}
	}
	src->ct = dst->ct = *now;
	rc = ino_store(ns, src);
	if (rc == 0)
		rc = ino_store(ns, dst);
	return rc;
}

int
mds_ns_rename(struct mds_ns *ns, uint64_t oldparent, const char *oldname,
    size_t oldlen, uint64_t newparent, const char *newname, size_t newlen,
    uint32_t flags)
{
	struct mds_ino opd, npd, src, dst, *op = &opd, *np = &npd;
	struct timespec now;
	uint64_t sino, dino;
	int rc, have_dst;

	if ((flags & ~(MSG_RN_NOREPLACE | MSG_RN_EXCHANGE)) ||
	    ((flags & MSG_RN_NOREPLACE) && (flags & MSG_RN_EXCHANGE)))
		return -EINVAL;
	now_ts(&now);
	ns_wlock(ns);
	rc = tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = name_check(oldname, oldlen);
	if (rc == 0)
		rc = name_check(newname, newlen);
	if (rc < 0)
		goto end;
	rc = dir_load(ns, oldparent, op);
	if (rc < 0)
		goto end;
	if (newparent == oldparent)
		np = op;
	else {
		rc = dir_load(ns, newparent, np);
		if (rc < 0)
			goto end;
	}
	if (is_dot(oldname, oldlen) || is_dot(newname, newlen)) {
		rc = -EINVAL;
		goto end;
	}
	rc = dent_get(ns, oldparent, oldname, oldlen, &sino);
	if (rc <= 0) {
		rc = rc == 0 ? -ENOENT : rc;
		goto end;
	}
	rc = dent_get(ns, newparent, newname, newlen, &dino);
	if (rc < 0)
		goto end;
	have_dst = rc;
	rc = 0;
	if ((flags & MSG_RN_EXCHANGE) && !have_dst) {
		rc = -ENOENT;
		goto end;
	}
	if ((flags & MSG_RN_NOREPLACE) && have_dst) {
		rc = -EEXIST;
		goto end;
	}
	if (have_dst && dino == sino)
		goto end;	/* same inode under both names: no-op */
	rc = ino_load(ns, sino, &src);
	if (rc < 0)
		goto end;
	if (have_dst) {
		rc = ino_load(ns, dino, &dst);
		if (rc < 0)
			goto end;
	}
	if (flags & MSG_RN_EXCHANGE) {
		rc = rename_exchange(ns, op, np, oldname, oldlen, newname,
		    newlen, &src, &dst, &now);
		goto parents;
	}
	if (S_ISDIR(src.mode) && oldparent != newparent) {
		rc = in_subtree(ns, newparent, sino);
		if (rc != 0) {
			rc = rc == 1 ? -EINVAL : rc;
			goto end;
		}
	}
	if (have_dst) {
		if (S_ISDIR(src.mode) && !S_ISDIR(dst.mode)) {
			rc = -ENOTDIR;
			goto end;
		}
		if (!S_ISDIR(src.mode) && S_ISDIR(dst.mode)) {
			rc = -EISDIR;
			goto end;
		}
		if (S_ISDIR(dst.mode)) {
			rc = dir_has_entries(ns, dino);
			if (rc != 0) {
				rc = rc == 1 ? -ENOTEMPTY : rc;
				goto end;
			}
			rc = ino_destroy(ns, &dst);
			if (rc < 0)
				goto end;
			np->nlink--;
		} else {
			rc = ino_unlink(ns, &dst, &now);
			if (rc < 0)
				goto end;
		}
		rc = dent_del(ns, newparent, newname, newlen);
		if (rc < 0)
			goto end;
	}
	rc = dent_del(ns, oldparent, oldname, oldlen);
	if (rc < 0)
		goto end;
	rc = dent_add(ns, np, newname, newlen, sino, src.mode);
	if (rc < 0)
		goto end;
	if (S_ISDIR(src.mode) && oldparent != newparent) {
		if (np->nlink >= MDS_LINK_MAX) {
			rc = -EMLINK;
			goto end;
		}
		op->nlink--;
		np->nlink++;
		src.parent = newparent;
	}
	src.ct = now;
	rc = ino_store(ns, &src);
parents:
	if (rc < 0)
		goto end;
	op->mt = op->ct = now;
	np->mt = np->ct = now;
	rc = ino_store(ns, op);
	if (rc == 0 && np != op)
		rc = ino_store(ns, np);
end:
	rc = tx_end(ns, rc);
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

/* ---- readdir, readlink ---- */

static size_t
dirent_reclen(size_t namelen)
{
	return (sizeof(struct msg_dirent) + namelen + 7) & ~(size_t)7;
}

static int
dirent_put(char *buf, size_t cap, size_t *used, uint64_t ino,
    uint64_t cookie, uint32_t mode, const void *name, size_t namelen)
{
	struct msg_dirent de;
	size_t rl = dirent_reclen(namelen);

	if (*used + rl > cap)
		return 0;
	memset(&de, 0, sizeof(de));
	de.ino = ino;
	de.cookie = cookie;
	de.mode = mode & S_IFMT;
	de.namelen = (uint16_t)namelen;
	de.reclen = (uint16_t)rl;
	memset(buf + *used, 0, rl);
	memcpy(buf + *used, &de, sizeof(de));
	memcpy(buf + *used + sizeof(de), name, namelen);
	*used += rl;
	return 1;
}

int
mds_ns_readdir(struct mds_ns *ns, uint64_t ino, uint64_t cookie,
    void *buf, size_t cap, size_t *used, uint32_t *count, int *eof)
{
	struct mds_ino d;
	sqlite3_stmt *s;
	int rc, step;

	*used = 0;
	*count = 0;
	*eof = 0;
	ns_rlock(ns);
	rc = ino_load(ns, ino, &d);
	if (rc < 0)
		goto out;
	if (!S_ISDIR(d.mode)) {
		rc = -ENOTDIR;
		goto out;
	}
	if (cookie < 1) {
		if (!dirent_put(buf, cap, used, d.ino, 1, S_IFDIR, ".", 1))
			goto full;
		(*count)++;
	}
	if (cookie < 2) {
		if (!dirent_put(buf, cap, used, d.parent, 2, S_IFDIR, "..", 2))
			goto full;
		(*count)++;
	}
	s = st(ns, Q_DENT_LIST);
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_int64(s, 2, cookie < 2 ? 2 : (int64_t)cookie);
	sqlite3_bind_int64(s, 3, (int64_t)(cap / sizeof(struct msg_dirent)) +
	    1);
	for (;;) {
		const void *name;
		int nlen;

		step = sqlite3_step(s);
		if (step == SQLITE_DONE) {
			*eof = 1;
			break;
		}
		if (step != SQLITE_ROW) {
			rc = sql_errno(step);
			break;
		}
		name = sqlite3_column_blob(s, 0);
		nlen = sqlite3_column_bytes(s, 0);
		if (name == NULL || nlen <= 0 || nlen > MSG_NAME_MAX)
			continue;	/* corrupt row: skip it */
		if (!dirent_put(buf, cap, used,
		    (uint64_t)sqlite3_column_int64(s, 1),
		    (uint64_t)sqlite3_column_int64(s, 2),
		    (uint32_t)sqlite3_column_int64(s, 3), name, (size_t)nlen))
			break;
		(*count)++;
	}
	sqlite3_reset(s);
full:
	if (rc == 0 && *count == 0 && !*eof)
		rc = -EINVAL;	/* buffer too small for one entry */
out:
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_ns_readlink(struct mds_ns *ns, uint64_t ino, char *buf, size_t cap,
    size_t *len)
{
	struct mds_ino i;
	sqlite3_stmt *s;
	const void *t;
	size_t n;
	int rc;

	ns_rlock(ns);
	rc = ino_load(ns, ino, &i);
	if (rc < 0)
		goto out;
	if (!S_ISLNK(i.mode)) {
		rc = -EINVAL;
		goto out;
	}
	s = st(ns, Q_TARGET_GET);
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	rc = st_row(ns, s);
	if (rc <= 0) {
		rc = rc == 0 ? -ENOENT : rc;
		goto out;
	}
	t = sqlite3_column_blob(s, 0);
	n = (size_t)sqlite3_column_bytes(s, 0);
	if (t == NULL || n > cap)
		rc = -EIO;
	else {
		memcpy(buf, t, n);
		*len = n;
		rc = 0;
	}
	sqlite3_reset(s);
out:
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

/* ---- open, close, append ---- */

int
mds_ns_open_file(struct mds_ns *ns, uint64_t ino, uint32_t flags,
    uint64_t owner, struct msg_attr *out, uint64_t *handle,
    struct mds_layout *lay)
{
	struct timespec now;
	struct mds_ino i;
	struct ofile *f;
	int rc, trunc = 0;

	*handle = 0;
	memset(&lay->hdr, 0, sizeof(lay->hdr));
	now_ts(&now);
	ns_wlock(ns);
	/* Only O_TRUNC writes: other opens run without a transaction. */
	rc = ino_load(ns, ino, &i);
	if (rc < 0)
		goto out;
	if (S_ISLNK(i.mode)) {
		rc = -ELOOP;
		goto out;
	}
	if (S_ISDIR(i.mode) && is_writer(flags)) {
		rc = -EISDIR;
		goto out;
	}
	if (S_ISREG(i.mode)) {
		rc = layout_load(ns, ino, lay);
		if (rc == 0)
			rc = -EIO;
		if (rc < 0)
			goto out;
		rc = 0;
	}
	if (S_ISREG(i.mode) && (flags & O_TRUNC) && is_writer(flags)) {
		rc = tx_begin(ns);
		if (rc < 0)
			goto out;
		i.size = 0;
		i.mt = i.ct = now;
		rc = tx_end(ns, ino_store(ns, &i));
		trunc = 1;
	}
	if (rc == 0 && S_ISREG(i.mode)) {
		if (trunc) {
			f = ofile_get(ns, ino);
			if (f != NULL)
				f->trunc_gen++;
		}
		*handle = handle_open(ns, ino, flags, owner);
	}
	if (rc == 0)
		ino_to_attr(ns, &i, out);
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

/*
 * relatime, as Linux mounts by default: a read moves atime only when it is
 * not newer than mtime or ctime, or is a day old. Reads are reported at
 * close (MSG_CLOSE_READ), so atime costs no round trip of its own.
 */
static int
atime_due(const struct mds_ino *i, const struct timespec *now)
{
	if (ts_cmp(&i->at, &i->mt) <= 0 || ts_cmp(&i->at, &i->ct) <= 0)
		return 1;
	return now->tv_sec - i->at.tv_sec >= 24 * 3600;
}

int
mds_ns_close_file(struct mds_ns *ns, const struct msg_close *c,
    struct msg_attr *out)
{
	struct ohandle *h = NULL;
	struct timespec now, mt_set = { 0, 0 }, cmt;
	struct mds_ino i;
	struct ofile *f;
	int rc, truncated = 0, dirty = 0, gone, at_set = 0;

	now_ts(&now);
	ns_wlock(ns);
	/* A read-only close changes nothing durable: no transaction. */
	rc = ino_load(ns, c->ino, &i);
	if (rc < 0)
		goto out;
	if ((c->written & MSG_CLOSE_WRITTEN) && S_ISREG(i.mode) &&
	    c->size > (uint64_t)INT64_MAX) {
		rc = -EFBIG;
		goto out;
	}
	f = ofile_get(ns, c->ino);
	if (c->handle != 0)
		h = handle_take(ns, c->handle, c->ino);
	if (f != NULL) {
		mt_set = f->mt_set;
		at_set = f->at_set;
	}
	if (h != NULL && f != NULL) {
		truncated = h->trunc_gen != f->trunc_gen;
		f->opens--;
		if (is_writer(h->flags) && f->writers > 0)
			f->writers--;
		ofile_drop_if_unused(ns, f);
	}
	if ((c->written & MSG_CLOSE_READ) && h != NULL && !at_set &&
	    atime_due(&i, &now)) {
		i.at = now;
		dirty = 1;
	}
	free(h);
	if ((c->written & MSG_CLOSE_WRITTEN) && S_ISREG(i.mode)) {
		if (truncated || c->size > i.size)
			i.size = c->size;
		/*
		 * The writer's last write time, unless an explicit mtime (or
		 * a truncate) came after it: cp -p, tar and rsync -t close
		 * and then utime, and FUSE sends our CLOSE (at release)
		 * asynchronously, so it may arrive after their SETATTR.
		 */
		if ((c->mtime_sec != 0 || c->mtime_nsec != 0) &&
		    ts_valid(c->mtime_sec, c->mtime_nsec)) {
			cmt.tv_sec = c->mtime_sec;
			cmt.tv_nsec = c->mtime_nsec;
			if (ts_cmp(&mt_set, &cmt) <= 0)
				i.mt = cmt;
		} else if (mt_set.tv_sec == 0 && mt_set.tv_nsec == 0)
			i.mt = now;
		i.ct = now;
		i.written = 1;
		dirty = 1;
	}
	gone = i.nlink == 0 && open_count(ns, i.ino) == 0;
	if (dirty || gone) {
		rc = tx_begin(ns);
		if (rc < 0)
			goto out;
		if (gone)
			rc = ino_destroy(ns, &i);
		else
			rc = ino_store(ns, &i);
		rc = tx_end(ns, rc);
	}
	if (rc == 0)
		ino_to_attr(ns, &i, out);
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

/* Forget one handle (already unlinked from the table) in a transaction. */
static int
handle_release(struct mds_ns *ns, struct ohandle *h)
{
	struct ofile *f = ofile_get(ns, h->ino);
	struct mds_ino i;
	int rc;

	if (f == NULL)
		return 0;
	f->opens--;
	if (is_writer(h->flags) && f->writers > 0)
		f->writers--;
	ofile_drop_if_unused(ns, f);
	if (open_count(ns, h->ino) > 0)
		return 0;
	rc = ino_load(ns, h->ino, &i);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0 && i.nlink == 0)
		rc = ino_destroy(ns, &i);
	return rc;
}

int
mds_ns_drop_owner(struct mds_ns *ns, uint64_t owner)
{
	struct ohandle **pp, *h;
	int rc = 0, n = 0;

	ns_wlock(ns);
	rc = tx_begin(ns);
	if (rc < 0)
		goto out;
	for (int b = 0; b < OHASH_SIZE && rc == 0; b++) {
		pp = &ns->handles[b];
		while (*pp != NULL && rc == 0) {
			h = *pp;
			if (h->owner != owner) {
				pp = &h->next;
				continue;
			}
			*pp = h->next;
			rc = handle_release(ns, h);
			free(h);
			n++;
		}
	}
	rc = tx_end(ns, rc);
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc < 0 ? rc : n;
}

int
mds_ns_append(struct mds_ns *ns, uint64_t ino, uint64_t handle,
    uint64_t length, uint64_t *offset)
{
	struct timespec now;
	struct mds_ino i;
	int rc;

	(void)handle;
	now_ts(&now);
	ns_wlock(ns);
	rc = tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = ino_load(ns, ino, &i);
	if (rc < 0)
		goto end;
	if (S_ISDIR(i.mode)) {
		rc = -EISDIR;
		goto end;
	}
	if (!S_ISREG(i.mode)) {
		rc = -EINVAL;
		goto end;
	}
	if (length > (uint64_t)INT64_MAX - i.size) {
		rc = -EFBIG;
		goto end;
	}
	*offset = i.size;
	i.size += length;
	i.written = 1;
	i.mt = i.ct = now;
	rc = ino_store(ns, &i);
end:
	rc = tx_end(ns, rc);
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

/* ---- xattrs ---- */

#define XA_LOV		"lustre.lov"

enum xa_ns { XK_USER, XK_TRUSTED, XK_SECURITY, XK_SYSTEM, XK_LOV };

static int
xattr_name(const char *name, size_t len, enum xa_ns *kind)
{
	static const struct {
		const char	*prefix;
		enum xa_ns	 kind;
	} pfx[] = {
		{ "user.", XK_USER },
		{ "trusted.", XK_TRUSTED },
		{ "security.", XK_SECURITY },
		{ "system.", XK_SYSTEM },
	};

	if (len == 0 || len > MSG_NAME_MAX)
		return -ERANGE;
	if (memchr(name, '\0', len) != NULL)
		return -EINVAL;
	if (len == strlen(XA_LOV) && memcmp(name, XA_LOV, len) == 0) {
		*kind = XK_LOV;
		return 0;
	}
	for (size_t k = 0; k < sizeof(pfx) / sizeof(pfx[0]); k++) {
		size_t pl = strlen(pfx[k].prefix);

		if (len > pl && memcmp(name, pfx[k].prefix, pl) == 0) {
			*kind = pfx[k].kind;
			return 0;
		}
	}
	return -EOPNOTSUPP;
}

/* The effective default a directory hands out (for GETLAYOUT). */
static int
layout_get_locked(struct mds_ns *ns, const struct mds_ino *i,
    struct mds_layout *l)
{
	int rc;

	if (S_ISDIR(i->mode))
		return layout_default(ns, i->ino, l);
	if (!S_ISREG(i->mode))
		return -ENODATA;
	rc = layout_load(ns, i->ino, l);
	if (rc == 0)
		return -ENODATA;
	return rc < 0 ? rc : 0;
}

int
mds_ns_getxattr(struct mds_ns *ns, uint64_t ino, uint32_t uid,
    const char *name, size_t namelen, uint32_t want, void *buf, size_t cap,
    size_t *len)
{
	struct mds_layout l;
	struct mds_ino i;
	enum xa_ns kind;
	sqlite3_stmt *s;
	const void *v = NULL;
	size_t n = 0;
	int rc;

	*len = 0;
	rc = xattr_name(name, namelen, &kind);
	if (rc < 0)
		return rc;
	if (kind == XK_TRUSTED && uid != 0)
		return -ENODATA;
	ns_rlock(ns);
	rc = ino_load(ns, ino, &i);
	if (rc < 0)
		goto out;
	if (kind == XK_LOV) {
		if (S_ISDIR(i.mode)) {
			rc = layout_load(ns, ino, &l);
			if (rc == 0)
				rc = -ENODATA;
		} else
			rc = layout_get_locked(ns, &i, &l);
		if (rc < 0)
			goto out;
		rc = 0;
		v = &l;
		n = mds_layout_size(&l);
	} else {
		s = st(ns, Q_XA_GET);
		sqlite3_bind_int64(s, 1, (int64_t)ino);
		sqlite3_bind_blob(s, 2, name, (int)namelen, SQLITE_STATIC);
		rc = st_row(ns, s);
		if (rc <= 0) {
			rc = rc == 0 ? -ENODATA : rc;
			goto out;
		}
		rc = 0;
		v = sqlite3_column_blob(s, 0);
		n = (size_t)sqlite3_column_bytes(s, 0);
	}
	*len = n;
	if (want != 0 && n > want)
		rc = -ERANGE;
	else if (n > cap)
		rc = -ERANGE;
	else if (n > 0)
		memcpy(buf, v, n);
	if (kind != XK_LOV)
		sqlite3_reset(ns->st[Q_XA_GET]);
out:
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

/* Set a layout (mds_ns_setlayout's body); in a transaction. */
static int
setlayout_locked(struct mds_ns *ns, struct mds_ino *i, const void *blob,
    size_t len)
{
	struct mds_layout req, old, lay;
	int rc;

	if (len < sizeof(req.hdr) || len > MDS_LAYOUT_MAX)
		return -EINVAL;
	memcpy(&req.hdr, blob, sizeof(req.hdr));
	if (req.hdr.magic != MSG_LOV_MAGIC)
		return -EINVAL;
	rc = layout_hdr_check(ns, &req.hdr);
	if (rc < 0)
		return rc;
	req.hdr.nent = 0;
	if (S_ISDIR(i->mode)) {
		if (req.hdr.stripe_count == 0 && req.hdr.stripe_size == 0 &&
		    req.hdr.stripe_offset == -1)
			return layout_store(ns, i->ino, NULL);
		return layout_store(ns, i->ino, &req);
	}
	if (!S_ISREG(i->mode))
		return -EINVAL;
	if (i->size != 0 || i->written)
		return -EEXIST;
	rc = layout_load(ns, i->ino, &old);
	if (rc < 0)
		return rc;
	rc = layout_alloc(ns, &req, &lay);
	if (rc < 0)
		return rc;
	rc = layout_store(ns, i->ino, &lay);
	if (rc == 0 && old.hdr.magic == MSG_LOV_MAGIC)
		rc = destroy_queue(ns, &old);
	return rc;
}

int
mds_ns_setxattr(struct mds_ns *ns, uint64_t ino, uint32_t uid,
    const char *name, size_t namelen, const void *val, size_t vlen,
    uint32_t flags)
{
	struct timespec now;
	struct mds_ino i;
	enum xa_ns kind;
	sqlite3_stmt *s;
	uint64_t total;
	int rc, exists;

	rc = xattr_name(name, namelen, &kind);
	if (rc < 0)
		return rc;
	if (flags & ~(MSG_XA_CREATE | MSG_XA_REPLACE))
		return -EINVAL;
	if (kind == XK_TRUSTED && uid != 0)
		return -EPERM;
	if (vlen > MSG_XATTR_MAX)
		return -E2BIG;
	now_ts(&now);
	ns_wlock(ns);
	rc = tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = ino_load(ns, ino, &i);
	if (rc < 0)
		goto end;
	if (kind == XK_LOV) {
		rc = setlayout_locked(ns, &i, val, vlen);
		goto touch;
	}
	if (kind == XK_USER && !S_ISREG(i.mode) && !S_ISDIR(i.mode)) {
		rc = -EPERM;	/* as Linux: user.* only on files and dirs */
		goto end;
	}
	s = st(ns, Q_XA_GET);
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_blob(s, 2, name, (int)namelen, SQLITE_STATIC);
	rc = st_row(ns, s);
	if (rc < 0)
		goto end;
	sqlite3_reset(s);
	exists = rc;
	if ((flags & MSG_XA_CREATE) && exists) {
		rc = -EEXIST;
		goto end;
	}
	if ((flags & MSG_XA_REPLACE) && !exists) {
		rc = -ENODATA;
		goto end;
	}
	s = st(ns, Q_XA_TOTAL);
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_blob(s, 2, name, (int)namelen, SQLITE_STATIC);
	rc = st_row(ns, s);
	if (rc <= 0) {
		rc = rc == 0 ? -EIO : rc;
		goto end;
	}
	total = (uint64_t)sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (total + namelen + vlen > XATTR_TOTAL_MAX) {
		rc = -ENOSPC;
		goto end;
	}
	s = st(ns, Q_XA_SET);
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_blob(s, 2, name, (int)namelen, SQLITE_STATIC);
	sqlite3_bind_blob(s, 3, vlen ? val : "", (int)vlen, SQLITE_STATIC);
	rc = st_exec(ns, s);
touch:
	if (rc < 0)
		goto end;
	i.ct = now;
	rc = ino_store(ns, &i);
end:
	rc = tx_end(ns, rc);
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_ns_listxattr(struct mds_ns *ns, uint64_t ino, uint32_t uid, void *buf,
    size_t cap, size_t *len)
{
	struct mds_ino i;
	sqlite3_stmt *s;
	enum xa_ns kind;
	size_t used = 0;
	int rc, step;

	*len = 0;
	ns_rlock(ns);
	rc = ino_load(ns, ino, &i);
	if (rc < 0)
		goto out;
	s = st(ns, Q_XA_LIST);
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	for (;;) {
		const char *n;
		int nl;

		step = sqlite3_step(s);
		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = sql_errno(step);
			break;
		}
		n = sqlite3_column_blob(s, 0);
		nl = sqlite3_column_bytes(s, 0);
		if (n == NULL || nl <= 0 ||
		    xattr_name(n, (size_t)nl, &kind) < 0)
			continue;
		if (kind == XK_TRUSTED && uid != 0)
			continue;
		if (used + (size_t)nl + 1 > cap) {
			rc = -ERANGE;
			break;
		}
		memcpy((char *)buf + used, n, (size_t)nl);
		used += (size_t)nl;
		((char *)buf)[used++] = '\0';
	}
	sqlite3_reset(s);
	*len = used;
out:
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_ns_rmxattr(struct mds_ns *ns, uint64_t ino, uint32_t uid,
    const char *name, size_t namelen)
{
	struct timespec now;
	struct mds_layout l;
	struct mds_ino i;
	enum xa_ns kind;
	sqlite3_stmt *s;
	int rc;

	rc = xattr_name(name, namelen, &kind);
	if (rc < 0)
		return rc;
	if (kind == XK_TRUSTED && uid != 0)
		return -EPERM;
	now_ts(&now);
	ns_wlock(ns);
	rc = tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = ino_load(ns, ino, &i);
	if (rc < 0)
		goto end;
	if (kind == XK_LOV) {
		if (!S_ISDIR(i.mode)) {
			rc = -EPERM;
			goto end;
		}
		rc = layout_load(ns, ino, &l);
		if (rc == 0)
			rc = -ENODATA;
		if (rc == 1)
			rc = layout_store(ns, ino, NULL);
	} else {
		s = st(ns, Q_XA_GET);
		sqlite3_bind_int64(s, 1, (int64_t)ino);
		sqlite3_bind_blob(s, 2, name, (int)namelen, SQLITE_STATIC);
		rc = st_row(ns, s);
		if (rc == 1)
			sqlite3_reset(s);
		if (rc == 0)
			rc = -ENODATA;
		if (rc < 0)
			goto end;
		s = st(ns, Q_XA_DEL);
		sqlite3_bind_int64(s, 1, (int64_t)ino);
		sqlite3_bind_blob(s, 2, name, (int)namelen, SQLITE_STATIC);
		rc = st_exec(ns, s);
	}
	if (rc < 0)
		goto end;
	i.ct = now;
	rc = ino_store(ns, &i);
end:
	rc = tx_end(ns, rc);
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

/* ---- layouts ---- */

int
mds_ns_getlayout(struct mds_ns *ns, uint64_t ino, struct mds_layout *lay)
{
	struct mds_ino i;
	int rc;

	ns_rlock(ns);
	rc = ino_load(ns, ino, &i);
	if (rc == 0)
		rc = layout_get_locked(ns, &i, lay);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_ns_setlayout(struct mds_ns *ns, uint64_t ino, const void *blob,
    size_t len)
{
	struct mds_ino i;
	int rc;

	ns_wlock(ns);
	rc = tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = ino_load(ns, ino, &i);
	if (rc == 0)
		rc = setlayout_locked(ns, &i, blob, len);
	rc = tx_end(ns, rc);
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

/* ---- destroy queue ---- */

int
mds_ns_destroy_next(struct mds_ns *ns, int64_t after,
    struct mds_destroy *rows, int max)
{
	sqlite3_stmt *s;
	int n = 0, step, rc = 0;

	ns_rlock(ns);
	s = st(ns, Q_DESTROY_NEXT);
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int(s, 2, max);
	while (n < max) {
		step = sqlite3_step(s);
		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = sql_errno(step);
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

int
mds_ns_destroy_done_many(struct mds_ns *ns, const int64_t *ids, int n)
{
	sqlite3_stmt *s;
	int rc;

	if (n <= 0)
		return 0;
	ns_wlock(ns);
	rc = tx_begin(ns);
	if (rc < 0)
		goto out;
	for (int i = 0; i < n && rc == 0; i++) {
		s = st(ns, Q_DESTROY_DEL);
		sqlite3_bind_int64(s, 1, ids[i]);
		rc = st_exec(ns, s);
	}
	rc = tx_end(ns, rc);
out:
	rc = tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_ns_destroy_done(struct mds_ns *ns, int64_t id)
{
	return mds_ns_destroy_done_many(ns, &id, 1);
}

uint64_t
mds_ns_destroy_pending(struct mds_ns *ns)
{
	uint64_t n = 0;

	ns_rlock(ns);
	ns_count(ns, "SELECT count(*) FROM destroy", &n);
	pthread_mutex_unlock(&ns->lock);
	return n;
}

void
mds_ns_set_destroy_hook(struct mds_ns *ns, void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&ns->lock);
	ns->destroy_hook = fn;
	ns->destroy_arg = arg;
	pthread_mutex_unlock(&ns->lock);
}
