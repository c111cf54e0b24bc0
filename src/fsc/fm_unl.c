/*
 * fsx-mount's unlinks under a delegation (docs/leases.md, "Delegated
 * directories"; see fm.h).
 *
 * Why: an unlink through FUSE is three requests here (the directory's
 * GETATTR that default_permissions asks for after every change, the
 * LOOKUP, the UNLINK), each answered by the mount, and an MDS round trip
 * on top, which on this 2-CPU VM is most of the time (two wakeups and
 * the transaction). A directory this mount made, and that no other
 * session has looked at since, is delegated to it by the MDS: nobody
 * else can see a name in it without recalling the delegation first. So
 * the mount may acknowledge an unlink there at once and make it at the
 * MDS right after, as CephFS's asynchronous directory operations do
 * under their directory capabilities.
 *
 * Contract:
 * - fm_unl_try(req, parent, name): 1 if it answered req (the unlink is
 *   acknowledged and queued); 0 if the caller unlinks as before. It
 *   answers only when, under the mount cache's mutex, the mount holds
 *   parent's delegation (FSC_MC_DELEG) and knows all of its names
 *   (FSC_MC_DIRALL), name is held and names a regular file with one link
 *   whose leased attributes are held, the directory's attributes are
 *   known, fewer than FM_UNL_QMAX wait, and libfsx took the hold
 *   (fsc_hold_begin: no call of this mount waits for held ones).
 * - Before it answers, what the unlink makes stale is dropped
 *   (fsc_mc_name_changed), and the directory's attributes are noted with
 *   mtime and ctime now (fsc_dir_note), which the GETATTR the kernel
 *   sends next is answered from. The UNLINK carries that time, and the
 *   MDS sets the same (unless the directory's mtime is later), so the
 *   attributes another mount reads after the recall are these.
 * - One sender thread makes the queued unlinks in order
 *   (fsc_unlink_held; exempt from the hold), then ends each one's hold.
 *   Every other MDS call of this mount waits until none is held
 *   (fsc_mds_call), so the MDS sees the mount's changes in the order the
 *   kernel was answered.
 * - A recall (fm_unl_recall, from fm_revoke): the delegation item goes
 *   under the mutex, so nothing more is acknowledged there, and the
 *   answer waits until nothing is held (on_revoke returns 1).
 * - An unlink the MDS refuses (short of an I/O error or the session's
 *   eviction it cannot: every check it makes was made here under the
 *   delegation; ENOENT counts as done): logged and counted (unl_errors);
 *   the directory loses its delegation and DIRALL here, so the next
 *   look at the name asks the MDS, and the next fsyncdir of that
 *   directory returns the error.
 * - fm_unl_sync(dir): wait until nothing is held; dir's noted error, 0
 *   if none (fsyncdir). fm_unl_stop after the session loop: the sender
 *   makes what is queued and exits. -o nodeleg turns it off.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "fsc/fm.h"
#include "fsc/fsc_mcache.h"

#define FM_UNL_QMAX	64	/* unlinks acknowledged and not yet made */
#define FM_UNL_ERRS	16	/* directories with an error to report */
#define FM_UNL_DIR_NS	1000000000ull	/* noted directory attributes */

struct fm_unl_job {
	struct fm_unl_job	*next;
	uint64_t		 parent;	/* MDS inode */
	struct msg_cred		 cred;
	struct msg_time		 dir_time;	/* as noted here */
	char			 name[];
};

static struct {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct fm_unl_job	*head, *tail;
	int			 queued;
	int			 started;	/* 1 running, -1 could not */
	int			 stopping;
	pthread_t		 thr;
	unsigned long		 early, errors, recalls;
	struct {
		uint64_t	 dir;
		int		 rc;
	}			 err[FM_UNL_ERRS];
} fm_unl = { .mu = PTHREAD_MUTEX_INITIALIZER,
	     .cv = PTHREAD_COND_INITIALIZER };

/*
 * The MDS refused an unlink it was promised. Nothing is asked of the
 * kernel: a notify would wait for the directory's lock, which an unlink
 * waiting for the rest of the queue (fsc_hold_wait) may hold, and the
 * kernel keeps no entry for the name anyway (it was told it is gone, and
 * FUSE's negative entries here expire at once): its next look reaches
 * the mount, which now asks the MDS. The directory's attributes noted
 * here go too; the kernel may show the noted ones for what is left of
 * their second.
 */
static void
fm_unl_failed(const struct fm_unl_job *j, int rc)
{
	int slot = 0;

	log_warn("fm_unl: unlink of '%s' in %llu, acknowledged early, "
	    "failed: %s", j->name, (unsigned long long)j->parent,
	    strerror(-rc));
	fsc_mc_lock();
	fsc_mc_del_kind(FSC_MC_DELEG, j->parent);
	fsc_mc_unlock();
	fsc_mc_dir_unknown(j->parent);
	fsc_mc_name_changed(j->parent, j->name);
	fsc_dir_forget(fm_fs, j->parent);
	pthread_mutex_lock(&fm_unl.mu);
	fm_unl.errors++;
	for (int i = 0; i < FM_UNL_ERRS; i++) {
		if (fm_unl.err[i].dir == j->parent) {
			slot = i;
			break;
		}
		if (fm_unl.err[i].dir == 0)
			slot = i;
	}
	fm_unl.err[slot].dir = j->parent;	/* the oldest may go */
	fm_unl.err[slot].rc = rc;
	pthread_mutex_unlock(&fm_unl.mu);
}

static void *
fm_unl_main(void *arg)
{
	struct fm_unl_job *j;
	int rc;

	(void)arg;
	fsc_hold_exempt();
	pthread_mutex_lock(&fm_unl.mu);
	for (;;) {
		while (fm_unl.head == NULL && !fm_unl.stopping)
			pthread_cond_wait(&fm_unl.cv, &fm_unl.mu);
		if ((j = fm_unl.head) == NULL)
			break;		/* stopping, nothing left */
		fm_unl.head = j->next;
		if (fm_unl.head == NULL)
			fm_unl.tail = NULL;
		pthread_mutex_unlock(&fm_unl.mu);
		rc = fsc_unlink_held(fm_fs, j->parent, j->name, &j->cred,
		    &j->dir_time);
		if (rc < 0 && rc != -ENOENT)
			fm_unl_failed(j, rc);	/* before a sync reads it */
		fsc_hold_end(fm_fs);
		free(j);
		pthread_mutex_lock(&fm_unl.mu);
		fm_unl.queued--;
	}
	pthread_mutex_unlock(&fm_unl.mu);
	return NULL;
}

/* Under fm_unl.mu: start the sender on first use (after fsx-mount has
 * daemonized). 0, or -1 if it could not start. */
static int
fm_unl_start_locked(void)
{
	if (fm_unl.started == 0) {
		if (pthread_create(&fm_unl.thr, NULL, fm_unl_main, NULL) == 0) {
			fm_unl.started = 1;
		} else {
			log_warn("fm_unl: no sender thread: unlinks wait for "
			    "the MDS");
			fm_unl.started = -1;
		}
	}
	return fm_unl.started > 0 ? 0 : -1;
}

/* Under the mount cache's mutex: may parent/name be unlinked early?
 * d: the directory's attributes if known from elsewhere (have_d). */
static int
fm_unl_allowed(uint64_t parent, const char *name, struct msg_attr *d,
    int have_d)
{
	struct msg_attr a;
	uint64_t child;

	if (!fsc_mc_has(FSC_MC_DELEG, parent, NULL) ||
	    !fsc_mc_has(FSC_MC_DIRALL, parent, NULL))
		return 0;
	child = fsc_mc_child(parent, name);
	if (child == 0 || !fsc_mc_attr(child, &a) || !S_ISREG(a.mode) ||
	    a.nlink != 1)
		return 0;
	return have_d || fsc_mc_attr(parent, d);
}

int
fm_unl_try(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	uint64_t p = fm_ino(parent), age;
	struct fm_unl_job *j;
	struct msg_attr d;
	struct timespec now, dm;
	size_t len = strlen(name);
	int have_d, ok = 0;

	if (fm.nodeleg || fm.noleases || len == 0 || len > MSG_NAME_MAX)
		return 0;
	j = malloc(sizeof(*j) + len + 1);
	if (j == NULL)
		return 0;
	j->next = NULL;
	j->parent = p;
	memcpy(j->name, name, len + 1);
	fm_cred(req, &j->cred);
	clock_gettime(CLOCK_REALTIME, &now);
	j->dir_time.sec = now.tv_sec;
	j->dir_time.nsec = now.tv_nsec;
	have_d = fsc_dir_attr(fm_fs, p, FM_UNL_DIR_NS, &d, &age);
	pthread_mutex_lock(&fm_unl.mu);
	if (fm_unl.stopping || fm_unl.queued >= FM_UNL_QMAX ||
	    fm_unl_start_locked() < 0)
		goto out;
	/* the hold is taken under the cache's mutex: a recall (which
	 * drops the delegation under it) then finds it held and waits */
	fsc_mc_lock();
	if (fm_unl_allowed(p, name, &d, have_d) && fsc_hold_begin(fm_fs) == 0)
		ok = 1;
	fsc_mc_unlock();
	if (!ok)
		goto out;
	if (fm_unl.tail != NULL)
		fm_unl.tail->next = j;
	else
		fm_unl.head = j;
	fm_unl.tail = j;
	fm_unl.queued++;
	fm_unl.early++;
	pthread_cond_signal(&fm_unl.cv);
out:
	pthread_mutex_unlock(&fm_unl.mu);
	if (!ok) {
		free(j);
		return 0;
	}
	fsc_mc_name_changed(p, name);
	dm.tv_sec = (time_t)d.mtime_sec;
	dm.tv_nsec = (long)d.mtime_nsec;
	if (timespec_cmp(&now, &dm) > 0) {	/* as the MDS will (msg.h) */
		d.mtime_sec = now.tv_sec;
		d.mtime_nsec = now.tv_nsec;
	}
	d.ctime_sec = d.mtime_sec;
	d.ctime_nsec = d.mtime_nsec;
	(void)fsc_dir_note(fm_fs, p, &d);
	fuse_reply_err(req, 0);
	return 1;
}

int
fm_unl_recall(uint64_t dir)
{
	fsc_mc_lock();
	fsc_mc_del_kind(FSC_MC_DELEG, dir);
	fsc_mc_unlock();
	pthread_mutex_lock(&fm_unl.mu);
	fm_unl.recalls++;
	pthread_mutex_unlock(&fm_unl.mu);
	return 1;	/* answered when nothing is held (fsc.h) */
}

int
fm_unl_sync(uint64_t dir)
{
	int rc = 0;

	fsc_hold_wait(fm_fs);
	pthread_mutex_lock(&fm_unl.mu);
	for (int i = 0; i < FM_UNL_ERRS; i++)
		if (dir != 0 && fm_unl.err[i].dir == dir) {
			rc = fm_unl.err[i].rc;
			fm_unl.err[i].dir = 0;
		}
	pthread_mutex_unlock(&fm_unl.mu);
	return rc;
}

void
fm_unl_stop(void)
{
	int started;

	pthread_mutex_lock(&fm_unl.mu);
	fm_unl.stopping = 1;
	started = fm_unl.started > 0;
	pthread_cond_broadcast(&fm_unl.cv);
	pthread_mutex_unlock(&fm_unl.mu);
	if (started)
		pthread_join(fm_unl.thr, NULL);
}

void
fm_unl_counts(unsigned long *early, unsigned long *errors,
    unsigned long *recalls)
{
	pthread_mutex_lock(&fm_unl.mu);
	*early = fm_unl.early;
	*errors = fm_unl.errors;
	*recalls = fm_unl.recalls;
	pthread_mutex_unlock(&fm_unl.mu);
}
