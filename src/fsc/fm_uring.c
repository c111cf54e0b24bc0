/*
 * fsx-mount's FUSE requests over io_uring (FUSE_OVER_IO_URING, Linux
 * 6.14+), beside /dev/fuse (fm_io.c).
 *
 * Why: on /dev/fuse a request wakes a server thread wherever the
 * scheduler puts it, mostly on the other CPU, and the reply wakes the
 * caller back across CPUs; on this project's 2-CPU VM those wakeups are
 * most of what a metadata request costs. Over io_uring the kernel queues
 * a request on the queue of the CPU its caller runs on, and that queue's
 * threads here are pinned to that CPU: the caller sleeps, a server
 * thread runs on the same CPU, and the reply wakes the caller there.
 * Unlinks went from 7,300-7,500/s to 8,900-9,400/s, creates from
 * 5,000-5,400/s to 5,800-6,100/s, and the mount's CPU per unlink from
 * 68 to 48 µs (docs/design.md, "FUSE over io_uring").
 *
 * The kernel offers it only where the fuse module's enable_uring
 * parameter is set; -o nouring declines it.
 *
 * Contract:
 * - fm_uring_want(flags, flags2) of the kernel's INIT: 1 if it offers
 *   io_uring and this mount takes it. fm_uring_prepare(max_write,
 *   max_pages), before the INIT reply is written: starts FM_UR_START
 *   threads per possible CPU, each with its own ring and one entry (a
 *   request buffer of max_write), which register once the kernel has the
 *   reply. The kernel holds every request until each CPU's queue has an
 *   entry, so the reply asks only if every thread started (else none is
 *   left and /dev/fuse serves all). Then requests come over the rings,
 *   FORGET and INTERRUPT still through /dev/fuse.
 * - A thread hands its entry's request to libfuse
 *   (fuse_session_process_buf); the reply reaches fm_uring_reply through
 *   fm_io's writev hook, is staged in the entry, and goes back with the
 *   next fetch (COMMIT_AND_FETCH). Only the owner thread submits on its
 *   ring; a reply from another thread is staged and the owner, waiting
 *   for it, sends it.
 * - A handler may read its request's payload until it returns (a
 *   WRITE's data goes to the OSS after the reply): the reply to a
 *   request with a payload is kept aside (stash) until then. A WRITE of
 *   up to FM_UR_WCOPY is copied out of the entry first, so that its
 *   reply goes at once (the owner commits from the writev hook), as
 *   write-behind means it to.
 * - Handlers block (MDS round trips, lock waits): when a CPU's last idle
 *   thread takes a request another is started for that CPU, up to
 *   FM_UR_MAX_Q, so a CPU's queue is never stuck behind waiters.
 * - A request whose lengths disagree with its header is answered EIO.
 * - fm_uring_stop after the session loop: the kernel ends every entry
 *   when the connection goes; it waits for the threads to see it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "fsc/fm.h"

/* From Linux 6.14's <linux/fuse.h> (Debian 12's headers predate it). */
#define FM_FUSE_OVER_IO_URING	(1ULL << 41)
#define FM_UR_HDR_SZ		128	/* FUSE_URING_IN_OUT_HEADER_SZ */
#define FM_UR_OP_SZ		128	/* FUSE_URING_OP_IN_OUT_SZ */
#define FM_UR_CMD_REGISTER	1
#define FM_UR_CMD_COMMIT_FETCH	2

struct fm_ur_ent_in_out {
	uint64_t	flags;
	uint64_t	commit_id;
	uint32_t	payload_sz;
	uint32_t	padding;
	uint64_t	reserved;
};

struct fm_ur_req_header {
	char			in_out[FM_UR_HDR_SZ];
	char			op_in[FM_UR_OP_SZ];
	struct fm_ur_ent_in_out	ent;
};

struct fm_ur_cmd_req {
	uint64_t	flags;
	uint64_t	commit_id;
	uint16_t	qid;
	uint8_t		padding[6];
};

#define FM_UR_START	2	/* threads per CPU queue at first */
#define FM_UR_MAX_Q	16	/* and at most */
#define FM_UR_MAX_CPUS	16	/* more CPUs: /dev/fuse only */
#define FM_UR_MAX_THR	(FM_UR_MAX_CPUS * FM_UR_MAX_Q)
#define FM_UR_PRE	(sizeof(struct fuse_in_header) + FM_UR_OP_SZ)
#define FM_UR_STASH	(64u << 10)	/* replies kept aside, at most */
#define FM_UR_WCOPY	(128u << 10)	/* WRITEs copied out, at most */
#define FM_UR_STOP_MS	2000

struct fm_ur {
	int			 ring;		/* io_uring fd */
	int			 qid;
	pthread_t		 tid;
	int			 state;		/* 1 ring set up, -errno not */
	int			 done;		/* the thread has ended */
	/* both rings, in one mapping (IORING_FEAT_SINGLE_MMAP) */
	char			*map;
	size_t			 map_len;
	struct io_uring_sqe	*sqes;		/* 128-byte entries */
	size_t			 sqes_len;
	unsigned		*sq_tail, *sq_mask, *sq_array;
	unsigned		*cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe	*cqes;
	/* the one entry */
	struct fm_ur_req_header	 hdr __attribute__((aligned(64)));
	struct iovec		 iov[2];
	char			*mem;		/* what buf is in */
	char			*buf;		/* FM_UR_PRE + payload */
	char			*stash;		/* FM_UR_STASH */
	char			*wcopy;		/* FM_UR_PRE + FM_UR_WCOPY */
	uint32_t		 req_psz;	/* the request's payload */
	uint64_t		 unique;	/* in flight; 0: none */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 staged;	/* the reply is in hdr (+ body) */
	int			 stashed;	/* its body in stash */
	int			 early;		/* the request is in wcopy */
	int			 committed;	/* its reply has gone */
};

static struct fm_ur	*fm_urs[FM_UR_MAX_THR];
static int		 fm_ur_n;		/* fm_urs in use */
static pthread_mutex_t	 fm_ur_mu = PTHREAD_MUTEX_INITIALIZER;
static int		 fm_ur_idle[FM_UR_MAX_CPUS];	/* per queue */
static int		 fm_ur_count[FM_UR_MAX_CPUS];	/* under fm_ur_mu */
static size_t		 fm_ur_payload;
static int		 fm_ur_ncpu;		/* possible CPUs: queues */
static int		 fm_ur_abandon;		/* not asked for after all */
static _Thread_local struct fm_ur *fm_ur_self;
static unsigned long	 fm_ur_reqs;		/* came this way */

static int
ur_enter(int fd, unsigned submit, unsigned wait)
{
	return (int)syscall(__NR_io_uring_enter, fd, submit, wait,
	    wait ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
}

/* Set up u's ring (4 entries of 128 bytes) and map it. 0 or -errno. */
static int
ur_map(struct fm_ur *u)
{
	struct io_uring_params p;
	size_t cq_len;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_SINGLE_ISSUER |
	    IORING_SETUP_DEFER_TASKRUN;
	u->ring = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (u->ring < 0)
		return -errno;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP))
		return -EOPNOTSUPP;	/* every kernel with FUSE io_uring has */
	u->map_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (cq_len > u->map_len)
		u->map_len = cq_len;
	u->map = mmap(NULL, u->map_len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, u->ring, IORING_OFF_SQ_RING);
	if (u->map == MAP_FAILED) {
		u->map = NULL;
		return -errno;
	}
	u->sqes_len = p.sq_entries * 2 * sizeof(struct io_uring_sqe);
	u->sqes = mmap(NULL, u->sqes_len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, u->ring, IORING_OFF_SQES);
	if (u->sqes == MAP_FAILED) {
		u->sqes = NULL;
		return -errno;
	}
	u->sq_tail = (unsigned *)(u->map + p.sq_off.tail);
	u->sq_mask = (unsigned *)(u->map + p.sq_off.ring_mask);
	u->sq_array = (unsigned *)(u->map + p.sq_off.array);
	u->cq_head = (unsigned *)(u->map + p.cq_off.head);
	u->cq_tail = (unsigned *)(u->map + p.cq_off.tail);
	u->cq_mask = (unsigned *)(u->map + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(u->map + p.cq_off.cqes);
	return 0;
}

static void
ur_unmap(struct fm_ur *u)
{
	if (u->sqes != NULL)
		munmap(u->sqes, u->sqes_len);
	if (u->map != NULL)
		munmap(u->map, u->map_len);
	if (u->ring >= 0)
		close(u->ring);
}

/* Queue one FUSE command on u's ring (its own thread only). */
static void
ur_cmd(struct fm_ur *u, uint32_t op, uint64_t commit_id)
{
	unsigned tail = *u->sq_tail, idx = tail & *u->sq_mask;
	struct io_uring_sqe *sqe = (struct io_uring_sqe *)
	    ((char *)u->sqes + (size_t)idx * 2 * sizeof(*sqe));
	struct fm_ur_cmd_req cr;

	memset(sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fuse_session_fd(fm_se);
	sqe->cmd_op = op;
	sqe->addr = (uint64_t)(uintptr_t)u->iov;
	sqe->len = 2;
	memset(&cr, 0, sizeof(cr));
	cr.commit_id = commit_id;
	cr.qid = (uint16_t)u->qid;
	memcpy(sqe->cmd, &cr, sizeof(cr));
	u->sq_array[idx] = idx;
	__atomic_store_n(u->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

/* Submit what is queued, wait for one completion: its result. */
static int
ur_wait(struct fm_ur *u)
{
	unsigned head, submit = 1;
	int res;

	for (;;) {
		head = *u->cq_head;
		if (head != __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE))
			break;
		if (ur_enter(u->ring, submit, 1) < 0) {
			if (errno != EINTR && errno != EAGAIN &&
			    errno != EBUSY)
				return -errno;
		} else {
			submit = 0;
		}
	}
	res = u->cqes[head & *u->cq_mask].res;
	__atomic_store_n(u->cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

static int ur_start(int qid);

/* The request in u's entry, in /dev/fuse's layout, to libfuse. */
static void
ur_handle(struct fm_ur *u)
{
	struct fuse_in_header ih;
	struct fuse_out_header oh;
	struct fuse_buf fb;
	uint32_t psz = u->hdr.ent.payload_sz;
	size_t oplen = 0;
	char *start;

	memcpy(&ih, u->hdr.in_out, sizeof(ih));
	u->staged = 0;
	u->stashed = 0;
	u->early = 0;
	u->committed = 0;
	if (psz > fm_ur_payload || ih.len < sizeof(ih) + psz ||
	    (oplen = ih.len - sizeof(ih) - psz) > FM_UR_OP_SZ) {
		memset(&oh, 0, sizeof(oh));
		oh.unique = ih.unique;
		oh.error = -EIO;
		oh.len = sizeof(oh);
		memcpy(u->hdr.in_out, &oh, sizeof(oh));
		u->hdr.ent.payload_sz = 0;
		return;
	}
	if (ih.opcode == FUSE_WRITE && psz <= FM_UR_WCOPY) {
		/* write-behind replies first and sends the data after: a
		 * copy frees the entry for the reply to go at once */
		start = u->wcopy + FM_UR_PRE - oplen - sizeof(ih);
		memcpy(u->wcopy + FM_UR_PRE, u->iov[1].iov_base, psz);
		u->early = 1;
		psz = 0;
	} else {
		start = u->buf + FM_UR_PRE - oplen - sizeof(ih);
	}
	memcpy(start, &ih, sizeof(ih));
	memcpy(start + sizeof(ih), u->hdr.op_in, oplen);
	memset(&fb, 0, sizeof(fb));
	fb.mem = start;
	fb.size = ih.len;
	u->req_psz = psz;
	__atomic_store_n(&u->unique, ih.unique, __ATOMIC_RELEASE);
	__atomic_add_fetch(&fm_ur_reqs, 1, __ATOMIC_RELAXED);
	fm_io_note(start, ih.len);
	fuse_session_process_buf(fm_se, &fb);
	if (u->committed)
		return;
	pthread_mutex_lock(&u->mu);
	while (!u->staged)
		pthread_cond_wait(&u->cv, &u->mu);	/* replied elsewhere */
	pthread_mutex_unlock(&u->mu);
	__atomic_store_n(&u->unique, 0, __ATOMIC_RELEASE);
	if (u->stashed)
		memcpy(u->iov[1].iov_base, u->stash, u->hdr.ent.payload_sz);
}

static void
ur_state(struct fm_ur *u, int state)
{
	pthread_mutex_lock(&u->mu);
	u->state = state;
	pthread_cond_broadcast(&u->cv);
	pthread_mutex_unlock(&u->mu);
}

static void *
ur_main(void *arg)
{
	struct fm_ur *u = arg;
	struct fuse_out_header oh;
	cpu_set_t cs;
	int res;

	fm_ur_self = u;
	CPU_ZERO(&cs);
	CPU_SET(u->qid, &cs);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(cs), &cs);
	/* the ring is this thread's: it alone submits (SINGLE_ISSUER) */
	res = ur_map(u);
	ur_state(u, res < 0 ? res : 1);
	if (res < 0)
		goto out;
	/* the kernel takes entries once it has the INIT reply (-EAGAIN) */
	for (;;) {
		if (__atomic_load_n(&fm_ur_abandon, __ATOMIC_ACQUIRE))
			goto out;
		ur_cmd(u, FM_UR_CMD_REGISTER, 0);
		__atomic_add_fetch(&fm_ur_idle[u->qid], 1, __ATOMIC_ACQ_REL);
		res = ur_wait(u);
		if (res != -EAGAIN)
			break;
		__atomic_sub_fetch(&fm_ur_idle[u->qid], 1, __ATOMIC_ACQ_REL);
		usleep(1000);
	}
	while (res == 0) {
		if (__atomic_sub_fetch(&fm_ur_idle[u->qid], 1,
		    __ATOMIC_ACQ_REL) == 0)
			(void)ur_start(u->qid);	/* keep one waiting */
		ur_handle(u);
		if (!u->committed) {
			memcpy(&oh, u->hdr.in_out, sizeof(oh));
			ur_cmd(u, FM_UR_CMD_COMMIT_FETCH, oh.unique);
			__atomic_add_fetch(&fm_ur_idle[u->qid], 1,
			    __ATOMIC_ACQ_REL);
		}
		res = ur_wait(u);
	}
	__atomic_sub_fetch(&fm_ur_idle[u->qid], 1, __ATOMIC_ACQ_REL);
	if (res != -ENOTCONN && res != -ECONNABORTED && res != -ECANCELED &&
	    res != -ENODEV)
		log_warn("fsx-mount: io_uring queue %d: %s", u->qid,
		    strerror(-res));
out:
	ur_unmap(u);
	__atomic_store_n(&u->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Start one more thread for queue qid (up to FM_UR_MAX_Q). 0 or -errno. */
static int
ur_start(int qid)
{
	struct fm_ur *u;
	int rc = -ENOMEM;

	pthread_mutex_lock(&fm_ur_mu);
	if (fm_ur_count[qid] >= FM_UR_MAX_Q || fm_ur_n >= FM_UR_MAX_THR) {
		pthread_mutex_unlock(&fm_ur_mu);
		return -EAGAIN;
	}
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		goto out;
	u->ring = -1;
	u->qid = qid;
	/* the payload starts on a page, after room for the two headers */
	if (posix_memalign((void **)&u->mem, 4096, 4096 + fm_ur_payload) != 0)
		goto out_free;
	u->buf = u->mem + 4096 - FM_UR_PRE;
	u->stash = malloc(FM_UR_STASH);
	u->wcopy = malloc(FM_UR_PRE + FM_UR_WCOPY);
	if (u->stash == NULL || u->wcopy == NULL)
		goto out_free;
	u->iov[0].iov_base = &u->hdr;
	u->iov[0].iov_len = sizeof(u->hdr);
	u->iov[1].iov_base = u->buf + FM_UR_PRE;
	u->iov[1].iov_len = fm_ur_payload;
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cv, NULL);
	/* listed before it runs: its replies are looked up there */
	__atomic_store_n(&fm_urs[fm_ur_n], u, __ATOMIC_RELEASE);
	rc = -pthread_create(&u->tid, NULL, ur_main, u);
	if (rc == 0) {
		pthread_mutex_lock(&u->mu);
		while (u->state == 0)
			pthread_cond_wait(&u->cv, &u->mu);
		rc = u->state < 0 ? u->state : 0;
		pthread_mutex_unlock(&u->mu);
		if (rc < 0)
			(void)pthread_join(u->tid, NULL);
		else
			(void)pthread_detach(u->tid);
	}
	if (rc < 0) {
		fm_urs[fm_ur_n] = NULL;
		goto out_free;
	}
	__atomic_store_n(&fm_ur_n, fm_ur_n + 1, __ATOMIC_RELEASE);
	fm_ur_count[qid]++;
	pthread_mutex_unlock(&fm_ur_mu);
	return 0;
out_free:
	free(u->wcopy);
	free(u->stash);
	free(u->mem);
	free(u);
out:
	pthread_mutex_unlock(&fm_ur_mu);
	return rc;
}

/*
 * The kernel makes one queue per possible CPU and uses the ring only
 * once each has an entry: the number of CPUs "0-N" in
 * /sys/devices/system/cpu/possible names, or 0 (another shape, or more
 * than FM_UR_MAX_CPUS: /dev/fuse only).
 */
static int
ur_possible(void)
{
	char b[64];
	ssize_t n;
	int fd, lo, hi, k;

	fd = open("/sys/devices/system/cpu/possible", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	b[n] = '\0';
	if (sscanf(b, "%d-%d%n", &lo, &hi, &k) == 2 && (b[k] == '\n' ||
	    b[k] == '\0') && lo == 0 && hi >= 0 && hi < FM_UR_MAX_CPUS)
		return hi + 1;
	if (sscanf(b, "%d%n", &lo, &k) == 1 && lo == 0 &&
	    (b[k] == '\n' || b[k] == '\0'))
		return 1;
	return 0;
}

int
fm_uring_want(uint32_t in_flags, uint32_t in_flags2)
{
	if (fm.nouring || fm.writeback)
		return 0;
	return (in_flags & FUSE_INIT_EXT) &&
	    (in_flags2 & (uint32_t)(FM_FUSE_OVER_IO_URING >> 32));
}

uint32_t
fm_uring_flag2(void)
{
	return (uint32_t)(FM_FUSE_OVER_IO_URING >> 32);
}

int
fm_uring_prepare(uint32_t max_write, uint32_t max_pages)
{
	size_t pay = 8192;
	int n = ur_possible();

	if (n == 0 || fm_ur_ncpu != 0)
		return 0;
	if (max_write > pay)
		pay = max_write;
	if ((size_t)max_pages * 4096 > pay)
		pay = (size_t)max_pages * 4096;
	fm_ur_payload = pay;
	fm_ur_ncpu = n;
	for (int q = 0; q < n; q++)
		for (int k = 0; k < FM_UR_START; k++)
			if (ur_start(q) < 0) {
				/* a queue without an entry would hold every
				 * request: keep to /dev/fuse */
				log_warn("fsx-mount: io_uring queue %d: no "
				    "thread; requests stay on /dev/fuse", q);
				__atomic_store_n(&fm_ur_abandon, 1,
				    __ATOMIC_RELEASE);
				return 0;
			}
	return 1;
}

ssize_t
fm_uring_reply(const struct iovec *iov, int count)
{
	const struct fuse_out_header *oh;
	struct fm_ur *u = NULL;
	size_t total = 0, pl = 0;
	char *to;
	int n;

	if (count < 1 || iov[0].iov_len < sizeof(*oh))
		return -1;
	oh = iov[0].iov_base;
	if (oh->unique == 0)
		return -1;	/* a notification */
	if (fm_ur_self != NULL && __atomic_load_n(&fm_ur_self->unique,
	    __ATOMIC_ACQUIRE) == oh->unique)
		u = fm_ur_self;
	n = __atomic_load_n(&fm_ur_n, __ATOMIC_ACQUIRE);
	for (int i = 0; u == NULL && i < n; i++) {
		struct fm_ur *v = __atomic_load_n(&fm_urs[i],
		    __ATOMIC_ACQUIRE);

		if (v != NULL && __atomic_load_n(&v->unique,
		    __ATOMIC_ACQUIRE) == oh->unique)
			u = v;
	}
	if (u == NULL)
		return -1;	/* it came through /dev/fuse */
	for (int i = 0; i < count; i++)
		total += iov[i].iov_len;
	pthread_mutex_lock(&u->mu);
	memcpy(u->hdr.in_out, oh, sizeof(*oh));
	u->stashed = u->req_psz > 0 && total - iov[0].iov_len <= FM_UR_STASH;
	to = u->stashed ? u->stash : u->iov[1].iov_base;
	for (int i = 1; i < count; i++) {
		size_t l = iov[i].iov_len;

		if (pl + l > fm_ur_payload)
			l = fm_ur_payload - pl;	/* not past max_write */
		memcpy(to + pl, iov[i].iov_base, l);
		pl += l;
	}
	u->hdr.ent.payload_sz = (uint32_t)pl;
	u->staged = 1;
	if (u == fm_ur_self && u->early) {
		/* the handler works from its copy: send the reply now (the
		 * next fetch may fill the entry meanwhile) */
		__atomic_store_n(&u->unique, 0, __ATOMIC_RELEASE);
		ur_cmd(u, FM_UR_CMD_COMMIT_FETCH, oh->unique);
		__atomic_add_fetch(&fm_ur_idle[u->qid], 1, __ATOMIC_ACQ_REL);
		(void)ur_enter(u->ring, 1, 0);	/* else at the next wait */
		u->committed = 1;
	}
	pthread_cond_signal(&u->cv);
	pthread_mutex_unlock(&u->mu);
	return (ssize_t)total;
}

int
fm_uring_copied(void)
{
	return fm_ur_self != NULL && fm_ur_self->early;
}

unsigned long
fm_uring_requests(void)
{
	return __atomic_load_n(&fm_ur_reqs, __ATOMIC_RELAXED);
}

int
fm_uring_stop(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int left = 0, n = __atomic_load_n(&fm_ur_n, __ATOMIC_ACQUIRE);

	for (int waited = 0; waited < FM_UR_STOP_MS; waited += 10) {
		left = 0;
		for (int i = 0; i < n; i++)
			if (!__atomic_load_n(&fm_urs[i]->done,
			    __ATOMIC_ACQUIRE))
				left++;
		if (left == 0)
			break;
		nanosleep(&ts, NULL);
	}
	return left;
}
