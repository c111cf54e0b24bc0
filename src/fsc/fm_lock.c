/*
 * fsx-mount's lock handlers (see fm.h): flock(2) and POSIX locks are held
 * by the MDS's lock manager for every mount (fsc_lock), so a lock taken
 * through one mount excludes the others. A blocking request waits in
 * the MDS and is cancelled when the caller is interrupted.
 *
 * Contract: each handler replies once; a bad range is EINVAL, never a
 * request to the MDS.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>

#include "fsc/fm.h"

/*
 * Inodes this mount ever set a POSIX lock on (a hint, never cleared: a
 * slot shared by two inodes costs one needless unlock). A close drops the
 * closer's POSIX locks on the file (FUSE leaves that to FLUSH); only
 * these inodes pay the MDS round trip for it.
 */
#define FM_LOCKED_SLOTS	4096
static uint64_t		fm_locked[FM_LOCKED_SLOTS];

static void
fm_locked_note(uint64_t ino)
{
	__atomic_store_n(&fm_locked[ino % FM_LOCKED_SLOTS], ino,
	    __ATOMIC_RELAXED);
}

int
fm_locked_maybe(uint64_t ino)
{
	return __atomic_load_n(&fm_locked[ino % FM_LOCKED_SLOTS],
	    __ATOMIC_RELAXED) == ino;
}

/* Release every lock of fi's owner on ino: POSIX ones, or flock ones. */
void
fm_unlock_all(fuse_ino_t ino, struct fuse_file_info *fi, uint32_t flags)
{
	struct msg_lock lk;

	memset(&lk, 0, sizeof(lk));
	lk.ino = fm_ino(ino);
	lk.owner = fi->lock_owner;
	lk.end = UINT64_MAX;
	lk.type = MSG_LK_UN;
	lk.flags = flags;
	(void)fsc_lock(fm_fs, &lk, NULL);
}

static void
fm_lock_intr(fuse_req_t req, void *data)
{
	(void)req;
	fsc_lockwait_cancel(data);
}

/* struct flock (l_len 0: to EOF) -> msg_lock. -EINVAL for bad ranges. */
static int
fm_lock_from(fuse_ino_t ino, struct fuse_file_info *fi,
    const struct flock *fl, struct msg_lock *lk)
{
	memset(lk, 0, sizeof(*lk));
	lk->ino = fm_ino(ino);
	lk->owner = fi->lock_owner;
	lk->pid = (uint32_t)fl->l_pid;
	if (fl->l_start < 0 || fl->l_len < 0)
		return -EINVAL;
	lk->start = (uint64_t)fl->l_start;
	lk->end = fl->l_len == 0 ? UINT64_MAX :
	    (uint64_t)fl->l_start + (uint64_t)fl->l_len - 1;
	switch (fl->l_type) {
	case F_RDLCK:
		lk->type = MSG_LK_RD;
		break;
	case F_WRLCK:
		lk->type = MSG_LK_WR;
		break;
	case F_UNLCK:
		lk->type = MSG_LK_UN;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* A lock request, waiting (interruptibly) when asked to. */
static int
fm_lock_call(fuse_req_t req, struct msg_lock *lk)
{
	struct fsc_lockwait w;
	int rc;

	if (!(lk->flags & MSG_LK_WAIT))
		return fsc_lock(fm_fs, lk, NULL);
	fsc_lockwait_init(&w);
	fuse_req_interrupt_func(req, fm_lock_intr, &w);
	rc = fsc_lock(fm_fs, lk, &w);
	fuse_req_interrupt_func(req, NULL, NULL);
	fsc_lockwait_fini(&w);
	return rc;
}

void
fm_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
    struct flock *fl)
{
	struct msg_lock lk;
	struct flock out;
	int rc;

	fm_count(FM_OP_getlk);
	rc = fm_lock_from(ino, fi, fl, &lk);
	if (rc == 0) {
		lk.flags = MSG_LK_TEST;
		rc = fsc_lock(fm_fs, &lk, NULL);
	}
	if (rc < 0) {
		fm_err(req, rc);
		return;
	}
	out = *fl;
	if (lk.type == MSG_LK_UN) {
		out.l_type = F_UNLCK;
	} else {
		out.l_type = lk.type == MSG_LK_WR ? F_WRLCK : F_RDLCK;
		out.l_whence = SEEK_SET;
		out.l_start = (off_t)lk.start;
		out.l_len = lk.end == UINT64_MAX ? 0 :
		    (off_t)(lk.end - lk.start + 1);
		out.l_pid = (pid_t)lk.pid;
	}
	fuse_reply_lock(req, &out);
}

void
fm_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
    struct flock *fl, int sleep)
{
	struct msg_lock lk;
	int rc;

	fm_count(FM_OP_setlk);
	rc = fm_lock_from(ino, fi, fl, &lk);
	if (rc == 0) {
		if (sleep)
			lk.flags |= MSG_LK_WAIT;
		if (lk.type != MSG_LK_UN)
			fm_locked_note(lk.ino);
		rc = fm_lock_call(req, &lk);
	}
	fuse_reply_err(req, -rc);
}

void
fm_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
	struct msg_lock lk;

	fm_count(FM_OP_flock);
	memset(&lk, 0, sizeof(lk));
	lk.ino = fm_ino(ino);
	lk.owner = fi->lock_owner;
	lk.end = UINT64_MAX;
	lk.flags = MSG_LK_FLOCK;
	if (!(op & LOCK_NB))
		lk.flags |= MSG_LK_WAIT;
	switch (op & ~LOCK_NB) {
	case LOCK_SH:
		lk.type = MSG_LK_RD;
		break;
	case LOCK_EX:
		lk.type = MSG_LK_WR;
		break;
	case LOCK_UN:
		lk.type = MSG_LK_UN;
		lk.flags &= ~MSG_LK_WAIT;
		break;
	default:
		fuse_reply_err(req, EINVAL);
		return;
	}
	/* flock(2) says EWOULDBLOCK */
	fuse_reply_err(req, -fm_lock_call(req, &lk));
}

