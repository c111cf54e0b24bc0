/*
 * The agent as a client of its file system: see hsm_fs.h.
 *
 * This file is the one place outside libfsx that uses its internals
 * (fsc_int.h): the HSM requests go through fsc_mds_call (so they get its
 * reconnects and resends), and the callback connection is dialled with
 * the struct fsc's own client id, which is how the MDS knows every
 * connection of this client as the agent's (msg.h).
 *
 * Threads: hsm_fs_get is called by the worker and the restore threads;
 * h->fs_mu serialises connecting. Lock order: h->mu before h->fs_mu. The callback thread only reads frames,
 * answers them and queues actions under h->mu.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "fsc/fsc_int.h"
#include "hsm/hsm_fs.h"

#define MDS_ORIGIN_CAP	2048	/* MDS_HSM_ORIGIN_MAX */

const struct msg_cred hsm_root = { 0, 0 };

/* Serve HSM_ACTION frames on fd until it fails. */
static void
cb_serve(struct hsm *h, int fd)
{
	struct {
		struct msg_hsm_action	a;
		char			origin[2048];
	} b;
	char rbuf[MSG_IN_BUF];
	struct msg_in in;
	struct msg_hdr hd;
	int rc;

	msg_in_init(&in, fd, rbuf, sizeof(rbuf));
	for (;;) {
		struct hsm_action *act;

		rc = msg_in_hdr(&in, &hd, 1);
		if (rc < 0)
			return;
		if (hd.bulk_len != 0 || hd.body_len > sizeof(b) ||
		    (hd.flags & MSG_F_REPLY) ||
		    hd.opcode != MSG_OP_MDS_HSM_ACTION) {
			log_warn("hsm: unexpected frame (op %u) on the "
			    "callback connection", hd.opcode);
			return;
		}
		memset(&b, 0, sizeof(b));
		rc = msg_in_payload(&in, &hd, &b, sizeof(b), NULL, 0);
		if (rc < 0)
			return;
		if (hd.body_len < sizeof(b.a) ||
		    b.a.origin_len >= sizeof(b.origin) ||
		    hd.body_len != sizeof(b.a) + b.a.origin_len) {
			log_warn("hsm: malformed HSM_ACTION");
			return;
		}
		rc = msg_send(fd, hd.opcode, MSG_F_REPLY, hd.reqid, 0, NULL,
		    0, NULL, 0);
		if (rc < 0)
			return;
		act = xcalloc(1, sizeof(*act));
		act->action = b.a.action;
		act->flags = b.a.flags;
		act->ino = b.a.ino;
		act->size = b.a.size;
		memcpy(act->origin, b.origin, b.a.origin_len);
		pthread_mutex_lock(&h->mu);
		if (act->action == MSG_HSM_RESTORE) {
			hsm_action_push(&h->restores, act);
			pthread_cond_signal(&h->rcond);
		} else {
			hsm_action_push(&h->events, act);
			pthread_cond_broadcast(&h->cond);
		}
		pthread_mutex_unlock(&h->mu);
	}
}

static void *
cb_main(void *arg)
{
	struct hsm *h = arg;
	int fd;

	pthread_mutex_lock(&h->fs_mu);
	fd = h->cb_fd;
	pthread_mutex_unlock(&h->fs_mu);
	cb_serve(h, fd);
	log_info("hsm: callback connection to the MDS ended");
	pthread_mutex_lock(&h->fs_mu);
	if (h->cb_fd == fd) {
		close(fd);
		h->cb_fd = -1;
	}
	pthread_mutex_unlock(&h->fs_mu);
	return NULL;
}

/* Dial the callback connection and register (fs_mu held). */
static int
cb_open(struct hsm *h, uint32_t restore_ms)
{
	struct msg_hsm_reg reg;
	struct fsc_req r;
	int fd, rc;

	fd = fsc_conn_dial_mds(h->fs, 0);
	if (fd < 0)
		return fd;
	memset(&reg, 0, sizeof(reg));
	reg.restore_ms = restore_ms;
	fsc_req_init(&r, MSG_OP_MDS_HSM_REGISTER, &reg, sizeof(reg));
	rc = fsc_conn_call_fd(h->fs, fd, &r);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	if (h->cb_up) {
		pthread_join(h->cb_thr, NULL);
		h->cb_up = 0;
	}
	h->cb_fd = fd;
	rc = pthread_create(&h->cb_thr, NULL, cb_main, h);
	if (rc != 0) {
		close(fd);
		h->cb_fd = -1;
		return -rc;
	}
	h->cb_up = 1;
	log_info("hsm: registered with the MDS at %s", h->fs_at);
	return 0;
}

/* Drop the connection (fs_mu held). */
static void
fs_drop(struct hsm *h)
{
	int fd = h->cb_fd;

	h->cb_fd = -1;
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
	if (h->cb_up) {
		pthread_mutex_unlock(&h->fs_mu);
		pthread_join(h->cb_thr, NULL);
		pthread_mutex_lock(&h->fs_mu);
		h->cb_up = 0;
	}
	if (fd >= 0)
		close(fd);
	if (h->fs != NULL)
		fsc_free(h->fs);
	h->fs = NULL;
	h->fs_at[0] = '\0';
}

struct fsc *
hsm_fs_get(struct hsm *h)
{
	struct fsc_conf c;
	char at[sizeof(h->fs_at)], host[128];
	struct fsc *fs;
	int port, err = 0;
	uint32_t restore_ms;

	/* lock order: mu, then fs_mu; never mu inside fs_mu */
	pthread_mutex_lock(&h->mu);
	snprintf(at, sizeof(at), "%s", h->mds);
	restore_ms = (uint32_t)h->restore_ms;
	pthread_mutex_unlock(&h->mu);
	pthread_mutex_lock(&h->fs_mu);
	if (h->fs != NULL && strcmp(at, h->fs_at) != 0)
		fs_drop(h);
	if (h->fs == NULL && at[0] != '\0' &&
	    parse_hostport(at, host, sizeof(host), &port) == 0) {
		memset(&c, 0, sizeof(c));
		c.mds_host = host;
		c.mds_port = port;
		memcpy(c.secret, h->secret, sizeof(c.secret));
		c.retry_secs = 10;
		c.readahead_kb = -1;
		c.noatime = 1;
		h->fs = fsc_open(&c, &err);
		explicit_bzero(c.secret, sizeof(c.secret));
		if (h->fs == NULL)
			log_warn("hsm: MDS %s: %s", at, strerror(-err));
		else
			snprintf(h->fs_at, sizeof(h->fs_at), "%s", at);
	}
	if (h->fs != NULL && h->cb_fd < 0) {
		err = cb_open(h, restore_ms);
		if (err < 0)
			log_warn("hsm: registering with the MDS %s: %s", at,
			    strerror(-err));
	}
	fs = h->fs;
	pthread_mutex_unlock(&h->fs_mu);
	return fs;
}

int
hsm_registered(struct hsm *h)
{
	int yes;

	pthread_mutex_lock(&h->fs_mu);
	yes = h->fs != NULL && h->cb_fd >= 0 && strcmp(h->fs_at, h->mds) == 0;
	pthread_mutex_unlock(&h->fs_mu);
	return yes;
}

void
hsm_fs_fini(struct hsm *h)
{
	pthread_mutex_lock(&h->fs_mu);
	fs_drop(h);
	pthread_mutex_unlock(&h->fs_mu);
}

/* ---- HSM requests ---- */

int
hsm_fs_state(struct fsc *fs, uint64_t ino, struct msg_hsm_state *st,
    char *origin, size_t cap)
{
	struct msg_ino b = { .ino = ino, .cred = hsm_root };
	char tmp[MDS_ORIGIN_CAP];
	struct iovec iov;
	struct fsc_req r;
	int rc;

	if (origin == NULL || cap == 0) {	/* the reply carries it anyway */
		origin = tmp;
		cap = sizeof(tmp);
	}
	iov.iov_base = origin;
	iov.iov_len = cap - 1;

	fsc_req_init(&r, MSG_OP_MDS_HSM_GET, &b, sizeof(b));
	memset(st, 0, sizeof(*st));
	r.rbody = st;
	r.rbody_cap = sizeof(*st);
	r.rbulk = &iov;
	r.nrbulk = 1;
	rc = fsc_mds_call(fs, &r);
	if (rc == 0 && r.rbody_len < sizeof(*st))
		rc = -EIO;
	origin[rc == 0 ? r.rbulk_len : 0] = '\0';
	return rc;
}

int
hsm_fs_set(struct fsc *fs, uint64_t ino, uint32_t set, uint32_t clear,
    const char *origin, struct msg_hsm_state *st)
{
	struct msg_hsm_set b;
	struct msg_hsm_state tmp;
	char rorigin[MDS_ORIGIN_CAP];
	struct iovec riov = { rorigin, sizeof(rorigin) };
	struct iovec iov = { (void *)origin, origin ? strlen(origin) : 0 };
	struct fsc_req r;
	int rc;

	memset(&b, 0, sizeof(b));
	b.ino = ino;
	b.cred = hsm_root;
	b.set = set;
	b.clear = clear;
	b.archive_id = 1;
	fsc_req_init(&r, MSG_OP_MDS_HSM_SET, &b, sizeof(b));
	r.bulk = &iov;
	r.nbulk = iov.iov_len ? 1 : 0;
	r.rbody = st != NULL ? st : &tmp;
	r.rbody_cap = sizeof(tmp);
	r.rbulk = &riov;	/* the origin comes back too */
	r.nrbulk = 1;
	rc = fsc_mds_call(fs, &r);
	if (rc == 0 && r.rbody_len < sizeof(tmp))
		rc = -EIO;
	return rc;
}

int
hsm_fs_import(struct fsc *fs, uint64_t parent, const char *name,
    const struct msg_hsm_import *im, const char *origin,
    struct msg_attr *attr)
{
	char body[sizeof(*im) + MSG_NAME_MAX];
	struct msg_hsm_import b = *im;
	struct iovec iov = { (void *)origin, strlen(origin) };
	size_t n = strlen(name);
	struct fsc_req r;

	if (n == 0 || n > MSG_NAME_MAX)
		return n ? -ENAMETOOLONG : -EINVAL;
	b.parent = parent;
	b.cred = hsm_root;
	b.namelen = (uint32_t)n;
	memcpy(body, &b, sizeof(b));
	memcpy(body + sizeof(b), name, n);
	fsc_req_init(&r, MSG_OP_MDS_HSM_IMPORT, body,
	    (uint32_t)(sizeof(b) + n));
	r.bulk = &iov;
	r.nbulk = 1;
	return fsc_attr_call(fs, &r, attr);
}

int
hsm_fs_progress(struct fsc *fs, uint64_t ino, uint32_t action,
    uint64_t bytes, int running)
{
	struct msg_hsm_progress b;
	struct fsc_req r;

	memset(&b, 0, sizeof(b));
	b.ino = ino;
	b.bytes = bytes;
	b.action = action;
	b.running = running != 0;
	fsc_req_init(&r, MSG_OP_MDS_HSM_PROGRESS, &b, sizeof(b));
	return fsc_mds_call(fs, &r);
}

int
hsm_fs_done(struct fsc *fs, uint64_t ino, int status)
{
	struct msg_hsm_done b = { .ino = ino, .action = MSG_HSM_RESTORE,
	    .status = status };
	struct fsc_req r;

	fsc_req_init(&r, MSG_OP_MDS_HSM_DONE, &b, sizeof(b));
	return fsc_mds_call(fs, &r);
}

/* ---- paths ---- */

int
hsm_fs_resolve(struct fsc *fs, const char *path, struct msg_attr *attr)
{
	char comp[MSG_NAME_MAX + 1];
	const char *p = path;
	int rc;

	rc = fsc_getattr(fs, fsc_root(fs), &hsm_root, attr);
	while (rc == 0) {
		size_t n;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, "/");
		if (n > MSG_NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		if (!S_ISDIR(attr->mode))
			return -ENOTDIR;
		rc = fsc_lookup(fs, attr->ino, comp, &hsm_root, attr);
	}
	return rc;
}

int
hsm_fs_mkdirs(struct fsc *fs, uint64_t dir, const char *rel,
    uint64_t *parent, const char **leaf)
{
	char comp[MSG_NAME_MAX + 1];
	struct msg_attr a;
	const char *p = rel;
	int rc;

	for (;;) {
		size_t n = strcspn(p, "/");

		if (p[n] == '\0')
			break;		/* the leaf */
		if (n == 0 || n > MSG_NAME_MAX ||
		    (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;	/* not POSIX-compliant */
		memcpy(comp, p, n);
		comp[n] = '\0';
		rc = fsc_lookup(fs, dir, comp, &hsm_root, &a);
		if (rc == -ENOENT) {
			rc = fsc_mkdir(fs, dir, comp, 0755, &hsm_root, &a);
			if (rc == -EEXIST)
				rc = fsc_lookup(fs, dir, comp, &hsm_root, &a);
		}
		if (rc < 0)
			return rc;
		if (!S_ISDIR(a.mode))
			return -ENOTDIR;
		dir = a.ino;
		p += n + 1;
	}
	*parent = dir;
	*leaf = p;
	return 0;
}

/* ---- walks ---- */

struct walk {
	struct fsc	*fs;
	hsm_walk_fn	 fn;
	void		*arg;
	char		 path[MSG_PATH_MAX];
	size_t		 len;
	int		 rc;
	int		 stop;
	/* entries of the current page, visited after it is read */
	struct went {
		uint64_t	ino;
		char		name[MSG_NAME_MAX + 1];
	}		*ents;
	int		 n, cap;
	uint64_t	 last;		/* cookie of the last entry seen */
};

static int
walk_collect(void *arg, const char *name, size_t namelen, uint64_t ino,
    uint32_t mode, uint64_t cookie)
{
	struct walk *w = arg;

	(void)mode;
	w->last = cookie;
	if ((namelen == 1 && name[0] == '.') ||
	    (namelen == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->ents = realloc(w->ents, (size_t)w->cap * sizeof(*w->ents));
		if (w->ents == NULL)
			fatal("out of memory");
	}
	w->ents[w->n].ino = ino;
	memcpy(w->ents[w->n].name, name, namelen);
	w->ents[w->n].name[namelen] = '\0';
	w->n++;
	return 0;
}

static int
walk_dir(struct walk *w, uint64_t dir)
{
	struct went *ents;
	int n, eof = 0, rc;

	/* the whole directory first: the walk recurses */
	uint64_t cookie = 0;

	w->ents = NULL;
	w->n = w->cap = 0;
	w->last = 0;
	do {
		rc = fsc_readdir(w->fs, dir, &hsm_root, cookie, 1u << 20,
		    walk_collect, w, &eof);
		if (rc < 0 || w->last == cookie)
			break;
		cookie = w->last;
	} while (!eof);
	ents = w->ents;
	n = w->n;
	w->ents = NULL;
	for (int i = 0; rc == 0 && i < n && !w->stop; i++) {
		struct msg_attr a;
		size_t len = w->len, nl = strlen(ents[i].name);

		if (fsc_getattr(w->fs, ents[i].ino, &hsm_root, &a) < 0)
			continue;	/* gone meanwhile */
		if (len + nl + 2 >= sizeof(w->path))
			continue;
		if (len > 0)
			w->path[w->len++] = '/';
		memcpy(w->path + w->len, ents[i].name, nl + 1);
		w->len += nl;
		if (w->fn(w->arg, w->path, &a) != 0)
			w->stop = 1;
		else if (S_ISDIR(a.mode))
			rc = walk_dir(w, a.ino);
		w->len = len;
		w->path[len] = '\0';
	}
	free(ents);
	return rc;
}

int
hsm_fs_walk(struct fsc *fs, uint64_t dir, hsm_walk_fn fn, void *arg)
{
	struct walk *w = xcalloc(1, sizeof(*w));
	int rc;

	w->fs = fs;
	w->fn = fn;
	w->arg = arg;
	rc = walk_dir(w, dir);
	free(w);
	return rc;
}
