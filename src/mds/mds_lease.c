/*
 * Sessions, leases, revocations and evictions (contract and invariants in
 * mds_lease.h; the protocol in docs/leases.md).
 *
 * A session's life:
 *
 *   SESSION(client) --> LIVE --callback conn closes--> LIVE, no leases
 *                        |  ^                           (invariant 1)
 *                        |  +-- SESSION(client, CALLBACK) again
 *                        |
 *                        +--no answer within revoke_ms--> EVICTED
 *                        |      lease_evict(): leases dropped, id kept in
 *                        |      the ring, connections shut down, locks
 *                        |      released; every request -> -ESTALE
 *                        +--last connection closes--> ended, freed
 *                               lease_conn_fini(): leases and locks go
 *
 * A revocation round (mds_lease_revoke): under the mutex, every matching
 * lease of another session is unlinked and a REVOKE sent on its holder's
 * callback connection; the round, a list of (session, reqid) items, waits
 * on the condition variable until each is answered (mds_lease_answer),
 * its callback connection closes, or the deadline passes; then the
 * silent are evicted. Sessions in a round are referenced, so they outlive
 * their connections until the round ends.
 *
 * Giving leases back (invariant 6): each session keeps its live leases
 * in grant order (a grant of a held one moves it to the end) and its
 * leaving ones in the order of their REVOKEs' reqids:
 *
 *   live --lease_shed (near max, none in flight)--> leaving
 *     |                                               |
 *     +-- a change revokes it: freed after its round  +-- an answer with
 *                                                         reqid >= its own:
 *                                                         freed
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/dlist.h"
#include "core/log.h"
#include "core/util.h"
#include "mds/mds_lease.h"
#include "mds/mds_lock.h"

#define LEASE_HASH	16384
#define LEASE_SEQ_SLOTS	4096

struct mds_sess {
	uint64_t		client;
	int			evicted;
	int			pinging;	/* a lock ping in flight */
	uint64_t		ping_ok_ns;	/* its last answer */
	int			refs;		/* rounds using it */
	int			nconn;
	struct mds_lconn	*conns;
	struct mds_lconn	*cb;		/* callback connection */
	struct dlist		live;		/* by last grant, oldest first */
	struct dlist		leaving;	/* by reqid */
	uint64_t		shed_reqid;	/* a batch's last; 0: none */
	struct mds_sess		*next;
};

struct mds_lconn {
	struct msg_srv_conn	*c;
	struct mds_sess		*s;
	struct mds_lconn	*next;		/* in s->conns */
};

struct lease {
	struct dlink		link;		/* first: s->live or s->leaving */
	uint64_t		ino;		/* or the parent of name */
	char			*name;		/* NULL: attribute lease */
	uint32_t		namelen;
	struct mds_sess		*s;
	uint64_t		leaving;	/* its REVOKE's reqid; 0: live */
	struct lease		*next;		/* in the hash chain */
};

struct round_item {
	struct mds_sess		*s;
	uint64_t		reqid;
	int			done;
};

struct round {
	struct round_item	*item;
	int			n, cap;
	struct round		*next;
};

struct mds_lease {
	pthread_mutex_t		mu;
	pthread_cond_t		cv;
	struct mds_lock		*locks;
	int			revoke_ms;
	unsigned		max, shed_at;	/* invariant 6 */
	struct mds_sess		*sessions;
	struct lease		*tab[LEASE_HASH];
	uint64_t		seq;		/* revocations so far */
	uint64_t		slot_seq[LEASE_SEQ_SLOTS];
	uint64_t		reqid;
	struct round		*rounds;
	uint64_t		evicted[MDS_LEASE_EVICTED];
	unsigned		nevicted;
	uint64_t		n_leases, n_revoked, n_evicted, n_sessions;
	uint64_t		n_shed;
	uint64_t		n_recalls;	/* invariant 7 */
	int			npings;		/* ping threads running */
};

static uint64_t
lease_hash(uint64_t ino, const char *name, uint32_t namelen)
{
	uint64_t h = 1469598103934665603ull ^ ino;

	for (uint32_t i = 0; i < namelen; i++)
		h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
	h ^= name != NULL ? 0x9e3779b97f4a7c15ull : 0;
	return h * 0xff51afd7ed558ccdull;
}

/* The oldest lease of q, NULL if none. */
static struct lease *
lease_first(const struct dlist *q)
{
	return (struct lease *)q->head;
}

/* Leases s holds, live and leaving. */
static unsigned
sess_leases(const struct mds_sess *s)
{
	return s->live.n + s->leaving.n;
}

/* e leaves its session's list (not the hash chain). */
static void
lease_forget(struct lease *e)
{
	struct mds_sess *s = e->s;

	dlist_remove(e->leaving != 0 ? &s->leaving : &s->live, &e->link);
}

struct mds_lease *
mds_lease_new(struct mds_lock *locks, int revoke_ms, unsigned max)
{
	struct mds_lease *l = xcalloc(1, sizeof(*l));

	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	l->locks = locks;
	l->revoke_ms = revoke_ms > 0 ? revoke_ms : MDS_LEASE_REVOKE_MS;
	l->max = max > 0 ? max : MDS_LEASE_MAX;
	l->shed_at = l->max - l->max / 8;
	return l;
}

static void
lease_free_one(struct lease *e)
{
	free(e->name);
	free(e);
}

void
mds_lease_free(struct mds_lease *l)
{
	struct mds_sess *s, *sn;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);	/* pings end within revoke_ms */
	while (l->npings > 0)
		pthread_cond_wait(&l->cv, &l->mu);
	pthread_mutex_unlock(&l->mu);
	for (int i = 0; i < LEASE_HASH; i++) {
		struct lease *e, *en;

		for (e = l->tab[i]; e != NULL; e = en) {
			en = e->next;
			lease_free_one(e);
		}
	}
	for (s = l->sessions; s != NULL; s = sn) {
		sn = s->next;
		free(s);
	}
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l);
}

/* Drop every lease of s. Caller holds l->mu. */
static void
lease_drop_all(struct mds_lease *l, struct mds_sess *s)
{
	if (sess_leases(s) == 0)
		return;
	for (int i = 0; i < LEASE_HASH; i++) {
		struct lease **pp = &l->tab[i], *e;

		while ((e = *pp) != NULL) {
			if (e->s != s) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			lease_free_one(e);
		}
	}
	memset(&s->live, 0, sizeof(s->live));
	memset(&s->leaving, 0, sizeof(s->leaving));
	s->shed_reqid = 0;
}

static void
lease_sess_unlink(struct mds_lease *l, struct mds_sess *s)
{
	struct mds_sess **pp;

	for (pp = &l->sessions; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			return;
		}
}

/* Free s once no connection and no round uses it. Caller holds l->mu. */
static void
lease_sess_put(struct mds_lease *l, struct mds_sess *s)
{
	if (s->refs > 0 || s->nconn > 0)
		return;
	lease_sess_unlink(l, s);
	free(s);
}

static int
lease_was_evicted(const struct mds_lease *l, uint64_t client)
{
	unsigned n = l->nevicted < MDS_LEASE_EVICTED ? l->nevicted :
	    MDS_LEASE_EVICTED;

	for (unsigned i = 0; i < n; i++)
		if (l->evicted[i] == client)
			return 1;
	return 0;
}

/* Invariant 4. Caller holds l->mu; it releases the locks after dropping
 * the mutex (mds_lock_drop_client). */
static void
lease_evict(struct mds_lease *l, struct mds_sess *s, const char *why)
{
	if (s->evicted)
		return;
	s->evicted = 1;
	l->n_evicted++;
	l->evicted[l->nevicted++ % MDS_LEASE_EVICTED] = s->client;
	lease_drop_all(l, s);
	for (struct mds_lconn *lc = s->conns; lc != NULL; lc = lc->next)
		msg_srv_conn_shutdown(lc->c);
	log_warn("mds: client %016llx evicted: %s",
	    (unsigned long long)s->client, why);
}

int
mds_lease_session(struct mds_lease *l, struct msg_srv_conn *c,
    const struct msg_session *req, struct mds_lconn **lcp,
    struct msg_session_rep *rep)
{
	struct mds_lconn *lc = *lcp;
	struct mds_sess *s;
	int rc = 0;

	memset(rep, 0, sizeof(*rep));
	if (req->client == 0)
		return -EINVAL;
	pthread_mutex_lock(&l->mu);
	if (lease_was_evicted(l, req->client)) {
		rc = -ESTALE;
		goto out;
	}
	if (lc != NULL && lc->s->client != req->client) {
		rc = -EEXIST;
		goto out;
	}
	if (lc == NULL) {
		for (s = l->sessions; s != NULL; s = s->next)
			if (s->client == req->client)
				break;
		if (s == NULL) {
			s = xcalloc(1, sizeof(*s));
			s->client = req->client;
			s->next = l->sessions;
			l->sessions = s;
			l->n_sessions++;
		}
		lc = xcalloc(1, sizeof(*lc));
		lc->c = c;
		lc->s = s;
		lc->next = s->conns;
		s->conns = lc;
		s->nconn++;
		*lcp = lc;
	}
	if (req->flags & MSG_SESS_CALLBACK)
		lc->s->cb = lc;
	rep->revoke_ms = (uint32_t)l->revoke_ms;
out:
	pthread_mutex_unlock(&l->mu);
	return rc;
}

void
mds_lease_conn_fini(struct mds_lease *l, struct mds_lconn *lc)
{
	struct mds_lconn **pp;
	struct mds_sess *s;
	uint64_t drop = 0;

	if (lc == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	s = lc->s;
	for (pp = &s->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == lc) {
			*pp = lc->next;
			break;
		}
	s->nconn--;
	if (s->cb == lc) {
		/* invariant 1; answers it owed count as given */
		s->cb = NULL;
		lease_drop_all(l, s);
		for (struct round *r = l->rounds; r != NULL; r = r->next)
			for (int i = 0; i < r->n; i++)
				if (r->item[i].s == s)
					r->item[i].done = 1;
		pthread_cond_broadcast(&l->cv);
	}
	if (s->nconn == 0) {
		/* invariant 5 (an evicted one's locks went already) */
		lease_drop_all(l, s);
		if (!s->evicted)
			drop = s->client;
		lease_sess_put(l, s);
	}
	pthread_mutex_unlock(&l->mu);
	free(lc);
	if (drop != 0) {
		int n = mds_lock_drop_client(l->locks, drop);

		if (n > 0)
			log_info("mds: client %016llx gone: %d locks released",
			    (unsigned long long)drop, n);
	}
}

int
mds_lease_check(struct mds_lease *l, const struct mds_lconn *lc)
{
	int rc = 0;

	if (lc == NULL)
		return 0;
	pthread_mutex_lock(&l->mu);
	if (lc->s->evicted)
		rc = -ESTALE;
	pthread_mutex_unlock(&l->mu);
	return rc;
}

uint64_t
mds_lease_client(const struct mds_lconn *lc)
{
	return lc != NULL ? lc->s->client : 0;
}

uint64_t
mds_lease_seq(struct mds_lease *l)
{
	uint64_t s;

	pthread_mutex_lock(&l->mu);
	s = l->seq;
	pthread_mutex_unlock(&l->mu);
	return s;
}

static int
lease_is(const struct lease *e, uint64_t ino, const char *name,
    uint32_t namelen)
{
	return e->ino == ino && (e->name == NULL) == (name == NULL) &&
	    e->namelen == namelen &&
	    (name == NULL || memcmp(e->name, name, namelen) == 0);
}

/* Invariant 7: e is a delegation. */
static int
lease_is_deleg(const struct lease *e)
{
	return e->name != NULL && e->namelen == sizeof(MSG_DELEG_NAME) - 1 &&
	    memcmp(e->name, MSG_DELEG_NAME, e->namelen) == 0;
}

/* The REVOKE frame's body for lease e into rv and name; its length. */
static uint32_t
revoke_body(const struct lease *e, struct msg_revoke *rv, char *name)
{
	memset(rv, 0, sizeof(*rv));
	if (e->name != NULL) {
		rv->parent = e->ino;
		rv->flags = MSG_RV_ENTRY;
		rv->namelen = e->namelen;
		memcpy(name, e->name, e->namelen);
		return (uint32_t)sizeof(*rv) + e->namelen;
	}
	rv->ino = e->ino;
	rv->flags = MSG_RV_ATTR;
	return (uint32_t)sizeof(*rv);
}

/*
 * Invariant 6: give back s's oldest live leases, at most MDS_LEASE_SHED
 * and never the newest (the grant in progress). Caller holds l->mu.
 */
static void
lease_shed(struct mds_lease *l, struct mds_sess *s)
{
	struct {
		struct msg_revoke	rv;
		char			name[MSG_NAME_MAX];
	} b;
	unsigned n = 0, live = s->live.n;
	struct lease *e;

	if (s->cb == NULL || s->evicted)
		return;
	for (unsigned seen = 0; n < MDS_LEASE_SHED && n + 1 < live &&
	    seen < live && (e = lease_first(&s->live)) != NULL; seen++) {
		uint32_t len;
		uint64_t reqid;

		if (lease_is_deleg(e)) {	/* invariant 7: kept */
			dlist_remove(&s->live, &e->link);
			dlist_append(&s->live, &e->link);
			continue;
		}
		len = revoke_body(e, &b.rv, b.name);
		reqid = ++l->reqid;

		if (msg_srv_send(s->cb->c, MSG_OP_MDS_REVOKE, reqid, &b,
		    len) < 0)
			break;	/* the connection is going: invariant 1 */
		dlist_remove(&s->live, &e->link);
		e->leaving = reqid;
		dlist_append(&s->leaving, &e->link);
		s->shed_reqid = reqid;
		n++;
	}
	l->n_shed += n;
}

/* Grant one lease (ino, name) to s unless invariant 3 forbids it. */
static int
lease_grant_one(struct mds_lease *l, struct mds_sess *s, uint64_t seq,
    uint64_t ino, const char *name, uint32_t namelen)
{
	uint64_t h = lease_hash(ino, name, namelen);
	struct lease *e;

	if (l->slot_seq[h % LEASE_SEQ_SLOTS] > seq)
		return 0;
	for (e = l->tab[h % LEASE_HASH]; e != NULL; e = e->next)
		if (e->s == s && e->leaving == 0 &&
		    lease_is(e, ino, name, namelen)) {
			dlist_remove(&s->live, &e->link); /* invariant 6 */
			dlist_append(&s->live, &e->link);
			return 1;
		}
	if (sess_leases(s) >= l->max)
		return 0;
	e = xcalloc(1, sizeof(*e));
	e->ino = ino;
	e->s = s;
	if (name != NULL) {
		e->name = xmalloc(namelen + 1);
		memcpy(e->name, name, namelen);
		e->name[namelen] = '\0';
		e->namelen = namelen;
	}
	e->next = l->tab[h % LEASE_HASH];
	l->tab[h % LEASE_HASH] = e;
	dlist_append(&s->live, &e->link);
	l->n_leases++;
	if (sess_leases(s) >= l->shed_at && s->shed_reqid == 0)
		lease_shed(l, s);
	return 1;
}

uint32_t
mds_lease_grant(struct mds_lease *l, const struct mds_lconn *lc,
    uint64_t seq, uint64_t ino, uint64_t parent, const char *name,
    uint32_t namelen)
{
	uint32_t got = 0;
	struct mds_sess *s;

	if (lc == NULL)
		return 0;
	pthread_mutex_lock(&l->mu);
	s = lc->s;
	if (s->evicted || s->cb == NULL)
		goto out;
	if (ino != 0 && lease_grant_one(l, s, seq, ino, NULL, 0))
		got |= MSG_LEASE_ATTR;
	if (name != NULL && lease_grant_one(l, s, seq, parent, name, namelen))
		got |= MSG_LEASE_ENTRY;
out:
	pthread_mutex_unlock(&l->mu);
	return got;
}

/* Send one REVOKE frame (body b, len bytes) to s and note it in r. */
static void
round_send(struct mds_lease *l, struct round *r, struct mds_sess *s,
    const void *b, uint32_t len)
{
	struct round_item *it;

	if (r->n == r->cap) {
		struct round_item *v;

		r->cap = r->cap ? r->cap * 2 : 8;
		v = xcalloc((size_t)r->cap, sizeof(*v));
		if (r->n > 0)
			memcpy(v, r->item, (size_t)r->n * sizeof(*v));
		free(r->item);
		r->item = v;
	}
	it = &r->item[r->n];
	it->s = s;
	it->reqid = ++l->reqid;
	it->done = 0;
	if (msg_srv_send(s->cb->c, MSG_OP_MDS_REVOKE, it->reqid, b, len) < 0)
		return;		/* the connection is going: invariant 1 */
	s->refs++;
	r->n++;
}

/* Send one REVOKE for lease e (already unlinked) and note it in r. */
static void
lease_send(struct mds_lease *l, struct round *r, const struct lease *e)
{
	struct {
		struct msg_revoke	rv;
		char			name[MSG_NAME_MAX];
	} b;
	struct mds_sess *s = e->s;
	uint32_t len;
	int n = r->n;

	if (s->cb == NULL || s->evicted)
		return;
	len = revoke_body(e, &b.rv, b.name);
	round_send(l, r, s, &b, len);
	l->n_revoked += (uint64_t)(r->n - n);
}

/* Unlink and send every lease matching t held by others than self;
 * with drop, self's goes too, unsent. */
static void
lease_revoke_key(struct mds_lease *l, struct round *r,
    const struct mds_sess *self, uint64_t ino, const char *name,
    uint32_t namelen, int drop)
{
	uint64_t h = lease_hash(ino, name, namelen);
	struct lease **pp = &l->tab[h % LEASE_HASH], *e;

	l->slot_seq[h % LEASE_SEQ_SLOTS] = ++l->seq;
	while ((e = *pp) != NULL) {
		if ((e->s == self && !drop) ||
		    !lease_is(e, ino, name, namelen)) {
			pp = &e->next;
			continue;
		}
		*pp = e->next;
		lease_forget(e);
		if (e->s != self)
			lease_send(l, r, e);
		lease_free_one(e);
	}
}

/* Invariant 3 for one key: no revocation since seq. */
static int
lease_grantable(const struct mds_lease *l, uint64_t seq, uint64_t ino,
    const char *name, uint32_t namelen)
{
	uint64_t h = lease_hash(ino, name, namelen);

	return l->slot_seq[h % LEASE_SEQ_SLOTS] <= seq;
}

static int
lease_round_done(const struct round *r)
{
	for (int i = 0; i < r->n; i++)
		if (!r->item[i].done)
			return 0;
	return 1;
}

/*
 * Wait (l->mu held, released while waiting) until every REVOKE of r is
 * answered or revoke_ms passed; evict the silent (their ids into gone,
 * for mds_lock_drop_client after the mutex) and let r's sessions go.
 * Returns how many were evicted.
 */
static int
round_wait(struct mds_lease *l, struct round *r, const char *why,
    uint64_t *gone)
{
	struct timespec until;
	struct round **pp;
	int ngone = 0;

	r->next = l->rounds;
	l->rounds = r;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += l->revoke_ms / 1000;
	until.tv_nsec += (long)(l->revoke_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!lease_round_done(r))
		if (pthread_cond_timedwait(&l->cv, &l->mu, &until) != 0)
			break;
	for (pp = &l->rounds; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	for (int i = 0; i < r->n; i++) {
		struct mds_sess *s = r->item[i].s;

		if (!r->item[i].done && !s->evicted) {
			lease_evict(l, s, why);
			gone[ngone++] = s->client;
		}
		s->refs--;
		lease_sess_put(l, s);
	}
	return ngone;
}

void
mds_lease_revoke(struct mds_lease *l, const struct mds_lconn *lc,
    const struct mds_lease_tgt *t, int n)
{
	(void)mds_lease_change(l, lc, 0, t, n, NULL);
}

uint32_t
mds_lease_change(struct mds_lease *l, const struct mds_lconn *lc,
    uint64_t seq, const struct mds_lease_tgt *t, int n,
    const struct mds_lease_tgt *g)
{
	struct mds_sess *self = lc != NULL ? lc->s : NULL;
	int g_attr = 0, g_entry = 0, ngone = 0;
	uint64_t *gone = NULL;
	struct round r;
	uint32_t got = 0;

	memset(&r, 0, sizeof(r));
	pthread_mutex_lock(&l->mu);
	/* before this change's own revocations move the slots */
	if (g != NULL && self != NULL && !self->evicted && self->cb != NULL) {
		g_attr = g->ino != 0 && lease_grantable(l, seq, g->ino,
		    NULL, 0);
		g_entry = g->name != NULL && lease_grantable(l, seq,
		    g->parent, g->name, g->namelen);
	}
	for (int i = 0; i < n; i++) {
		if (t[i].ino != 0)
			lease_revoke_key(l, &r, self, t[i].ino, NULL, 0,
			    (t[i].drop & MSG_LEASE_ATTR) != 0);
		if (t[i].name != NULL)
			lease_revoke_key(l, &r, self, t[i].parent, t[i].name,
			    t[i].namelen, (t[i].drop & MSG_LEASE_ENTRY) != 0);
	}
	if (g_attr && lease_grant_one(l, self, UINT64_MAX, g->ino, NULL, 0))
		got |= MSG_LEASE_ATTR;
	if (g_entry && lease_grant_one(l, self, UINT64_MAX, g->parent,
	    g->name, g->namelen))
		got |= MSG_LEASE_ENTRY;
	if (r.n == 0)
		goto out;
	gone = xcalloc((size_t)r.n, sizeof(*gone));
	ngone = round_wait(l, &r, "no answer to a revocation", gone);
out:
	pthread_mutex_unlock(&l->mu);
	for (int i = 0; i < ngone; i++)
		mds_lock_drop_client(l->locks, gone[i]);
	free(gone);
	free(r.item);
	return got;
}

/* Is dir delegated to a session other than self? l->mu held. */
static int
lease_deleg_other(const struct mds_lease *l, const struct mds_sess *self,
    uint64_t dir)
{
	uint64_t h = lease_hash(dir, MSG_DELEG_NAME,
	    sizeof(MSG_DELEG_NAME) - 1);

	for (const struct lease *e = l->tab[h % LEASE_HASH]; e != NULL;
	    e = e->next)
		if (e->s != self && e->ino == dir && lease_is_deleg(e))
			return 1;
	return 0;
}

int
mds_lease_recall(struct mds_lease *l, const struct mds_lconn *lc,
    uint64_t dir)
{
	struct mds_lease_tgt t = {
		.parent = dir, .name = MSG_DELEG_NAME,
		.namelen = sizeof(MSG_DELEG_NAME) - 1,
	};
	int held;

	if (dir == 0)
		return 0;
	pthread_mutex_lock(&l->mu);
	held = lease_deleg_other(l, lc != NULL ? lc->s : NULL, dir);
	l->n_recalls += (uint64_t)held;
	pthread_mutex_unlock(&l->mu);
	/* one granted after this look is granted with a MKDIR, of a
	 * directory this request cannot name yet */
	if (held)
		mds_lease_revoke(l, lc, &t, 1);
	return held;
}

void
mds_lease_recall_all(struct mds_lease *l)
{
	struct buf dirs;	/* uint64_t inode numbers */
	uint64_t dir;

	buf_init(&dirs, 16 * sizeof(dir));
	pthread_mutex_lock(&l->mu);
	for (int i = 0; i < LEASE_HASH; i++)
		for (const struct lease *e = l->tab[i]; e != NULL;
		    e = e->next)
			if (lease_is_deleg(e))
				buf_add(&dirs, &e->ino, sizeof(e->ino));
	pthread_mutex_unlock(&l->mu);
	for (size_t off = 0; off < dirs.len; off += sizeof(dir)) {
		memcpy(&dir, dirs.p + off, sizeof(dir));
		(void)mds_lease_recall(l, NULL, dir);
	}
	buf_fini(&dirs);
}

/* A ping's thread: one REVOKE that revokes nothing (flags 0), answered
 * like any; silence until revoke_ms evicts, which frees the locks. */
struct ping {
	struct mds_lease	*l;
	struct mds_sess		*s;
};

static void *
ping_main(void *arg)
{
	struct ping *p = arg;
	struct mds_lease *l = p->l;
	struct mds_sess *s = p->s;
	struct msg_revoke rv;
	struct round r;
	uint64_t gone = 0;
	int ngone = 0;

	free(p);
	memset(&r, 0, sizeof(r));
	memset(&rv, 0, sizeof(rv));
	pthread_mutex_lock(&l->mu);
	if (s->cb != NULL && !s->evicted)
		round_send(l, &r, s, &rv, sizeof(rv));
	if (r.n > 0)
		ngone = round_wait(l, &r, "no answer to a lock conflict ping",
		    &gone);
	if (r.n > 0 && ngone == 0)
		s->ping_ok_ns = now_mono_ns();
	s->pinging = 0;
	s->refs--;
	lease_sess_put(l, s);
	l->npings--;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	if (ngone > 0)
		mds_lock_drop_client(l->locks, gone);
	free(r.item);
	return NULL;
}

void
mds_lease_ping(struct mds_lease *l, uint64_t client)
{
	struct mds_sess *s;
	struct ping *p;
	pthread_attr_t at;
	pthread_t t;

	pthread_mutex_lock(&l->mu);
	for (s = l->sessions; s != NULL; s = s->next)
		if (s->client == client)
			break;
	if (s == NULL || s->evicted || s->cb == NULL || s->pinging ||
	    now_mono_ns() - s->ping_ok_ns < MDS_LEASE_PING_NS) {
		pthread_mutex_unlock(&l->mu);
		return;
	}
	s->pinging = 1;
	s->refs++;
	p = xcalloc(1, sizeof(*p));
	p->l = l;
	p->s = s;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &at, ping_main, p) == 0) {
		l->npings++;
	} else {
		s->pinging = 0;
		s->refs--;
		free(p);
	}
	pthread_attr_destroy(&at);
	pthread_mutex_unlock(&l->mu);
}

void
mds_lease_answer(struct mds_lease *l, const struct mds_lconn *lc,
    uint64_t reqid)
{
	struct mds_sess *s;
	struct lease *e;

	if (lc == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	s = lc->s;
	for (struct round *r = l->rounds; r != NULL; r = r->next)
		for (int i = 0; i < r->n; i++)
			if (r->item[i].s == s &&
			    r->item[i].reqid == reqid) {
				r->item[i].done = 1;
				pthread_cond_broadcast(&l->cv);
			}
	/* invariant 6: the client dropped every lease revoked up to reqid */
	while ((e = lease_first(&s->leaving)) != NULL &&
	    e->leaving <= reqid) {
		uint64_t h = lease_hash(e->ino, e->name, e->namelen);
		struct lease **pp = &l->tab[h % LEASE_HASH];

		while (*pp != e)
			pp = &(*pp)->next;
		*pp = e->next;
		lease_forget(e);
		lease_free_one(e);
	}
	if (s->shed_reqid != 0 && reqid >= s->shed_reqid)
		s->shed_reqid = 0;
	pthread_mutex_unlock(&l->mu);
}

size_t
mds_lease_stats(struct mds_lease *l, char *buf, size_t cap)
{
	unsigned live = 0;
	uint64_t held = 0;
	int k;

	pthread_mutex_lock(&l->mu);
	for (struct mds_sess *s = l->sessions; s != NULL; s = s->next) {
		live += !s->evicted;
		held += sess_leases(s);
	}
	k = snprintf(buf, cap, "mds_sessions %u\nmds_leases %llu\n"
	    "mds_leases_granted %llu\nmds_revocations %llu\n"
	    "mds_evictions %llu\nmds_leases_shed %llu\n"
	    "mds_recalls %llu\n", live,
	    (unsigned long long)held, (unsigned long long)l->n_leases,
	    (unsigned long long)l->n_revoked,
	    (unsigned long long)l->n_evicted,
	    (unsigned long long)l->n_shed,
	    (unsigned long long)l->n_recalls);
	pthread_mutex_unlock(&l->mu);
	if (k < 0 || (size_t)k >= cap)
		return 0;
	return (size_t)k;
}
