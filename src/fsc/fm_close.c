/*
 * fsx-mount's RELEASE (see fm.h): the CLOSE of a file handle, what its
 * reply lets the mount keep, and the CLOSEs still on their way.
 *
 * The kernel sends RELEASE after close(2) has returned, so a stat(2) or
 * lstat(2) right after close(2) (git checkout, tar, cp -p) may reach the
 * mount while the CLOSE is on its way to the MDS: the MDS has the file
 * open for write then, grants no lease, and the stat costs a GETATTR
 * round trip of its own. fm_closing_wait lets such a GETATTR or LOOKUP
 * wait for the CLOSE of that inode already in flight (the attributes it
 * leases are then in the mount cache) instead.
 *
 * Contract: fm_release replies once; every fm_closing_begin is matched
 * by one fm_closing_end after the mount cache holds what the reply
 * granted; fm_closing_wait waits at most FM_CLOSING_WAIT_MS and never
 * for a CLOSE that has not started (it cannot deadlock: the CLOSE it
 * waits for runs in another thread and depends on no waiter).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "fsc/fm.h"
#include "fsc/fsc_mcache.h"

#define FM_CLOSING_SLOTS	256
#define FM_CLOSING_WAIT_MS	1000

static pthread_mutex_t	 cl_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cl_cv = PTHREAD_COND_INITIALIZER;
static unsigned		 cl_n[FM_CLOSING_SLOTS];	/* in flight, by slot */

static unsigned
cl_slot(uint64_t ino)
{
	return (unsigned)((ino * 0x9e3779b97f4a7c15ull) >> 56) %
	    FM_CLOSING_SLOTS;
}

static void
fm_closing_begin(uint64_t ino)
{
	pthread_mutex_lock(&cl_mu);
	cl_n[cl_slot(ino)]++;
	pthread_mutex_unlock(&cl_mu);
}

static void
fm_closing_end(uint64_t ino)
{
	pthread_mutex_lock(&cl_mu);
	cl_n[cl_slot(ino)]--;
	pthread_cond_broadcast(&cl_cv);
	pthread_mutex_unlock(&cl_mu);
}

int
fm_closing_wait(uint64_t ino)
{
	struct timespec until;
	unsigned s = cl_slot(ino);
	int waited = 0;

	pthread_mutex_lock(&cl_mu);
	if (cl_n[s] > 0) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += FM_CLOSING_WAIT_MS / 1000;
		while (cl_n[s] > 0 && pthread_cond_timedwait(&cl_cv, &cl_mu,
		    &until) != ETIMEDOUT)
			;
		waited = 1;
	}
	pthread_mutex_unlock(&cl_mu);
	return waited;
}

void
fm_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fsc_mc_guard g;
	struct msg_attr a;
	int rc, ok, changed;

	fm_count(FM_OP_release);
	if (fi->flock_release)	/* the last close of a file with flocks */
		fm_unlock_all(ino, fi, MSG_LK_FLOCK);
	fm_closing_begin(fm_ino(ino));
	fm_guard_begin(&g);
	memset(&a, 0, sizeof(a));
	rc = fsc_file_close_attr(fm_fs, (struct fsc_file *)(uintptr_t)fi->fh,
	    &a);
	changed = (a.lease & MSG_ATTR_CHANGED) != 0;
	/*
	 * A CLOSE leases the attributes (to answer LOOKUP and GETATTR here;
	 * the kernel asks when its copy ends). One that changed them (atime,
	 * a writer's size and times) was not revoked here by the MDS: what
	 * this mount held of them is replaced, or dropped, and replies in
	 * flight keep nothing of this inode; the kernel drops its attributes
	 * below (its pages stay: the data is what it was, or this mount's
	 * own writes).
	 */
	ok = fm_guard_check(&g) && fsc_mc_ino_fresh(&g, a.ino);
	if (changed)
		fsc_mc_bump_ino(a.ino);
	if (ok && (a.lease & MSG_LEASE_ATTR))
		(void)fsc_mc_add(FSC_MC_ATTR, a.ino, NULL, 0, &a);
	else if (changed)
		fsc_mc_del(a.ino, NULL);
	fsc_mc_unlock();
	fm_closing_end(fm_ino(ino));
	if (changed && fm_se != NULL)
		(void)fuse_lowlevel_notify_inval_inode(fm_se, fm_ino(a.ino),
		    -1, 0);
	fuse_reply_err(req, -rc);
}
