/*
 * The OST map and the MDS's connections to the OSSes (see mds_ost.h).
 *
 * Entries are allocated once and never freed before mds_ost_free(), so a
 * pointer taken under the table lock stays valid after it is released; each
 * entry's own lock serialises its connection (one request at a time).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "mds/mds_ost.h"

#define OST_MAX		4096	/* entries in one map */
#define OST_IO_TIMEOUT	10	/* seconds per reply */

struct ost {
	pthread_mutex_t	lock;
	struct msg_ost_ent ent;
	int		fd;
};

struct mds_osts {
	pthread_mutex_t	lock;
	struct ost	**v;
	unsigned	n;
	uint8_t		secret[MSG_SECRET_LEN];
};

struct mds_osts *
mds_ost_new(const uint8_t *secret)
{
	struct mds_osts *o = xcalloc(1, sizeof(*o));

	pthread_mutex_init(&o->lock, NULL);
	memcpy(o->secret, secret, MSG_SECRET_LEN);
	return o;
}

void
mds_ost_free(struct mds_osts *o)
{
	if (o == NULL)
		return;
	for (unsigned i = 0; i < o->n; i++) {
		if (o->v[i]->fd >= 0)
			close(o->v[i]->fd);
		pthread_mutex_destroy(&o->v[i]->lock);
		free(o->v[i]);
	}
	free(o->v);
	memset(o->secret, 0, sizeof(o->secret));
	pthread_mutex_destroy(&o->lock);
	free(o);
}

static struct ost *
ost_find(struct mds_osts *o, uint32_t idx)
{
	for (unsigned i = 0; i < o->n; i++)
		if (o->v[i]->ent.ost == idx)
			return o->v[i];
	return NULL;
}

static int
ent_valid(const struct msg_ost_ent *e)
{
	size_t hl = strnlen(e->host, sizeof(e->host));

	return hl > 0 && hl < sizeof(e->host) && e->port > 0;
}

int
mds_ost_valid(const struct msg_ost_ent *e, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!ent_valid(&e[i]))
			return 0;
	return 1;
}

int
mds_ost_merge(struct mds_osts *o, const struct msg_ost_ent *e, unsigned n)
{
	struct ost *t;
	int rc = 0;

	if (!mds_ost_valid(e, n))
		return -EINVAL;
	pthread_mutex_lock(&o->lock);
	for (unsigned i = 0; i < n; i++) {
		t = ost_find(o, e[i].ost);
		if (t != NULL) {
			pthread_mutex_lock(&t->lock);
			if (strcmp(t->ent.host, e[i].host) != 0 ||
			    t->ent.port != e[i].port) {
				if (t->fd >= 0)
					close(t->fd);
				t->fd = -1;
			}
			t->ent = e[i];
			pthread_mutex_unlock(&t->lock);
			continue;
		}
		if (o->n >= OST_MAX) {
			rc = -ENOSPC;
			break;
		}
		t = xcalloc(1, sizeof(*t));
		pthread_mutex_init(&t->lock, NULL);
		t->ent = e[i];
		t->ent.pad = 0;
		t->fd = -1;
		o->v = realloc(o->v, (o->n + 1) * sizeof(*o->v));
		if (o->v == NULL)
			fatal("out of memory");
		o->v[o->n++] = t;
	}
	pthread_mutex_unlock(&o->lock);
	return rc;
}

static int
ent_cmp(const void *a, const void *b)
{
	const struct msg_ost_ent *x = a, *y = b;

	return x->ost < y->ost ? -1 : x->ost > y->ost;
}

unsigned
mds_ost_list(struct mds_osts *o, struct msg_ost_ent *out, unsigned max)
{
	unsigned n, k = 0;

	pthread_mutex_lock(&o->lock);
	n = o->n;
	for (unsigned i = 0; i < n && k < max; i++) {
		pthread_mutex_lock(&o->v[i]->lock);
		out[k++] = o->v[i]->ent;
		pthread_mutex_unlock(&o->v[i]->lock);
	}
	pthread_mutex_unlock(&o->lock);
	qsort(out, k, sizeof(*out), ent_cmp);
	return n;
}

unsigned
mds_ost_count(struct mds_osts *o)
{
	unsigned n;

	pthread_mutex_lock(&o->lock);
	n = o->n;
	pthread_mutex_unlock(&o->lock);
	return n;
}

int
mds_ost_setcap(struct mds_osts *o, uint32_t ost, uint64_t capacity)
{
	struct ost *t;

	pthread_mutex_lock(&o->lock);
	t = ost_find(o, ost);
	if (t != NULL) {
		pthread_mutex_lock(&t->lock);
		t->ent.capacity = capacity;
		pthread_mutex_unlock(&t->lock);
	}
	pthread_mutex_unlock(&o->lock);
	return t != NULL ? 0 : -ENODEV;
}

static int
is_transport_err(int rc)
{
	switch (rc) {
	case -ECONNRESET:
	case -ECONNREFUSED:
	case -EPIPE:
	case -EPROTO:
	case -ETIMEDOUT:
	case -EHOSTUNREACH:
	case -ENOTCONN:
	case -EBADF:
		return 1;
	default:
		return 0;
	}
}

static int
ost_connect(struct mds_osts *o, struct ost *t)
{
	struct timeval tv = { OST_IO_TIMEOUT, 0 };
	uint32_t kind = 0;
	int fd;

	fd = msg_connect(t->ent.host, t->ent.port, o->secret, &kind);
	if (fd < 0)
		return fd;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	t->fd = fd;
	return 0;
}

int
mds_ost_call(struct mds_osts *o, uint32_t ost, uint16_t op,
    const void *body, uint32_t len, void *rbody, uint32_t cap,
    uint32_t *rlen)
{
	return mds_ost_call_bulk(o, ost, op, body, len, NULL, 0, rbody, cap,
	    rlen);
}

int
mds_ost_call_bulk(struct mds_osts *o, uint32_t ost, uint16_t op,
    const void *body, uint32_t len, const void *bulk, uint32_t blen,
    void *rbody, uint32_t cap, uint32_t *rlen)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)bulk,
			     .iov_len = blen };
	struct ost *t;
	int rc = -ECONNRESET;

	pthread_mutex_lock(&o->lock);
	t = ost_find(o, ost);
	pthread_mutex_unlock(&o->lock);
	if (t == NULL)
		return -ENODEV;
	pthread_mutex_lock(&t->lock);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (t->fd < 0) {
			rc = ost_connect(o, t);
			if (rc < 0)
				break;
		}
		rc = msg_call(t->fd, op, 0, body, len, blen ? &iov : NULL,
		    blen ? 1 : 0, rbody, cap, rlen, NULL, 0, NULL);
		if (!is_transport_err(rc) && rc != -EMSGSIZE)
			break;
		close(t->fd);
		t->fd = -1;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}
