/*
 * The lock manager (see mds_lock.h for the contract and the invariants it
 * keeps). Inodes with locks or waiters are in a hash table; each has a
 * list of granted locks (both sets, told apart by `flock`) and a FIFO of
 * waiters. One mutex covers everything: lock requests are rare next to
 * the namespace traffic, and every operation here is a short list walk.
 *
 *   request --conflict, !wait--> -EAGAIN
 *      |   --conflict, wait, cycle--> -EDEADLK       lk_deadlock()
 *      |   --conflict, wait--> QUEUED --release--> granted, wake(arg, 0)
 *      |                          |                  lk_retry()
 *      |                          +--cancel / drop_client--> forgotten
 *      +--no conflict--> granted (ranges split and merged: lk_apply())
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "mds/mds_lock.h"
#include "msg/msg.h"

#define LK_HASH		1024
#define LK_WALK_MAX	256		/* owners visited by lk_deadlock() */

struct lk {
	struct mds_lock_req	r;	/* wait unused */
	struct lk		*next;
};

struct lk_waiter {
	struct mds_lock_req	r;
	mds_lock_wake_fn	wake;
	void			*arg;
	const void		*key;
	struct lk_waiter	*next;
};

struct lk_ino {
	uint64_t		ino;
	struct lk		*locks;
	struct lk_waiter	*waiters;	/* arrival order */
	struct lk_ino		*next;
};

struct mds_lock {
	pthread_mutex_t	mu;
	struct lk_ino	*tab[LK_HASH];
	unsigned	nlocks;
};

struct mds_lock *
mds_lock_new(void)
{
	struct mds_lock *lm = xcalloc(1, sizeof(*lm));

	pthread_mutex_init(&lm->mu, NULL);
	return lm;
}

static void
lk_ino_free(struct lk_ino *li)
{
	struct lk *l, *ln;
	struct lk_waiter *w, *wn;

	for (l = li->locks; l != NULL; l = ln) {
		ln = l->next;
		free(l);
	}
	for (w = li->waiters; w != NULL; w = wn) {
		wn = w->next;
		w->wake(w->arg, -ECANCELED);
		free(w);
	}
	free(li);
}

void
mds_lock_free(struct mds_lock *lm)
{
	struct lk_ino *li, *next;

	if (lm == NULL)
		return;
	for (int i = 0; i < LK_HASH; i++)
		for (li = lm->tab[i]; li != NULL; li = next) {
			next = li->next;
			lk_ino_free(li);
		}
	pthread_mutex_destroy(&lm->mu);
	free(lm);
}

static struct lk_ino *
lk_ino_get(struct mds_lock *lm, uint64_t ino, int create)
{
	struct lk_ino *li;

	for (li = lm->tab[ino % LK_HASH]; li != NULL; li = li->next)
		if (li->ino == ino)
			return li;
	if (!create)
		return NULL;
	li = xcalloc(1, sizeof(*li));
	li->ino = ino;
	li->next = lm->tab[ino % LK_HASH];
	lm->tab[ino % LK_HASH] = li;
	return li;
}

/* Drop an inode's entry once it holds nothing. */
static void
lk_ino_put(struct mds_lock *lm, struct lk_ino *li)
{
	struct lk_ino **pp;

	if (li->locks != NULL || li->waiters != NULL)
		return;
	for (pp = &lm->tab[li->ino % LK_HASH]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == li) {
			*pp = li->next;
			free(li);
			return;
		}
}

static int
lk_same_owner(const struct mds_lock_req *a, const struct mds_lock_req *b)
{
	return a->client == b->client && a->owner == b->owner;
}

static int
lk_overlap(const struct mds_lock_req *a, const struct mds_lock_req *b)
{
	return a->start <= b->end && b->start <= a->end;
}

/* Invariant 2: does granted lock g stop request r? */
static int
lk_conflict(const struct mds_lock_req *g, const struct mds_lock_req *r)
{
	if (g->flock != r->flock || lk_same_owner(g, r) || !lk_overlap(g, r))
		return 0;
	return g->type == MSG_LK_WR || r->type == MSG_LK_WR;
}

static struct lk *
lk_first_conflict(struct lk_ino *li, const struct mds_lock_req *r)
{
	for (struct lk *l = li->locks; l != NULL; l = l->next)
		if (lk_conflict(&l->r, r))
			return l;
	return NULL;
}

static struct lk *
lk_new(struct mds_lock *lm, const struct mds_lock_req *r, uint64_t start,
    uint64_t end)
{
	struct lk *l = xcalloc(1, sizeof(*l));

	l->r = *r;
	l->r.wait = 0;
	l->r.start = start;
	l->r.end = end;
	lm->nlocks++;
	return l;
}

/*
 * Invariant 1: set r (or clear, MSG_LK_UN) over [r->start, r->end] for
 * r's owner. Its locks that overlap keep only what lies outside the
 * range, unless they have r's type: then they, and same-typed neighbours
 * that touch the range, are merged into the new lock.
 */
static void
lk_apply(struct mds_lock *lm, struct lk_ino *li, const struct mds_lock_req *r)
{
	struct lk **pp, *l, *keep = NULL, **kt = &keep;
	struct mds_lock_req cur = *r;	/* grows by merges */
	int merged;

	do {
		merged = 0;
		pp = &li->locks;
		while ((l = *pp) != NULL) {
			int mine = lk_same_owner(&l->r, r) &&
			    l->r.flock == r->flock;
			int touch = (l->r.end != MDS_LOCK_EOF &&
			    l->r.end + 1 == cur.start) ||
			    (cur.end != MDS_LOCK_EOF &&
			    cur.end + 1 == l->r.start);

			if (!mine || (!lk_overlap(&l->r, &cur) &&
			    !(touch && l->r.type == r->type))) {
				pp = &l->next;
				continue;
			}
			*pp = l->next;		/* unlink l */
			if (l->r.type == r->type) {
				if (l->r.start < cur.start)
					cur.start = l->r.start;
				if (l->r.end > cur.end)
					cur.end = l->r.end;
				merged = 1;
			} else {
				/* disjoint from cur's growth (invariant 1) */
				if (l->r.start < r->start) {
					*kt = lk_new(lm, &l->r, l->r.start,
					    r->start - 1);
					kt = &(*kt)->next;
				}
				if (l->r.end > r->end) {
					*kt = lk_new(lm, &l->r, r->end + 1,
					    l->r.end);
					kt = &(*kt)->next;
				}
			}
			free(l);
			lm->nlocks--;
		}
	} while (merged && r->type != MSG_LK_UN);
	if (r->type != MSG_LK_UN) {
		*kt = lk_new(lm, r, cur.start, cur.end);
		kt = &(*kt)->next;
	}
	*kt = li->locks;
	li->locks = keep;
}

/* The waiter of owner o, if it waits (a POSIX owner waits for one lock
 * at a time: its process is blocked). */
static struct lk_waiter *
lk_waiting(struct mds_lock *lm, const struct mds_lock_req *o,
    struct lk_ino **where)
{
	for (int i = 0; i < LK_HASH; i++)
		for (struct lk_ino *li = lm->tab[i]; li; li = li->next)
			for (struct lk_waiter *w = li->waiters; w;
			    w = w->next)
				if (!w->r.flock && lk_same_owner(&w->r, o)) {
					*where = li;
					return w;
				}
	return NULL;
}

/*
 * Invariant 4: would r waiting on li close a cycle? Walk from the owners
 * r waits on, through the locks their own waiters wait on, looking for
 * r's owner. The walk is bounded; past the bound it answers no.
 */
static int
lk_deadlock(struct mds_lock *lm, struct lk_ino *li,
    const struct mds_lock_req *r)
{
	struct { struct lk_ino *li; const struct mds_lock_req *r; }
	    stack[LK_WALK_MAX];
	int top = 0, visited = 0;

	stack[top].li = li;
	stack[top].r = r;
	top++;
	while (top > 0 && visited < LK_WALK_MAX) {
		struct lk_ino *cur = stack[top - 1].li;
		const struct mds_lock_req *want = stack[top - 1].r;

		top--;
		visited++;
		for (struct lk *l = cur->locks; l != NULL; l = l->next) {
			struct lk_waiter *w;
			struct lk_ino *wli;

			if (l->r.flock || !lk_conflict(&l->r, want))
				continue;
			if (lk_same_owner(&l->r, r))
				return 1;
			w = lk_waiting(lm, &l->r, &wli);
			if (w != NULL && top < LK_WALK_MAX) {
				stack[top].li = wli;
				stack[top].r = &w->r;
				top++;
			}
		}
	}
	return 0;
}

/* Invariant 3: grant, in arrival order, the waiters that fit now. */
static void
lk_retry(struct mds_lock *lm, struct lk_ino *li)
{
	struct lk_waiter **pp = &li->waiters, *w;

	while ((w = *pp) != NULL) {
		if (lk_first_conflict(li, &w->r) != NULL) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		lk_apply(lm, li, &w->r);
		w->wake(w->arg, 0);
		free(w);
	}
}

static int
lk_check(const struct mds_lock_req *rq)
{
	if (rq->start > rq->end || rq->type > MSG_LK_UN)
		return -EINVAL;
	return 0;
}

int
mds_lock_set(struct mds_lock *lm, const struct mds_lock_req *rq,
    mds_lock_wake_fn wake, void *arg, const void *key)
{
	struct mds_lock_req r = *rq;
	struct lk_waiter *w, **pp;
	struct lk_ino *li;
	int rc = 0;

	if (r.flock) {
		r.start = 0;
		r.end = MDS_LOCK_EOF;
	}
	rc = lk_check(&r);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&lm->mu);
	li = lk_ino_get(lm, r.ino, r.type != MSG_LK_UN);
	if (li == NULL)
		goto out;		/* nothing to unlock */
	if (r.type == MSG_LK_UN) {
		lk_apply(lm, li, &r);
		lk_retry(lm, li);
		goto out_put;
	}
	if (lk_first_conflict(li, &r) == NULL) {
		lk_apply(lm, li, &r);
		/* a downgrade or a shrink may let others in */
		lk_retry(lm, li);
		goto out_put;
	}
	if (!r.wait || wake == NULL) {
		rc = -EAGAIN;
		goto out_put;
	}
	if (!r.flock && lk_deadlock(lm, li, &r)) {
		rc = -EDEADLK;
		goto out_put;
	}
	/* flock converts by release then wait, as Linux does */
	if (r.flock) {
		struct mds_lock_req un = r;

		un.type = MSG_LK_UN;
		lk_apply(lm, li, &un);
		lk_retry(lm, li);
	}
	w = xcalloc(1, sizeof(*w));
	w->r = r;
	w->wake = wake;
	w->arg = arg;
	w->key = key;
	for (pp = &li->waiters; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = w;
	rc = MDS_LOCK_QUEUED;
	/* the release above may have been all it took */
	lk_retry(lm, li);
out_put:
	lk_ino_put(lm, li);
out:
	pthread_mutex_unlock(&lm->mu);
	return rc;
}

int
mds_lock_test(struct mds_lock *lm, const struct mds_lock_req *rq,
    struct mds_lock_req *out)
{
	struct mds_lock_req r = *rq;
	struct lk_ino *li;
	struct lk *l = NULL;
	int rc;

	if (r.flock) {
		r.start = 0;
		r.end = MDS_LOCK_EOF;
	}
	rc = lk_check(&r);
	if (rc < 0)
		return rc;
	*out = r;
	out->type = MSG_LK_UN;
	pthread_mutex_lock(&lm->mu);
	li = lk_ino_get(lm, r.ino, 0);
	if (li != NULL && r.type != MSG_LK_UN)
		l = lk_first_conflict(li, &r);
	if (l != NULL)
		*out = l->r;
	pthread_mutex_unlock(&lm->mu);
	return 0;
}

int
mds_lock_cancel(struct mds_lock *lm, const void *key)
{
	int n = 0;

	pthread_mutex_lock(&lm->mu);
	for (int i = 0; i < LK_HASH; i++) {
		struct lk_ino *li, *next;

		for (li = lm->tab[i]; li != NULL; li = next) {
			struct lk_waiter **pp = &li->waiters, *w;

			next = li->next;
			while ((w = *pp) != NULL) {
				if (w->key != key) {
					pp = &w->next;
					continue;
				}
				*pp = w->next;
				w->wake(w->arg, -ECANCELED);
				free(w);
				n++;
			}
			lk_ino_put(lm, li);
		}
	}
	pthread_mutex_unlock(&lm->mu);
	return n;
}

int
mds_lock_drop_client(struct mds_lock *lm, uint64_t client)
{
	int n = 0;

	pthread_mutex_lock(&lm->mu);
	for (int i = 0; i < LK_HASH; i++) {
		struct lk_ino *li, *next;

		for (li = lm->tab[i]; li != NULL; li = next) {
			struct lk **lp = &li->locks, *l;
			struct lk_waiter **wp = &li->waiters, *w;
			int dropped = 0;

			next = li->next;
			while ((w = *wp) != NULL) {
				if (w->r.client != client) {
					wp = &w->next;
					continue;
				}
				*wp = w->next;
				w->wake(w->arg, -ECANCELED);
				free(w);
			}
			while ((l = *lp) != NULL) {
				if (l->r.client != client) {
					lp = &l->next;
					continue;
				}
				*lp = l->next;
				free(l);
				lm->nlocks--;
				dropped++;
			}
			if (dropped > 0)
				lk_retry(lm, li);
			n += dropped;
			lk_ino_put(lm, li);
		}
	}
	pthread_mutex_unlock(&lm->mu);
	return n;
}

unsigned
mds_lock_count(struct mds_lock *lm)
{
	unsigned n;

	pthread_mutex_lock(&lm->mu);
	n = lm->nlocks;
	pthread_mutex_unlock(&lm->mu);
	return n;
}
