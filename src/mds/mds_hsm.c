/*
 * The MDS's HSM state: see mds_hsm.h for the contract with mds_srv.c and
 * msg.h for the protocol.
 *
 * Storage: table hsm (ino, flags, archive_id, origin) in the store, read
 * and written under the store's lock (mds_int.h) with statements of our
 * own prepared at start. A file without a row has no HSM state (flags 0).
 *
 * Restore waits: one struct rwait per inode being restored, with the
 * number of openers waiting on it. The agent is asked (an HSM_ACTION on
 * its registered connection) once per rwait; a rwait whose openers all
 * gave up is dropped, so the next open asks again. hs->mu guards the
 * agent's connection and the waits; it is never held while the store's
 * lock is taken, except that msg_srv_send is called under it so that
 * mds_hsm_conn_fini cannot free the connection meanwhile.
 *
 * Invariants:
 *  1. RELEASED implies ARCHIVED and EXISTS (mds_hsm_next).
 *  2. A file's RELEASED flag is cleared only by a successful restore, by
 *     an O_TRUNC open for write, or by a new IMPORT; every opener of a
 *     RELEASED file (but the agent) waits until it is cleared or fails.
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

#include "core/log.h"
#include "core/util.h"
#include "mds/mds_hsm.h"
#include "mds/mds_int.h"

enum hq { HQ_GET, HQ_PUT, HQ_DEL, HQ_LIST, HQ_COUNT, HQ_MAX };

static const char *const hq_sql[HQ_MAX] = {
	[HQ_GET] = "SELECT flags, archive_id, origin FROM hsm WHERE ino = ?1",
	[HQ_PUT] = "INSERT OR REPLACE INTO hsm (ino, flags, archive_id, origin)"
	    " VALUES (?1, ?2, ?3, ?4)",
	[HQ_DEL] = "DELETE FROM hsm WHERE ino = ?1",
	[HQ_LIST] = "SELECT hsm.ino, flags, archive_id, size, mtime_s FROM hsm"
	    " JOIN inode ON inode.ino = hsm.ino WHERE hsm.ino > ?1"
	    " AND (flags & ?2) = ?2 AND (flags & ?3) = 0 ORDER BY hsm.ino"
	    " LIMIT ?4",
	[HQ_COUNT] = "SELECT count(*) FROM hsm",
};

struct rwait {
	uint64_t	 ino;
	int		 waiters;
	int		 asked;
	int		 done;
	int		 rc;
	struct rwait	*next;
};

struct mds_hsm {
	struct mds_ns		*ns;
	sqlite3_stmt		*st[HQ_MAX];
	atomic_int		 active;	/* rows exist or an agent came */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cond;
	struct msg_srv_conn	*agent;		/* callback connection */
	uint64_t		 agent_client;	/* its HELLO client id */
	uint32_t		 restore_ms;
	uint64_t		 reqid;
	struct rwait		*waits;
	/* actions the agent reports running (lfs hsm_action) */
	struct hprog {
		uint64_t	ino, bytes;
		uint32_t	action;
	}			 prog[MDS_HSM_PROG_MAX];
	int			 nprog;
	/* STATS */
	uint64_t		 n_restores, n_restore_fail, n_archive_ev,
				 n_remove_ev, n_imports, n_releases;
};

struct hrow {
	uint32_t	flags;
	uint32_t	archive_id;
	char		origin[MDS_HSM_ORIGIN_MAX];
};

int
mds_hsm_next(uint32_t f, int event)
{
	switch (event) {
	case MDS_HSM_EV_IMPORT:
		return (int)(MSG_HSM_EXISTS | MSG_HSM_ARCHIVED |
		    MSG_HSM_RELEASED);
	case MDS_HSM_EV_WRITTEN:
		if (f & MSG_HSM_RELEASED)
			return -EBUSY;	/* a released file cannot be written */
		return (int)(f | MSG_HSM_DIRTY);
	case MDS_HSM_EV_ARCHIVED:
		if (f & MSG_HSM_RELEASED)
			return -EINVAL;
		return (int)((f | MSG_HSM_EXISTS | MSG_HSM_ARCHIVED) &
		    ~(MSG_HSM_DIRTY | MSG_HSM_LOST));
	case MDS_HSM_EV_RELEASE:
		if (f & MSG_HSM_RELEASED)
			return (int)f;	/* already */
		if ((f & (MSG_HSM_ARCHIVED | MSG_HSM_EXISTS)) !=
		    (MSG_HSM_ARCHIVED | MSG_HSM_EXISTS) ||
		    (f & (MSG_HSM_DIRTY | MSG_HSM_LOST)))
			return -EBUSY;
		return (int)(f | MSG_HSM_RELEASED);
	case MDS_HSM_EV_RESTORED:
		if (!(f & MSG_HSM_RELEASED))
			return -EINVAL;
		return (int)(f & ~MSG_HSM_RELEASED);
	case MDS_HSM_EV_TRUNCATED:
		return (int)((f & ~MSG_HSM_RELEASED) |
		    (f & MSG_HSM_EXISTS ? MSG_HSM_DIRTY : 0));
	case MDS_HSM_EV_LOST:
		if (f & MSG_HSM_RELEASED)
			return (int)(f | MSG_HSM_LOST);
		return (int)((f | MSG_HSM_LOST) & ~MSG_HSM_ARCHIVED);
	default:
		return -EINVAL;
	}
}

/* ---- rows (store lock held) ---- */

static sqlite3_stmt *
hst(struct mds_hsm *hs, enum hq q)
{
	sqlite3_reset(hs->st[q]);
	sqlite3_clear_bindings(hs->st[q]);
	return hs->st[q];
}

/* 1 with the row, 0 when none, or -errno. */
static int
row_get(struct mds_hsm *hs, uint64_t ino, struct hrow *r)
{
	sqlite3_stmt *s = hst(hs, HQ_GET);
	int rc;

	memset(r, 0, sizeof(*r));
	sqlite3_bind_int64(s, 1, (int64_t)ino);
	rc = mds_tx_row(hs->ns, s);
	if (rc == 1) {
		const void *o = sqlite3_column_blob(s, 2);
		int n = sqlite3_column_bytes(s, 2);

		r->flags = (uint32_t)sqlite3_column_int64(s, 0);
		r->archive_id = (uint32_t)sqlite3_column_int64(s, 1);
		if (o != NULL && n > 0 && (size_t)n < sizeof(r->origin))
			memcpy(r->origin, o, (size_t)n);
	}
	sqlite3_reset(s);
	return rc;
}

static int
row_put(struct mds_hsm *hs, uint64_t ino, const struct hrow *r)
{
	sqlite3_stmt *s = hst(hs, HQ_PUT);

	sqlite3_bind_int64(s, 1, (int64_t)ino);
	sqlite3_bind_int64(s, 2, r->flags);
	sqlite3_bind_int64(s, 3, r->archive_id);
	sqlite3_bind_blob(s, 4, r->origin, (int)strlen(r->origin),
	    SQLITE_STATIC);
	atomic_store(&hs->active, 1);
	return mds_tx_exec(hs->ns, s);
}

static int
row_del(struct mds_hsm *hs, uint64_t ino)
{
	sqlite3_stmt *s = hst(hs, HQ_DEL);

	sqlite3_bind_int64(s, 1, (int64_t)ino);
	return mds_tx_exec(hs->ns, s);
}

/* One row, read in its own read lock. */
static int
row_read(struct mds_hsm *hs, uint64_t ino, struct hrow *r)
{
	int rc;

	mds_tx_rlock(hs->ns);
	rc = row_get(hs, ino, r);
	pthread_mutex_unlock(&hs->ns->lock);
	return rc;
}

/* Replace a file's objects by new, empty ones (the old are destroyed):
 * its data is gone, its size stays. */
static int
objects_drop(struct mds_ns *ns, struct mds_ino *i, uint32_t stripe_count)
{
	struct mds_layout old, def, lay;
	int rc;

	rc = mds_layout_get_locked(ns, i, &old);
	if (rc < 0)
		return rc;
	def = old;
	def.hdr.nent = 0;
	if (stripe_count > 0)
		def.hdr.stripe_count = (int32_t)stripe_count;
	rc = mds_layout_alloc(ns, &def, &lay);
	if (rc == 0 && old.hdr.magic == MSG_LOV_MAGIC)
		rc = mds_destroy_queue(ns, &old);
	if (rc == 0)
		rc = mds_layout_store(ns, i->ino, &lay);
	i->written = 0;
	i->blocks = 0;
	return rc;
}

/* Apply `event` to the row of ino in a transaction of its own; *out gets
 * the new row. 0 or -errno. */
static int
row_event(struct mds_hsm *hs, uint64_t ino, int event, struct hrow *out)
{
	struct mds_ns *ns = hs->ns;
	struct hrow r;
	int rc, nf;

	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = row_get(hs, ino, &r);
	if (rc < 0)
		goto end;
	nf = mds_hsm_next(r.flags, event);
	if (nf < 0) {
		rc = nf;
		goto end;
	}
	r.flags = (uint32_t)nf;
	rc = row_put(hs, ino, &r);
	if (out != NULL)
		*out = r;
end:
	rc = mds_tx_end(ns, rc);
out:
	rc = mds_tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

/* ---- the agent ---- */

static int
is_agent(struct mds_hsm *hs, struct msg_srv_conn *c)
{
	uint64_t id = msg_srv_conn_client(c);
	int yes;

	if (id == 0)
		return 0;
	pthread_mutex_lock(&hs->mu);
	yes = hs->agent_client == id;
	pthread_mutex_unlock(&hs->mu);
	return yes;
}

/* An action to the agent (hs->mu held). 0, or -ENOTCONN without one. */
static int
agent_send(struct mds_hsm *hs, uint32_t action, uint64_t ino, uint64_t size,
    uint32_t flags, const char *origin)
{
	char buf[sizeof(struct msg_hsm_action) + MDS_HSM_ORIGIN_MAX];
	struct msg_hsm_action a;
	size_t olen = origin != NULL ? strlen(origin) : 0;

	if (hs->agent == NULL)
		return -ENOTCONN;
	if (olen >= MDS_HSM_ORIGIN_MAX)
		olen = 0;
	memset(&a, 0, sizeof(a));
	a.ino = ino;
	a.size = size;
	a.action = action;
	a.flags = flags;
	a.origin_len = (uint32_t)olen;
	memcpy(buf, &a, sizeof(a));
	if (olen > 0)
		memcpy(buf + sizeof(a), origin, olen);
	return msg_srv_send(hs->agent, MSG_OP_MDS_HSM_ACTION, ++hs->reqid,
	    buf, (uint32_t)(sizeof(a) + olen));
}

/* Ask for every restore not asked yet (hs->mu held). */
static void
ask_restores(struct mds_hsm *hs)
{
	for (struct rwait *w = hs->waits; w != NULL; w = w->next) {
		struct msg_attr a;
		struct hrow r;

		if (w->asked || w->done)
			continue;
		/* the store's lock is taken under mu only here, for reads */
		if (row_read(hs, w->ino, &r) <= 0 ||
		    mds_ns_getattr(hs->ns, w->ino, &a) < 0)
			continue;
		if (agent_send(hs, MSG_HSM_RESTORE, w->ino, a.size, r.flags,
		    r.origin) == 0) {
			w->asked = 1;
			hs->n_restores++;
		}
	}
}

static void
wait_unlink(struct mds_hsm *hs, struct rwait *w)
{
	for (struct rwait **p = &hs->waits; *p != NULL; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			free(w);
			return;
		}
}

static struct rwait *
wait_find(struct mds_hsm *hs, uint64_t ino)
{
	for (struct rwait *w = hs->waits; w != NULL; w = w->next)
		if (w->ino == ino && !w->done)
			return w;
	return NULL;
}

int
mds_hsm_open(struct mds_hsm *hs, struct msg_srv_conn *c, uint64_t ino,
    uint32_t flags)
{
	struct timespec dl;
	struct rwait *w;
	struct hrow r;
	int rc;

	if (!atomic_load(&hs->active))
		return 0;
	rc = row_read(hs, ino, &r);
	if (rc <= 0 || !(r.flags & MSG_HSM_RELEASED))
		return rc < 0 ? rc : 0;
	if (is_agent(hs, c))
		return 0;
	if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY)
		return row_event(hs, ino, MDS_HSM_EV_TRUNCATED, NULL);

	pthread_mutex_lock(&hs->mu);
	w = wait_find(hs, ino);
	if (w == NULL) {
		w = xcalloc(1, sizeof(*w));
		w->ino = ino;
		w->next = hs->waits;
		hs->waits = w;
	}
	w->waiters++;
	ask_restores(hs);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += hs->restore_ms / 1000;
	dl.tv_nsec += (long)(hs->restore_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	rc = 0;
	while (!w->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&hs->cond, &hs->mu, &dl);
	rc = w->done ? w->rc : -EIO;
	if (!w->done)
		hs->n_restore_fail++;
	if (--w->waiters == 0)
		wait_unlink(hs, w);
	pthread_mutex_unlock(&hs->mu);
	if (rc < 0)
		log_warn("mds: hsm: restore of ino %llu: %s",
		    (unsigned long long)ino, strerror(-rc));
	return rc;
}

void
mds_hsm_closed(struct mds_hsm *hs, struct msg_srv_conn *c, uint64_t ino)
{
	struct msg_attr a;
	struct hrow r;
	int rc;

	if (!atomic_load(&hs->active) || is_agent(hs, c))
		return;
	rc = row_read(hs, ino, &r);
	if (rc == 1 && !(r.flags & MSG_HSM_DIRTY))
		(void)row_event(hs, ino, MDS_HSM_EV_WRITTEN, &r);
	if (rc < 0 || mds_ns_getattr(hs->ns, ino, &a) < 0)
		return;
	pthread_mutex_lock(&hs->mu);
	if (agent_send(hs, MSG_HSM_ARCHIVE, ino, a.size, r.flags,
	    r.origin) == 0)
		hs->n_archive_ev++;
	pthread_mutex_unlock(&hs->mu);
}

void
mds_hsm_dir_renamed(struct mds_hsm *hs, struct msg_srv_conn *c, uint64_t ino,
    uint64_t oldparent, const char *name, size_t namelen)
{
	char what[MDS_HSM_ORIGIN_MAX];
	struct msg_attr a;
	struct hrow r;

	if (!atomic_load(&hs->active) || ino == 0 || is_agent(hs, c) ||
	    namelen > MSG_NAME_MAX || mds_ns_getattr(hs->ns, ino, &a) < 0)
		return;
	/* a released file has no data here to export under its new name:
	 * the agent copies its object S3-side, as for a directory's */
	if (!S_ISDIR(a.mode) && !(S_ISREG(a.mode) && row_read(hs, ino, &r) == 1 &&
	    (r.flags & MSG_HSM_RELEASED) && !(r.flags & MSG_HSM_DIRTY)))
		return;
	snprintf(what, sizeof(what), "%llu/%.*s", (unsigned long long)oldparent,
	    (int)namelen, name);
	pthread_mutex_lock(&hs->mu);
	if (agent_send(hs, MSG_HSM_MOVED, ino, 0, 0, what) == 0)
		hs->n_archive_ev++;
	pthread_mutex_unlock(&hs->mu);
}

void
mds_hsm_renamed(struct mds_hsm *hs, struct msg_srv_conn *c, uint64_t ino)
{
	struct msg_attr a;
	struct hrow r;

	if (!atomic_load(&hs->active) || ino == 0 || is_agent(hs, c))
		return;
	if (row_read(hs, ino, &r) != 1 || !(r.flags & MSG_HSM_ARCHIVED) ||
	    (r.flags & (MSG_HSM_DIRTY | MSG_HSM_RELEASED)) ||
	    r.origin[0] == '\0' || mds_ns_getattr(hs->ns, ino, &a) < 0)
		return;
	if (row_event(hs, ino, MDS_HSM_EV_WRITTEN, NULL) < 0)
		return;
	pthread_mutex_lock(&hs->mu);
	if (agent_send(hs, MSG_HSM_REMOVE, ino, 0, r.flags, r.origin) == 0)
		hs->n_remove_ev++;
	if (agent_send(hs, MSG_HSM_ARCHIVE, ino, a.size,
	    r.flags | MSG_HSM_DIRTY, NULL) == 0)
		hs->n_archive_ev++;
	pthread_mutex_unlock(&hs->mu);
}

void
mds_hsm_unlinked(struct mds_hsm *hs, struct msg_srv_conn *c, uint64_t ino)
{
	struct msg_attr a;
	struct hrow r;
	int rc;

	(void)c;
	if (!atomic_load(&hs->active) || ino == 0)
		return;
	rc = mds_ns_getattr(hs->ns, ino, &a);
	if (rc == 0 && a.nlink > 0)
		return;		/* other names remain */
	if (row_read(hs, ino, &r) != 1)
		return;
	mds_tx_wlock(hs->ns);
	rc = mds_tx_begin(hs->ns);
	if (rc == 0)
		rc = mds_tx_end(hs->ns, row_del(hs, ino));
	rc = mds_tx_sync(hs->ns, rc);
	pthread_mutex_unlock(&hs->ns->lock);
	if (rc < 0 || !(r.flags & MSG_HSM_EXISTS) || r.origin[0] == '\0')
		return;
	pthread_mutex_lock(&hs->mu);
	if (agent_send(hs, MSG_HSM_REMOVE, ino, 0, r.flags, r.origin) == 0)
		hs->n_remove_ev++;
	pthread_mutex_unlock(&hs->mu);
}

void
mds_hsm_conn_fini(struct mds_hsm *hs, struct msg_srv_conn *c)
{
	pthread_mutex_lock(&hs->mu);
	if (hs->agent == c) {
		hs->agent = NULL;
		/* restores asked of it are asked again of the next one */
		for (struct rwait *w = hs->waits; w != NULL; w = w->next)
			w->asked = 0;
		log_info("mds: hsm: agent %s gone", msg_srv_conn_peer(c));
	}
	pthread_mutex_unlock(&hs->mu);
}

/* ---- requests ---- */

static int
reply_state(struct msg_srv_conn *c, const struct msg_hdr *h, uint64_t ino,
    const struct hrow *r, const struct msg_attr *a)
{
	struct msg_hsm_state st;
	struct iovec iov = { (void *)r->origin, strlen(r->origin) };

	memset(&st, 0, sizeof(st));
	st.ino = ino;
	st.flags = r->flags;
	st.archive_id = r->archive_id;
	st.size = a->size;
	st.mtime_sec = a->mtime_sec;
	return msg_srv_reply(c, h, 0, &st, sizeof(st), &iov,
	    iov.iov_len ? 1 : 0);
}

static int
origin_copy(const struct msg_hdr *h, const void *bulk, char *dst)
{
	if (bulk == NULL)
		return 0;
	if (h->bulk_len >= MDS_HSM_ORIGIN_MAX ||
	    memchr(bulk, '\0', h->bulk_len) != NULL)
		return -EINVAL;
	memcpy(dst, bulk, h->bulk_len);
	dst[h->bulk_len] = '\0';
	return 1;
}

static int
h_register(struct mds_hsm *hs, struct msg_srv_conn *c,
    const struct msg_hdr *h, const void *body)
{
	struct msg_hsm_reg reg;
	uint64_t id = msg_srv_conn_client(c);

	memcpy(&reg, body, sizeof(reg));
	if (id == 0)
		return -EINVAL;	/* the agent names itself in HELLO */
	pthread_mutex_lock(&hs->mu);
	hs->agent = c;
	hs->agent_client = id;
	hs->nprog = 0;	/* a new agent: what the old one ran ended */
	hs->restore_ms = reg.restore_ms ? reg.restore_ms : MDS_HSM_RESTORE_MS;
	atomic_store(&hs->active, 1);
	log_info("mds: hsm: agent at %s (restore wait %u ms)",
	    msg_srv_conn_peer(c), hs->restore_ms);
	/* the reply goes first: the agent reads actions after it */
	(void)msg_srv_reply(c, h, 0, NULL, 0, NULL, 0);
	ask_restores(hs);
	pthread_mutex_unlock(&hs->mu);
	return 0;
}

/* The running action of ino the agent reported, or NULL (hs->mu held). */
static struct hprog *
prog_find(struct mds_hsm *hs, uint64_t ino)
{
	for (int i = 0; i < hs->nprog; i++)
		if (hs->prog[i].ino == ino)
			return &hs->prog[i];
	return NULL;
}

static int
h_progress(struct mds_hsm *hs, struct msg_srv_conn *c, const void *body)
{
	struct msg_hsm_progress p;
	struct hprog *x;

	memcpy(&p, body, sizeof(p));
	if (!is_agent(hs, c))
		return -EPERM;
	if (p.action != MSG_HSM_RESTORE && p.action != MSG_HSM_ARCHIVE)
		return -EINVAL;
	pthread_mutex_lock(&hs->mu);
	x = prog_find(hs, p.ino);
	if (!p.running) {
		if (x != NULL)
			*x = hs->prog[--hs->nprog];
	} else {
		if (x == NULL && hs->nprog < MDS_HSM_PROG_MAX)
			x = &hs->prog[hs->nprog++];
		if (x != NULL) {	/* else: shown as before, NOOP */
			x->ino = p.ino;
			x->bytes = p.bytes;
			x->action = p.action;
		}
	}
	pthread_mutex_unlock(&hs->mu);
	return 0;
}

static int
h_done(struct mds_hsm *hs, const void *body, uint64_t *changed)
{
	struct msg_hsm_done d;
	int rc = 0;

	memcpy(&d, body, sizeof(d));
	if (d.action != MSG_HSM_RESTORE)
		return -EINVAL;
	if (d.status == 0) {
		rc = row_event(hs, d.ino, MDS_HSM_EV_RESTORED, NULL);
		if (rc == -EINVAL)
			rc = 0;		/* already restored */
		*changed = d.ino;
	}
	pthread_mutex_lock(&hs->mu);
	for (struct rwait *w = hs->waits, *next; w != NULL; w = next) {
		next = w->next;
		if (w->ino != d.ino || w->done)
			continue;
		w->done = 1;
		w->rc = d.status == 0 && rc == 0 ? 0 : -EIO;
		if (w->waiters == 0)
			wait_unlink(hs, w);	/* an lfs hsm_restore's */
	}
	pthread_cond_broadcast(&hs->cond);
	pthread_mutex_unlock(&hs->mu);
	return rc;
}

static int
h_set(struct mds_hsm *hs, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *body, const void *bulk, uint64_t *changed)
{
	struct mds_ns *ns = hs->ns;
	struct msg_hsm_set s;
	struct mds_ino i;
	struct msg_attr a;
	struct ofile *of;
	struct hrow r;
	char origin[MDS_HSM_ORIGIN_MAX];
	uint32_t nf;
	int rc, has_origin;

	memcpy(&s, body, sizeof(s));
	if ((s.set | s.clear) & ~MSG_HSM_ALL)
		return -EINVAL;
	has_origin = origin_copy(h, bulk, origin);
	if (has_origin < 0)
		return has_origin;
	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = mds_ns_ino_load(ns, s.ino, &i);
	if (rc == 0 && !S_ISREG(i.mode))
		rc = -EINVAL;
	if (rc == 0)
		rc = row_get(hs, s.ino, &r);
	if (rc < 0)
		goto end;
	nf = (r.flags & ~s.clear) | s.set;
	if ((s.set & MSG_HSM_RELEASED) && !(r.flags & MSG_HSM_RELEASED)) {
		/* release: archived, clean, nobody writing */
		of = mds_open_ofile(ns, s.ino);
		rc = mds_hsm_next(r.flags | (s.set & ~MSG_HSM_RELEASED),
		    MDS_HSM_EV_RELEASE);
		if (rc >= 0 && of != NULL && of->writers > 0)
			rc = -EBUSY;
		if (rc < 0)
			goto end;
		rc = objects_drop(ns, &i, 0);
		if (rc == 0)
			rc = mds_ns_ino_store(ns, &i);
		if (rc < 0)
			goto end;
		hs->n_releases++;
	}
	if ((nf & MSG_HSM_RELEASED) && !(nf & MSG_HSM_ARCHIVED)) {
		rc = -EINVAL;
		goto end;
	}
	r.flags = nf;
	if (s.archive_id != 0)
		r.archive_id = s.archive_id;
	if (has_origin)
		memcpy(r.origin, origin, sizeof(origin));
	rc = row_put(hs, s.ino, &r);
	*changed = s.ino;
end:
	rc = mds_tx_end(ns, rc);
	if (rc == 0)
		mds_ns_ino_to_attr(ns, &i, &a);
out:
	rc = mds_tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	if (rc < 0)
		return rc;
	return reply_state(c, h, s.ino, &r, &a);
}

/* Size, times, owner and mode of an imported file (store lock held). */
static void
import_attrs(struct mds_ino *i, const struct msg_hsm_import *im)
{
	struct timespec now;

	mds_ns_now(&now);
	i->mode = S_IFREG | (im->mode & 07777);
	i->uid = im->uid;
	i->gid = im->gid;
	i->size = im->size;
	i->mt.tv_sec = im->mtime_sec;
	i->mt.tv_nsec = im->mtime_nsec;
	i->at.tv_sec = im->atime_sec;
	i->at.tv_nsec = im->atime_nsec;
	i->ct = now;
	i->gen++;
}

static int
h_import(struct mds_hsm *hs, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *body, const void *bulk, uint64_t *changed, uint64_t *parent)
{
	struct mds_ns *ns = hs->ns;
	struct msg_hsm_import im;
	struct msg_create cr;
	struct msg_attr a;
	struct mds_ino i;
	struct hrow r, old;
	const char *name;
	int rc, created = 0;

	memcpy(&im, body, sizeof(im));
	name = (const char *)body + sizeof(im);
	if (im.namelen == 0 || im.namelen > MSG_NAME_MAX)
		return im.namelen ? -ENAMETOOLONG : -EINVAL;
	if (h->body_len < sizeof(im) + im.namelen)
		return -EPROTO;
	if (!mds_ns_ts_valid(im.mtime_sec, im.mtime_nsec) ||
	    !mds_ns_ts_valid(im.atime_sec, im.atime_nsec) ||
	    im.size > (1ull << 62))
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	if (origin_copy(h, bulk, r.origin) <= 0)
		return -EINVAL;		/* an import names its object */
	r.flags = (uint32_t)mds_hsm_next(0, MDS_HSM_EV_IMPORT);
	r.archive_id = im.archive_id ? im.archive_id : 1;

	rc = mds_ns_lookup(ns, im.parent, name, im.namelen, &a);
	if (rc == -ENOENT) {
		memset(&cr, 0, sizeof(cr));
		cr.parent = im.parent;
		cr.cred = im.cred;
		cr.mode = S_IFREG | (im.mode & 07777);
		cr.namelen = im.namelen;
		rc = mds_ns_mknod(ns, &cr, name, &a);
		created = rc == 0;
	} else if (rc == 0 && !S_ISREG(a.mode)) {
		rc = -EEXIST;
	}
	if (rc < 0)
		return rc;

	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = mds_ns_ino_load(ns, a.ino, &i);
	if (rc < 0)
		goto end;
	if (!created) {
		/* an update of a file imported before: same object, clean */
		struct ofile *of = mds_open_ofile(ns, a.ino);

		rc = row_get(hs, a.ino, &old);
		if (rc < 0)
			goto end;
		if (rc == 0 || strcmp(old.origin, r.origin) != 0 ||
		    (old.flags & MSG_HSM_DIRTY)) {
			rc = -EEXIST;
			goto end;
		}
		if (of != NULL && of->opens > 0) {
			rc = -EBUSY;	/* open: the importer tries again */
			goto end;
		}
	}
	rc = objects_drop(ns, &i, im.stripe_count);
	if (rc < 0)
		goto end;
	import_attrs(&i, &im);
	rc = mds_ns_ino_store(ns, &i);
	if (rc == 0)
		rc = row_put(hs, i.ino, &r);
	hs->n_imports++;
end:
	rc = mds_tx_end(ns, rc);
	if (rc == 0)
		mds_ns_ino_to_attr(ns, &i, &a);
out:
	rc = mds_tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	if (rc < 0)
		return rc;
	*changed = a.ino;
	*parent = im.parent;
	return msg_srv_reply(c, h, 0, &a, sizeof(a), NULL, 0);
}

static int
h_list(struct mds_hsm *hs, struct msg_srv_conn *c, const struct msg_hdr *h,
    const void *body)
{
	struct msg_hsm_list l;
	struct msg_hsm_state *v = msg_srv_conn_buf(c);
	uint32_t max = MSG_BULK_MAX / sizeof(*v), n = 0;
	sqlite3_stmt *s;
	struct iovec iov;
	int rc;

	if (v == NULL)
		return -ENOMEM;
	memcpy(&l, body, sizeof(l));
	if (l.max > 0 && l.max < max)
		max = l.max;
	mds_tx_rlock(hs->ns);
	s = hst(hs, HQ_LIST);
	sqlite3_bind_int64(s, 1, (int64_t)l.after);
	sqlite3_bind_int64(s, 2, l.all);
	sqlite3_bind_int64(s, 3, l.none);
	sqlite3_bind_int64(s, 4, max);
	while ((rc = mds_tx_row(hs->ns, s)) == 1 && n < max) {
		memset(&v[n], 0, sizeof(v[n]));
		v[n].ino = (uint64_t)sqlite3_column_int64(s, 0);
		v[n].flags = (uint32_t)sqlite3_column_int64(s, 1);
		v[n].archive_id = (uint32_t)sqlite3_column_int64(s, 2);
		v[n].size = (uint64_t)sqlite3_column_int64(s, 3);
		v[n].mtime_sec = sqlite3_column_int64(s, 4);
		n++;
	}
	sqlite3_reset(s);
	pthread_mutex_unlock(&hs->ns->lock);
	if (rc < 0)
		return rc;
	iov.iov_base = v;
	iov.iov_len = n * sizeof(*v);
	return msg_srv_reply(c, h, 0, NULL, 0, &iov, n ? 1 : 0);
}

int
mds_hsm_dispatch(struct mds_hsm *hs, struct msg_srv_conn *c,
    const struct msg_hdr *h, const void *body, const void *bulk,
    uint64_t *changed, uint64_t *parent)
{
	struct msg_attr a;
	struct msg_ino mi;
	struct hrow r;
	int rc;

	*changed = *parent = 0;
	switch (h->opcode) {
	case MSG_OP_MDS_HSM_REGISTER:
		return h_register(hs, c, h, body);
	case MSG_OP_MDS_HSM_DONE:
		rc = h_done(hs, body, changed);
		return rc < 0 ? rc : msg_srv_reply(c, h, 0, NULL, 0, NULL, 0);
	case MSG_OP_MDS_HSM_GET:
		memcpy(&mi, body, sizeof(mi));
		rc = mds_ns_getattr(hs->ns, mi.ino, &a);
		if (rc == 0)
			rc = row_read(hs, mi.ino, &r);
		if (rc < 0)
			return rc;
		return reply_state(c, h, mi.ino, &r, &a);
	case MSG_OP_MDS_HSM_SET:
		return h_set(hs, c, h, body, bulk, changed);
	case MSG_OP_MDS_HSM_IMPORT:
		return h_import(hs, c, h, body, bulk, changed, parent);
	case MSG_OP_MDS_HSM_LIST:
		return h_list(hs, c, h, body);
	case MSG_OP_MDS_HSM_PROGRESS:
		rc = h_progress(hs, c, body);
		return rc < 0 ? rc : msg_srv_reply(c, h, 0, NULL, 0, NULL, 0);
	default:
		return -EOPNOTSUPP;
	}
}

/* "lustre.hsm": see msg.h. */
int
mds_hsm_xattr_get(struct mds_hsm *hs, uint64_t ino, char *buf, size_t cap,
    size_t *len)
{
	struct msg_attr a;
	struct rwait *w;
	struct hprog *p;
	struct hrow r;
	int rc, n;

	rc = mds_ns_getattr(hs->ns, ino, &a);
	if (rc == 0 && !S_ISREG(a.mode))
		rc = -ENODATA;
	if (rc == 0)
		rc = row_read(hs, ino, &r);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&hs->mu);
	w = wait_find(hs, ino);
	p = prog_find(hs, ino);
	if (w != NULL)
		n = snprintf(buf, cap, "0x%08x %u RESTORE %s %llu", r.flags,
		    r.archive_id, w->asked ? "STARTED" : "WAITING",
		    p != NULL && p->action == MSG_HSM_RESTORE ?
		    (unsigned long long)p->bytes : 0ull);
	else if (p != NULL)
		n = snprintf(buf, cap, "0x%08x %u %s STARTED %llu", r.flags,
		    r.archive_id, p->action == MSG_HSM_RESTORE ? "RESTORE" :
		    "ARCHIVE", (unsigned long long)p->bytes);
	else
		n = snprintf(buf, cap, "0x%08x %u NOOP - 0", r.flags,
		    r.archive_id);
	pthread_mutex_unlock(&hs->mu);
	if (n < 0 || (size_t)n >= cap)
		return -ERANGE;
	*len = (size_t)n;
	return 0;
}

int
mds_hsm_xattr_set(struct mds_hsm *hs, uint64_t ino, const struct msg_cred *cr,
    const void *val, size_t len, uint64_t *changed)
{
	struct msg_attr a;
	struct hrow r;
	char verb[16];
	int rc;

	*changed = 0;
	if (len == 0 || len >= sizeof(verb))
		return -EINVAL;
	memcpy(verb, val, len);
	verb[len] = '\0';
	rc = mds_ns_getattr(hs->ns, ino, &a);
	if (rc < 0)
		return rc;
	if (!S_ISREG(a.mode))
		return -EINVAL;
	if (cr->uid != 0 && cr->uid != a.uid)
		return -EPERM;
	if (row_read(hs, ino, &r) < 0)
		return -EIO;
	if (strcmp(verb, "release") == 0) {
		struct ofile *of;
		struct mds_ino i;
		int nf;

		mds_tx_wlock(hs->ns);
		rc = mds_tx_begin(hs->ns);
		if (rc < 0)
			goto out;
		rc = row_get(hs, ino, &r);
		nf = rc < 0 ? rc : mds_hsm_next(r.flags, MDS_HSM_EV_RELEASE);
		of = mds_open_ofile(hs->ns, ino);
		if (nf >= 0 && of != NULL && of->writers > 0)
			nf = -EBUSY;
		rc = nf < 0 ? nf : mds_ns_ino_load(hs->ns, ino, &i);
		if (rc == 0 && !(r.flags & MSG_HSM_RELEASED)) {
			rc = objects_drop(hs->ns, &i, 0);
			if (rc == 0)
				rc = mds_ns_ino_store(hs->ns, &i);
			hs->n_releases++;
		}
		if (rc == 0) {
			r.flags = (uint32_t)nf;
			rc = row_put(hs, ino, &r);
		}
		rc = mds_tx_end(hs->ns, rc);
out:
		rc = mds_tx_sync(hs->ns, rc);
		pthread_mutex_unlock(&hs->ns->lock);
		*changed = ino;
		return rc;
	}
	pthread_mutex_lock(&hs->mu);
	if (strcmp(verb, "archive") == 0) {
		rc = (r.flags & MSG_HSM_RELEASED) ? 0 : agent_send(hs,
		    MSG_HSM_ARCHIVE_NOW, ino, a.size, r.flags, r.origin);
	} else if (strcmp(verb, "restore") == 0) {
		if ((r.flags & MSG_HSM_RELEASED) && wait_find(hs, ino) == NULL) {
			struct rwait *w = xcalloc(1, sizeof(*w));

			w->ino = ino;	/* nobody waits: freed when done */
			w->next = hs->waits;
			hs->waits = w;
		}
		ask_restores(hs);
		rc = 0;
	} else {
		rc = -EINVAL;
	}
	pthread_mutex_unlock(&hs->mu);
	return rc == -ENOTCONN ? -EAGAIN : rc;
}

size_t
mds_hsm_stats(struct mds_hsm *hs, char *buf, size_t cap)
{
	int n;

	pthread_mutex_lock(&hs->mu);
	n = snprintf(buf, cap, "mds_hsm_agent %d\nmds_hsm_restores %llu\n"
	    "mds_hsm_restore_failures %llu\nmds_hsm_archive_events %llu\n"
	    "mds_hsm_remove_events %llu\nmds_hsm_imports %llu\n"
	    "mds_hsm_releases %llu\n", hs->agent != NULL,
	    (unsigned long long)hs->n_restores,
	    (unsigned long long)hs->n_restore_fail,
	    (unsigned long long)hs->n_archive_ev,
	    (unsigned long long)hs->n_remove_ev,
	    (unsigned long long)hs->n_imports,
	    (unsigned long long)hs->n_releases);
	pthread_mutex_unlock(&hs->mu);
	return n < 0 ? 0 : ((size_t)n < cap ? (size_t)n : cap - 1);
}

int
mds_hsm_new(struct mds_ns *ns, struct mds_hsm **out)
{
	struct mds_hsm *hs = xcalloc(1, sizeof(*hs));
	int64_t rows = 0;
	char *err = NULL;
	int rc;

	*out = NULL;
	hs->ns = ns;
	pthread_mutex_init(&hs->mu, NULL);
	pthread_cond_init(&hs->cond, NULL);
	hs->restore_ms = MDS_HSM_RESTORE_MS;
	mds_tx_wlock(ns);
	rc = sqlite3_exec(ns->db, "CREATE TABLE IF NOT EXISTS hsm ("
	    " ino INTEGER PRIMARY KEY, flags INTEGER NOT NULL,"
	    " archive_id INTEGER NOT NULL, origin BLOB)", NULL, NULL, &err);
	for (int q = 0; rc == SQLITE_OK && q < HQ_MAX; q++)
		rc = sqlite3_prepare_v3(ns->db, hq_sql[q], -1,
		    SQLITE_PREPARE_PERSISTENT, &hs->st[q], NULL);
	if (rc == SQLITE_OK && sqlite3_step(hs->st[HQ_COUNT]) == SQLITE_ROW)
		rows = sqlite3_column_int64(hs->st[HQ_COUNT], 0);
	if (hs->st[HQ_COUNT] != NULL)
		sqlite3_reset(hs->st[HQ_COUNT]);
	pthread_mutex_unlock(&ns->lock);
	if (rc != SQLITE_OK) {
		log_err("mds: hsm table: %s", err ? err : sqlite3_errmsg(ns->db));
		sqlite3_free(err);
		mds_hsm_free(hs);
		return mds_tx_errno(rc);
	}
	atomic_store(&hs->active, rows > 0);
	*out = hs;
	return 0;
}

void
mds_hsm_free(struct mds_hsm *hs)
{
	if (hs == NULL)
		return;
	for (int q = 0; q < HQ_MAX; q++)
		sqlite3_finalize(hs->st[q]);
	while (hs->waits != NULL) {
		struct rwait *w = hs->waits;

		hs->waits = w->next;
		free(w);
	}
	pthread_cond_destroy(&hs->cond);
	pthread_mutex_destroy(&hs->mu);
	free(hs);
}
