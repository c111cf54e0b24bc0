/*
 * OST snapshots (see oss_snap.h for the contract).
 *
 * The barrier is a counter of changes in flight and a freeze depth, both
 * atomic, so a change pays two atomic operations when no snapshot is
 * being taken: enter() counts itself in and then looks at the freeze
 * depth; freeze() raises the depth and then waits for the count to drain.
 * Both are sequentially consistent, so either the change sees the freeze
 * (and backs out to wait) or the freeze sees the change (and waits for
 * it): no change runs inside a freeze.
 *
 * Only objects that existed at MARK belong to a snapshot: one born after
 * it (statx birth time later than the mark, taken inside the freeze) is
 * neither captured nor linked, so a file created during a backup is not
 * copied up at its first writes, nor held by the backup. Kernel file
 * times are coarse and lag the precise clock, so an object born before
 * the mark never looks born after it; without birth times (stx_mask)
 * every object is taken, as before.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fcopy.h"
#include "core/log.h"
#include "core/util.h"
#include "msg/msg.h"
#include "oss/oss_snap.h"

/* An OST's open snapshot: marked at the instant, linked after. */
struct epoch {
	uint32_t		 ost;
	int			 rootfd;	/* OSTDIR/snap/NAME */
	int			 broken;	/* a capture failed */
	struct timespec		 mark;		/* CLOCK_REALTIME at MARK */
	char			 name[MSG_SNAP_NAME];
};

struct oss_snap {
	pthread_mutex_t		 emu;		/* the epochs */
	atomic_int		 nepochs;	/* fast path: none open */
	struct epoch		 ep[OSS_SNAP_EPOCHS];
	atomic_int		 active;	/* changes in flight */
	atomic_int		 frozen;	/* freeze depth */
	_Atomic uint64_t	 since_ns;	/* monotonic start of the freeze */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;		/* thaw, or the last change out */
	_Atomic uint64_t	 n_freeze, n_cow, max_us;
};

struct oss_snap *
oss_snap_new(void)
{
	struct oss_snap *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;

	if (s == NULL)
		return NULL;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->emu, NULL);
	for (int i = 0; i < OSS_SNAP_EPOCHS; i++)
		s->ep[i].rootfd = -1;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	return s;
}

void
oss_snap_free(struct oss_snap *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < OSS_SNAP_EPOCHS; i++)
		if (s->ep[i].rootfd >= 0)
			close(s->ep[i].rootfd);
	pthread_mutex_destroy(&s->emu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static void
wait_ms(struct oss_snap *s, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_cond_timedwait(&s->cv, &s->mu, &ts);
}

/* Called under s->mu: end a freeze that outlived its bound. */
static void
expire(struct oss_snap *s)
{
	uint64_t since = atomic_load(&s->since_ns);

	if (atomic_load(&s->frozen) > 0 && since != 0 &&
	    now_mono_ns() - since > (uint64_t)OSS_SNAP_FREEZE_MAX_MS * 1000000u) {
		log_warn("%s: a snapshot freeze outlived %d ms; thawing",
		    __func__, OSS_SNAP_FREEZE_MAX_MS);
		atomic_store(&s->frozen, 0);
		atomic_store(&s->since_ns, 0);
		pthread_cond_broadcast(&s->cv);
	}
}

void
oss_snap_enter(struct oss_snap *s)
{
	for (;;) {
		atomic_fetch_add(&s->active, 1);
		if (atomic_load(&s->frozen) == 0)
			return;
		oss_snap_leave(s);
		pthread_mutex_lock(&s->mu);
		while (atomic_load(&s->frozen) > 0) {
			wait_ms(s, 100);
			expire(s);
		}
		pthread_mutex_unlock(&s->mu);
	}
}

void
oss_snap_leave(struct oss_snap *s)
{
	if (atomic_fetch_sub(&s->active, 1) == 1 &&
	    atomic_load(&s->frozen) > 0) {
		pthread_mutex_lock(&s->mu);
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
}

int
oss_snap_freeze(struct oss_snap *s)
{
	uint64_t t0 = now_mono_ns();

	pthread_mutex_lock(&s->mu);
	if (atomic_fetch_add(&s->frozen, 1) == 0)
		atomic_store(&s->since_ns, t0);
	while (atomic_load(&s->active) > 0) {
		if (now_mono_ns() - t0 > (uint64_t)OSS_SNAP_FREEZE_MAX_MS *
		    1000000u / 2) {
			if (atomic_fetch_sub(&s->frozen, 1) == 1) {
				atomic_store(&s->since_ns, 0);
				pthread_cond_broadcast(&s->cv);
			}
			pthread_mutex_unlock(&s->mu);
			return -ETIMEDOUT;
		}
		wait_ms(s, 10);
	}
	atomic_fetch_add(&s->n_freeze, 1);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

void
oss_snap_thaw(struct oss_snap *s)
{
	uint64_t since, us;

	pthread_mutex_lock(&s->mu);
	if (atomic_load(&s->frozen) > 0 &&
	    atomic_fetch_sub(&s->frozen, 1) == 1) {
		since = atomic_exchange(&s->since_ns, 0);
		us = since ? (now_mono_ns() - since) / 1000 : 0;
		if (us > atomic_load(&s->max_us))
			atomic_store(&s->max_us, us);
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
}

int
oss_snap_name_ok(const char *name, unsigned cap)
{
	unsigned i;

	for (i = 0; i < cap && name[i] != '\0'; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return i > 0 && i < cap;
}

/* The epoch of `ost` (under emu), or NULL. */
static struct epoch *
epoch_of(struct oss_snap *s, uint32_t ost)
{
	for (int i = 0; i < OSS_SNAP_EPOCHS; i++)
		if (s->ep[i].rootfd >= 0 && s->ep[i].ost == ost)
			return &s->ep[i];
	return NULL;
}

static void
epoch_end(struct oss_snap *s, struct epoch *e)
{
	close(e->rootfd);
	e->rootfd = -1;
	e->broken = 0;
	e->name[0] = '\0';
	atomic_fetch_sub(&s->nepochs, 1);
}

int
oss_snap_mark(struct oss_snap *s, uint32_t ost, const char *ostdir,
    const char *name)
{
	char *root = xasprintf("%s/snap/%s", ostdir, name);
	struct epoch *e;
	int fd, rc = 0;

	(void)rm_rf(root);
	rc = mkdir_p(root, 0700);
	fd = rc == 0 ? open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (rc == 0 && fd < 0)
		rc = -errno;
	free(root);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&s->emu);
	e = epoch_of(s, ost);
	if (e != NULL)
		epoch_end(s, e);	/* an abandoned one */
	for (int i = 0; e == NULL && i < OSS_SNAP_EPOCHS; i++)
		if (s->ep[i].rootfd < 0)
			e = &s->ep[i];
	if (e == NULL) {
		close(fd);
		rc = -EMFILE;
	} else {
		e->ost = ost;
		e->rootfd = fd;
		e->broken = 0;
		clock_gettime(CLOCK_REALTIME, &e->mark);
		snprintf(e->name, sizeof(e->name), "%s", name);
		atomic_fetch_add(&s->nepochs, 1);
	}
	pthread_mutex_unlock(&s->emu);
	return rc;
}

/* Was O/<rel> born after `mark` (not of the snapshot's instant)? */
static int
born_after(int odirfd, const char *rel, const struct timespec *mark)
{
	struct statx sx;

	if (statx(odirfd, rel, AT_SYMLINK_NOFOLLOW, STATX_BTIME, &sx) < 0 ||
	    !(sx.stx_mask & STATX_BTIME))
		return 0;
	return sx.stx_btime.tv_sec > mark->tv_sec ||
	    (sx.stx_btime.tv_sec == mark->tv_sec &&
	    sx.stx_btime.tv_nsec > (uint32_t)mark->tv_nsec);
}

/*
 * Link O/<rel> into the snapshot root (marked at `mark`); an existing
 * link is the capture, an object born after the mark is not taken.
 */
static int
capture_at(int odirfd, int rootfd, const char *rel, unsigned xx,
    const struct timespec *mark)
{
	struct stat st;
	char sub[4];

	if (born_after(odirfd, rel, mark))
		return 0;
	if (linkat(odirfd, rel, rootfd, rel, 0) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	/* the object is gone, or the snapshot's xx is not made yet */
	if (fstatat(odirfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	snprintf(sub, sizeof(sub), "%02x", xx);
	if (mkdirat(rootfd, sub, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (linkat(odirfd, rel, rootfd, rel, 0) == 0 || errno == EEXIST ||
	    errno == ENOENT)
		return 0;
	return -errno;
}

int
oss_snap_capture(struct oss_snap *s, uint32_t ost, int odirfd, uint64_t oid)
{
	struct epoch *e;
	char rel[MSG_OBJ_NAME_MAX];
	int rc = 0;

	if (atomic_load(&s->nepochs) == 0)
		return 0;
	msg_obj_name(rel, oid);
	pthread_mutex_lock(&s->emu);
	e = epoch_of(s, ost);
	if (e != NULL) {
		rc = capture_at(odirfd, e->rootfd, rel, (unsigned)(oid & 0xff),
		    &e->mark);
		if (rc == -ENOENT) {
			/* its directory was removed: an abandoned snapshot */
			log_info("%s: ost %u: snapshot %s is gone; closing it",
			    __func__, ost, e->name);
			epoch_end(s, e);
			rc = 0;
		} else if (rc < 0) {
			e->broken = 1;
			log_warn("%s: ost %u object %" PRIu64 " into %s: %s",
			    __func__, ost, oid, e->name, strerror(-rc));
		}
	}
	pthread_mutex_unlock(&s->emu);
	return rc;
}

/* Link the objects of one O/xx directory (not yet captured) in. */
static int
link_sub(int odirfd, int rootfd, unsigned xx, const struct timespec *mark)
{
	char sub[4], rel[300];
	struct dirent *de;
	DIR *d;
	int subfd, n = 0, rc = 0;

	snprintf(sub, sizeof(sub), "%02x", xx);
	subfd = openat(odirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (subfd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(subfd);
	if (d == NULL) {
		rc = -errno;
		close(subfd);
		return rc;
	}
	for (de = readdir(d); rc == 0 && de != NULL; de = readdir(d)) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;	/* ".", "..", copy-up temporaries */
		snprintf(rel, sizeof(rel), "%s/%s", sub, de->d_name);
		rc = capture_at(odirfd, rootfd, rel, xx, mark);
		n++;
	}
	closedir(d);
	return rc < 0 ? rc : n;
}

int
oss_snap_link(struct oss_snap *s, uint32_t ost, int odirfd, const char *name)
{
	struct epoch *e;
	struct timespec mark = { 0, 0 };
	int rootfd = -1, total = 0, rc = 0, broken;

	pthread_mutex_lock(&s->emu);
	e = epoch_of(s, ost);
	if (e != NULL && strcmp(e->name, name) == 0) {
		rootfd = dup(e->rootfd);
		mark = e->mark;
	}
	pthread_mutex_unlock(&s->emu);
	if (rootfd < 0)
		return -ESTALE;		/* never marked here, or restarted */
	for (unsigned xx = 0; rc >= 0 && xx < 256; xx++) {
		rc = link_sub(odirfd, rootfd, xx, &mark);
		if (rc > 0)
			total += rc;
	}
	close(rootfd);
	pthread_mutex_lock(&s->emu);
	e = epoch_of(s, ost);
	broken = e == NULL || strcmp(e->name, name) != 0 || e->broken;
	if (e != NULL && strcmp(e->name, name) == 0)
		epoch_end(s, e);
	pthread_mutex_unlock(&s->emu);
	if (rc < 0)
		return rc;
	return broken ? -EIO : total;
}

int
oss_snap_drop(const char *ostdir, const char *name)
{
	char *root = xasprintf("%s/snap/%s", ostdir, name);
	int rc = rm_rf(root);

	free(root);
	return rc == -ENOENT ? 0 : rc;
}

int
oss_snap_cow(struct oss_snap *s, int odirfd, uint64_t oid, int fd)
{
	char name[MSG_OBJ_NAME_MAX], tmp[48];
	struct stat st;
	int nfd, rc;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_nlink <= 1)
		return 0;
	msg_obj_name(name, oid);
	snprintf(tmp, sizeof(tmp), "%02x/.cow.%" PRIu64, (unsigned)(oid & 0xff),
	    oid);
	nfd = openat(odirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	if (nfd < 0)
		return -errno;
	rc = fcopy_sparse(fd, nfd, NULL);
	/* the copy must be whole on disk before its name replaces the old */
	if (rc == 0 && fdatasync(nfd) < 0)
		rc = -errno;
	if (rc == 0 && renameat(odirfd, tmp, odirfd, name) < 0)
		rc = -errno;
	close(nfd);
	if (rc < 0) {
		(void)unlinkat(odirfd, tmp, 0);
		log_warn("%s: object %" PRIu64 ": %s", __func__, oid,
		    strerror(-rc));
		return rc;
	}
	atomic_fetch_add(&s->n_cow, 1);
	return 1;
}

void
oss_snap_counters(struct oss_snap *s, uint64_t *freezes, uint64_t *cows,
    uint64_t *max_freeze_us)
{
	*freezes = atomic_load(&s->n_freeze);
	*cows = atomic_load(&s->n_cow);
	*max_freeze_us = atomic_load(&s->max_us);
}
