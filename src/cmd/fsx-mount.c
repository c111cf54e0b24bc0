/*
 * fsx-mount: the FUSE client of an fsx-local file system.
 *
 *	fsx-mount [options] FS_ID_OR_MOUNT_SPEC MOUNTPOINT
 *
 * SPEC is "fs-0123456789abcdef0" or the FSx form
 * "fs-0123456789abcdef0.fsx.us-east-1.amazonaws.com@tcp:/mountname[/sub]".
 * fsxd says where the file system's MDS listens (POST /fsx-local/mount-info,
 * SigV4-signed for service fsx); --mds HOST:PORT --secret-file F skips it.
 *
 * The FUSE side uses the low-level API with a multi-threaded loop. Inode
 * numbers are the MDS's (the mounted root and FUSE's root id 1 swap
 * places). Data moves between the FUSE buffers and the sockets without
 * extra copies; reads land in a per-thread buffer that is reused.
 *
 * Caching under leases (docs/leases.md): a reply that carries a lease
 * gives the kernel long timeouts (FM_LEASE_TIMEOUT) for the attributes or
 * the entry, and an open under a lease keeps the page cache
 * (FOPEN_KEEP_CACHE); libfsx's callback thread drops them through the
 * FUSE notify calls when the MDS revokes the lease (fm_revoke) or when
 * the session is lost (fm_drop). Replies without a lease get the short
 * FM_TIMEOUT when there is no session, none at all when there is one
 * (fm_unleased_timeout). flock and POSIX locks go to the MDS's lock
 * manager (fm_getlk, fm_setlk, fm_flock). -o noleases turns leases off.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "auth/creds.h"
#include "auth/sigv4.h"
#include "core/log.h"
#include "core/version.h"
#include "core/util.h"
#include "fsc/fm.h"
#include "fsc/fsc.h"
#include "fsc/fsc_mcache.h"

#define FM_TIMEOUT	1.0		/* attr and entry cache, seconds */
#define FM_LEASE_TIMEOUT 3600.0		/* the same, under a lease */
#define FM_TIMEOUT_NS	1000000000ull
/*
 * st_blksize, "the preferred I/O size", unless -o stat_blksize=N: what
 * stdio and Python allocate as the buffer of every file they open. At
 * 1 MiB (Lustre says 4 MiB) each open in a 4-reader Python data loader
 * cost a fresh mapping of that size, and the loader ran at 0.4x the rate
 * it has at 64 KiB (docs/design.md, "Local reads"); 64 KiB stays under
 * glibc's mmap threshold and keeps stdio's writes as few as at 1 MiB in
 * the build of this project.
 */
#define FM_BLKSIZE	(64u << 10)
#define FM_BLKSIZE_MIN	4096u
#define FM_BLKSIZE_MAX	(4u << 20)
#define FM_READBUF	(1u << 20)
#define FM_MAX_THREADS	8
#define FM_HOST_MAX	64


struct fsc		*fm_fs;
struct fuse_session	*fm_se;
static uint64_t		 fm_root;	/* MDS inode shown as FUSE's 1 */
static pthread_key_t	 fm_buf_key;

/* ---- inode numbers and credentials ---- */

uint64_t
fm_ino(uint64_t i)
{
	if (i == FUSE_ROOT_ID)
		return fm_root;
	if (i == fm_root)
		return FUSE_ROOT_ID;
	return i;
}

void
fm_cred(fuse_req_t req, struct msg_cred *c)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	c->uid = ctx->uid;
	c->gid = ctx->gid;
}

static void
fm_stat(const struct msg_attr *a, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = fm_ino(a->ino);
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_rdev = a->rdev;
	st->st_size = (off_t)a->size;
	st->st_blocks = (blkcnt_t)a->blocks;
	st->st_blksize = (blksize_t)fm.stat_blksize;
	st->st_atim.tv_sec = a->atime_sec;
	st->st_atim.tv_nsec = a->atime_nsec;
	st->st_mtim.tv_sec = a->mtime_sec;
	st->st_mtim.tv_nsec = a->mtime_nsec;
	st->st_ctim.tv_sec = a->ctime_sec;
	st->st_ctim.tv_nsec = a->ctime_nsec;
}

void
fm_err(fuse_req_t req, int rc)
{
	if (rc >= 0 || rc < -4095)
		rc = -EIO;
	fuse_reply_err(req, -rc);
}

/* ---- leases: what the kernel may keep, and dropping it ---- */

/*
 * What this mount told the kernel to keep for long is in libfsx's
 * mount cache (fsc_mcache.h), which also answers LOOKUP and GETATTR
 * while the leases hold. fm_guard_* wrap its guard with the session's
 * epoch.
 */
#define fm_guard fsc_mc_guard
#define fm_guard_end fsc_mc_unlock

void
fm_guard_begin(struct fm_guard *g)
{
	fsc_mc_guard_begin(g, fm.noleases ? 0 : fsc_session_epoch(fm_fs));
}

int
fm_guard_check(const struct fm_guard *g)
{
	return fsc_mc_guard_check(g, fsc_session_epoch(fm_fs));
}

/*
 * The attribute timeout of what a LOOKUP or GETATTR returned without a
 * lease. With no session, FM_TIMEOUT as ever. With one, a missing lease
 * means a revocation raced the reply (its data may already be old) or the
 * MDS keeps no lease on it: nothing is kept, so the next look asks again.
 * A file open for write somewhere (MSG_LEASE_WATCHED, and the guard held)
 * keeps FM_TIMEOUT: its size changes on the OSSes unseen, but any change
 * the MDS sees revokes that copy.
 */
static double
fm_unleased_timeout(const struct fm_guard *g, const struct msg_attr *a,
    int guard_ok)
{
	if (g->epoch == 0 || (guard_ok && (a->lease & MSG_LEASE_WATCHED)))
		return FM_TIMEOUT;
	return 0.0;
}

static void
fm_notify(int kind, uint64_t ino, const char *name)
{
	if (fm_se == NULL)
		return;
	/* ENOENT (not cached) is fine */
	if (kind == FSC_MC_ENTRY)
		(void)fuse_lowlevel_notify_inval_entry(fm_se, fm_ino(ino),
		    name, strlen(name));
	else
		(void)fuse_lowlevel_notify_inval_inode(fm_se, fm_ino(ino),
		    0, 0);
}

/* libfsx's callback thread: the MDS revokes a lease (or recalls a
 * delegation: its answer waits, fm_unl.c). */
static int
fm_revoke(void *arg, const struct msg_revoke *rv, const char *name)
{
	(void)arg;
	if ((rv->flags & MSG_RV_ENTRY) && name != NULL &&
	    strcmp(name, MSG_DELEG_NAME) == 0)
		return fm_unl_recall(rv->parent);
	fsc_mc_lock();
	fsc_mc_bump();
	if (rv->flags & MSG_RV_ATTR)
		fsc_mc_del(rv->ino, NULL);
	if ((rv->flags & MSG_RV_ENTRY) && name != NULL)
		fsc_mc_del(rv->parent, name);
	fsc_mc_unlock();
	if (rv->flags & MSG_RV_ATTR) {
		fm_privs_forget(fm_ino(rv->ino));	/* a cap, a mode */
		fm_notify(FSC_MC_ATTR, rv->ino, NULL);
	}
	if ((rv->flags & MSG_RV_ENTRY) && name != NULL)
		fm_notify(FSC_MC_ENTRY, rv->parent, name);
	return 0;
}

/* libfsx's callback thread: the session was lost or made again. */
static void
fm_drop(void *arg)
{
	struct fsc_mc_item *it, *next;

	(void)arg;
	fm_privs_forget_all();
	for (it = fsc_mc_take_all(); it != NULL; it = next) {
		next = it->next;
		fm_notify(it->kind, it->ino, it->name);
		fsc_mc_item_free(it);
	}
}

/*
 * A LOOKUP of a name the MDS says is absent, and leased as such: the
 * kernel keeps the negative entry (no LOOKUP before the create that
 * usually follows, or for the next stat of it) until a change of that
 * name revokes it; the mount cache holds it (child 0) so that a lost
 * session drops it too (fm_drop).
 */
static void
fm_negative(fuse_req_t req, const struct fm_guard *g, uint64_t parent,
    const char *name)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));	/* ino 0: negative */
	if (fm_guard_check(g) && (fsc_mc_del(parent, name),
	    fsc_mc_add(FSC_MC_ENTRY, parent, name, 0, NULL))) {
		e.entry_timeout = FM_LEASE_TIMEOUT;
		fuse_reply_entry(req, &e);
	} else {
		fuse_reply_err(req, ENOENT);
	}
	fm_guard_end();
}

/* An entry reply; for a LOOKUP (g not NULL), long timeouts for what the
 * MDS leased to us. */
static void
fm_entry_leased(fuse_req_t req, int rc, const struct msg_attr *a,
    const struct fm_guard *g, uint64_t parent, const char *name)
{
	struct fuse_entry_param e;

	if (rc == -ENOENT && g != NULL && (a->lease & MSG_LEASE_ENTRY)) {
		fm_negative(req, g, parent, name);
		return;
	}
	if (rc < 0) {
		fm_err(req, rc);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = fm_ino(a->ino);
	e.generation = a->generation;
	fm_stat(a, &e.attr);
	e.attr_timeout = FM_TIMEOUT;
	e.entry_timeout = FM_TIMEOUT;
	if (g == NULL) {
		fuse_reply_entry(req, &e);
		return;
	}
	e.attr_timeout = e.entry_timeout = fm_unleased_timeout(g, a, 0);
	if (fm_guard_check(g)) {
		e.attr_timeout = fm_unleased_timeout(g, a, 1);
		if ((a->lease & MSG_LEASE_ATTR) &&
		    fsc_mc_ino_fresh(g, a->ino) &&
		    fsc_mc_add(FSC_MC_ATTR, a->ino, NULL, 0, a))
			e.attr_timeout = FM_LEASE_TIMEOUT;
		if ((a->lease & MSG_LEASE_ENTRY) &&
		    fsc_mc_add(FSC_MC_ENTRY, parent, name, a->ino, NULL))
			e.entry_timeout = FM_LEASE_TIMEOUT;
	}
	fuse_reply_entry(req, &e);
	fm_guard_end();
}

static void
fm_entry(fuse_req_t req, int rc, const struct msg_attr *a)
{
	fm_entry_leased(req, rc, a, NULL, 0, NULL);
}

static struct fsc_file *
fm_file(struct fuse_file_info *fi)
{
	return (struct fsc_file *)(uintptr_t)fi->fh;
}

/* ---- operations ---- */

static void
fm_init(void *ud, struct fuse_conn_info *conn)
{
	(void)ud;
	conn->max_write = 1u << 20;
	conn->max_readahead = conn->max_readahead > (4u << 20) ?
	    conn->max_readahead : 4u << 20;
	/* Room for the kernel's read-ahead to keep every OST busy. */
	conn->max_background = 64;
	conn->congestion_threshold = 48;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	if (fm.writeback && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	/* Locks are the MDS's, for every mount (fm_getlk...). */
	if (conn->capable & FUSE_CAP_POSIX_LOCKS)
		conn->want |= FUSE_CAP_POSIX_LOCKS;
	if (conn->capable & FUSE_CAP_FLOCK_LOCKS)
		conn->want |= FUSE_CAP_FLOCK_LOCKS;
	/* Data splices would only move the copy into libfuse. */
	conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
	    FUSE_CAP_SPLICE_MOVE);
}

/*
 * A file open for write here: leased attributes do not answer for it.
 * The MDS counts its writers and leases it to nobody, unless it lost
 * our handles (a restart): then it leases a size our writes leave
 * behind, and the kernel, told that size after a write, would cut its
 * own (and what it later sends). Called with the cache's mutex held
 * (fsc_writing takes libfsx's inode locks after it, never before).
 */
static int
fm_writing(const struct msg_attr *a)
{
	/* directories, the most looked-up, are never open for write:
	 * no look into libfsx's inode table for them */
	return S_ISREG(a->mode) && fsc_writing(fm_fs, a->ino);
}

/*
 * A LOOKUP answered from the mount cache: the entry and the attributes
 * are leased, so the MDS would answer the same (fsc_mcache.h). 1 if
 * answered.
 */
static int
fm_cached_entry(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	struct msg_attr a;

	fsc_mc_lock();
	if (!fsc_mc_lookup(fm_ino(parent), name, &a) || fm_writing(&a)) {
		fsc_mc_unlock();
		return 0;
	}
	memset(&e, 0, sizeof(e));
	e.ino = fm_ino(a.ino);
	e.generation = a.generation;
	fm_stat(&a, &e.attr);
	e.attr_timeout = e.entry_timeout = FM_LEASE_TIMEOUT;
	fuse_reply_entry(req, &e);
	fsc_mc_unlock();
	return 1;
}

static void
fm_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fm_guard g;
	struct msg_cred c;
	struct msg_attr a;
	uint64_t child;
	int rc;

	fm_count(FM_OP_lookup);
	if (strlen(name) > MSG_NAME_MAX) {	/* FUSE passes up to 1024 */
		fuse_reply_err(req, ENAMETOOLONG);
		return;
	}
	if (fm_cached_entry(req, parent, name))
		return;
	/* a name this mount did not make, in a directory it made and
	 * holds (FSC_MC_DIRALL): absent; not kept by the kernel */
	fsc_mc_lock();
	if (fsc_mc_dir_absent(fm_ino(parent), name)) {
		fsc_mc_unlock();
		fuse_reply_err(req, ENOENT);
		return;
	}
	child = fsc_mc_child(fm_ino(parent), name);
	fsc_mc_unlock();
	/* a name of a file this mount is closing: its CLOSE leases the
	 * attributes (fm_close.c) */
	if (child != 0 && fm_closing_wait(child) &&
	    fm_cached_entry(req, parent, name))
		return;
	fm_cred(req, &c);
	fm_guard_begin(&g);
	rc = fsc_lookup(fm_fs, fm_ino(parent), name, &c, &a);
	fm_entry_leased(req, rc, &a, &g, fm_ino(parent), name);
}

/*
 * The attributes of a file this mount alone writes, kept under a watched
 * lease (FSC_MC_WATCH in fsc_mcache.h). sole is fsc_sole_writer(a),
 * asked before the guard took the cache's mutex. Caller holds it.
 */
static void
fm_watch_keep(const struct fm_guard *g, const struct msg_attr *a, int sole)
{
	if (sole && (a->lease & MSG_LEASE_WATCHED) &&
	    fsc_mc_ino_fresh(g, a->ino))
		(void)fsc_mc_add(FSC_MC_WATCH, a->ino, NULL, 0, a);
}

/*
 * A GETATTR of a file this mount alone writes, answered here: the
 * attributes the MDS sent, with the size and blocks as they are now
 * (fsc_writer_attr, which may ask an OSS once where its objects are: not
 * under the cache's mutex, which a revocation waits for). The answer is
 * given only if the item is still the one read (not revoked since).
 * 1 if answered.
 */
static int
fm_watched_attr(fuse_req_t req, fuse_ino_t ino)
{
	struct msg_attr a, held, now;
	struct stat st;
	int ok;

	fsc_mc_lock();
	ok = fsc_mc_watched(fm_ino(ino), &held);
	fsc_mc_unlock();
	a = held;
	if (!ok || !fsc_writer_attr(fm_fs, &a))
		return 0;
	fsc_mc_lock();
	if (!fsc_mc_watched(fm_ino(ino), &now) ||
	    memcmp(&now, &held, sizeof(now)) != 0) {
		fsc_mc_unlock();
		return 0;
	}
	fm_stat(&a, &st);
	fuse_reply_attr(req, &st, FM_TIMEOUT);
	fsc_mc_unlock();
	return 1;
}

/* A GETATTR answered from the mount cache; 1 if answered. */
static int
fm_cached_attr(fuse_req_t req, fuse_ino_t ino)
{
	struct msg_attr a;
	struct stat st;

	fsc_mc_lock();
	if (!fsc_mc_attr(fm_ino(ino), &a) || fm_writing(&a)) {
		fsc_mc_unlock();
		return 0;
	}
	fm_stat(&a, &st);
	fuse_reply_attr(req, &st, FM_LEASE_TIMEOUT);
	fsc_mc_unlock();
	return 1;
}

static void
fm_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fm_guard g;
	struct msg_cred c;
	struct msg_attr a;
	struct stat st;
	double timeout;
	uint64_t age;
	int rc, sole;

	fm_count(FM_OP_getattr);
	(void)fi;
	/*
	 * After each create or unlink the kernel asks for the directory's
	 * attributes (default_permissions): the MDS sent them with the
	 * change. They are cached for what is left of the timeout, as if
	 * this GETATTR had been answered when the change was made.
	 */
	if (fsc_dir_attr(fm_fs, fm_ino(ino), FM_TIMEOUT_NS, &a, &age)) {
		fm_stat(&a, &st);
		fuse_reply_attr(req, &st, FM_TIMEOUT - (double)age / 1e9);
		return;
	}
	/* leased here, maybe by a CLOSE of this mount on its way now
	 * (a stat right after close(2): fm_close.c) */
	if (fm_cached_attr(req, ino) ||
	    (fm_closing_wait(fm_ino(ino)) && fm_cached_attr(req, ino)) ||
	    fm_watched_attr(req, ino))
		return;
	fm_cred(req, &c);
	fm_guard_begin(&g);
	rc = fsc_getattr(fm_fs, fm_ino(ino), &c, &a);
	if (rc < 0) {
		fm_err(req, rc);
		return;
	}
	fm_stat(&a, &st);
	timeout = fm_unleased_timeout(&g, &a, 0);
	sole = fsc_sole_writer(fm_fs, &a);
	if (fm_guard_check(&g)) {
		timeout = fm_unleased_timeout(&g, &a, 1);
		if ((a.lease & MSG_LEASE_ATTR) && fsc_mc_ino_fresh(&g, a.ino) &&
		    fsc_mc_add(FSC_MC_ATTR, a.ino, NULL, 0, &a))
			timeout = FM_LEASE_TIMEOUT;
		fm_watch_keep(&g, &a, sole);
	}
	fuse_reply_attr(req, &st, timeout);
	fm_guard_end();
}

static void
fm_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
    struct fuse_file_info *fi)
{
	struct msg_setattr sa;
	struct msg_attr a;
	struct stat st;
	int rc;

	fm_count(FM_OP_setattr);
	memset(&sa, 0, sizeof(sa));
	sa.ino = fm_ino(ino);
	fm_cred(req, &sa.cred);
	if (to_set & FUSE_SET_ATTR_MODE) {
		sa.valid |= MSG_SA_MODE;
		sa.mode = attr->st_mode & 07777;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		sa.valid |= MSG_SA_UID;
		sa.uid = attr->st_uid;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		sa.valid |= MSG_SA_GID;
		sa.gid = attr->st_gid;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (attr->st_size < 0) {
			fm_err(req, -EINVAL);
			return;
		}
		sa.valid |= MSG_SA_SIZE;
		sa.size = (uint64_t)attr->st_size;
	}
	if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
		sa.valid |= MSG_SA_ATIME | MSG_SA_ATIME_NOW;
	} else if (to_set & FUSE_SET_ATTR_ATIME) {
		sa.valid |= MSG_SA_ATIME;
		sa.atime_sec = attr->st_atim.tv_sec;
		sa.atime_nsec = attr->st_atim.tv_nsec;
	}
	if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
		sa.valid |= MSG_SA_MTIME | MSG_SA_MTIME_NOW;
	} else if (to_set & FUSE_SET_ATTR_MTIME) {
		sa.valid |= MSG_SA_MTIME;
		sa.mtime_sec = attr->st_mtim.tv_sec;
		sa.mtime_nsec = attr->st_mtim.tv_nsec;
	}
	if (to_set & FUSE_SET_ATTR_CTIME) {
		sa.valid |= MSG_SA_CTIME;
		sa.ctime_sec = attr->st_ctim.tv_sec;
		sa.ctime_nsec = attr->st_ctim.tv_nsec;
	}
	/* a chown (or a truncate without CAP_FSETID) clears them; the
	 * kernel leaves that to us (fm_io.c) */
	if (fm_io_killpriv() && fm_io_kills() && !(sa.valid & MSG_SA_MODE))
		sa.valid |= MSG_SA_KILLPRIV;
	rc = fsc_setattr(fm_fs, fi != NULL ? fm_file(fi) : NULL, &sa, &a);
	fsc_mc_changed(sa.ino);
	fm_privs_forget(ino);	/* a chmod may have set S_ISUID */
	if (rc < 0) {
		fm_err(req, rc);
		return;
	}
	fm_stat(&a, &st);
	fuse_reply_attr(req, &st, FM_TIMEOUT);
}

static void
fm_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[MSG_PATH_MAX + 1];
	struct msg_cred c;
	size_t len;
	int rc;

	fm_count(FM_OP_readlink);
	fm_cred(req, &c);
	rc = fsc_readlink(fm_fs, fm_ino(ino), &c, buf, sizeof(buf), &len);
	if (rc < 0) {
		fm_err(req, rc);
		return;
	}
	fuse_reply_readlink(req, buf);
}

static void
fm_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    dev_t rdev)
{
	struct msg_cred c;
	struct msg_attr a;
	int rc;

	fm_count(FM_OP_mknod);
	fm_cred(req, &c);
	rc = fsc_mknod(fm_fs, fm_ino(parent), name, mode, rdev, &c, &a);
	fsc_mc_name_changed(fm_ino(parent), name);
	fsc_mc_dir_unknown(fm_ino(parent));
	fm_entry(req, rc, &a);
}

/* After MKDIR or CREATE: on failure the error is the reply (-1), else e is
 * the new entry with the unleased timeouts (0). */
static int
fm_made(fuse_req_t req, fuse_ino_t parent, const char *name, int rc,
    const struct msg_attr *a, struct fuse_entry_param *e)
{
	fsc_mc_name_changed(fm_ino(parent), name);
	if (rc < 0) {
		fsc_mc_dir_unknown(fm_ino(parent));
		fm_err(req, rc);
		return -1;
	}
	memset(e, 0, sizeof(*e));
	e->ino = fm_ino(a->ino);
	e->generation = a->generation;
	fm_stat(a, &e->attr);
	e->attr_timeout = e->entry_timeout = FM_TIMEOUT;
	return 0;
}

static void
fm_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fuse_entry_param e;
	struct fm_guard g;
	struct msg_cred c;
	struct msg_attr a;
	int rc;

	fm_count(FM_OP_mkdir);
	fm_cred(req, &c);
	fm_guard_begin(&g);
	rc = fsc_mkdir(fm_fs, fm_ino(parent), name, mode, &c, &a);
	if (fm_made(req, parent, name, rc, &a, &e) < 0)
		return;
	/*
	 * The MDS leases the new name and the new directory's attributes
	 * to its maker: every name in it will be one this mount makes
	 * (FSC_MC_DIRALL) until another session's change there revokes
	 * them. fsc_mc_name_changed above moved the generation: this
	 * reply is newer than that.
	 */
	g.gen++;
	if (fm_guard_check(&g)) {
		if ((a.lease & MSG_LEASE_ENTRY) && fsc_mc_add(FSC_MC_ENTRY,
		    fm_ino(parent), name, a.ino, NULL))
			e.entry_timeout = FM_LEASE_TIMEOUT;
		else
			fsc_mc_del(fm_ino(parent), NULL);	/* DIRALL */
		if ((a.lease & MSG_LEASE_ATTR) &&
		    fsc_mc_add(FSC_MC_ATTR, a.ino, NULL, 0, &a)) {
			e.attr_timeout = FM_LEASE_TIMEOUT;
			if (fsc_mc_add(FSC_MC_DIRALL, a.ino, NULL, 0, NULL) &&
			    (a.lease & MSG_LEASE_DELEG))
				(void)fsc_mc_add(FSC_MC_DELEG, a.ino, NULL, 0,
				    NULL);
		}
	} else {
		fsc_mc_del(fm_ino(parent), NULL);
	}
	fuse_reply_entry(req, &e);
	fm_guard_end();
}

static void
fm_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct msg_cred c;
	int rc;

	fm_count(FM_OP_unlink);
	if (fm_unl_try(req, parent, name))
		return;		/* under a delegation: fm_unl.c */
	fm_cred(req, &c);
	rc = fsc_unlink(fm_fs, fm_ino(parent), name, &c);
	fsc_mc_name_changed(fm_ino(parent), name);
	fuse_reply_err(req, -rc);
}

static void
fm_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct msg_cred c;
	int rc;

	fm_count(FM_OP_rmdir);
	fm_cred(req, &c);
	rc = fsc_rmdir(fm_fs, fm_ino(parent), name, &c);
	fsc_mc_name_changed(fm_ino(parent), name);
	fuse_reply_err(req, -rc);
}

static void
fm_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
    const char *name)
{
	struct msg_cred c;
	struct msg_attr a;
	int rc;

	fm_count(FM_OP_symlink);
	fm_cred(req, &c);
	rc = fsc_symlink(fm_fs, fm_ino(parent), name, target, &c, &a);
	fsc_mc_name_changed(fm_ino(parent), name);
	fsc_mc_dir_unknown(fm_ino(parent));
	fm_entry(req, rc, &a);
}

static void
fm_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
    fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct msg_cred c;
	uint32_t f = 0;
	int rc;

	fm_count(FM_OP_rename);
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (flags & RENAME_NOREPLACE)
		f |= MSG_RN_NOREPLACE;
	if (flags & RENAME_EXCHANGE)
		f |= MSG_RN_EXCHANGE;
	fm_cred(req, &c);
	rc = fsc_rename(fm_fs, fm_ino(parent), name, fm_ino(newparent),
	    newname, f, &c);
	fsc_mc_name_changed(fm_ino(parent), name);
	fsc_mc_name_changed(fm_ino(newparent), newname);
	/* the new name (both, exchanged) is not kept */
	fsc_mc_dir_unknown(fm_ino(parent));
	fsc_mc_dir_unknown(fm_ino(newparent));
	fuse_reply_err(req, -rc);
}

static void
fm_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
    const char *newname)
{
	struct msg_cred c;
	struct msg_attr a;
	int rc;

	fm_count(FM_OP_link);
	fm_cred(req, &c);
	rc = fsc_link(fm_fs, fm_ino(ino), fm_ino(newparent), newname, &c, &a);
	fsc_mc_changed(fm_ino(ino));
	fsc_mc_name_changed(fm_ino(newparent), newname);
	fsc_mc_dir_unknown(fm_ino(newparent));
	fm_entry(req, rc, &a);
}

/*
 * How the kernel treats an open file. O_APPEND (without the writeback
 * cache) is direct I/O: the page cache would split a write(2) at page
 * boundaries into pieces appended one by one, which another mount's
 * appends could then come between; direct, one write(2) of up to
 * max_write (1 MiB) is one FUSE write, one MDS_APPEND reservation.
 */
static void
fm_open_flags(struct fuse_file_info *fi)
{
	if ((fi->flags & O_APPEND) && !fm.writeback)
		fi->direct_io = 1;
}

/*
 * An open under a lease keeps the pages the kernel has, if they too were
 * read under a lease that still holds (FSC_MC_PAGES); otherwise the kernel
 * drops them, and the pages read from now on are the leased ones.
 * Caller holds fm_lease_mu (fm_guard_check said yes).
 */
static void
fm_open_keep(struct fuse_file_info *fi, const struct msg_attr *a,
    const struct fm_guard *g)
{
	if (!(a->lease & MSG_LEASE_ATTR) || fi->direct_io ||
	    !fsc_mc_ino_fresh(g, a->ino))
		return;
	(void)fsc_mc_add(FSC_MC_ATTR, a->ino, NULL, 0, a);
	if (fsc_mc_has(FSC_MC_PAGES, a->ino, NULL))
		fi->keep_cache = 1;
	else
		(void)fsc_mc_add(FSC_MC_PAGES, a->ino, NULL, 0, NULL);
}

static void
fm_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fm_guard g;
	struct fsc_file *f;
	struct msg_cred c;
	struct msg_attr a;
	int rc, leased, sole;

	fm_count(FM_OP_open);
	fm_cred(req, &c);
	fm_guard_begin(&g);
	rc = fsc_file_open(fm_fs, fm_ino(ino), fi->flags, &c, &a, &f);
	if (rc < 0) {
		fm_err(req, rc);
		return;
	}
	fi->fh = (uintptr_t)f;
	fm_open_flags(fi);
	sole = fsc_sole_writer(fm_fs, &a);
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fm_privs_seen(ino, &a, 0);	/* its writes need not ask */
		fsc_mc_changed(a.ino);
		g.gen++;	/* that change is older than this reply */
	}
	leased = fm_guard_check(&g);
	if (leased) {
		fm_open_keep(fi, &a, &g);
		fm_watch_keep(&g, &a, sole);
	}
	rc = fuse_reply_open(req, fi);
	fm_guard_end();
	if (rc != 0)
		fsc_file_close(fm_fs, f);	/* interrupted */
}

static void
fm_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
    struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	struct fm_guard g;
	struct fsc_file *f;
	struct msg_cred c;
	struct msg_attr a;
	int rc, ok, sole;

	fm_count(FM_OP_create);
	fm_cred(req, &c);
	fm_guard_begin(&g);
	rc = fsc_create(fm_fs, fm_ino(parent), name, mode, fi->flags, &c, &a,
	    &f);
	if (fm_made(req, parent, name, rc, &a, &e) < 0)
		return;
	fi->fh = (uintptr_t)f;
	fm_open_flags(fi);
	/* A new file has no security.capability: its first write costs no
	 * GETXATTR round trip (fm_getxattr), nor, without S_ISUID, a
	 * SETATTR (fm_kill_privs). */
	fm_privs_seen(e.ino, &a, 1);
	/* The MDS leases the new name to its creator (the attributes
	 * follow at the CLOSE, once nobody writes). fsc_mc_name_changed
	 * above moved the generation: this reply is newer than that. */
	g.gen++;
	sole = fsc_sole_writer(fm_fs, &a);
	ok = fm_guard_check(&g);
	if (ok && (a.lease & MSG_LEASE_ENTRY) &&
	    fsc_mc_add(FSC_MC_ENTRY, fm_ino(parent), name, a.ino, NULL))
		e.entry_timeout = FM_LEASE_TIMEOUT;
	else
		fsc_mc_del(fm_ino(parent), NULL);	/* DIRALL */
	if (ok)
		fm_watch_keep(&g, &a, sole);
	rc = fuse_reply_create(req, &e, fi);
	fm_guard_end();
	if (rc != 0)
		fsc_file_close(fm_fs, f);
}

static void
fm_buf_free(void *p)
{
	free(p);
}

struct fm_buf {
	size_t	cap;
	char	data[];
};

/* The calling thread's read buffer, at least `size` bytes. */
static char *
fm_readbuf(size_t size)
{
	struct fm_buf *b = pthread_getspecific(fm_buf_key);

	if (b != NULL && b->cap >= size)
		return b->data;
	free(b);
	if (size < FM_READBUF)
		size = FM_READBUF;
	b = malloc(sizeof(*b) + size);
	if (b == NULL) {
		pthread_setspecific(fm_buf_key, NULL);
		return NULL;
	}
	b->cap = size;
	pthread_setspecific(fm_buf_key, b);
	return b->data;
}

static void
fm_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
    struct fuse_file_info *fi)
{
	char *buf = fm_readbuf(size);
	size_t done;
	int rc;

	fm_count(FM_OP_read);
	(void)ino;
	if (buf == NULL) {
		fm_err(req, -ENOMEM);
		return;
	}
	if (off < 0) {
		fm_err(req, -EINVAL);
		return;
	}
	rc = fsc_file_read(fm_fs, fm_file(fi), buf, size, (uint64_t)off, &done);
	if (rc < 0) {
		fm_err(req, rc);
		return;
	}
	fuse_reply_buf(req, buf, done);
}

static void
fm_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
    off_t off, struct fuse_file_info *fi)
{
	struct fsc_file *f = fm_file(fi);
	uint64_t at;
	size_t done = size;
	int append = (fi->flags & O_APPEND) && !fm.writeback, rc;

	fm_count(FM_OP_write);
	if (off < 0) {
		fm_err(req, -EINVAL);
		return;
	}
	/* what the kernel used to clear before the write (fm_io.c); an
	 * APPEND clears the mode bits at the MDS itself */
	if ((rc = fm_kill_privs(ino, fm_io_kills() && !append)) < 0) {
		fm_err(req, rc);
		return;
	}
	/* Without the writeback cache, O_APPEND offsets come from a kernel
	 * i_size that may be stale: the MDS reserves the real one. */
	if (append) {
		/* the direct I/O of O_APPEND leaves S_ISUID/S_ISGID to us
		 * (the kernel's buffered writes clear them with a SETATTR);
		 * root stands for CAP_FSETID here */
		rc = fsc_file_append(fm_fs, f, buf, size,
		    fuse_req_ctx(req)->uid != 0, &at);
	} else if (!fm.sync_write && !(fi->flags & (O_SYNC | O_DSYNC))) {
		/*
		 * Write-behind: acknowledge, then send from the same buffer
		 * (this thread's, untouched until we return) while the
		 * kernel hands the next write to another thread; over
		 * io_uring, where the next request comes to this thread, a
		 * sender sends it (fm_wb.c). A failure is reported by the
		 * next write, fsync or close.
		 */
		rc = fsc_file_write_begin(fm_fs, f, (uint64_t)off, size);
		if (rc < 0) {
			fm_err(req, rc);
			return;
		}
		fuse_reply_write(req, size);
		if (fm_uring_copied() &&
		    fm_wb_send(f, buf, size, (uint64_t)off) == 0)
			return;
		rc = fsc_file_write(fm_fs, f, buf, size, (uint64_t)off, &done);
		fsc_file_write_end(fm_fs, f, (uint64_t)off, size, rc);
		return;
	} else {
		rc = fsc_file_write(fm_fs, f, buf, size, (uint64_t)off, &done);
	}
	if (rc < 0) {
		fm_err(req, rc);
		return;
	}
	fuse_reply_write(req, done);
}

static void
fm_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fm_count(FM_OP_flush);
	if (fm_locked_maybe(fm_ino(ino)))
		fm_unlock_all(ino, fi, 0);
	/* close(2): write-behind done, its failure told. */
	fuse_reply_err(req, -fsc_file_flush(fm_fs, fm_file(fi)));
}

static void
fm_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
    struct fuse_file_info *fi)
{
	fm_count(FM_OP_fsync);
	(void)ino;
	(void)datasync;
	fuse_reply_err(req, -fsc_file_fsync(fm_fs, fm_file(fi)));
}

static void
fm_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
    off_t len, struct fuse_file_info *fi)
{
	int rc;

	fm_count(FM_OP_fallocate);
	if (off < 0 || len <= 0 || mode < 0) {
		fm_err(req, -EINVAL);
		return;
	}
	/* as a write (fm_io.c); root stands for CAP_FSETID */
	if ((rc = fm_kill_privs(ino, fuse_req_ctx(req)->uid != 0)) < 0) {
		fm_err(req, rc);
		return;
	}
	rc = fsc_file_fallocate(fm_fs, fm_file(fi), (uint32_t)mode,
	    (uint64_t)off, (uint64_t)len);
	fsc_mc_changed(fm_ino(ino));
	fuse_reply_err(req, -rc);
}

static void
fm_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct msg_statfs st;
	struct statvfs sv;
	int rc;

	fm_count(FM_OP_statfs);
	(void)ino;
	rc = fsc_statfs(fm_fs, &st);
	if (rc < 0) {
		fm_err(req, rc);
		return;
	}
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = st.bsize;
	sv.f_frsize = st.bsize;
	sv.f_blocks = st.blocks;
	sv.f_bfree = st.bfree;
	sv.f_bavail = st.bavail;
	sv.f_files = st.files;
	sv.f_ffree = st.ffree;
	sv.f_favail = st.ffree;
	sv.f_namemax = st.namemax ? st.namemax : MSG_NAME_MAX;
	fuse_reply_statfs(req, &sv);
}

static const struct fuse_lowlevel_ops fm_ops = {
	.init		= fm_init,
	.lookup		= fm_lookup,
	.getattr	= fm_getattr,
	.setattr	= fm_setattr,
	.readlink	= fm_readlink,
	.mknod		= fm_mknod,
	.mkdir		= fm_mkdir,
	.unlink		= fm_unlink,
	.rmdir		= fm_rmdir,
	.symlink	= fm_symlink,
	.rename		= fm_rename,
	.link		= fm_link,
	.open		= fm_open,
	.read		= fm_read,
	.write		= fm_write,
	.flush		= fm_flush,
	.release	= fm_release,
	.fsync		= fm_fsync,
	.fallocate	= fm_fallocate,
	.opendir	= fm_opendir,
	.readdir	= fm_readdir,
	.releasedir	= fm_releasedir,
	.fsyncdir	= fm_fsyncdir,
	.statfs		= fm_statfs,
	.setxattr	= fm_setxattr,
	.getxattr	= fm_getxattr,
	.listxattr	= fm_listxattr,
	.removexattr	= fm_removexattr,
	.create		= fm_create,
	.getlk		= fm_getlk,
	.setlk		= fm_setlk,
	.flock		= fm_flock,
};

/* ---- where the file system is ---- */

/* SPEC into fm (fsc_spec_parse); a region given as an option wins. */
static int
fm_parse_spec(const char *spec)
{
	struct fsc_spec sp;
	int rc;

	rc = fsc_spec_parse(spec, &sp);
	if (rc < 0)
		return rc;
	snprintf(fm.fsid, sizeof(fm.fsid), "%s", sp.fsid);
	snprintf(fm.mount_name, sizeof(fm.mount_name), "%s", sp.mount_name);
	snprintf(fm.subdir, sizeof(fm.subdir), "%s", sp.subdir);
	if (fm.region[0] == '\0')
		snprintf(fm.region, sizeof(fm.region), "%s", sp.region);
	return 0;
}

/* fsc's hook after the MDS stopped answering: it may have moved. */
static int
fm_resolve(void *arg, char *host, size_t hostlen, int *port)
{
	uint8_t secret[MSG_SECRET_LEN];
	char msg[512];

	(void)arg;
	if (fm.mds_arg[0] != '\0')
		return -ENOENT;
	return fsc_mount_info(fm.endpoint, fm.fsid, fm.mount_name, fm.region,
	    host, hostlen, port, secret, msg, sizeof(msg));
}

/* Larger readahead than the kernel's FUSE default, once mounted. */
static void *
fm_readahead(void *arg)
{
	struct stat st;
	char path[128], val[32];

	(void)arg;
	if (stat(fm.mnt, &st) < 0)
		return NULL;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb",
	    major(st.st_dev), minor(st.st_dev));
	snprintf(val, sizeof(val), "%d\n", fm.readahead_kb);
	if (file_write_atomic(path, val, strlen(val)) < 0) {
		FILE *fp = fopen(path, "w");

		if (fp != NULL) {
			fputs(val, fp);
			fclose(fp);
		}
	}
	return NULL;
}

/* The mounted subdirectory, if any, becomes the FUSE root. */
static int
fm_subdir_root(uint64_t *out)
{
	struct msg_cred c = { 0, 0 };
	struct msg_attr a;
	char *dup = xstrdup(fm.subdir), *save = NULL, *t;
	uint64_t ino = fsc_root(fm_fs);
	int rc = 0;

	for (t = strtok_r(dup, "/", &save); t; t = strtok_r(NULL, "/",
	    &save)) {
		rc = fsc_lookup(fm_fs, ino, t, &c, &a);
		if (rc < 0)
			break;
		if (!S_ISDIR(a.mode)) {
			rc = -ENOTDIR;
			break;
		}
		ino = a.ino;
	}
	free(dup);
	*out = ino;
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "endpoint-url", required_argument, NULL, 'E' },
		{ "region", required_argument, NULL, 'R' },
		{ "mds", required_argument, NULL, 'M' },
		{ "secret-file", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_session *se = NULL;
	struct fuse_loop_config *lc = NULL;
	struct fsc_conf conf;
	char host[FM_HOST_MAX], msg[700];
	pthread_t ra;
	const char *e;
	int ch, rc, port = 0, ret = 1, stuck = 0;

	fsx_version_flag(argc, argv, "fsx-mount");

	log_init("fsx-mount", LOG_WARN);
	memset(&fm, 0, sizeof(fm));
	fm.readahead_kb = 8192;
	fm.stat_blksize = FM_BLKSIZE;
	while ((ch = getopt_long(argc, argv, "fdo:hsnv", lopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			fm.foreground = 1;
			break;
		case 'd':
			fm.debug = 1;
			fm.foreground = 1;
			break;
		case 'o':
			fm_opts(optarg);
			break;
		case 'E':
			snprintf(fm.endpoint, sizeof(fm.endpoint), "%s",
			    optarg);
			break;
		case 'R':
			snprintf(fm.region, sizeof(fm.region), "%s", optarg);
			break;
		case 'M':
			snprintf(fm.mds_arg, sizeof(fm.mds_arg), "%s", optarg);
			break;
		case 'S':
			snprintf(fm.secret_file, sizeof(fm.secret_file), "%s",
			    optarg);
			break;
		case 's': case 'n': case 'v':
			break;		/* mount(8) helper flags */
		case 'h':
			fm_usage(0);
			break;
		default:
			fm_usage(2);
		}
	}
	if (argc - optind != 2)
		fm_usage(2);
	if (fm.stat_blksize < FM_BLKSIZE_MIN ||
	    fm.stat_blksize > FM_BLKSIZE_MAX ||
	    (fm.stat_blksize & (fm.stat_blksize - 1)) != 0) {
		fprintf(stderr, "fsx-mount: stat_blksize must be a power of "
		    "two from %u to %u bytes\n", FM_BLKSIZE_MIN,
		    FM_BLKSIZE_MAX);
		return 2;
	}
	fm.spec = argv[optind];
	fm.mnt = argv[optind + 1];
	if (fm.debug)
		log_level_cur = LOG_DEBUG;
	if (fm_parse_spec(fm.spec) < 0) {
		fprintf(stderr, "fsx-mount: %s: not a file system id or FSx "
		    "mount spec\n", fm.spec);
		return 1;
	}
	if (fm.endpoint[0] == '\0') {
		e = getenv("FSX_ENDPOINT_URL");
		snprintf(fm.endpoint, sizeof(fm.endpoint), "%s",
		    e ? e : "http://127.0.0.1:4566");
	}
	if (fm.region[0] == '\0')
		creds_client_region(fm.region, sizeof(fm.region));

	memset(&conf, 0, sizeof(conf));
	if (fm.mds_arg[0] != '\0') {
		if (parse_hostport(fm.mds_arg, host, sizeof(host), &port) < 0 ||
		    port == 0) {
			fprintf(stderr, "fsx-mount: --mds %s: want HOST:PORT\n",
			    fm.mds_arg);
			return 1;
		}
		if (fm.secret_file[0] == '\0') {
			fprintf(stderr, "fsx-mount: --mds needs "
			    "--secret-file\n");
			return 1;
		}
		rc = msg_secret_load(fm.secret_file, conf.secret);
		if (rc < 0) {
			fprintf(stderr, "fsx-mount: %s: %s\n", fm.secret_file,
			    strerror(-rc));
			return 1;
		}
	} else {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rc = fsc_mount_info(fm.endpoint, fm.fsid, fm.mount_name,
		    fm.region, host, sizeof(host), &port, conf.secret, msg,
		    sizeof(msg));
		if (rc < 0) {
			fprintf(stderr, "fsx-mount: %s\n", msg);
			return 1;
		}
	}
	conf.mds_host = host;
	conf.mds_port = port;
	conf.retry_secs = fm.retry_secs;
	conf.resolve_mds = fm_resolve;
	conf.readahead_kb = -1;		/* the kernel reads ahead */
	conf.workers = FM_MAX_THREADS;
	/* relatime unless told otherwise, as Linux mounts do */
	conf.noatime = fm_opt_has("noatime") || fm_opt_has("ro");
	conf.leases = !fm.noleases;
	conf.nolocal = fm.nolocal;
	conf.on_revoke = fm_revoke;
	conf.on_drop = fm_drop;
	if (fm.stats_path[0] != '\0' && fm_stats_block() < 0)
		fatal("fsx-mount: cannot block SIGUSR1");
	fm_fs = fsc_open(&conf, &rc);
	if (fm_fs == NULL) {
		fprintf(stderr, "fsx-mount: cannot reach the MDS of %s at "
		    "%s:%d: %s\n", fm.fsid, host, port, rc == -EACCES ?
		    "secret refused" : strerror(-rc));
		return 1;
	}
	fm_root = fsc_root(fm_fs);
	if (fm.subdir[0] != '\0') {
		rc = fm_subdir_root(&fm_root);
		if (rc < 0) {
			fprintf(stderr, "fsx-mount: %s: /%s: %s\n", fm.spec,
			    fm.subdir, strerror(-rc));
			goto out;
		}
	}
	pthread_key_create(&fm_buf_key, fm_buf_free);

	/* FUSE options: ours first, the user's after. */
	{
		char *opts;

		if (!fm_opt_has("allow_other") && geteuid() == 0)
			fm_opt_add("allow_other");
		if (!fm_opt_has("default_permissions"))
			fm_opt_add("default_permissions");
		opts = xasprintf("fsname=%s,subtype=fsx%s%s", fm.spec,
		    fm.fuse_opts[0] ? "," : "", fm.fuse_opts);
		fuse_opt_add_arg(&args, argv[0]);
		fuse_opt_add_arg(&args, "-o");
		fuse_opt_add_arg(&args, opts);
		if (fm.debug)
			fuse_opt_add_arg(&args, "-d");
		free(opts);
	}
	se = fuse_session_new(&args, &fm_ops, sizeof(fm_ops), NULL);
	if (se == NULL) {
		fprintf(stderr, "fsx-mount: bad FUSE options: %s\n",
		    fm.fuse_opts);
		goto out;
	}
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	if (fuse_session_mount(se, fm.mnt) != 0) {
		fprintf(stderr, "fsx-mount: cannot mount on %s\n", fm.mnt);
		goto out_sig;
	}
	if (fm_io_attach(se) != 0) {
		fprintf(stderr, "fsx-mount: cannot attach to /dev/fuse\n");
		goto out_unmount;
	}
	/* Mounted: a script may go on now. */
	if (fuse_daemonize(fm.foreground) != 0)
		goto out_unmount;
	fm_se = se;
	if (fm_stats_start(fm.stats_path) < 0)
		log_warn("fsx-mount: no stats thread");
	if (fsc_session_start(fm_fs) < 0)
		fm.noleases = 1;	/* no callbacks: cache nothing for long */
	if (fm.readahead_kb > 0 &&
	    pthread_create(&ra, NULL, fm_readahead, NULL) == 0)
		pthread_detach(ra);
	lc = fuse_loop_cfg_create();
	fuse_loop_cfg_set_clone_fd(lc, 1);
	fuse_loop_cfg_set_max_threads(lc, FM_MAX_THREADS);
	fuse_loop_cfg_set_idle_threads(lc, FM_MAX_THREADS);
	ret = fuse_session_loop_mt(se, lc) == 0 ? 0 : 1;
	fuse_loop_cfg_destroy(lc);
	if (fm_uring_stop() > 0)
		stuck = 1;	/* a ring thread may still use the session */
	fm_wb_stop();
	fm_unl_stop();
	fm_stats_stop();
out_unmount:
	fuse_session_unmount(se);
out_sig:
	fuse_remove_signal_handlers(se);
out:
	/* the callback thread ends before the session it notifies */
	fsc_free(fm_fs);
	if (se != NULL && !stuck)
		fuse_session_destroy(se);
	fuse_opt_free_args(&args);
	return ret;
}
