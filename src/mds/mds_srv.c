/*
 * fsx-mds request handling (see mds_srv.h for the conventions).
 *
 * Threads: msg_srv runs one thread per connection and calls mds_dispatch()
 * concurrently (not serial): the namespace store has its own lock, and
 * requests that wait on OSSes (statfs, glimpse) do not hold it. One more
 * thread drains the destroy queue (mds_dthr.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/failpoint.h"
#include "core/log.h"
#include "core/util.h"
#include "mds/mds_dthr.h"
#include "mds/mds_hsm.h"
#include "mds/mds_lease.h"
#include "mds/mds_lock.h"
#include "mds/mds_ns.h"
#include "mds/mds_ost.h"
#include "mds/mds_reply.h"
#include "mds/mds_snap.h"
#include "oss/oss_snap.h"
#include "mds/mds_srv.h"
#include "msg/msg_srv.h"

#define APPEND_HOLDS		64	/* files with a held tail at once */
/* Bounds a hold whose rest never comes (a write(2) that happened to be
 * the size of a first piece); the rest of a real one is sent as soon as
 * the first is answered, but on a loaded machine that took over 100 ms
 * and tore records. The holder's CLOSE ends its hold at once. */
#define APPEND_HOLD_MS		1000
#define MDS_FILES_MAX		(1ull << 32)	/* inode capacity for statfs */
#define STATFS_BSIZE		4096

struct mds_srv {
	struct mds_ns	*ns;
	struct mds_osts	*osts;
	struct msg_srv	*srv;
	struct mds_lock	*locks;
	struct mds_lease *leases;
	struct mds_hsm	*hsm;		/* HSM state (mds_hsm.h) */
	pthread_mutex_t	 olock;		/* one OSTADD at a time */

	struct mds_dthr	*dthr;		/* the destroy thread (mds_dthr.c) */

	atomic_uint_fast64_t owner_next;
	atomic_uint_fast64_t ops[MSG_OP_MAX];

	/* append holds (h_append): the tail of a file kept for the rest of
	 * a split write, at most APPEND_HOLD_MS */
	pthread_mutex_t	 alock;
	pthread_cond_t	 acond;
	struct {
		uint64_t	ino, handle, until_ns;
	}		 ahold[APPEND_HOLDS];
};

/* A connection's state: its open-handle owner and its session, if any. */
struct mds_conn {
	uint64_t		owner;
	struct mds_lconn	*lc;
	uint64_t		last_noted;	/* mds_reply_begin's *last */
};

/* ---- OSTs ---- */

static void
pool_update(struct mds_srv *m)
{
	struct msg_ost_ent *v;
	uint32_t *idx;
	unsigned n;

	n = mds_ost_count(m->osts);
	v = xcalloc(n ? n : 1, sizeof(*v));
	idx = xcalloc(n ? n : 1, sizeof(*idx));
	n = mds_ost_list(m->osts, v, n);
	for (unsigned i = 0; i < n; i++)
		idx[i] = v[i].ost;
	mds_layout_set_pool(m->ns, idx, n);
	free(idx);
	free(v);
}

int
mds_srv_ostadd(struct mds_srv *m, const struct msg_ost_ent *e, unsigned n)
{
	int rc;

	if (n == 0)
		return 0;
	if (!mds_ost_valid(e, n))
		return -EINVAL;
	/* serialised, so a pool built from an older map never lands last */
	pthread_mutex_lock(&m->olock);
	/* stored first: see mds_srv.h */
	rc = mds_ns_ost_put(m->ns, e, n);
	if (rc == 0) {
		rc = mds_ost_merge(m->osts, e, n);
		pool_update(m);
		log_info("mds: OSTs now %u", mds_ost_count(m->osts));
	}
	pthread_mutex_unlock(&m->olock);
	return rc;
}

/* The map the store kept, at start. */
static int
ost_map_load(struct mds_srv *m)
{
	struct msg_ost_ent *v;
	unsigned n;
	int rc;

	rc = mds_ns_ost_list(m->ns, &v, &n);
	if (rc < 0)
		return rc;
	rc = mds_ost_merge(m->osts, v, n);
	free(v);
	if (rc < 0)
		return rc;
	pool_update(m);
	log_info("mds: %u OSTs in the store's map", n);
	return 0;
}

/* Size of a file from its objects' sizes (Lustre's glimpse). */
static void
glimpse(struct mds_srv *m, struct msg_attr *a)
{
	struct mds_layout l;
	uint64_t size, blocks = 0;
	int seen = 0;

	if (!S_ISREG(a->mode) || a->open_writers == 0)
		return;
	if (mds_layout_get(m->ns, a->ino, &l) < 0 || l.hdr.nent == 0 ||
	    l.hdr.stripe_size == 0)
		return;
	size = a->size;
	for (uint32_t k = 0; k < l.hdr.nent; k++) {
		struct msg_obj ob;
		struct msg_obj_attr oa;
		uint64_t s = l.hdr.stripe_size, c = l.hdr.nent, o, fo;
		uint32_t rlen = 0;
		int rc;

		memset(&ob, 0, sizeof(ob));
		ob.ost = l.ent[k].ost;
		ob.oid = l.ent[k].oid;
		rc = mds_ost_call(m->osts, ob.ost, MSG_OP_OST_GETATTR, &ob,
		    sizeof(ob), &oa, sizeof(oa), &rlen);
		if (rc < 0 || rlen < sizeof(oa)) {
			if (rc != -ENOENT)
				log_debug("mds: glimpse ost %u: %d", ob.ost,
				    rc);
			continue;
		}
		blocks += oa.blocks;
		seen = 1;
		if (oa.size == 0)
			continue;
		o = oa.size - 1;
		fo = ((o / s) * c + k) * s + o % s;
		if (fo + 1 > size)
			size = fo + 1;
	}
	a->size = size;
	if (seen)
		a->blocks = blocks;	/* sparse files count what they hold */
}

static void
statfs_sum(struct mds_srv *m, struct msg_statfs *out)
{
	struct msg_ost_ent *v;
	unsigned n;
	uint64_t files;

	memset(out, 0, sizeof(*out));
	out->bsize = STATFS_BSIZE;
	out->namemax = MSG_NAME_MAX;
	n = mds_ost_count(m->osts);
	v = xcalloc(n ? n : 1, sizeof(*v));
	n = mds_ost_list(m->osts, v, n);
	for (unsigned i = 0; i < n; i++) {
		struct msg_obj ob;
		struct msg_statfs sf;
		uint32_t rlen = 0;
		int rc;

		memset(&ob, 0, sizeof(ob));
		ob.ost = v[i].ost;
		rc = mds_ost_call(m->osts, ob.ost, MSG_OP_OST_STATFS, &ob,
		    sizeof(ob), &sf, sizeof(sf), &rlen);
		if (rc < 0 || rlen < sizeof(sf) || sf.bsize == 0 ||
		    sf.bsize > (1u << 30)) {
			/* unreachable: count its capacity as used */
			log_debug("mds: statfs ost %u: %d", ob.ost, rc);
			out->blocks += v[i].capacity / STATFS_BSIZE;
			continue;
		}
		out->blocks += sf.blocks / STATFS_BSIZE * sf.bsize +
		    sf.blocks % STATFS_BSIZE * sf.bsize / STATFS_BSIZE;
		out->bfree += sf.bfree / STATFS_BSIZE * sf.bsize +
		    sf.bfree % STATFS_BSIZE * sf.bsize / STATFS_BSIZE;
		out->bavail += sf.bavail / STATFS_BSIZE * sf.bsize +
		    sf.bavail % STATFS_BSIZE * sf.bsize / STATFS_BSIZE;
	}
	free(v);
	files = mds_ns_files(m->ns);
	out->files = MDS_FILES_MAX;
	out->ffree = files < MDS_FILES_MAX ? MDS_FILES_MAX - files : 0;
}

/* ---- request handlers ---- */

static struct mds_conn *
conn_get(struct mds_srv *m, struct msg_srv_conn *c)
{
	struct mds_conn *mc = msg_srv_conn_data(c);

	if (mc == NULL) {
		mc = xcalloc(1, sizeof(*mc));
		mc->owner = ++m->owner_next;
		msg_srv_conn_set_data(c, mc);
	}
	return mc;
}

static uint64_t
conn_owner(struct mds_srv *m, struct msg_srv_conn *c)
{
	return conn_get(m, c)->owner;
}

/* The connection's session binding (NULL: no SESSION said). */
static struct mds_lconn *
conn_lc(struct msg_srv_conn *c)
{
	struct mds_conn *mc = msg_srv_conn_data(c);

	return mc != NULL ? mc->lc : NULL;
}

/* ---- leases: what each change revokes, before its reply ---- */

static void
revoke_ino(struct mds_srv *m, struct msg_srv_conn *c, uint64_t ino)
{
	struct mds_lease_tgt t = { .ino = ino };

	mds_lease_revoke(m->leases, conn_lc(c), &t, 1);
}

/* A name in parent changed (created, removed, renamed to or from):
 * its entry, the directory's attributes, and the inode it named. */
static void
revoke_name(struct mds_srv *m, struct msg_srv_conn *c, uint64_t parent,
    const char *name, uint32_t namelen, uint64_t child)
{
	struct mds_lease_tgt t[2] = {
		{ .ino = parent, .parent = parent, .name = name,
		  .namelen = namelen },
		{ .ino = child },
	};

	mds_lease_revoke(m->leases, conn_lc(c), t, child != 0 ? 2 : 1);
}

/* The inode a name points to now, 0 if none (before it changes). */
static uint64_t
name_ino(struct mds_srv *m, uint64_t parent, const char *name,
    uint32_t namelen)
{
	struct msg_attr a;

	if (mds_ns_lookup(m->ns, parent, name, namelen, &a) < 0)
		return 0;
	return a.ino;
}

/*
 * What an attribute lease on a regular file open for write somewhere
 * lets the client keep: MSG_LEASE_WATCHED (its size changes on the OSSes,
 * unseen), not MSG_LEASE_ATTR.
 */
static uint32_t
watched_if(uint32_t mode, uint32_t open_writers, uint32_t lease)
{
	if (S_ISREG(mode) && open_writers > 0 && (lease & MSG_LEASE_ATTR))
		return (lease & ~MSG_LEASE_ATTR) | MSG_LEASE_WATCHED;
	return lease;
}

/*
 * Leases with a reply (invariant 3 of mds_lease.h). A file whose size
 * others may be changing is not leased to the client (it caches its
 * attributes for a second at most), but the MDS keeps the lease all the
 * same: a change the MDS sees (chmod, utime, the writer's close) then
 * revokes that second's copy too, instead of leaving it until it ends.
 */
static void
grant(struct mds_srv *m, struct msg_srv_conn *c, uint64_t seq,
    struct msg_attr *a, uint64_t parent, const char *name, uint32_t len)
{
	a->lease = watched_if(a->mode, a->open_writers, mds_lease_grant(
	    m->leases, conn_lc(c), seq, a->ino, parent, name, len));
}

/*
 * This client changed a->ino, or opened it for write (or O_TRUNC):
 * everyone else's copy goes, and the changer may keep the attributes
 * (granted for seq, so a change racing this one refuses it), watched
 * while anyone writes the file (the client keeps them while it is the
 * only writer: fsc_mcache.h FSC_MC_WATCH).
 */
static void
changer_lease(struct mds_srv *m, struct msg_srv_conn *c, uint64_t seq,
    struct msg_attr *a)
{
	struct mds_lease_tgt t = { .ino = a->ino };

	a->lease = watched_if(a->mode, a->open_writers, mds_lease_change(
	    m->leases, conn_lc(c), seq, &t, 1, &t));
}

/* Did a CLOSE change what a stat shows? */
static int
close_changed(int had, const struct msg_attr *b, const struct msg_attr *a)
{
	return !had || b->size != a->size ||
	    b->mtime_sec != a->mtime_sec || b->mtime_nsec != a->mtime_nsec ||
	    b->atime_sec != a->atime_sec || b->atime_nsec != a->atime_nsec ||
	    b->ctime_sec != a->ctime_sec || b->ctime_nsec != a->ctime_nsec;
}

static int
h_session(struct mds_srv *m, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *body)
{
	struct mds_conn *mc = conn_get(m, c);
	struct msg_session_rep rep;
	struct msg_session ss;
	int rc;

	memcpy(&ss, body, sizeof(ss));
	rc = mds_lease_session(m->leases, c, &ss, &mc->lc, &rep);
	if (rc < 0)
		return rc;
	return msg_srv_reply(c, h, 0, &rep, sizeof(rep), NULL, 0);
}

/* ---- locks ---- */

/* A queued lock request, answered when the lock manager grants it. */
struct lock_wait {
	struct msg_srv_conn	*c;
	struct msg_hdr		 h;
	struct msg_lock		 lk;
};

static void
lock_wake(void *arg, int rc)
{
	struct lock_wait *w = arg;

	/* -ECANCELED: the connection is going away, nobody to answer */
	if (rc != -ECANCELED)
		(void)msg_srv_reply(w->c, &w->h, rc, rc == 0 ? &w->lk : NULL,
		    rc == 0 ? sizeof(w->lk) : 0, NULL, 0);
	free(w);
}

/* The slot of ino's hold, else a free one, else -1. */
static int
append_hold_find(struct mds_srv *m, uint64_t ino, uint64_t now)
{
	int free_slot = -1;

	for (int i = 0; i < APPEND_HOLDS; i++) {
		if (m->ahold[i].ino == ino)
			return i;
		if (free_slot < 0 && (m->ahold[i].ino == 0 ||
		    m->ahold[i].until_ns <= now))
			free_slot = i;
	}
	return free_slot;
}

/* End the hold handle has on ino's tail, if any (its CLOSE). */
static void
append_hold_end(struct mds_srv *m, uint64_t ino, uint64_t handle)
{
	pthread_mutex_lock(&m->alock);
	for (int i = 0; i < APPEND_HOLDS; i++)
		if (m->ahold[i].ino == ino && m->ahold[i].handle == handle) {
			m->ahold[i].ino = 0;
			pthread_cond_broadcast(&m->acond);
		}
	pthread_mutex_unlock(&m->alock);
}

/*
 * APPEND: reserve [size, size + length) and grow the size. A piece the
 * kernel split off a larger write (MSG_AP_MORE) keeps the tail for its
 * handle until its next APPEND, its CLOSE or APPEND_HOLD_MS: others'
 * appends wait, so the rest lands right after it and one write(2) of up
 * to 1 MiB from any buffer stays one record (docs/leases.md).
 */
static int
h_append(struct mds_srv *m, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *body)
{
	struct msg_append ap;
	struct msg_append_rep rep;
	struct timespec until;
	uint64_t now;
	int rc, i, killed = 0;

	memcpy(&ap, body, sizeof(ap));
	memset(&rep, 0, sizeof(rep));
	pthread_mutex_lock(&m->alock);
	for (;;) {
		now = now_mono_ns();
		i = append_hold_find(m, ap.ino, now);
		if (i < 0 || m->ahold[i].ino != ap.ino ||
		    m->ahold[i].handle == ap.handle ||
		    m->ahold[i].until_ns <= now)
			break;
		clock_gettime(CLOCK_REALTIME, &until);
		timespec_add_ms(&until, (long)((m->ahold[i].until_ns - now) /
		    1000000) + 1);
		(void)pthread_cond_timedwait(&m->acond, &m->alock, &until);
	}
	if (i >= 0 && m->ahold[i].ino == ap.ino) {
		m->ahold[i].ino = 0;		/* ours, or expired */
		pthread_cond_broadcast(&m->acond);
	}
	rc = mds_open_append(m->ns, ap.ino, ap.handle, ap.length,
	    (ap.flags & MSG_AP_KILLPRIV) != 0, &rep.offset, &killed);
	if (killed)
		rep.flags |= MSG_APR_MODE;
	if (rc == 0 && (ap.flags & MSG_AP_MORE)) {
		i = append_hold_find(m, ap.ino, now);
		if (i >= 0) {
			m->ahold[i].ino = ap.ino;
			m->ahold[i].handle = ap.handle;
			m->ahold[i].until_ns = now_mono_ns() +
			    APPEND_HOLD_MS * 1000000ull;
		}
	}
	pthread_mutex_unlock(&m->alock);
	if (rc < 0)
		return rc;
	revoke_ino(m, c, ap.ino);	/* the size grows (and the mode) */
	return msg_srv_reply(c, h, 0, &rep, sizeof(rep), NULL, 0);
}

/* rq met a conflict: the holder must still be there to keep its lock
 * (a stopped client is evicted, docs/leases.md). */
static void
lock_ping_holder(struct mds_srv *m, const struct mds_lock_req *rq)
{
	struct mds_lock_req out;

	if (mds_lock_test(m->locks, rq, &out) == 0 &&
	    out.type != MSG_LK_UN && out.client != rq->client)
		mds_lease_ping(m->leases, out.client);
}

static int
h_lock(struct mds_srv *m, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *body)
{
	struct mds_lock_req rq, out;
	struct lock_wait *w;
	struct msg_lock lk;
	int rc;

	memcpy(&lk, body, sizeof(lk));
	memset(&rq, 0, sizeof(rq));
	rq.ino = lk.ino;
	/* without a session, locks belong to the connection */
	rq.client = mds_lease_client(conn_lc(c));
	if (rq.client == 0)
		rq.client = conn_owner(m, c) | (1ull << 63);
	rq.owner = lk.owner;
	rq.start = lk.start;
	rq.end = lk.end;
	rq.type = lk.type;
	rq.pid = lk.pid;
	rq.flock = (lk.flags & MSG_LK_FLOCK) != 0;
	rq.wait = (lk.flags & MSG_LK_WAIT) != 0;
	if (lk.flags & MSG_LK_TEST) {
		rc = mds_lock_test(m->locks, &rq, &out);
		if (rc < 0)
			return rc;
		lk.type = out.type;
		lk.start = out.start;
		lk.end = out.end;
		lk.pid = out.pid;
		return msg_srv_reply(c, h, 0, &lk, sizeof(lk), NULL, 0);
	}
	if (!rq.wait || rq.type == MSG_LK_UN) {
		rc = mds_lock_set(m->locks, &rq, NULL, NULL, NULL);
		if (rc == -EAGAIN)
			lock_ping_holder(m, &rq);
		if (rc < 0)
			return rc;
		return msg_srv_reply(c, h, 0, &lk, sizeof(lk), NULL, 0);
	}
	w = xcalloc(1, sizeof(*w));
	w->c = c;
	w->h = *h;
	w->lk = lk;
	rc = mds_lock_set(m->locks, &rq, lock_wake, w, c);
	if (rc == MDS_LOCK_QUEUED) {
		lock_ping_holder(m, &rq);
		return 0;	/* lock_wake answers (or has answered) */
	}
	free(w);
	if (rc < 0)
		return rc;
	return msg_srv_reply(c, h, 0, &lk, sizeof(lk), NULL, 0);
}

/* The names after a body struct: checks lengths against the frame. */
static int
body_names(const struct msg_hdr *h, const void *body, size_t base,
    uint32_t len1, uint32_t len2, const char **n1, const char **n2)
{
	if (len1 > MSG_NAME_MAX || len2 > MSG_NAME_MAX)
		return -ENAMETOOLONG;
	if ((size_t)h->body_len < base + len1 + len2)
		return -EPROTO;
	*n1 = (const char *)body + base;
	if (n2 != NULL)
		*n2 = (const char *)body + base + len1;
	return 0;
}

static int
reply_attr(struct msg_srv_conn *c, const struct msg_hdr *h, int rc,
    const struct msg_attr *a)
{
	if (rc < 0)
		return rc;
	return msg_srv_reply(c, h, 0, a, sizeof(*a), NULL, 0);
}

/* OPEN and CREATE replies; `dir` (CREATE) is the parent's attributes. */
static int
reply_open(struct msg_srv_conn *c, const struct msg_hdr *h,
    const struct msg_attr *a, uint64_t handle, const struct mds_layout *l,
    const struct msg_attr *dir)
{
	struct msg_create_rep rep;
	struct iovec iov;
	uint32_t len = dir != NULL ? sizeof(rep) : sizeof(rep.open);

	memset(&rep, 0, sizeof(rep));
	rep.open.attr = *a;
	rep.open.handle = handle;
	if (dir != NULL)
		rep.dir = *dir;
	if (l->hdr.magic != MSG_LOV_MAGIC)
		return msg_srv_reply(c, h, 0, &rep, len, NULL, 0);
	iov.iov_base = (void *)l;
	iov.iov_len = mds_layout_size(l);
	return msg_srv_reply(c, h, 0, &rep, len, &iov, 1);
}

static int
reply_bulk(struct msg_srv_conn *c, const struct msg_hdr *h, const void *b,
    size_t len)
{
	struct iovec iov;

	iov.iov_base = (void *)b;
	iov.iov_len = len;
	return msg_srv_reply(c, h, 0, NULL, 0, &iov, len ? 1 : 0);
}

static int
h_create(struct mds_srv *m, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *body, const void *bulk, uint64_t seq)
{
	struct msg_create cr;
	struct mds_layout lay;
	struct msg_attr a, dir;
	const char *name;
	uint64_t handle;
	int rc, created;

	memcpy(&cr, body, sizeof(cr));
	rc = body_names(h, body, sizeof(cr), cr.namelen, 0, &name, NULL);
	if (rc < 0)
		return rc;
	switch (h->opcode) {
	case MSG_OP_MDS_CREATE:
		rc = mds_ns_create(m->ns, &cr, name, conn_owner(m, c), &a,
		    &handle, &lay, &created, &dir);
		if (rc < 0)
			return rc;
		if (created) {
			/* the creator may keep the new name, and watch the
			 * attributes of the file it alone writes (the lease
			 * proper comes with the CLOSE) */
			struct mds_lease_tgt t = {
				.ino = cr.parent, .parent = cr.parent,
				.name = name, .namelen = cr.namelen,
			}, g = {
				.ino = a.ino, .parent = cr.parent, .name = name,
				.namelen = cr.namelen,
			};

			a.lease = watched_if(a.mode, a.open_writers,
			    mds_lease_change(m->leases, conn_lc(c), seq, &t,
			    1, &g)) | MSG_ATTR_CREATED;
		} else {
			changer_lease(m, c, seq, &a);	/* opened for write */
		}
		return reply_open(c, h, &a, handle, &lay, &dir);
	case MSG_OP_MDS_MKNOD:
		rc = mds_ns_mknod(m->ns, &cr, name, &a);
		if (rc == 0 && S_ISDIR(a.mode)) {
			/* the maker may keep the new name and the new
			 * directory's attributes: while it holds them, no
			 * other session made a name there, so a name it
			 * did not make itself is absent (fsc_mcache.h,
			 * FSC_MC_DIRALL) */
			struct mds_lease_tgt t = {
				.ino = cr.parent, .parent = cr.parent,
				.name = name, .namelen = cr.namelen,
			}, g = {
				.ino = a.ino, .parent = cr.parent,
				.name = name, .namelen = cr.namelen,
			};

			a.lease = mds_lease_change(m->leases, conn_lc(c), seq,
			    &t, 1, &g);
			/* and delegates it (invariant 7 of mds_lease.h):
			 * nobody else can know it yet */
			if ((a.lease & MSG_LEASE_ATTR) && mds_lease_grant(
			    m->leases, conn_lc(c), seq, 0, a.ino,
			    MSG_DELEG_NAME, sizeof(MSG_DELEG_NAME) - 1))
				a.lease |= MSG_LEASE_DELEG;
		} else if (rc == 0)
			revoke_name(m, c, cr.parent, name, cr.namelen, 0);
		if (rc == 0 && S_ISDIR(a.mode))
			mds_hsm_closed(m->hsm, c, a.ino);	/* export */
		return reply_attr(c, h, rc, &a);
	default:	/* SYMLINK */
		if (bulk == NULL || h->bulk_len == 0)
			return -ENOENT;
		rc = mds_ns_symlink(m->ns, &cr, name, bulk, h->bulk_len, &a);
		if (rc == 0) {
			revoke_name(m, c, cr.parent, name, cr.namelen, 0);
			mds_hsm_closed(m->hsm, c, a.ino);	/* export */
		}
		return reply_attr(c, h, rc, &a);
	}
}

/*
 * UNLINK: the name is gone, and the inode with it when nothing else holds
 * it; the unlinker's own leases on what no longer exists go silently
 * (its client forgets them: fsc_mc_name_changed), so they do not pile up
 * in its session.
 */
static int
h_unlink(struct mds_srv *m, struct msg_srv_conn *c, const struct msg_hdr *h,
    const struct msg_name *nm, const char *name)
{
	struct timespec when, *dir_time = NULL;
	struct msg_attr a;
	uint64_t child = 0;
	int rc, gone = 0;

	if ((rc = FP("mds.unlink")) < 0)
		return rc;	/* refused before it changes anything */
	if (nm->flags & MSG_NM_TIME) {
		struct msg_time t;

		if (nm->flags != MSG_NM_TIME ||
		    h->body_len != sizeof(*nm) + nm->namelen + sizeof(t))
			return -EPROTO;
		memcpy(&t, name + nm->namelen, sizeof(t));
		if (t.sec < 0 || t.nsec < 0 || t.nsec >= 1000000000)
			return -EINVAL;
		when.tv_sec = (time_t)t.sec;
		when.tv_nsec = (long)t.nsec;
		dir_time = &when;
	}
	rc = mds_ns_unlink_ino(m->ns, nm->parent, name, nm->namelen, &a,
	    &child, &gone, dir_time);
	if (rc == 0) {
		struct mds_lease_tgt t[2] = {
			{ .ino = nm->parent, .parent = nm->parent,
			  .name = name, .namelen = nm->namelen,
			  .drop = MSG_LEASE_ENTRY },
			{ .ino = child, .drop = gone ? MSG_LEASE_ATTR : 0 },
		};

		mds_lease_revoke(m->leases, conn_lc(c), t, 2);
		mds_hsm_unlinked(m->hsm, c, child);
	}
	return reply_attr(c, h, rc, &a);
}

/* lustre.hsm (msg.h): the file's HSM state, and lfs's HSM requests. */
static int
h_xattr_hsm(struct mds_srv *m, struct msg_srv_conn *c, const struct msg_hdr *h,
    const struct msg_xattr *x, const void *bulk)
{
	char buf[128];
	uint64_t changed;
	size_t len;
	int rc;

	switch (h->opcode) {
	case MSG_OP_MDS_GETXATTR:
		rc = mds_hsm_xattr_get(m->hsm, x->ino, buf, sizeof(buf), &len);
		if (rc == 0 && x->size > 0 && x->size < len)
			rc = -ERANGE;
		return rc < 0 ? rc : reply_bulk(c, h, buf, len);
	case MSG_OP_MDS_SETXATTR:
		rc = mds_hsm_xattr_set(m->hsm, x->ino, &x->cred, bulk,
		    bulk != NULL ? h->bulk_len : 0, &changed);
		if (rc == 0 && changed != 0)
			revoke_ino(m, c, changed);
		return rc < 0 ? rc : msg_srv_reply(c, h, 0, NULL, 0, NULL, 0);
	default:
		return -EPERM;
	}
}

static int
h_xattr(struct mds_srv *m, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *body, const void *bulk)
{
	struct msg_xattr x;
	const char *name;
	void *buf;
	size_t len;
	int rc;

	memcpy(&x, body, sizeof(x));
	if (x.namelen > MSG_NAME_MAX)
		return -ERANGE;
	rc = body_names(h, body, sizeof(x), x.namelen, 0, &name, NULL);
	if (rc < 0)
		return rc;
	if (x.namelen == strlen(MSG_XATTR_HSM) &&
	    memcmp(name, MSG_XATTR_HSM, x.namelen) == 0)
		return h_xattr_hsm(m, c, h, &x, bulk);
	switch (h->opcode) {
	case MSG_OP_MDS_GETXATTR:
		buf = msg_srv_conn_buf(c);
		if (buf == NULL)
			return -ENOMEM;
		rc = mds_xattr_get(m->ns, x.ino, x.cred.uid, name,
		    x.namelen, x.size, buf, MSG_XATTR_MAX + MDS_LAYOUT_MAX,
		    &len);
		if (rc < 0)
			return rc;
		return reply_bulk(c, h, buf, len);
	case MSG_OP_MDS_SETXATTR:
		rc = mds_xattr_set(m->ns, x.ino, x.cred.uid, name, x.namelen,
		    bulk ? bulk : "", h->bulk_len, x.flags);
		break;
	default:	/* RMXATTR */
		rc = mds_xattr_remove(m->ns, x.ino, x.cred.uid, name,
		    x.namelen);
		break;
	}
	if (rc < 0)
		return rc;
	revoke_ino(m, c, x.ino);	/* ctime */
	return msg_srv_reply(c, h, 0, NULL, 0, NULL, 0);
}

static int
h_readdir(struct mds_srv *m, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *body)
{
	struct msg_readdir rd;
	struct msg_readdir_rep rep;
	struct iovec iov;
	size_t used, cap;
	uint32_t count;
	void *buf;
	int rc, eof;

	memcpy(&rd, body, sizeof(rd));
	buf = msg_srv_conn_buf(c);
	if (buf == NULL)
		return -ENOMEM;
	cap = rd.max_bytes < MSG_BULK_MAX ? rd.max_bytes : MSG_BULK_MAX;
	rc = mds_ns_readdir(m->ns, rd.ino, rd.cookie, buf, cap, &used, &count,
	    &eof);
	if (rc < 0)
		return rc;
	memset(&rep, 0, sizeof(rep));
	rep.count = count;
	rep.eof = (uint32_t)eof;
	iov.iov_base = buf;
	iov.iov_len = used;
	return msg_srv_reply(c, h, 0, &rep, sizeof(rep), &iov, used ? 1 : 0);
}

static int
h_ostadd(struct mds_srv *m, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *bulk)
{
	struct msg_ost_ent *v;
	int rc;

	if (h->bulk_len % sizeof(*v) != 0)
		return -EINVAL;
	if (h->bulk_len == 0)
		return msg_srv_reply(c, h, 0, NULL, 0, NULL, 0);
	v = xmalloc(h->bulk_len);	/* aligned copy of the bulk */
	memcpy(v, bulk, h->bulk_len);
	rc = mds_srv_ostadd(m, v, h->bulk_len / sizeof(*v));
	free(v);
	if (rc < 0)
		return rc;
	return msg_srv_reply(c, h, 0, NULL, 0, NULL, 0);
}

static int
h_setcap(struct mds_srv *m, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *body)
{
	struct msg_ost_cap oc;
	int rc;

	memcpy(&oc, body, sizeof(oc));
	if (oc.capacity_bytes == 0)
		return -EINVAL;
	rc = mds_ns_ost_setcap(m->ns, oc.ost, oc.capacity_bytes);
	if (rc == 0)
		rc = mds_ost_setcap(m->osts, oc.ost, oc.capacity_bytes);
	if (rc < 0)
		return rc;
	log_info("mds: ost %u capacity %llu", oc.ost,
	    (unsigned long long)oc.capacity_bytes);
	return msg_srv_reply(c, h, 0, NULL, 0, NULL, 0);
}

static int
dispatch_op(void *ctx, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *body, const void *bulk)
{
	struct mds_srv *m = ctx;
	struct msg_attr a;
	const char *n1, *n2;
	uint64_t seq, child, child2;
	int rc;

	if (h->opcode < MSG_OP_MAX)
		m->ops[h->opcode]++;
	/* invariant 4 of mds_lease.h */
	rc = mds_lease_check(m->leases, conn_lc(c));
	if (rc < 0)
		return rc;
	seq = mds_lease_seq(m->leases);
	switch (h->opcode) {
	case MSG_OP_MDS_SESSION:
		return h_session(m, c, h, body);
	case MSG_OP_MDS_LOCK:
		return h_lock(m, c, h, body);
	case MSG_OP_MDS_OSTMAP: {
		struct msg_ost_ent *v;
		unsigned n;

		n = mds_ost_count(m->osts);
		if ((size_t)n * sizeof(*v) > MSG_BULK_MAX)
			n = MSG_BULK_MAX / sizeof(*v);
		v = xcalloc(n ? n : 1, sizeof(*v));
		n = mds_ost_list(m->osts, v, n);
		rc = reply_bulk(c, h, v, n * sizeof(*v));
		free(v);
		return rc;
	}
	case MSG_OP_MDS_LOOKUP: {
		struct msg_name nm;

		memcpy(&nm, body, sizeof(nm));
		rc = body_names(h, body, sizeof(nm), nm.namelen, 0, &n1, NULL);
		if (rc == 0)
			rc = mds_ns_lookup(m->ns, nm.parent, n1, nm.namelen, &a);
		/* a directory found is named too (invariant 7 of
		 * mds_lease.h): its attributes, after the recall */
		if (rc == 0 && S_ISDIR(a.mode) &&
		    mds_lease_recall(m->leases, conn_lc(c), a.ino))
			rc = mds_ns_lookup(m->ns, nm.parent, n1, nm.namelen, &a);
		if (rc == 0) {
			glimpse(m, &a);
			grant(m, c, seq, &a, nm.parent, n1, nm.namelen);
		} else if (rc == -ENOENT) {
			/* the name's absence, leased like the name: a
			 * change of it revokes it (docs/leases.md) */
			memset(&a, 0, sizeof(a));
			a.lease = mds_lease_grant(m->leases, conn_lc(c), seq,
			    0, nm.parent, n1, nm.namelen);
			if (a.lease != 0)
				return msg_srv_reply(c, h, rc, &a, sizeof(a),
				    NULL, 0);
		}
		return reply_attr(c, h, rc, &a);
	}
	case MSG_OP_MDS_GETATTR: {
		struct msg_ino mi;

		memcpy(&mi, body, sizeof(mi));
		rc = mds_ns_getattr(m->ns, mi.ino, &a);
		if (rc == 0) {
			glimpse(m, &a);
			grant(m, c, seq, &a, 0, NULL, 0);
		}
		return reply_attr(c, h, rc, &a);
	}
	case MSG_OP_MDS_SETATTR: {
		struct msg_setattr sa;

		memcpy(&sa, body, sizeof(sa));
		rc = mds_ns_setattr(m->ns, &sa, &a);
		if (rc == 0)
			revoke_ino(m, c, sa.ino);
		return reply_attr(c, h, rc > 0 ? 0 : rc, &a);
	}
	case MSG_OP_MDS_CREATE:
	case MSG_OP_MDS_MKNOD:
	case MSG_OP_MDS_SYMLINK:
		return h_create(m, c, h, body, bulk, seq);
	case MSG_OP_MDS_LINK: {
		struct msg_link ln;

		memcpy(&ln, body, sizeof(ln));
		rc = body_names(h, body, sizeof(ln), ln.newnamelen, 0, &n1,
		    NULL);
		if (rc == 0)
			rc = mds_ns_link(m->ns, ln.ino, ln.newparent, n1,
			    ln.newnamelen, &a);
		if (rc == 0)
			revoke_name(m, c, ln.newparent, n1, ln.newnamelen,
			    ln.ino);
		return reply_attr(c, h, rc, &a);
	}
	case MSG_OP_MDS_UNLINK:
	case MSG_OP_MDS_RMDIR: {
		struct msg_name nm;

		memcpy(&nm, body, sizeof(nm));
		rc = body_names(h, body, sizeof(nm), nm.namelen, 0, &n1, NULL);
		if (rc < 0)
			return rc;
		if (h->opcode == MSG_OP_MDS_UNLINK)
			return h_unlink(m, c, h, &nm, n1);
		child = name_ino(m, nm.parent, n1, nm.namelen);
		rc = mds_ns_rmdir(m->ns, nm.parent, n1, nm.namelen);
		if (rc == 0)
			revoke_name(m, c, nm.parent, n1, nm.namelen, child);
		break;
	}
	case MSG_OP_MDS_RENAME: {
		struct msg_rename rn;

		memcpy(&rn, body, sizeof(rn));
		rc = body_names(h, body, sizeof(rn), rn.oldnamelen,
		    rn.newnamelen, &n1, &n2);
		if (rc < 0)
			break;
		child = name_ino(m, rn.oldparent, n1, rn.oldnamelen);
		child2 = name_ino(m, rn.newparent, n2, rn.newnamelen);
		rc = mds_ns_rename(m->ns, rn.oldparent, n1, rn.oldnamelen,
		    rn.newparent, n2, rn.newnamelen, rn.flags);
		if (rc == 0) {
			revoke_name(m, c, rn.oldparent, n1, rn.oldnamelen,
			    child);
			revoke_name(m, c, rn.newparent, n2, rn.newnamelen,
			    child2);
			mds_hsm_renamed(m->hsm, c, child);
			mds_hsm_dir_renamed(m->hsm, c, child, rn.oldparent,
			    n1, rn.oldnamelen);
			if (!(rn.flags & MSG_RN_EXCHANGE))
				mds_hsm_unlinked(m->hsm, c, child2);
		}
		break;
	}
	case MSG_OP_MDS_READDIR:
		return h_readdir(m, c, h, body);
	case MSG_OP_MDS_READLINK: {
		struct msg_ino mi;
		char target[MSG_PATH_MAX];
		size_t len;

		memcpy(&mi, body, sizeof(mi));
		rc = mds_ns_readlink(m->ns, mi.ino, target, sizeof(target),
		    &len);
		if (rc < 0)
			return rc;
		return reply_bulk(c, h, target, len);
	}
	case MSG_OP_MDS_OPEN: {
		struct msg_open op;
		struct mds_layout lay;
		uint64_t handle;

		memcpy(&op, body, sizeof(op));
		/* a released file is restored first (mds_hsm.h) */
		rc = mds_hsm_open(m->hsm, c, op.ino, op.flags);
		if (rc < 0)
			return rc;
		op.flags &= ~MDS_OPEN_KILLPRIV;
		if (op.cred.uid != 0)	/* root stands for CAP_FSETID */
			op.flags |= MDS_OPEN_KILLPRIV;
		rc = mds_open_file(m->ns, op.ino, op.flags,
		    conn_owner(m, c), &a, &handle, &lay);
		if (rc < 0)
			return rc;
		/* others drop the pages a writer may change */
		if ((op.flags & O_ACCMODE) != O_RDONLY ||
		    (op.flags & O_TRUNC))
			changer_lease(m, c, seq, &a);
		else
			grant(m, c, seq, &a, 0, NULL, 0);
		return reply_open(c, h, &a, handle, &lay, NULL);
	}
	case MSG_OP_MDS_CLOSE: {
		struct msg_close cl;
		struct msg_attr before;
		int had;

		memcpy(&cl, body, sizeof(cl));
		append_hold_end(m, cl.ino, cl.handle);
		had = mds_ns_getattr(m->ns, cl.ino, &before) == 0;
		rc = mds_open_close(m->ns, &cl, &a);
		if (rc == 0 && close_changed(had, &before, &a)) {
			/* size, mtime or atime set here: everyone else's
			 * copy goes; the closer's own kernel has not seen
			 * them either, but its client learns them from this
			 * reply (MSG_ATTR_CHANGED) instead of a REVOKE round
			 * trip to itself, and may keep them (granted for seq,
			 * taken before the close read them: a change racing
			 * this one refuses the grant): a stat of a file just
			 * written or read costs no GETATTR round trip. */
			changer_lease(m, c, seq, &a);
			a.lease |= MSG_ATTR_CHANGED;
		} else if (rc == 0 && (cl.written & MSG_CLOSE_WRITTEN)) {
			revoke_ino(m, c, cl.ino);
		} else if (rc == 0) {
			/* nothing changed: the closer may keep what it
			 * has (none while someone writes: grant) */
			grant(m, c, seq, &a, 0, NULL, 0);
		}
		if (rc == 0 && (cl.written & MSG_CLOSE_WRITTEN))
			mds_hsm_closed(m->hsm, c, cl.ino);
		return reply_attr(c, h, rc, &a);
	}
	case MSG_OP_MDS_GETXATTR:
	case MSG_OP_MDS_SETXATTR:
	case MSG_OP_MDS_RMXATTR:
		return h_xattr(m, c, h, body, bulk);
	case MSG_OP_MDS_LISTXATTR: {
		struct msg_ino mi;
		void *buf = msg_srv_conn_buf(c);
		size_t len;

		if (buf == NULL)
			return -ENOMEM;
		memcpy(&mi, body, sizeof(mi));
		rc = mds_xattr_list(m->ns, mi.ino, mi.cred.uid, buf,
		    MSG_BULK_MAX, &len);
		if (rc < 0)
			return rc;
		return reply_bulk(c, h, buf, len);
	}
	case MSG_OP_MDS_STATFS: {
		struct msg_statfs sf;

		statfs_sum(m, &sf);
		return msg_srv_reply(c, h, 0, &sf, sizeof(sf), NULL, 0);
	}
	case MSG_OP_MDS_GETLAYOUT: {
		struct msg_ino mi;
		struct mds_layout lay;

		memcpy(&mi, body, sizeof(mi));
		rc = mds_layout_get(m->ns, mi.ino, &lay);
		if (rc < 0)
			return rc;
		return reply_bulk(c, h, &lay, mds_layout_size(&lay));
	}
	case MSG_OP_MDS_SETLAYOUT: {
		struct msg_ino mi;

		memcpy(&mi, body, sizeof(mi));
		if (bulk == NULL)
			return -EINVAL;
		rc = mds_layout_set(m->ns, mi.ino, bulk, h->bulk_len);
		if (rc == 0)
			revoke_ino(m, c, mi.ino);
		break;
	}
	case MSG_OP_MDS_APPEND:
		return h_append(m, c, h, body);
	case MSG_OP_MDS_OSTADD:
		return h_ostadd(m, c, h, bulk);
	case MSG_OP_OST_SETCAP:
		return h_setcap(m, c, h, body);
	case MSG_OP_MDS_SNAP: {
		struct msg_snap sn;

		memcpy(&sn, body, sizeof(sn));
		if (!oss_snap_name_ok(sn.name, sizeof(sn.name)))
			return -EINVAL;
		rc = mds_snap_take(m->ns, m->osts, sn.name);
		break;
	}
	case MSG_OP_MDS_HSM_REGISTER:
	case MSG_OP_MDS_HSM_DONE:
	case MSG_OP_MDS_HSM_GET:
	case MSG_OP_MDS_HSM_SET:
	case MSG_OP_MDS_HSM_IMPORT:
	case MSG_OP_MDS_HSM_LIST:
	case MSG_OP_MDS_HSM_PROGRESS:
		rc = mds_hsm_dispatch(m->hsm, c, h, body, bulk, &child,
		    &child2);
		if (child2 != 0)
			revoke_name(m, c, child2, (const char *)body +
			    sizeof(struct msg_hsm_import),
			    ((const struct msg_hsm_import *)body)->namelen,
			    child);
		else if (child != 0)
			revoke_ino(m, c, child);
		return rc;
	default:
		return -EOPNOTSUPP;
	}
	if (rc < 0)
		return rc;
	return msg_srv_reply(c, h, 0, NULL, 0, NULL, 0);
}

/*
 * A request the MDS records (mds_reply.h): run it once; a resend of one
 * already run gets its reply rebuilt instead.
 */
static int
dispatch_recorded(struct mds_srv *m, struct msg_srv_conn *c,
    const struct msg_hdr *h, const void *body, const void *bulk,
    uint64_t client)
{
	struct mds_rebuilt rb;
	struct mds_layout lay;
	int rc;

	rc = mds_reply_begin(m->ns, client, h, &conn_get(m, c)->last_noted);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		rc = dispatch_op(m, c, h, body, bulk);
		mds_reply_end(m->ns);
		return rc;
	}
	memset(&lay.hdr, 0, sizeof(lay.hdr));
	rc = mds_reply_rebuild(m->ns, h, body, conn_owner(m, c), &rb, &lay);
	if (rc < 0)
		return rc;
	switch (rb.kind) {
	case MDS_RB_ATTR:
		return reply_attr(c, h, 0, &rb.attr);
	case MDS_RB_OPEN:
		return reply_open(c, h, &rb.attr, rb.handle, &lay,
		    rb.has_dir ? &rb.dir : NULL);
	case MDS_RB_APPEND: {
		struct msg_append_rep rep = { .offset = rb.offset };

		return msg_srv_reply(c, h, 0, &rep, sizeof(rep), NULL, 0);
	}
	default:
		return msg_srv_reply(c, h, 0, NULL, 0, NULL, 0);
	}
}

/* The directory that the name n (len bytes) in parent is, 0 if none. */
static uint64_t
name_dir(struct mds_srv *m, uint64_t parent, const char *n, uint32_t len)
{
	struct msg_attr a;

	if (len > MSG_NAME_MAX ||
	    mds_ns_lookup(m->ns, parent, n, len, &a) < 0 || !S_ISDIR(a.mode))
		return 0;
	return a.ino;
}

/*
 * Invariant 7 of mds_lease.h: before a request runs, recall another
 * session's delegation of every directory it names: the inode or parent
 * its body starts with (a file's inode costs one hash lookup, as no
 * delegation has its number), LINK's new parent, RENAME's two parents,
 * and the directory RMDIR or RENAME removes, moves or replaces (its
 * delegated unlinks decide whether it is empty); a directory a LOOKUP
 * finds is recalled by the LOOKUP itself. Its holder's own requests
 * recall nothing. A snapshot recalls every delegation.
 */
static void
recall_for(struct mds_srv *m, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *body)
{
	struct mds_lconn *lc = conn_lc(c);
	uint64_t first;

	switch (h->opcode) {
	case MSG_OP_MDS_SNAP:
		mds_lease_recall_all(m->leases);
		return;
	case MSG_OP_MDS_LINK: {
		struct msg_link ln;

		memcpy(&ln, body, sizeof(ln));
		(void)mds_lease_recall(m->leases, lc, ln.newparent);
		break;
	}
	case MSG_OP_MDS_RMDIR: {
		struct msg_name nm;

		memcpy(&nm, body, sizeof(nm));
		if ((size_t)h->body_len >= sizeof(nm) + nm.namelen)
			(void)mds_lease_recall(m->leases, lc, name_dir(m,
			    nm.parent, (const char *)body + sizeof(nm),
			    nm.namelen));
		break;
	}
	case MSG_OP_MDS_RENAME: {
		struct msg_rename rn;
		const char *n = (const char *)body + sizeof(rn);

		memcpy(&rn, body, sizeof(rn));
		(void)mds_lease_recall(m->leases, lc, rn.newparent);
		if (rn.oldnamelen <= MSG_NAME_MAX &&
		    rn.newnamelen <= MSG_NAME_MAX && (size_t)h->body_len >=
		    sizeof(rn) + rn.oldnamelen + rn.newnamelen) {
			(void)mds_lease_recall(m->leases, lc, name_dir(m,
			    rn.oldparent, n, rn.oldnamelen));
			(void)mds_lease_recall(m->leases, lc, name_dir(m,
			    rn.newparent, n + rn.oldnamelen, rn.newnamelen));
		}
		break;
	}
	case MSG_OP_MDS_LOOKUP: case MSG_OP_MDS_GETATTR:
	case MSG_OP_MDS_SETATTR: case MSG_OP_MDS_CREATE:
	case MSG_OP_MDS_MKNOD: case MSG_OP_MDS_SYMLINK:
	case MSG_OP_MDS_UNLINK: case MSG_OP_MDS_READDIR:
	case MSG_OP_MDS_OPEN: case MSG_OP_MDS_GETXATTR:
	case MSG_OP_MDS_SETXATTR: case MSG_OP_MDS_RMXATTR:
	case MSG_OP_MDS_LISTXATTR: case MSG_OP_MDS_HSM_GET:
	case MSG_OP_MDS_HSM_SET: case MSG_OP_MDS_HSM_IMPORT:
		break;
	default:
		return;
	}
	memcpy(&first, body, sizeof(first));	/* body_min covers it */
	(void)mds_lease_recall(m->leases, lc, first);
}

static int
mds_dispatch(void *ctx, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *body, const void *bulk)
{
	uint64_t client = msg_srv_conn_client(c);

	recall_for(ctx, c, h, body);

	if (client != 0 && mds_reply_wanted(h, body))
		return dispatch_recorded(ctx, c, h, body, bulk, client);
	return dispatch_op(ctx, c, h, body, bulk);
}

static void
mds_conn_fini(void *ctx, struct msg_srv_conn *c)
{
	struct mds_srv *m = ctx;
	struct mds_conn *mc = msg_srv_conn_data(c);
	int n;

	mds_hsm_conn_fini(m->hsm, c);	/* any connection may be the agent's */
	if (mc == NULL)
		return;
	(void)mds_lock_cancel(m->locks, c);	/* its queued lock requests */
	if (mc->lc == NULL)
		(void)mds_lock_drop_client(m->locks, mc->owner | (1ull << 63));
	mds_lease_conn_fini(m->leases, mc->lc);
	n = mds_open_drop_owner(m->ns, mc->owner);
	if (n > 0)
		log_info("mds: %s: dropped %d open handles",
		    msg_srv_conn_peer(c), n);
	msg_srv_conn_set_data(c, NULL);
	free(mc);
}

/* An answer to a REVOKE this server sent. */
static void
mds_on_reply(void *ctx, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *body)
{
	struct mds_srv *m = ctx;

	(void)body;
	if (h->opcode == MSG_OP_MDS_REVOKE)
		mds_lease_answer(m->leases, conn_lc(c), h->reqid);
}

static size_t
mds_stats(void *ctx, char *buf, size_t cap)
{
	struct mds_srv *m = ctx;
	size_t n = 0;
	int k;

#define ADD(...) do {							\
	k = snprintf(buf + n, cap - n, __VA_ARGS__);			\
	if (k < 0 || (size_t)k >= cap - n)				\
		return n;						\
	n += (size_t)k;							\
} while (0)
	ADD("mds_files %llu\n", (unsigned long long)mds_ns_files(m->ns));
	ADD("mds_osts %u\n", mds_ost_count(m->osts));
	ADD("mds_destroy_pending %llu\n",
	    (unsigned long long)mds_destroy_pending(m->ns));
	ADD("mds_destroyed %llu\n",
	    (unsigned long long)mds_dthr_destroyed(m->dthr));
	ADD("mds_locks %u\n", mds_lock_count(m->locks));
	ADD("mds_sqlite_bytes %llu\n",
	    (unsigned long long)mds_ns_mem_bytes());
	ADD("mds_reply_records %llu\n",
	    (unsigned long long)mds_reply_count(m->ns));
	n += mds_lease_stats(m->leases, buf + n, cap - n);
	n += mds_hsm_stats(m->hsm, buf + n, cap - n);
	for (int op = MSG_OP_MDS_OSTMAP; op < MSG_OP_MAX; op++)
		if (msg_op_valid((uint16_t)op))
			ADD("mds_op_%s %llu\n", msg_op_name((uint16_t)op),
			    (unsigned long long)m->ops[op]);
#undef ADD
	return n;
}

/* ---- life cycle ---- */

int
mds_srv_new(const struct mds_srv_conf *conf, struct mds_srv **out)
{
	struct msg_srv_conf sc;
	struct mds_srv *m;
	int rc;

	*out = NULL;
	m = xcalloc(1, sizeof(*m));
	pthread_mutex_init(&m->alock, NULL);
	pthread_cond_init(&m->acond, NULL);
	pthread_mutex_init(&m->olock, NULL);
	m->osts = mds_ost_new(conf->secret);
	m->locks = mds_lock_new();
	m->leases = mds_lease_new(m->locks, conf->revoke_ms,
	    conf->lease_max);
	rc = mds_ns_open(conf->dir, &m->ns);
	if (rc < 0) {
		log_err("mds: store %s: %s", conf->dir, strerror(-rc));
		goto fail;
	}
	rc = ost_map_load(m);
	if (rc < 0) {
		log_err("mds: OST map in %s: %s", conf->dir, strerror(-rc));
		goto fail;
	}
	rc = mds_hsm_new(m->ns, &m->hsm);
	if (rc < 0)
		goto fail;

	memset(&sc, 0, sizeof(sc));
	sc.kind = 1;
	sc.nost = mds_ost_count(m->osts);
	memcpy(sc.secret, conf->secret, MSG_SECRET_LEN);
	sc.serial = 0;
	sc.dispatch = mds_dispatch;
	sc.stats = mds_stats;
	sc.conn_fini = mds_conn_fini;
	sc.on_reply = mds_on_reply;
	m->srv = msg_srv_new(&sc, m);
	memset(sc.secret, 0, sizeof(sc.secret));
	if (m->srv == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = msg_srv_listen(m->srv, conf->host, conf->port, conf->port_file);
	if (rc < 0) {
		log_err("mds: listen %s:%d: %s", conf->host, conf->port,
		    strerror(-rc));
		goto fail;
	}
	rc = mds_dthr_start(m->ns, m->osts, &m->dthr);
	if (rc < 0)
		goto fail;
	*out = m;
	return 0;
fail:
	mds_srv_free(m);
	return rc;
}

int
mds_srv_run(struct mds_srv *m)
{
	return msg_srv_run(m->srv);
}

void
mds_srv_stop(struct mds_srv *m)
{
	msg_srv_stop(m->srv);
}

void
mds_srv_free(struct mds_srv *m)
{
	if (m == NULL)
		return;
	if (m->srv != NULL)
		msg_srv_free(m->srv);
	mds_dthr_stop(m->dthr);
	mds_hsm_free(m->hsm);	/* its statements, before the store */
	mds_ns_close(m->ns);
	mds_ost_free(m->osts);
	mds_lease_free(m->leases);
	mds_lock_free(m->locks);
	pthread_cond_destroy(&m->acond);
	pthread_mutex_destroy(&m->alock);
	pthread_mutex_destroy(&m->olock);
	free(m);
}
