/*
 * The MDS namespace store (see mds_ns.h for the contract): inodes and
 * directory entries, lookups, attributes, creation, removal, rename,
 * readdir and readlink. The rest of the store lives beside it, each file
 * with its own contract, sharing mds_int.h:
 *
 *   mds_store.c    the schema and statements, opening (upgrade, orphans
 *                  of the last run) and closing the store, the OST map
 *   mds_tx.c       SQLite glue, the lock, group commit, id ranges (3),
 *                  checkpoints (1)
 *   mds_open.c     open handles, OPEN, CLOSE, APPEND (5)
 *   mds_layout.c   layout blobs, defaults, object allocation (6)
 *   mds_xattr.c    extended attributes
 *   mds_destroy.c  the destroy queue
 *
 * Design notes (for the whole store):
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
 *  7. Lazy atime: an atime that only a read moved (CLOSE, relatime) is
 *     noted in memory (ns->lazy) instead of a transaction of its own; the
 *     CLOSE that finds LAZY_BATCH noted, or the oldest LAZY_AGE_NS old,
 *     stores them all in its transaction, as do a snapshot (first) and a
 *     clean close. Every inode read (ino_row) sees the noted atime; every
 *     store or destroy of the inode forgets it (the row written holds it,
 *     or an explicit time set since; a new inode's number was never used,
 *     note 3). A kill -9 loses the
 *     atimes noted since the last such store (ext4's lazytime keeps them
 *     in memory up to a day); nothing else is deferred. A failed store
 *     forgets them too (atime falls back).
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
#include "mds/mds_reply.h"
#include "mds/mds_vfs.h"

void
mds_ns_now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

/* ---- deferred atimes (design note 7) ---- */

struct lazy_at {
	struct lazy_at	*next;
	uint64_t	 ino;
	struct timespec	 at;
};

static struct lazy_at **
lazy_slot(struct mds_ns *ns, uint64_t ino)
{
	struct lazy_at **pp = &ns->lazy[ino % LAZY_HASH];

	while (*pp != NULL && (*pp)->ino != ino)
		pp = &(*pp)->next;
	return pp;
}

static void
lazy_forget(struct mds_ns *ns, uint64_t ino)
{
	struct lazy_at **pp, *e;

	if (ns->nlazy == 0)
		return;
	pp = lazy_slot(ns, ino);
	if ((e = *pp) == NULL)
		return;
	*pp = e->next;
	free(e);
	ns->nlazy--;
}

int
mds_ns_atime_defer(struct mds_ns *ns, uint64_t ino, const struct timespec *at)
{
	struct lazy_at **pp = lazy_slot(ns, ino);

	if (*pp == NULL) {
		*pp = malloc(sizeof(**pp));
		if (*pp == NULL)
			return -1;
		(*pp)->next = NULL;
		(*pp)->ino = ino;
		if (ns->nlazy++ == 0)
			ns->lazy_since = now_mono_ns();
	}
	(*pp)->at = *at;
	return ns->nlazy >= LAZY_BATCH ||
	    now_mono_ns() - ns->lazy_since >= LAZY_AGE_NS;
}

int
mds_ns_atime_store(struct mds_ns *ns)
{
	sqlite3_stmt *s;
	int rc = 0;

	for (unsigned b = 0; b < LAZY_HASH && ns->nlazy > 0; b++) {
		while (ns->lazy[b] != NULL) {
			struct lazy_at *e = ns->lazy[b];

			ns->lazy[b] = e->next;
			ns->nlazy--;
			if (rc == 0) {
				s = mds_tx_st(ns, Q_INO_ATIME);
				sqlite3_bind_int64(s, 1, (int64_t)e->ino);
				sqlite3_bind_int64(s, 2, e->at.tv_sec);
				sqlite3_bind_int64(s, 3, e->at.tv_nsec);
				rc = mds_tx_exec(ns, s);
			}
			free(e);
		}
	}
	return rc;
}

int
mds_ns_atime_flush(struct mds_ns *ns)
{
	int rc = 0;

	mds_tx_wlock(ns);
	if (ns->nlazy > 0) {
		rc = mds_tx_begin(ns);
		if (rc == 0)
			rc = mds_tx_end(ns, mds_ns_atime_store(ns));
	}
	/* Every writer ends here, with or without a change of its own: a
	 * request that saw it waiting left its batch for it to commit. */
	rc = mds_tx_sync(ns, rc);
	if (rc < 0)
		log_warn("mds_ns: read atimes: %s", strerror(-rc));
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

void
mds_ns_atime_free(struct mds_ns *ns)
{
	if (ns->nlazy > 0)
		log_warn("mds_ns: %u read atimes not stored", ns->nlazy);
	for (unsigned b = 0; b < LAZY_HASH; b++) {
		while (ns->lazy[b] != NULL) {
			struct lazy_at *e = ns->lazy[b];

			ns->lazy[b] = e->next;
			free(e);
		}
	}
	ns->nlazy = 0;
}

/* ---- inodes ---- */

/* The columns of Q_INO_GET (the first 17 of Q_INO_GET_LAY) into i. */
static void
ino_cols(sqlite3_stmt *s, uint64_t ino, struct mds_ino *i)
{
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
	i->blocks = sqlite3_column_int64(s, 16);
}

/* Run query q (an inode's row first: INO_COLS) for ino into i; on 0 the
 * row stays current in *out for further columns (the caller resets it). */
static int
ino_row(struct mds_ns *ns, enum q q, uint64_t ino, struct mds_ino *i,
    sqlite3_stmt **out)
{
	sqlite3_stmt *s = mds_tx_st(ns, q);
	int rc;

	sqlite3_bind_int64(s, 1, (int64_t)ino);
	rc = mds_tx_row(ns, s);
	if (rc <= 0)
		return rc == 0 ? -ENOENT : rc;
	ino_cols(s, ino, i);
	if (ns->nlazy > 0) {
		struct lazy_at *e = *lazy_slot(ns, ino);

		if (e != NULL)
			i->at = e->at;
	}
	*out = s;
	return 0;
}

int
mds_ns_ino_load(struct mds_ns *ns, uint64_t ino, struct mds_ino *i)
{
	sqlite3_stmt *s;
	int rc = ino_row(ns, Q_INO_GET, ino, i, &s);

	if (rc == 0)
		sqlite3_reset(s);
	return rc;
}

/*
 * An inode and its layout in one read (an unlink needs both when it
 * destroys the file): *lay_out is 1 when l holds the layout, 0 when there
 * is none or it is corrupt (as mds_layout_load's -EIO: the inode still
 * goes, without its objects).
 */
static int
ino_load_lay(struct mds_ns *ns, uint64_t ino, struct mds_ino *i,
    struct mds_layout *l, int *lay_out)
{
	sqlite3_stmt *s;
	int rc;

	*lay_out = 0;
	rc = ino_row(ns, Q_INO_GET_LAY, ino, i, &s);
	if (rc < 0)
		return rc;
	if (sqlite3_column_type(s, 17) != SQLITE_NULL) {
		if (mds_layout_decode(sqlite3_column_blob(s, 17),
		    (size_t)sqlite3_column_bytes(s, 17), l) == 0)
			*lay_out = 1;
		else
			log_warn("mds_ns: inode %llu: corrupt layout",
			    (unsigned long long)ino);
	}
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
	sqlite3_bind_int64(s, 20, i->blocks);
}

int
mds_ns_ino_store(struct mds_ns *ns, const struct mds_ino *i)
{
	sqlite3_stmt *s = mds_tx_st(ns, Q_INO_UPD);

	ino_bind(s, i);
	lazy_forget(ns, i->ino);
	return mds_tx_exec(ns, s);
}

int
mds_ns_ino_insert(struct mds_ns *ns, const struct mds_ino *i, const void *target,
    size_t tlen, const struct mds_layout *lay)
{
	sqlite3_stmt *s = mds_tx_st(ns, Q_INO_INS);
	int rc;

	ino_bind(s, i);
	if (target != NULL)
		sqlite3_bind_blob(s, 18, target, (int)tlen, SQLITE_STATIC);
	if (lay != NULL)
		sqlite3_bind_blob(s, 19, lay, (int)mds_layout_size(lay),
		    SQLITE_STATIC);
	rc = mds_tx_exec(ns, s);
	if (rc == 0)
		ns->files_delta++;
	return rc;
}

void
mds_ns_ino_to_attr(struct mds_ns *ns, const struct mds_ino *i,
    struct msg_attr *a)
{
	struct ofile *f = mds_open_ofile(ns, i->ino);

	memset(a, 0, sizeof(*a));
	a->ino = i->ino;
	a->size = i->size;
	/* Regular files: what their objects held at the last writer's
	 * close; others (and stores from before) count their size. */
	a->blocks = S_ISREG(i->mode) && i->blocks >= 0 ?
	    (uint64_t)i->blocks : (i->size + 511) / 512;
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
	int rc = mds_ns_ino_load(ns, ino, d);

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
	sqlite3_stmt *s = mds_tx_st(ns, Q_DENT_GET);
	int rc;

	sqlite3_bind_int64(s, 1, (int64_t)parent);
	sqlite3_bind_blob(s, 2, name, (int)len, SQLITE_STATIC);
	rc = mds_tx_row(ns, s);
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
	sqlite3_stmt *s = mds_tx_st(ns, Q_DENT_INS);

	dir->dseq++;
	sqlite3_bind_int64(s, 1, (int64_t)dir->ino);
	sqlite3_bind_blob(s, 2, name, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (int64_t)ino);
	sqlite3_bind_int64(s, 4, (int64_t)dir->dseq);
	sqlite3_bind_int64(s, 5, mode & S_IFMT);
	return mds_tx_exec(ns, s);
}

static int
dent_del(struct mds_ns *ns, uint64_t parent, const char *name, size_t len)
{
	sqlite3_stmt *s = mds_tx_st(ns, Q_DENT_DEL);

	sqlite3_bind_int64(s, 1, (int64_t)parent);
	sqlite3_bind_blob(s, 2, name, (int)len, SQLITE_STATIC);
	return mds_tx_exec(ns, s);
}

static int
dent_set(struct mds_ns *ns, uint64_t parent, const char *name, size_t len,
    uint64_t ino, uint32_t mode)
{
	sqlite3_stmt *s = mds_tx_st(ns, Q_DENT_UPD);

	sqlite3_bind_int64(s, 1, (int64_t)parent);
	sqlite3_bind_blob(s, 2, name, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (int64_t)ino);
	sqlite3_bind_int64(s, 4, mode & S_IFMT);
	return mds_tx_exec(ns, s);
}

/* 1 when the directory has entries, 0 when empty. */
static int
dir_has_entries(struct mds_ns *ns, uint64_t dir)
{
	sqlite3_stmt *s = mds_tx_st(ns, Q_DENT_ANY);
	int rc;

	sqlite3_bind_int64(s, 1, (int64_t)dir);
	rc = mds_tx_row(ns, s);
	if (rc == 1)
		sqlite3_reset(s);
	return rc;
}

/* Delete an inode row and its xattrs, and queue the objects of l (NULL:
 * none). */
static int
ino_destroy_lay(struct mds_ns *ns, const struct mds_ino *i,
    const struct mds_layout *l)
{
	sqlite3_stmt *s;
	int rc;

	if (l != NULL) {
		rc = mds_destroy_queue(ns, l);
		if (rc < 0)
			return rc;
	}
	s = mds_tx_st(ns, Q_XA_DELALL);
	sqlite3_bind_int64(s, 1, (int64_t)i->ino);
	rc = mds_tx_exec(ns, s);
	if (rc < 0)
		return rc;
	lazy_forget(ns, i->ino);
	s = mds_tx_st(ns, Q_INO_DEL);
	sqlite3_bind_int64(s, 1, (int64_t)i->ino);
	rc = mds_tx_exec(ns, s);
	if (rc == 0)
		ns->files_delta--;
	return rc;
}

/* Delete an inode row, its xattrs, and queue its objects. */
int
mds_ns_ino_destroy(struct mds_ns *ns, const struct mds_ino *i)
{
	struct mds_layout l;
	int rc = 0;

	if (S_ISREG(i->mode)) {
		rc = mds_layout_load(ns, i->ino, &l);
		if (rc < 0 && rc != -EIO)
			return rc;
	}
	return ino_destroy_lay(ns, i, rc == 1 ? &l : NULL);
}

/* Drop one link of a non-directory; destroys it when unused. l: its
 * layout when the caller read it with the inode (ino_load_lay; no
 * entries when it has none), else NULL and it is read here if needed. */
static int
ino_unlink(struct mds_ns *ns, struct mds_ino *i, const struct timespec *now,
    const struct mds_layout *l)
{
	if (i->nlink > 0)
		i->nlink--;
	i->ct = *now;
	if (i->nlink > 0 || mds_open_count(ns, i->ino) != 0)
		return mds_ns_ino_store(ns, i);
	return l != NULL ? ino_destroy_lay(ns, i, l) :
	    mds_ns_ino_destroy(ns, i);
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

	mds_tx_rlock(ns);
	rc = name_check(name, namelen);
	if (rc < 0)
		goto out;
	rc = mds_ns_ino_load(ns, parent, &d);
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
	rc = mds_ns_ino_load(ns, ino, &i);
	if (rc == 0)
		mds_ns_ino_to_attr(ns, &i, out);
out:
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_ns_getattr(struct mds_ns *ns, uint64_t ino, struct msg_attr *out)
{
	struct mds_ino i;
	int rc;

	mds_tx_rlock(ns);
	rc = mds_ns_ino_load(ns, ino, &i);
	if (rc == 0)
		mds_ns_ino_to_attr(ns, &i, out);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_ns_ts_valid(int64_t sec, int64_t nsec)
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

	if (sa->valid & ~0x3ffu)
		return -EINVAL;
	if (((sa->valid & MSG_SA_ATIME) && !mds_ns_ts_valid(sa->atime_sec,
	    sa->atime_nsec)) || ((sa->valid & MSG_SA_MTIME) &&
	    !mds_ns_ts_valid(sa->mtime_sec, sa->mtime_nsec)) ||
	    ((sa->valid & MSG_SA_CTIME) && !mds_ns_ts_valid(sa->ctime_sec,
	    sa->ctime_nsec)))
		return -EINVAL;
	mds_ns_now(&now);
	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = mds_ns_ino_load(ns, sa->ino, &i);
	if (rc < 0)
		goto end;
	if (sa->valid & MSG_SA_KILLPRIV) {
		if (msg_killpriv(i.mode) == 0 &&
		    sa->valid == MSG_SA_KILLPRIV) {
			rc = 1;	/* nothing to clear: nothing stored */
			goto end;
		}
		i.mode &= ~msg_killpriv(i.mode);	/* a chown: any kind */
	}
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
		/* the client cuts the objects to the size: at most that */
		if (i.blocks > (int64_t)((i.size + 4095) / 4096 * 8))
			i.blocks = (int64_t)((i.size + 4095) / 4096 * 8);
		mds_open_truncated(ns, i.ino);
		if (sa->cred.uid != 0 && !(sa->valid & MSG_SA_MODE))
			i.mode &= ~msg_killpriv(i.mode);
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
	f = mds_open_ofile(ns, i.ino);
	if (f != NULL && (sa->valid & (MSG_SA_MTIME | MSG_SA_MTIME_NOW |
	    MSG_SA_SIZE)))
		f->mt_set = now;
	if (f != NULL && (sa->valid & (MSG_SA_ATIME | MSG_SA_ATIME_NOW)))
		f->at_gen++;
	if (sa->valid & MSG_SA_CTIME) {
		i.ct.tv_sec = sa->ctime_sec;
		i.ct.tv_nsec = sa->ctime_nsec;
	} else
		i.ct = now;
	rc = mds_ns_ino_store(ns, &i);
end:
	rc = mds_tx_end(ns, rc);
	if (rc >= 0)
		mds_ns_ino_to_attr(ns, &i, out);
out:
	rc = mds_tx_sync(ns, rc);
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

	rc = mds_tx_ino_alloc(ns, &i->ino);
	if (rc < 0)
		return rc;
	rc = mds_ns_ino_insert(ns, i, target, tlen, lay);
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
	return mds_ns_ino_store(ns, dir);
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
	mds_ns_now(&now);
	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
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
		rc = mds_ns_ino_load(ns, ino, &i);
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
		rc = mds_layout_load(ns, ino, lay);
		if (rc == 0)
			rc = -EIO;
		if (rc == 1)
			rc = 0;
		goto end;
	}
	rc = mds_layout_default(ns, cr->parent, &def);
	if (rc < 0)
		goto end;
	rc = mds_layout_alloc(ns, &def, lay);
	if (rc < 0)
		goto end;
	ino_new(&dir, cr, S_IFREG | (cr->mode & 07777), &now, &i);
	rc = create_common(ns, name, cr->namelen, &dir, &i, NULL, 0, lay);
	if (rc == 0)
		*created = 1;
end:
	rc = mds_tx_end(ns, rc);
	if (rc == 0) {
		*handle = mds_open_handle_new(ns, i.ino, O_RDWR, owner);
		mds_ns_ino_to_attr(ns, &i, out);
		if (dir_out != NULL)
			mds_ns_ino_to_attr(ns, &dir, dir_out);
	}
out:
	rc = mds_tx_sync(ns, rc);
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
	mds_ns_now(&now);
	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
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
		rc = mds_layout_default(ns, cr->parent, &def);
		if (rc == 0)
			rc = mds_layout_alloc(ns, &def, &lay);
	} else if (type == S_IFDIR) {
		/* Subdirectories inherit the parent's own default. */
		rc = mds_layout_load(ns, cr->parent, &lay);
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
	rc = mds_tx_end(ns, rc);
	if (rc == 0)
		mds_ns_ino_to_attr(ns, &i, out);
out:
	rc = mds_tx_sync(ns, rc);
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
	mds_ns_now(&now);
	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
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
	rc = mds_tx_end(ns, rc);
	if (rc == 0)
		mds_ns_ino_to_attr(ns, &i, out);
out:
	rc = mds_tx_sync(ns, rc);
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

	mds_ns_now(&now);
	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = mds_ns_ino_load(ns, ino, &i);
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
	rc = mds_ns_ino_store(ns, &i);
	if (rc == 0)
		rc = mds_ns_ino_store(ns, &dir);
end:
	rc = mds_tx_end(ns, rc);
	if (rc == 0)
		mds_ns_ino_to_attr(ns, &i, out);
out:
	rc = mds_tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

/* ---- removal ---- */

int
mds_ns_unlink(struct mds_ns *ns, uint64_t parent, const char *name,
    size_t namelen, struct msg_attr *dir_out)
{
	return mds_ns_unlink_ino(ns, parent, name, namelen, dir_out, NULL,
	    NULL, NULL);
}

static int
unlink_once(struct mds_ns *ns, uint64_t parent, const char *name,
    size_t namelen, struct msg_attr *dir_out, uint64_t *child, int *gone,
    const struct timespec *dir_time)
{
	struct mds_layout lay;
	struct mds_ino dir, i;
	struct timespec now;
	sqlite3_stmt *s;
	uint64_t ino = 0;
	int rc, has_lay;

	mds_ns_now(&now);
	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
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
	/* the layout comes with the inode: no second read to destroy it */
	rc = ino_load_lay(ns, ino, &i, &lay, &has_lay);
	if (rc < 0)
		goto end;
	if (S_ISDIR(i.mode)) {
		rc = -EISDIR;
		goto end;
	}
	if (!has_lay || !S_ISREG(i.mode))
		lay.hdr.nent = 0;
	rc = dent_del(ns, parent, name, namelen);
	if (rc < 0)
		goto end;
	if (dir_time == NULL || timespec_cmp(dir_time, &dir.mt) > 0)
		dir.mt = dir_time != NULL ? *dir_time : now;	/* msg.h */
	dir.ct = dir.mt;
	s = mds_tx_st(ns, Q_INO_TIMES);
	sqlite3_bind_int64(s, 1, (int64_t)dir.ino);
	sqlite3_bind_int64(s, 2, dir.mt.tv_sec);
	sqlite3_bind_int64(s, 3, dir.mt.tv_nsec);
	sqlite3_bind_int64(s, 4, dir.ct.tv_sec);
	sqlite3_bind_int64(s, 5, dir.ct.tv_nsec);
	rc = mds_tx_exec(ns, s);
	if (rc == 0)
		rc = ino_unlink(ns, &i, &now, &lay);
end:
	rc = mds_tx_end(ns, rc);
	if (rc == 0 && dir_out != NULL)
		mds_ns_ino_to_attr(ns, &dir, dir_out);
	if (child != NULL)
		*child = rc == 0 ? ino : 0;
	if (gone != NULL)	/* ino_unlink destroyed it */
		*gone = rc == 0 && i.nlink == 0 &&
		    mds_open_count(ns, ino) == 0;
out:
	rc = mds_tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

/* A removal frees space: on a full disk it runs again once the space
 * reserve is freed (mds_tx.c, contract 5), so it never answers ENOSPC
 * while the reserve lasts. */
int
mds_ns_unlink_ino(struct mds_ns *ns, uint64_t parent, const char *name,
    size_t namelen, struct msg_attr *dir_out, uint64_t *child, int *gone,
    const struct timespec *dir_time)
{
	int rc = unlink_once(ns, parent, name, namelen, dir_out, child, gone,
	    dir_time);

	if (rc == -ENOSPC && mds_tx_reserve_release(ns))
		rc = unlink_once(ns, parent, name, namelen, dir_out, child,
		    gone, dir_time);
	return rc;
}

static int
rmdir_once(struct mds_ns *ns, uint64_t parent, const char *name,
    size_t namelen)
{
	struct mds_ino dir, i;
	struct timespec now;
	uint64_t ino;
	int rc;

	mds_ns_now(&now);
	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
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
	rc = mds_ns_ino_load(ns, ino, &i);
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
	rc = mds_ns_ino_destroy(ns, &i);
	if (rc < 0)
		goto end;
	if (dir.nlink > 2)
		dir.nlink--;
	dir.mt = dir.ct = now;
	rc = mds_ns_ino_store(ns, &dir);
end:
	rc = mds_tx_end(ns, rc);
out:
	rc = mds_tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_ns_rmdir(struct mds_ns *ns, uint64_t parent, const char *name,
    size_t namelen)
{
	int rc = rmdir_once(ns, parent, name, namelen);

	if (rc == -ENOSPC && mds_tx_reserve_release(ns))	/* as unlink */
		rc = rmdir_once(ns, parent, name, namelen);
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
		rc = mds_ns_ino_load(ns, dir, &d);
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
	rc = mds_ns_ino_store(ns, src);
	if (rc == 0)
		rc = mds_ns_ino_store(ns, dst);
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
	mds_ns_now(&now);
	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
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
	rc = mds_ns_ino_load(ns, sino, &src);
	if (rc < 0)
		goto end;
	if (have_dst) {
		rc = mds_ns_ino_load(ns, dino, &dst);
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
			rc = mds_ns_ino_destroy(ns, &dst);
			if (rc < 0)
				goto end;
			np->nlink--;
		} else {
			rc = ino_unlink(ns, &dst, &now, NULL);
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
	rc = mds_ns_ino_store(ns, &src);
parents:
	if (rc < 0)
		goto end;
	op->mt = op->ct = now;
	np->mt = np->ct = now;
	rc = mds_ns_ino_store(ns, op);
	if (rc == 0 && np != op)
		rc = mds_ns_ino_store(ns, np);
end:
	rc = mds_tx_end(ns, rc);
out:
	rc = mds_tx_sync(ns, rc);
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
	mds_tx_rlock(ns);
	rc = mds_ns_ino_load(ns, ino, &d);
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
	s = mds_tx_st(ns, Q_DENT_LIST);
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
			rc = mds_tx_errno(step);
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

	mds_tx_rlock(ns);
	rc = mds_ns_ino_load(ns, ino, &i);
	if (rc < 0)
		goto out;
	if (!S_ISLNK(i.mode)) {
		rc = -EINVAL;
		goto out;
	}
	s = mds_tx_st(ns, Q_TARGET_GET);
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	rc = mds_tx_row(ns, s);
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
