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
#define OST_MAP_MAX	(1024 * 1024)
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
mds_ost_merge(struct mds_osts *o, const struct msg_ost_ent *e, unsigned n)
{
	struct ost *t;
	int rc = 0;

	for (unsigned i = 0; i < n; i++)
		if (!ent_valid(&e[i]))
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

/* Parse "IDX HOST PORT CAPACITY" lines; '#' comments and blanks skipped. */
static int
map_parse(char *text, struct msg_ost_ent **out, unsigned *nout)
{
	struct msg_ost_ent *v = NULL;
	unsigned n = 0;
	char *line, *save = NULL;
	int rc = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		unsigned long long idx, port, cap;
		char host[64], extra[2];
		int k;

		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#' || *line == '\r')
			continue;
		k = sscanf(line, "%llu %63s %llu %llu %1s", &idx, host, &port,
		    &cap, extra);
		if (k != 4 || idx > UINT32_MAX || port == 0 || port > 65535 ||
		    strlen(host) >= sizeof(v->host) || n >= OST_MAX) {
			rc = -EINVAL;
			break;
		}
		v = realloc(v, (n + 1) * sizeof(*v));
		if (v == NULL)
			fatal("out of memory");
		memset(&v[n], 0, sizeof(v[n]));
		v[n].ost = (uint32_t)idx;
		v[n].port = (uint16_t)port;
		snprintf(v[n].host, sizeof(v[n].host), "%s", host);
		v[n].capacity = cap;
		n++;
	}
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	*nout = n;
	return 0;
}

int
mds_ost_load(struct mds_osts *o, const char *path)
{
	struct msg_ost_ent *v = NULL;
	char *text = NULL;
	size_t len;
	unsigned n = 0;
	int rc;

	rc = file_read_all(path, &text, &len, OST_MAP_MAX);
	if (rc < 0)
		return rc;
	rc = map_parse(text, &v, &n);
	free(text);
	if (rc < 0) {
		log_err("mds: %s: malformed OST map", path);
		return rc;
	}
	rc = mds_ost_merge(o, v, n);
	free(v);
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
mds_ost_save(struct mds_osts *o, const char *path)
{
	struct msg_ost_ent *v;
	unsigned n;
	char *buf;
	size_t cap, len = 0;
	int rc;

	n = mds_ost_count(o);
	v = xcalloc(n ? n : 1, sizeof(*v));
	n = mds_ost_list(o, v, n);
	cap = (size_t)n * 128 + 1;
	buf = xmalloc(cap);
	buf[0] = '\0';
	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%u %s %u %llu\n",
		    v[i].ost, v[i].host, v[i].port,
		    (unsigned long long)v[i].capacity);
	rc = file_write_atomic(path, buf, len);
	free(buf);
	free(v);
	return rc;
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
		rc = msg_call(t->fd, op, 0, body, len, NULL, 0, rbody, cap,
		    rlen, NULL, 0, NULL);
		if (!is_transport_err(rc) && rc != -EMSGSIZE)
			break;
		close(t->fd);
		t->fd = -1;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}
