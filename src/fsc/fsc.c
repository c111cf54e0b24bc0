/*
 * libfsx operations: namespace calls to the MDS, file I/O mapped onto the
 * objects of a layout, truncation, glimpses, xattrs and statfs.
 *
 * Open files: each open inode has one struct fsc_inode shared by all its
 * handles in this client, holding the layout and the size this client
 * knows (the largest of the MDS's size at open and the end of our writes,
 * cut back by our truncates). A handle that wrote sends that size and the
 * last write's mtime with its close; the MDS keeps the larger of its own
 * and ours unless it truncated in between.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "fsc/fsc_int.h"

#define FSC_LAYOUT_BUF	(sizeof(struct msg_layout) + \
	MSG_MAX_STRIPES * sizeof(struct msg_layout_ent))

static int
fsc_layout_differs(const struct fsc_layout *a, const struct fsc_layout *b)
{
	return a->count != b->count || a->stripe_size != b->stripe_size ||
	    memcmp(a->ent, b->ent, a->count * sizeof(a->ent[0])) != 0;
}

/* Install a new layout; the old one stays allocated (other threads may
 * still use it) until the inode goes. Caller holds in->mu. */
static void
fsc_inode_swap(struct fsc_inode *in, struct fsc_layout *l)
{
	in->stale = realloc(in->stale, (in->nstale + 1) * sizeof(*in->stale));
	if (in->stale == NULL)
		fatal("%s: out of memory", __func__);
	in->stale[in->nstale++] = in->layout;
	in->layout = l;
}

/* Reference (creating) the open inode; takes `l` (may be NULL). */
static struct fsc_inode *
fsc_inode_ref(struct fsc *fs, uint64_t ino, struct fsc_layout *l,
    uint64_t size)
{
	struct fsc_inode *in;

	pthread_mutex_lock(&fs->imu);
	for (in = fs->itab[ino % FSC_IHASH]; in != NULL; in = in->next)
		if (in->ino == ino)
			break;
	if (in == NULL) {
		in = xcalloc(1, sizeof(*in));
		in->ino = ino;
		pthread_mutex_init(&in->mu, NULL);
		pthread_cond_init(&in->wcv, NULL);
		in->next = fs->itab[ino % FSC_IHASH];
		fs->itab[ino % FSC_IHASH] = in;
	}
	in->refs++;
	pthread_mutex_lock(&in->mu);
	if (in->layout == NULL) {
		in->layout = l;
		l = NULL;
	} else if (l != NULL && fsc_layout_differs(in->layout, l)) {
		fsc_inode_swap(in, l);	/* a SETLAYOUT since */
		l = NULL;
	}
	if (in->refs == 1 || size > in->size)
		in->size = size;
	pthread_mutex_unlock(&in->mu);
	pthread_mutex_unlock(&fs->imu);
	free(l);
	return in;
}

static void
fsc_inode_unref(struct fsc *fs, struct fsc_inode *in)
{
	struct fsc_inode **pp;

	pthread_mutex_lock(&fs->imu);
	if (--in->refs > 0) {
		pthread_mutex_unlock(&fs->imu);
		return;
	}
	for (pp = &fs->itab[in->ino % FSC_IHASH]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == in) {
			*pp = in->next;
			break;
		}
	}
	pthread_mutex_unlock(&fs->imu);
	for (int i = 0; i < in->nstale; i++)
		free(in->stale[i]);
	free(in->stale);
	free(in->layout);
	pthread_cond_destroy(&in->wcv);
	pthread_mutex_destroy(&in->mu);
	free(in);
}

/* Our size for an open inode, after a truncate: set it if open here. */
static void	fsc_wb_drain(struct fsc_inode *);
static void	fsc_wb_wait_range(struct fsc_inode *, uint64_t, size_t);
static int	fsc_wb_take_err(struct fsc_inode *);

/* Wait for write-behind on an inode if it is open here. */
static void
fsc_wb_drain_ino(struct fsc *fs, uint64_t ino)
{
	struct fsc_inode *in;

	pthread_mutex_lock(&fs->imu);
	for (in = fs->itab[ino % FSC_IHASH]; in != NULL; in = in->next)
		if (in->ino == ino)
			break;
	if (in != NULL)
		in->refs++;
	pthread_mutex_unlock(&fs->imu);
	if (in == NULL)
		return;
	fsc_wb_drain(in);
	fsc_inode_unref(fs, in);
}

/* A layout set on an inode open here: handles use the new one. */
static void
fsc_inode_relayout(struct fsc *fs, uint64_t ino, const struct msg_cred *cred)
{
	struct fsc_layout *l;
	struct fsc_inode *in;

	if (fsc_getlayout(fs, ino, cred, &l) < 0)
		return;
	pthread_mutex_lock(&fs->imu);
	for (in = fs->itab[ino % FSC_IHASH]; in != NULL; in = in->next) {
		if (in->ino != ino)
			continue;
		pthread_mutex_lock(&in->mu);
		if (l->count > 0 && fsc_layout_differs(in->layout, l)) {
			fsc_inode_swap(in, l);
			l = NULL;
		}
		pthread_mutex_unlock(&in->mu);
		break;
	}
	pthread_mutex_unlock(&fs->imu);
	free(l);
}

/* A setattr of the mtime: closes of writers here send it on. */
static void
fsc_inode_mtime(struct fsc *fs, const struct msg_setattr *sa)
{
	struct fsc_inode *in;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&fs->imu);
	for (in = fs->itab[sa->ino % FSC_IHASH]; in != NULL; in = in->next) {
		if (in->ino != sa->ino)
			continue;
		pthread_mutex_lock(&in->mu);
		if (sa->valid & MSG_SA_MTIME_NOW) {
			in->mtime_sec = now.tv_sec;
			in->mtime_nsec = now.tv_nsec;
		} else {
			in->mtime_sec = sa->mtime_sec;
			in->mtime_nsec = sa->mtime_nsec;
		}
		pthread_mutex_unlock(&in->mu);
	}
	pthread_mutex_unlock(&fs->imu);
}

static void
fsc_inode_truncated(struct fsc *fs, uint64_t ino, uint64_t size)
{
	struct fsc_inode *in;

	pthread_mutex_lock(&fs->imu);
	for (in = fs->itab[ino % FSC_IHASH]; in != NULL; in = in->next) {
		if (in->ino == ino) {
			pthread_mutex_lock(&in->mu);
			in->size = size;
			in->wgen++;
			pthread_mutex_unlock(&in->mu);
		}
	}
	pthread_mutex_unlock(&fs->imu);
}

/* ---- directory attributes from our own changes ---- */

/*
 * A change to directory `dir` is about to be sent (0: a change to
 * directories we cannot name, such as the one rmdir removes or the one
 * rename moves: forget them all). Drops what we hold for it; returns the
 * time stamp for fsc_dir_changed().
 */
static uint64_t
fsc_dir_change(struct fsc *fs, uint64_t dir)
{
	uint64_t now = now_mono_ns();

	pthread_mutex_lock(&fs->dmu);
	if (fs->dbusy++ > 0)
		fs->dmixed = 1;
	if (dir == 0)
		memset(fs->dtab, 0, sizeof(fs->dtab));
	else if (fs->dtab[dir % FSC_DATTR].ino == dir)
		fs->dtab[dir % FSC_DATTR].ino = 0;
	pthread_mutex_unlock(&fs->dmu);
	return now;
}

/*
 * The change sent at `at_ns` is answered; `attr` (NULL when the reply had
 * none) is directory `dir` as the MDS left it. Kept only when no other
 * change was in flight meanwhile: the MDS may have ordered that one later.
 */
static void
fsc_dir_changed(struct fsc *fs, uint64_t at_ns, uint64_t dir,
    const struct msg_attr *attr)
{
	struct fsc_dattr *d = &fs->dtab[dir % FSC_DATTR];

	pthread_mutex_lock(&fs->dmu);
	if (attr != NULL && !fs->dmixed && dir != 0 && attr->ino == dir &&
	    S_ISDIR(attr->mode)) {
		d->ino = dir;
		d->at_ns = at_ns;
		d->attr = *attr;
	}
	if (--fs->dbusy == 0)
		fs->dmixed = 0;
	pthread_mutex_unlock(&fs->dmu);
}

/* A call that may change inode `ino`, a directory or not. */
static int
fsc_dir_call(struct fsc *fs, uint64_t ino, struct fsc_req *r)
{
	uint64_t t = fsc_dir_change(fs, ino);
	int rc = fsc_mds_call(fs, r);

	fsc_dir_changed(fs, t, ino, NULL);
	return rc;
}

int
fsc_dir_attr(struct fsc *fs, uint64_t ino, uint64_t max_age_ns,
    struct msg_attr *attr, uint64_t *age_ns)
{
	struct fsc_dattr *d = &fs->dtab[ino % FSC_DATTR];
	uint64_t now = now_mono_ns();
	int hit = 0;

	pthread_mutex_lock(&fs->dmu);
	if (ino != 0 && d->ino == ino && now - d->at_ns < max_age_ns) {
		*attr = d->attr;
		*age_ns = now - d->at_ns;
		hit = 1;
	}
	pthread_mutex_unlock(&fs->dmu);
	return hit;
}

/* ---- setup ---- */

struct fsc *
fsc_open(const struct fsc_conf *conf, int *err)
{
	struct fsc *fs;
	int rc;

	if (conf->mds_host == NULL || conf->mds_port <= 0 ||
	    conf->mds_port > 65535 ||
	    strlen(conf->mds_host) >= FSC_HOST_MAX) {
		*err = -EINVAL;
		return NULL;
	}
	fs = xcalloc(1, sizeof(*fs));
	fs->conf = *conf;
	snprintf(fs->mds_host, sizeof(fs->mds_host), "%s", conf->mds_host);
	fs->conf.mds_host = fs->mds_host;
	if (fs->conf.pool_size <= 0)
		fs->conf.pool_size = FSC_POOL_DEFAULT;
	if (fs->conf.workers <= 0)
		fs->conf.workers = 4;
	if (fs->conf.readahead_kb == 0)
		fs->conf.readahead_kb = 8192;
	if (fs->conf.readahead_kb > 0)
		fs->ra_bytes = (size_t)(fs->conf.readahead_kb > 65536 ?
		    65536 : fs->conf.readahead_kb) * 1024;
	if (fs->conf.retry_secs == 0)
		fs->conf.retry_secs = FSC_RETRY_DEFAULT;
	fs->retry_ms = fs->conf.retry_secs < 0 ? 0 :
	    fs->conf.retry_secs * 1000;
	fs->root = FSC_ROOT_INO;
	pthread_mutex_init(&fs->dmu, NULL);
	fsc_conn_init(fs);
	rc = fsc_ostmap_load(fs);
	if (rc < 0) {
		fsc_conn_fini(fs);
		pthread_mutex_destroy(&fs->dmu);
		free(fs);
		*err = rc;
		return NULL;
	}
	*err = 0;
	return fs;
}

void
fsc_free(struct fsc *fs)
{
	if (fs == NULL)
		return;
	fsc_conn_fini(fs);
	pthread_mutex_destroy(&fs->dmu);
	free(fs);
}

uint64_t
fsc_root(const struct fsc *fs)
{
	return fs->root;
}

int
fsc_ost_count(struct fsc *fs)
{
	int n;

	pthread_mutex_lock(&fs->mu);
	n = fs->ost_count;
	pthread_mutex_unlock(&fs->mu);
	return n;
}

const struct fsc_layout *
fsc_file_layout(const struct fsc_file *f)
{
	return f->in->layout;
}

/* ---- helpers ---- */

/* Body buffer for a fixed struct followed by one or two names. */
union fsc_body {
	struct msg_name		n;
	struct msg_create	c;
	struct msg_link		l;
	struct msg_rename	r;
	struct msg_xattr	x;
	char			raw[sizeof(struct msg_rename) +
				    2 * MSG_NAME_MAX + 16];
};

static int
fsc_name_len(const char *name, size_t *len)
{
	*len = strlen(name);
	if (*len == 0)
		return -EINVAL;
	if (*len > MSG_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static void
fsc_req_init(struct fsc_req *r, uint16_t op, const void *body, uint32_t len)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->body = body;
	r->body_len = len;
}

/* A call whose reply is a msg_attr. */
static int
fsc_attr_call(struct fsc *fs, struct fsc_req *r, struct msg_attr *attr)
{
	int rc;

	memset(attr, 0, sizeof(*attr));
	r->rbody = attr;
	r->rbody_cap = sizeof(*attr);
	rc = fsc_mds_call(fs, r);
	if (rc == 0 && r->rbody_len < sizeof(*attr))
		rc = -EIO;
	return rc;
}

int
fsc_getlayout(struct fsc *fs, uint64_t ino, const struct msg_cred *cred,
    struct fsc_layout **out)
{
	char buf[FSC_LAYOUT_BUF];
	struct iovec iov = { buf, sizeof(buf) };
	struct msg_ino b;
	struct fsc_req r;
	int rc;

	*out = NULL;
	memset(&b, 0, sizeof(b));
	b.ino = ino;
	b.cred = *cred;
	fsc_req_init(&r, MSG_OP_MDS_GETLAYOUT, &b, sizeof(b));
	r.rbulk = &iov;
	r.nrbulk = 1;
	rc = fsc_mds_call(fs, &r);
	if (rc < 0)
		return rc;
	*out = fsc_layout_parse(buf, r.rbulk_len);
	return *out == NULL ? -EIO : 0;
}

/* Sizes of every object of a layout (glimpse). Returns the file end they
 * imply in *end and their blocks in *blocks. */
static int
fsc_glimpse_layout(struct fsc *fs, const struct fsc_layout *l, uint64_t *end,
    uint64_t *blocks)
{
	struct fsc_oio *v;
	int rc = 0;

	*end = 0;
	*blocks = 0;
	if (l->count == 0)
		return 0;
	v = xcalloc(l->count, sizeof(*v));
	for (uint32_t k = 0; k < l->count; k++) {
		v[k].op = MSG_OP_OST_GETATTR;
		v[k].stripe = k;
		v[k].ost = l->ent[k].ost;
		v[k].oid = l->ent[k].oid;
	}
	fsc_oio_batch(fs, v, (int)l->count);
	for (uint32_t k = 0; k < l->count; k++) {
		uint64_t e;

		if (v[k].rc < 0) {
			rc = v[k].rc;
			break;
		}
		e = fsc_layout_file_end(k, v[k].attr.size, l->stripe_size,
		    l->count);
		if (e > *end)
			*end = e;
		*blocks += v[k].attr.blocks;
	}
	free(v);
	return rc;
}

/* A file open for write somewhere: its size is what the objects say. */
static int
fsc_glimpse(struct fsc *fs, const struct msg_cred *cred,
    struct msg_attr *attr)
{
	struct fsc_layout *l;
	uint64_t end, blocks;
	int rc;

	if (!S_ISREG(attr->mode) || attr->open_writers == 0)
		return 0;
	rc = fsc_getlayout(fs, attr->ino, cred, &l);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	rc = fsc_glimpse_layout(fs, l, &end, &blocks);
	free(l);
	if (rc < 0)
		return rc;
	if (end > attr->size)
		attr->size = end;
	if (blocks > attr->blocks)
		attr->blocks = blocks;
	return 0;
}

/*
 * Attributes as this client must show them: a file open for write
 * somewhere gets its size from the objects (glimpse), and never less than
 * what this client wrote into it (its close may not have reached the MDS).
 */
static int
fsc_attr_fix(struct fsc *fs, const struct msg_cred *cred,
    struct msg_attr *attr)
{
	struct fsc_inode *in;
	uint64_t mine = 0;
	int found = 0, writers = 0;

	if (!S_ISREG(attr->mode))
		return 0;
	pthread_mutex_lock(&fs->imu);
	for (in = fs->itab[attr->ino % FSC_IHASH]; in != NULL; in = in->next) {
		if (in->ino != attr->ino)
			continue;
		pthread_mutex_lock(&in->mu);
		mine = in->size;
		writers = in->writers;
		pthread_mutex_unlock(&in->mu);
		found = 1;
		break;
	}
	pthread_mutex_unlock(&fs->imu);
	/* Every writer is one of our handles: we know the size. */
	if (!found || attr->open_writers > (uint32_t)writers) {
		int rc = fsc_glimpse(fs, cred, attr);

		if (rc < 0)
			return rc;
	}
	if (mine > attr->size)
		attr->size = mine;
	return 0;
}

/* ---- namespace ---- */

int
fsc_lookup(struct fsc *fs, uint64_t parent, const char *name,
    const struct msg_cred *cred, struct msg_attr *attr)
{
	union fsc_body b;
	struct fsc_req r;
	size_t len;
	int rc;

	rc = fsc_name_len(name, &len);
	if (rc < 0)
		return rc;
	memset(&b.n, 0, sizeof(b.n));
	b.n.parent = parent;
	b.n.cred = *cred;
	b.n.namelen = (uint32_t)len;
	memcpy(b.raw + sizeof(b.n), name, len);
	fsc_req_init(&r, MSG_OP_MDS_LOOKUP, &b, sizeof(b.n) + len);
	rc = fsc_attr_call(fs, &r, attr);
	if (rc == 0)
		rc = fsc_attr_fix(fs, cred, attr);
	return rc;
}

int
fsc_getattr(struct fsc *fs, uint64_t ino, const struct msg_cred *cred,
    struct msg_attr *attr)
{
	struct msg_ino b;
	struct fsc_req r;
	int rc;

	memset(&b, 0, sizeof(b));
	b.ino = ino;
	b.cred = *cred;
	fsc_req_init(&r, MSG_OP_MDS_GETATTR, &b, sizeof(b));
	rc = fsc_attr_call(fs, &r, attr);
	if (rc == 0)
		rc = fsc_attr_fix(fs, cred, attr);
	return rc;
}

/* Cut every object of a layout to what a file of `size` bytes needs. */
static int
fsc_punch(struct fsc *fs, const struct fsc_layout *l, uint64_t size)
{
	struct fsc_oio *v;
	int rc = 0;

	if (l->count == 0)
		return 0;
	v = xcalloc(l->count, sizeof(*v));
	for (uint32_t k = 0; k < l->count; k++) {
		v[k].op = MSG_OP_OST_PUNCH;
		v[k].stripe = k;
		v[k].ost = l->ent[k].ost;
		v[k].oid = l->ent[k].oid;
		v[k].off = fsc_layout_obj_size(size, k, l->stripe_size,
		    l->count);
	}
	fsc_oio_batch(fs, v, (int)l->count);
	for (uint32_t k = 0; k < l->count; k++)
		if (v[k].rc < 0 && v[k].rc != -ENOENT && rc == 0)
			rc = v[k].rc;
	free(v);
	return rc;
}

int
fsc_setattr(struct fsc *fs, struct fsc_file *f, const struct msg_setattr *sa,
    struct msg_attr *attr)
{
	struct msg_attr old;
	struct fsc_layout *l = NULL;
	struct fsc_req r;
	uint64_t t;
	int rc, shrink = 0;

	/* Writes acknowledged before are done before (and their mtime
	 * does not overwrite a utime's). */
	fsc_wb_drain_ino(fs, sa->ino);
	if (sa->valid & MSG_SA_SIZE) {
		if (sa->size > (uint64_t)INT64_MAX)
			return -EFBIG;
		rc = fsc_getattr(fs, sa->ino, &sa->cred, &old);
		if (rc < 0)
			return rc;
		if (S_ISDIR(old.mode))
			return -EISDIR;
		if (f != NULL) {
			pthread_mutex_lock(&f->in->mu);
			if (f->in->size > old.size)
				old.size = f->in->size;
			pthread_mutex_unlock(&f->in->mu);
		}
		shrink = S_ISREG(old.mode) && sa->size < old.size;
	}
	fsc_req_init(&r, MSG_OP_MDS_SETATTR, sa, sizeof(*sa));
	t = fsc_dir_change(fs, sa->ino);	/* it may be a directory */
	rc = fsc_attr_call(fs, &r, attr);
	fsc_dir_changed(fs, t, sa->ino, NULL);
	if (rc < 0)
		return rc;
	if (sa->valid & MSG_SA_MTIME)
		fsc_inode_mtime(fs, sa);
	if (!(sa->valid & MSG_SA_SIZE))
		return fsc_attr_fix(fs, &sa->cred, attr);
	fsc_inode_truncated(fs, sa->ino, sa->size);
	if (shrink) {
		if (f != NULL) {
			rc = fsc_punch(fs, f->in->layout, sa->size);
		} else {
			rc = fsc_getlayout(fs, sa->ino, &sa->cred, &l);
			if (rc == 0)
				rc = fsc_punch(fs, l, sa->size);
			free(l);
		}
	}
	attr->size = sa->size;
	return rc;
}

/* Make a file handle from an OPEN/CREATE reply. */
static int
fsc_file_make(struct fsc *fs, const struct msg_open_rep *rep,
    const char *lbuf, uint32_t llen, int flags, const struct msg_cred *cred,
    struct fsc_file **fp)
{
	struct fsc_layout *l = NULL;
	struct fsc_file *f;

	if (S_ISREG(rep->attr.mode)) {
		l = fsc_layout_parse(lbuf, llen);
		if (l == NULL) {
			log_warn("%s: bad layout for inode %" PRIu64,
			    __func__, rep->attr.ino);
			return -EIO;
		}
	} else {
		l = xcalloc(1, sizeof(*l));
		l->stripe_size = 1u << 20;
	}
	f = xcalloc(1, sizeof(*f));
	fsc_ra_init(f);
	f->handle = rep->handle;
	f->flags = flags;
	f->cred = *cred;
	f->in = fsc_inode_ref(fs, rep->attr.ino, l, rep->attr.size);
	if (f->handle != 0 && (flags & O_ACCMODE) != O_RDONLY) {
		pthread_mutex_lock(&f->in->mu);
		f->in->writers++;
		f->writer = 1;
		pthread_mutex_unlock(&f->in->mu);
	}
	*fp = f;
	return 0;
}

/* Open call to the MDS (flags without O_TRUNC; see fsc_file_open). */
static int
fsc_open_call(struct fsc *fs, uint64_t ino, int flags,
    const struct msg_cred *cred, struct msg_attr *attr, struct fsc_file **fp)
{
	char lbuf[FSC_LAYOUT_BUF];
	struct iovec iov = { lbuf, sizeof(lbuf) };
	struct msg_open b;
	struct msg_open_rep rep;
	struct fsc_req r;
	int rc;

	memset(&b, 0, sizeof(b));
	b.ino = ino;
	b.cred = *cred;
	b.flags = (uint32_t)(flags & ~O_TRUNC);
	fsc_req_init(&r, MSG_OP_MDS_OPEN, &b, sizeof(b));
	memset(&rep, 0, sizeof(rep));
	r.rbody = &rep;
	r.rbody_cap = sizeof(rep);
	r.rbulk = &iov;
	r.nrbulk = 1;
	rc = fsc_mds_call(fs, &r);
	if (rc < 0)
		return rc;
	if (r.rbody_len < sizeof(rep))
		return -EIO;
	*attr = rep.attr;
	return fsc_file_make(fs, &rep, lbuf, r.rbulk_len, flags, cred, fp);
}

/* O_TRUNC: our truncate punches the objects the MDS cannot. */
static int
fsc_open_trunc(struct fsc *fs, struct fsc_file *f, const struct msg_cred *cred,
    struct msg_attr *attr)
{
	struct msg_setattr sa;

	memset(&sa, 0, sizeof(sa));
	sa.ino = f->in->ino;
	sa.cred = *cred;
	sa.valid = MSG_SA_SIZE;
	sa.size = 0;
	return fsc_setattr(fs, f, &sa, attr);
}

int
fsc_file_open(struct fsc *fs, uint64_t ino, int flags,
    const struct msg_cred *cred, struct msg_attr *attr, struct fsc_file **fp)
{
	int rc;

	*fp = NULL;
	rc = fsc_open_call(fs, ino, flags, cred, attr, fp);
	if (rc < 0)
		return rc;
	if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY &&
	    S_ISREG(attr->mode) && (attr->size > 0 ||
	    attr->open_writers > 0)) {
		rc = fsc_open_trunc(fs, *fp, cred, attr);
		if (rc < 0) {
			fsc_file_close(fs, *fp);
			*fp = NULL;
			return rc;
		}
	} else if (S_ISREG(attr->mode) && attr->open_writers > 1) {
		/* Someone else writes: learn the size from the objects. */
		uint64_t end, blocks;

		if (fsc_glimpse_layout(fs, (*fp)->in->layout, &end,
		    &blocks) == 0 && end > attr->size) {
			attr->size = end;
			pthread_mutex_lock(&(*fp)->in->mu);
			if (end > (*fp)->in->size)
				(*fp)->in->size = end;
			pthread_mutex_unlock(&(*fp)->in->mu);
		}
	}
	return 0;
}

int
fsc_create(struct fsc *fs, uint64_t parent, const char *name, uint32_t mode,
    int flags, const struct msg_cred *cred, struct msg_attr *attr,
    struct fsc_file **fp)
{
	char lbuf[FSC_LAYOUT_BUF];
	struct iovec iov = { lbuf, sizeof(lbuf) };
	union fsc_body b;
	struct msg_create_rep crep;
	struct msg_open_rep rep;
	struct fsc_req r;
	uint64_t t;
	size_t len;
	int rc;

	*fp = NULL;
	rc = fsc_name_len(name, &len);
	if (rc < 0)
		return rc;
	memset(&b.c, 0, sizeof(b.c));
	b.c.parent = parent;
	b.c.cred = *cred;
	b.c.mode = S_IFREG | (mode & 07777);
	b.c.flags = (flags & O_EXCL) ? MSG_CR_EXCL : 0;
	b.c.namelen = (uint32_t)len;
	memcpy(b.raw + sizeof(b.c), name, len);
	fsc_req_init(&r, MSG_OP_MDS_CREATE, &b, sizeof(b.c) + len);
	memset(&crep, 0, sizeof(crep));
	r.rbody = &crep;
	r.rbody_cap = sizeof(crep);
	r.rbulk = &iov;
	r.nrbulk = 1;
	t = fsc_dir_change(fs, parent);
	rc = fsc_mds_call(fs, &r);
	fsc_dir_changed(fs, t, parent, rc == 0 &&
	    r.rbody_len >= sizeof(crep) ? &crep.dir : NULL);
	rep = crep.open;
	if (rc == -EEXIST && r.resent) {
		/* Our first attempt made it: open what it created. */
		rc = fsc_lookup(fs, parent, name, cred, attr);
		if (rc < 0)
			return rc;
		return fsc_file_open(fs, attr->ino,
		    flags & ~(O_CREAT | O_EXCL | O_TRUNC), cred, attr, fp);
	}
	if (rc < 0)
		return rc;
	if (r.rbody_len < sizeof(rep))
		return -EIO;
	*attr = rep.attr;
	rc = fsc_file_make(fs, &rep, lbuf, r.rbulk_len, flags, cred, fp);
	if (rc < 0)
		return rc;
	/* Without O_EXCL an existing file was opened: O_TRUNC applies. */
	if ((flags & O_TRUNC) && (attr->size > 0 || attr->open_writers > 1)) {
		rc = fsc_open_trunc(fs, *fp, cred, attr);
		if (rc < 0) {
			fsc_file_close(fs, *fp);
			*fp = NULL;
		}
	}
	return rc;
}

/* MKNOD/SYMLINK/LINK reply handling after a resend: EEXIST may be ours. */
static int
fsc_made(struct fsc *fs, struct fsc_req *r, int rc, uint64_t parent,
    const char *name, const struct msg_cred *cred, struct msg_attr *attr)
{
	if (rc == -EEXIST && r->resent)
		return fsc_lookup(fs, parent, name, cred, attr);
	return rc;
}

int
fsc_mknod(struct fsc *fs, uint64_t parent, const char *name, uint32_t mode,
    uint64_t rdev, const struct msg_cred *cred, struct msg_attr *attr)
{
	union fsc_body b;
	struct fsc_req r;
	uint64_t t;
	size_t len;
	int rc;

	rc = fsc_name_len(name, &len);
	if (rc < 0)
		return rc;
	memset(&b.c, 0, sizeof(b.c));
	b.c.parent = parent;
	b.c.cred = *cred;
	b.c.mode = mode;
	b.c.flags = MSG_CR_EXCL;
	b.c.rdev = rdev;
	b.c.namelen = (uint32_t)len;
	memcpy(b.raw + sizeof(b.c), name, len);
	fsc_req_init(&r, MSG_OP_MDS_MKNOD, &b, sizeof(b.c) + len);
	t = fsc_dir_change(fs, parent);
	rc = fsc_attr_call(fs, &r, attr);
	fsc_dir_changed(fs, t, parent, NULL);
	return fsc_made(fs, &r, rc, parent, name, cred, attr);
}

int
fsc_mkdir(struct fsc *fs, uint64_t parent, const char *name, uint32_t mode,
    const struct msg_cred *cred, struct msg_attr *attr)
{
	return fsc_mknod(fs, parent, name, S_IFDIR | (mode & 07777), 0, cred,
	    attr);
}

int
fsc_symlink(struct fsc *fs, uint64_t parent, const char *name,
    const char *target, const struct msg_cred *cred, struct msg_attr *attr)
{
	union fsc_body b;
	struct fsc_req r;
	struct iovec iov;
	size_t len, tlen = strlen(target);
	uint64_t t;
	int rc;

	rc = fsc_name_len(name, &len);
	if (rc < 0)
		return rc;
	if (tlen == 0)
		return -ENOENT;
	if (tlen >= MSG_PATH_MAX)
		return -ENAMETOOLONG;
	memset(&b.c, 0, sizeof(b.c));
	b.c.parent = parent;
	b.c.cred = *cred;
	b.c.mode = S_IFLNK | 0777;
	b.c.flags = MSG_CR_EXCL;
	b.c.namelen = (uint32_t)len;
	memcpy(b.raw + sizeof(b.c), name, len);
	fsc_req_init(&r, MSG_OP_MDS_SYMLINK, &b, sizeof(b.c) + len);
	iov.iov_base = (void *)target;
	iov.iov_len = tlen;
	r.bulk = &iov;
	r.nbulk = 1;
	t = fsc_dir_change(fs, parent);
	rc = fsc_attr_call(fs, &r, attr);
	fsc_dir_changed(fs, t, parent, NULL);
	return fsc_made(fs, &r, rc, parent, name, cred, attr);
}

int
fsc_readlink(struct fsc *fs, uint64_t ino, const struct msg_cred *cred,
    char *buf, size_t cap, size_t *len)
{
	char tbuf[MSG_PATH_MAX];
	struct iovec iov = { tbuf, sizeof(tbuf) };
	struct msg_ino b;
	struct fsc_req r;
	int rc;

	memset(&b, 0, sizeof(b));
	b.ino = ino;
	b.cred = *cred;
	fsc_req_init(&r, MSG_OP_MDS_READLINK, &b, sizeof(b));
	r.rbulk = &iov;
	r.nrbulk = 1;
	rc = fsc_mds_call(fs, &r);
	if (rc < 0)
		return rc;
	*len = r.rbulk_len;
	if (memchr(tbuf, '\0', r.rbulk_len) != NULL)
		return -EIO;
	if (r.rbulk_len + 1 > cap)
		return -ERANGE;
	memcpy(buf, tbuf, r.rbulk_len);
	buf[r.rbulk_len] = '\0';
	return 0;
}

int
fsc_link(struct fsc *fs, uint64_t ino, uint64_t newparent,
    const char *newname, const struct msg_cred *cred, struct msg_attr *attr)
{
	union fsc_body b;
	struct fsc_req r;
	uint64_t t;
	size_t len;
	int rc;

	rc = fsc_name_len(newname, &len);
	if (rc < 0)
		return rc;
	memset(&b.l, 0, sizeof(b.l));
	b.l.ino = ino;
	b.l.newparent = newparent;
	b.l.cred = *cred;
	b.l.newnamelen = (uint32_t)len;
	memcpy(b.raw + sizeof(b.l), newname, len);
	fsc_req_init(&r, MSG_OP_MDS_LINK, &b, sizeof(b.l) + len);
	t = fsc_dir_change(fs, newparent);
	rc = fsc_attr_call(fs, &r, attr);
	fsc_dir_changed(fs, t, newparent, NULL);
	if (rc == -EEXIST && r.resent) {
		rc = fsc_lookup(fs, newparent, newname, cred, attr);
		if (rc == 0 && attr->ino != ino)
			rc = -EEXIST;
	} else if (rc == 0) {
		rc = fsc_attr_fix(fs, cred, attr);
	}
	return rc;
}

static int
fsc_remove(struct fsc *fs, uint16_t op, uint64_t parent, const char *name,
    const struct msg_cred *cred)
{
	union fsc_body b;
	struct msg_attr dir;
	struct fsc_req r;
	uint64_t t;
	size_t len;
	int rc;

	rc = fsc_name_len(name, &len);
	if (rc < 0)
		return rc;
	memset(&b.n, 0, sizeof(b.n));
	b.n.parent = parent;
	b.n.cred = *cred;
	b.n.namelen = (uint32_t)len;
	memcpy(b.raw + sizeof(b.n), name, len);
	fsc_req_init(&r, op, &b, sizeof(b.n) + len);
	r.rbody = &dir;
	r.rbody_cap = sizeof(dir);
	/* rmdir also changes the directory it removes */
	t = fsc_dir_change(fs, op == MSG_OP_MDS_UNLINK ? parent : 0);
	rc = fsc_mds_call(fs, &r);
	fsc_dir_changed(fs, t, parent, rc == 0 && r.rbody_len >= sizeof(dir) ?
	    &dir : NULL);
	if (rc == -ENOENT && r.resent)
		rc = 0;		/* the first attempt removed it */
	return rc;
}

int
fsc_unlink(struct fsc *fs, uint64_t parent, const char *name,
    const struct msg_cred *cred)
{
	return fsc_remove(fs, MSG_OP_MDS_UNLINK, parent, name, cred);
}

int
fsc_rmdir(struct fsc *fs, uint64_t parent, const char *name,
    const struct msg_cred *cred)
{
	return fsc_remove(fs, MSG_OP_MDS_RMDIR, parent, name, cred);
}

int
fsc_rename(struct fsc *fs, uint64_t oldparent, const char *oldname,
    uint64_t newparent, const char *newname, uint32_t flags,
    const struct msg_cred *cred)
{
	union fsc_body b;
	struct msg_attr a;
	struct fsc_req r;
	uint64_t t;
	size_t olen, nlen;
	int rc;

	rc = fsc_name_len(oldname, &olen);
	if (rc == 0)
		rc = fsc_name_len(newname, &nlen);
	if (rc < 0)
		return rc;
	memset(&b.r, 0, sizeof(b.r));
	b.r.oldparent = oldparent;
	b.r.newparent = newparent;
	b.r.cred = *cred;
	b.r.oldnamelen = (uint32_t)olen;
	b.r.newnamelen = (uint32_t)nlen;
	b.r.flags = flags;
	memcpy(b.raw + sizeof(b.r), oldname, olen);
	memcpy(b.raw + sizeof(b.r) + olen, newname, nlen);
	fsc_req_init(&r, MSG_OP_MDS_RENAME, &b, sizeof(b.r) + olen + nlen);
	t = fsc_dir_change(fs, 0);	/* a moved directory's ".." too */
	rc = fsc_mds_call(fs, &r);
	fsc_dir_changed(fs, t, 0, NULL);
	if (rc == -ENOENT && r.resent &&
	    fsc_lookup(fs, newparent, newname, cred, &a) == 0)
		rc = 0;
	if (rc == -EEXIST && r.resent && (flags & MSG_RN_NOREPLACE) &&
	    fsc_lookup(fs, oldparent, oldname, cred, &a) == -ENOENT)
		rc = 0;
	return rc;
}

int
fsc_readdir(struct fsc *fs, uint64_t ino, const struct msg_cred *cred,
    uint64_t cookie, uint32_t max_bytes, fsc_dirent_fn cb, void *arg,
    int *eof)
{
	struct msg_readdir b;
	struct msg_readdir_rep rep;
	struct fsc_req r;
	struct iovec iov;
	char *buf;
	size_t pos = 0;
	int rc;

	*eof = 0;
	if (max_bytes < 512)
		max_bytes = 512;
	if (max_bytes > 256 * 1024)
		max_bytes = 256 * 1024;
	buf = xmalloc(max_bytes);
	iov.iov_base = buf;
	iov.iov_len = max_bytes;
	memset(&b, 0, sizeof(b));
	b.ino = ino;
	b.cred = *cred;
	b.cookie = cookie;
	b.max_bytes = max_bytes;
	fsc_req_init(&r, MSG_OP_MDS_READDIR, &b, sizeof(b));
	memset(&rep, 0, sizeof(rep));
	r.rbody = &rep;
	r.rbody_cap = sizeof(rep);
	r.rbulk = &iov;
	r.nrbulk = 1;
	rc = fsc_mds_call(fs, &r);
	if (rc < 0)
		goto out;
	if (r.rbody_len < sizeof(rep)) {
		rc = -EIO;
		goto out;
	}
	for (uint32_t i = 0; i < rep.count; i++) {
		struct msg_dirent d;

		if (r.rbulk_len - pos < sizeof(d)) {
			rc = -EIO;
			goto out;
		}
		memcpy(&d, buf + pos, sizeof(d));
		if (d.namelen == 0 || d.namelen > MSG_NAME_MAX ||
		    d.reclen < sizeof(d) + d.namelen || d.reclen % 8 != 0 ||
		    d.reclen > r.rbulk_len - pos ||
		    memchr(buf + pos + sizeof(d), '\0', d.namelen) != NULL ||
		    memchr(buf + pos + sizeof(d), '/', d.namelen) != NULL) {
			rc = -EIO;
			goto out;
		}
		if (cb(arg, buf + pos + sizeof(d), d.namelen, d.ino, d.mode,
		    d.cookie) != 0)
			goto out;	/* caller is full; not eof */
		pos += d.reclen;
	}
	*eof = rep.eof != 0;
out:
	free(buf);
	return rc;
}

/* ---- files ---- */

int
fsc_file_close(struct fsc *fs, struct fsc_file *f)
{
	struct msg_close b;
	struct msg_attr a;
	struct fsc_req r;
	int rc, mrc;

	if (f == NULL)
		return 0;
	fsc_wb_drain(f->in);
	rc = fsc_wb_take_err(f->in);
	fsc_ra_fini(f);
	if (f->handle != 0 || f->dirty) {
		memset(&b, 0, sizeof(b));
		b.ino = f->in->ino;
		b.handle = f->handle;
		b.cred = f->cred;
		if (__atomic_load_n(&f->was_read, __ATOMIC_RELAXED) &&
		    !fs->conf.noatime)
			b.written |= MSG_CLOSE_READ;
		if (f->dirty) {
			b.written |= MSG_CLOSE_WRITTEN;
			pthread_mutex_lock(&f->in->mu);
			b.size = f->in->size;
			b.mtime_sec = f->in->mtime_sec;
			b.mtime_nsec = f->in->mtime_nsec;
			pthread_mutex_unlock(&f->in->mu);
		}
		fsc_req_init(&r, MSG_OP_MDS_CLOSE, &b, sizeof(b));
		mrc = fsc_attr_call(fs, &r, &a);
		if (mrc < 0 && mrc != -ENOENT && rc == 0)
			rc = mrc;	/* ENOENT: unlinked and gone */
	}
	if (f->writer) {
		pthread_mutex_lock(&f->in->mu);
		f->in->writers--;
		pthread_mutex_unlock(&f->in->mu);
	}
	fsc_inode_unref(fs, f->in);
	free(f);
	return rc;
}

/*
 * Group the stripe units of [off, off+len) into one request per object
 * range: consecutive units of one stripe are contiguous in the object.
 * Returns the number of requests in *vp (allocated).
 */
static int
fsc_io_build(const struct fsc_layout *l, uint16_t op, char *buf, size_t len,
    uint64_t off, struct fsc_oio **vp)
{
	int cur[MSG_MAX_STRIPES];
	struct fsc_extent *ext;
	struct fsc_oio *v;
	int next, nx, n = 0;

	nx = (int)(len / l->stripe_size) + 2;
	ext = xmalloc(nx * sizeof(*ext));
	nx = fsc_layout_map(off, len, l->stripe_size, l->count, ext, nx);
	if (nx < 0) {
		free(ext);
		return nx;
	}
	v = xcalloc(nx + len / MSG_BULK_MAX + 2, sizeof(*v));
	for (uint32_t k = 0; k < l->count; k++)
		cur[k] = -1;
	for (int i = 0; i < nx; i++) {
		struct fsc_extent e = ext[i];

		while (e.len > 0) {
			/* Stripe units larger than a frame are split. */
			uint64_t el = e.len < MSG_BULK_MAX ? e.len : MSG_BULK_MAX;
			struct fsc_oio *o = cur[e.stripe] >= 0 ?
			    &v[cur[e.stripe]] : NULL;

			if (o == NULL || o->off + o->len != e.obj_off ||
			    o->len + el > MSG_BULK_MAX ||
			    o->niov == FSC_IOV_MAX) {
				next = n++;
				o = &v[next];
				cur[e.stripe] = next;
				o->op = op;
				o->stripe = e.stripe;
				o->ost = l->ent[e.stripe].ost;
				o->oid = l->ent[e.stripe].oid;
				o->off = e.obj_off;
			}
			o->iov[o->niov].iov_base = buf + (e.file_off - off);
			o->iov[o->niov].iov_len = el;
			o->niov++;
			o->len += el;
			e.obj_off += el;
			e.file_off += el;
			e.len -= el;
		}
	}
	free(ext);
	*vp = v;
	return n;
}

/* Refetch a layout that had no objects (set later by SETLAYOUT). */
static const struct fsc_layout *
fsc_file_layout_get(struct fsc *fs, struct fsc_file *f)
{
	struct fsc_layout *l, *nl;

	pthread_mutex_lock(&f->in->mu);
	l = f->in->layout;
	pthread_mutex_unlock(&f->in->mu);
	if (l->count > 0)
		return l;
	if (fsc_getlayout(fs, f->in->ino, &f->cred, &nl) < 0)
		return l;
	pthread_mutex_lock(&f->in->mu);
	if (nl->count > 0 && f->in->layout->count == 0) {
		fsc_inode_swap(f->in, nl);
		nl = NULL;
	}
	l = f->in->layout;
	pthread_mutex_unlock(&f->in->mu);
	free(nl);
	return l;
}

int
fsc_read(struct fsc *fs, struct fsc_file *f, void *buf, size_t len,
    uint64_t off, size_t *done)
{
	fsc_wb_wait_range(f->in, off, len);
	__atomic_store_n(&f->was_read, 1, __ATOMIC_RELAXED);
	if (fs->ra_bytes > 0)
		return fsc_ra_read(fs, f, buf, len, off, done);
	return fsc_read_direct(fs, f, buf, len, off, done);
}

int
fsc_read_direct(struct fsc *fs, struct fsc_file *f, void *buf, size_t len,
    uint64_t off, size_t *done)
{
	const struct fsc_layout *l;
	struct fsc_oio *v = NULL;
	uint64_t size, data_end = 0;
	int n, rc = 0;

	*done = 0;
	if (len == 0)
		return 0;
	if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
		return -EINVAL;
	l = fsc_file_layout_get(fs, f);
	if (l->count == 0) {
		n = 0;
	} else {
		n = fsc_io_build(l, MSG_OP_OST_READ, buf, len, off, &v);
		if (n < 0)
			return n;
		fsc_oio_batch(fs, v, n);
	}
	for (int i = 0; i < n; i++) {
		struct fsc_oio *o = &v[i];
		uint64_t skip = o->got;

		if (o->rc < 0) {
			rc = o->rc;
			goto out;
		}
		if (o->got > 0) {
			uint64_t e = fsc_layout_file_end(o->stripe,
			    o->off + o->got, l->stripe_size, l->count);

			if (e > data_end)
				data_end = e;
		}
		/* Short object: the rest of the range reads as zeros. */
		for (int k = 0; k < o->niov; k++) {
			if (skip >= o->iov[k].iov_len) {
				skip -= o->iov[k].iov_len;
				continue;
			}
			memset((char *)o->iov[k].iov_base + skip, 0,
			    o->iov[k].iov_len - skip);
			skip = 0;
		}
	}
	if (n == 0)
		memset(buf, 0, len);
	pthread_mutex_lock(&f->in->mu);
	if (data_end > f->in->size)
		f->in->size = data_end;
	size = f->in->size;
	pthread_mutex_unlock(&f->in->mu);
	if (off < size)
		*done = size - off < len ? size - off : len;
out:
	free(v);
	return rc;
}

int
fsc_write(struct fsc *fs, struct fsc_file *f, const void *buf, size_t len,
    uint64_t off, size_t *done)
{
	const struct fsc_layout *l;
	struct fsc_oio *v = NULL;
	struct timespec now;
	int n, rc = 0;

	*done = 0;
	if (len == 0)
		return 0;
	if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
		return -EFBIG;
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	l = fsc_file_layout_get(fs, f);
	if (l->count == 0)
		return -EIO;
	n = fsc_io_build(l, MSG_OP_OST_WRITE, (char *)buf, len, off, &v);
	if (n < 0)
		return n;
	fsc_oio_batch(fs, v, n);
	for (int i = 0; i < n; i++) {
		if (v[i].rc < 0) {
			rc = v[i].rc;
			goto out;
		}
	}
	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&f->in->mu);
	if (off + len > f->in->size)
		f->in->size = off + len;
	f->in->wgen++;
	f->dirty = 1;
	f->in->mtime_sec = now.tv_sec;
	f->in->mtime_nsec = now.tv_nsec;
	pthread_mutex_unlock(&f->in->mu);
	*done = len;
out:
	free(v);
	return rc;
}

static int
fsc_wb_overlaps(const struct fsc_inode *in, uint64_t off, size_t len)
{
	for (int i = 0; i < FSC_WB_MAX; i++)
		if (in->wb_used[i] && off < in->wb_off[i] + in->wb_len[i] &&
		    in->wb_off[i] < off + len)
			return 1;
	return 0;
}

/* Is a write begun at or before `seq` still in flight? */
static int
fsc_wb_before(const struct fsc_inode *in, uint64_t seq)
{
	for (int i = 0; i < FSC_WB_MAX; i++)
		if (in->wb_used[i] && in->wb_seqs[i] <= seq)
			return 1;
	return 0;
}

/* Wait for the write-behind begun so far (not for later ones, so a
 * steady stream of writes cannot starve an fsync). */
static void
fsc_wb_drain(struct fsc_inode *in)
{
	uint64_t seq;

	pthread_mutex_lock(&in->mu);
	seq = in->wb_seq;
	while (fsc_wb_before(in, seq))
		pthread_cond_wait(&in->wcv, &in->mu);
	pthread_mutex_unlock(&in->mu);
}

/* Wait for write-behind overlapping a range (reads). */
static void
fsc_wb_wait_range(struct fsc_inode *in, uint64_t off, size_t len)
{
	pthread_mutex_lock(&in->mu);
	while (fsc_wb_overlaps(in, off, len))
		pthread_cond_wait(&in->wcv, &in->mu);
	pthread_mutex_unlock(&in->mu);
}

static int
fsc_wb_take_err(struct fsc_inode *in)
{
	int rc;

	pthread_mutex_lock(&in->mu);
	rc = in->wb_err;
	in->wb_err = 0;
	pthread_mutex_unlock(&in->mu);
	return rc;
}

int
fsc_write_begin(struct fsc *fs, struct fsc_file *f, uint64_t off, size_t len)
{
	struct fsc_inode *in = f->in;
	struct timespec now;
	int rc;

	(void)fs;
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
		return -EFBIG;
	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&in->mu);
	while (in->wb_err == 0 && (in->wb_n >= FSC_WB_MAX ||
	    fsc_wb_overlaps(in, off, len)))
		pthread_cond_wait(&in->wcv, &in->mu);
	rc = in->wb_err;
	if (rc < 0) {
		in->wb_err = 0;
		pthread_mutex_unlock(&in->mu);
		return rc;
	}
	for (int i = 0; i < FSC_WB_MAX; i++) {
		if (!in->wb_used[i]) {
			in->wb_used[i] = 1;
			in->wb_off[i] = off;
			in->wb_len[i] = len;
			in->wb_seqs[i] = ++in->wb_seq;
			break;
		}
	}
	in->wb_n++;
	/* The size and mtime are the caller's from now on. */
	if (off + len > in->size)
		in->size = off + len;
	in->wgen++;
	in->mtime_sec = now.tv_sec;
	in->mtime_nsec = now.tv_nsec;
	f->dirty = 1;
	pthread_mutex_unlock(&in->mu);
	return 0;
}

void
fsc_write_end(struct fsc *fs, struct fsc_file *f, uint64_t off, size_t len,
    int rc)
{
	struct fsc_inode *in = f->in;

	(void)fs;
	pthread_mutex_lock(&in->mu);
	for (int i = 0; i < FSC_WB_MAX; i++) {
		if (in->wb_used[i] && in->wb_off[i] == off &&
		    in->wb_len[i] == len) {
			in->wb_used[i] = 0;
			in->wb_n--;
			break;
		}
	}
	if (rc < 0 && in->wb_err == 0)
		in->wb_err = rc;
	pthread_cond_broadcast(&in->wcv);
	pthread_mutex_unlock(&in->mu);
}

int
fsc_flush(struct fsc *fs, struct fsc_file *f)
{
	(void)fs;
	fsc_wb_drain(f->in);
	return fsc_wb_take_err(f->in);
}

int
fsc_append(struct fsc *fs, struct fsc_file *f, const void *buf, size_t len,
    uint64_t *off)
{
	struct msg_append b;
	struct msg_append_rep rep;
	struct fsc_req r;
	size_t done;
	int rc;

	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	memset(&b, 0, sizeof(b));
	b.ino = f->in->ino;
	b.handle = f->handle;
	b.length = len;
	fsc_req_init(&r, MSG_OP_MDS_APPEND, &b, sizeof(b));
	r.rbody = &rep;
	r.rbody_cap = sizeof(rep);
	rc = fsc_mds_call(fs, &r);
	if (rc < 0)
		return rc;
	if (r.rbody_len < sizeof(rep) || rep.offset > (uint64_t)INT64_MAX)
		return -EIO;
	*off = rep.offset;
	return fsc_write(fs, f, buf, len, rep.offset, &done);
}

static int	fsc_fsync_objects(struct fsc *, struct fsc_file *);

int
fsc_fsync(struct fsc *fs, struct fsc_file *f)
{
	int err = fsc_flush(fs, f);
	int rc2 = fsc_fsync_objects(fs, f);

	return err < 0 ? err : rc2;
}

static int
fsc_fsync_objects(struct fsc *fs, struct fsc_file *f)
{
	const struct fsc_layout *l = fsc_file_layout_get(fs, f);
	struct fsc_oio *v;
	struct msg_setattr sa;
	struct msg_attr a;
	struct fsc_req r;
	int rc = 0;

	if (l->count > 0) {
		v = xcalloc(l->count, sizeof(*v));
		for (uint32_t k = 0; k < l->count; k++) {
			v[k].op = MSG_OP_OST_SYNC;
			v[k].stripe = k;
			v[k].ost = l->ent[k].ost;
			v[k].oid = l->ent[k].oid;
		}
		fsc_oio_batch(fs, v, (int)l->count);
		for (uint32_t k = 0; k < l->count; k++)
			if (v[k].rc < 0 && rc == 0)
				rc = v[k].rc;
		free(v);
		if (rc < 0)
			return rc;
	}
	if (!f->dirty)
		return 0;
	/* Make the size durable at the MDS, never shrinking it. */
	rc = fsc_getattr(fs, f->in->ino, &f->cred, &a);
	if (rc < 0)
		return rc;
	memset(&sa, 0, sizeof(sa));
	sa.ino = f->in->ino;
	sa.cred = f->cred;
	pthread_mutex_lock(&f->in->mu);
	sa.size = f->in->size;
	sa.mtime_sec = f->in->mtime_sec;
	sa.mtime_nsec = f->in->mtime_nsec;
	pthread_mutex_unlock(&f->in->mu);
	sa.valid = MSG_SA_MTIME;
	if (sa.size > a.size)
		sa.valid |= MSG_SA_SIZE;
	fsc_req_init(&r, MSG_OP_MDS_SETATTR, &sa, sizeof(sa));
	rc = fsc_attr_call(fs, &r, &a);
	return rc == -EPERM || rc == -EACCES ? 0 : rc;
}

int
fsc_statfs(struct fsc *fs, struct msg_statfs *st)
{
	struct fsc_req r;
	int rc;

	memset(st, 0, sizeof(*st));
	fsc_req_init(&r, MSG_OP_MDS_STATFS, NULL, 0);
	r.rbody = st;
	r.rbody_cap = sizeof(*st);
	rc = fsc_mds_call(fs, &r);
	if (rc == 0 && r.rbody_len < sizeof(*st))
		rc = -EIO;
	return rc;
}

/* ---- xattrs ---- */

/* Copy a value to the caller: size only, ERANGE, or the bytes. */
static int
fsc_xattr_out(const void *val, size_t vlen, void *buf, size_t cap,
    size_t *len)
{
	*len = vlen;
	if (cap == 0)
		return 0;
	if (vlen > cap)
		return -ERANGE;
	memcpy(buf, val, vlen);
	return 0;
}

static int
fsc_ostdf(struct fsc *fs, void *buf, size_t cap, size_t *len)
{
	struct msg_statfs st;
	struct fsc_oio *v = NULL;
	char *text = NULL;
	size_t tcap, tlen;
	uint32_t nosts;
	int n = 0, rc;

	rc = fsc_statfs(fs, &st);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&fs->mu);
	nosts = fs->nosts;
	v = xcalloc(nosts + 1, sizeof(*v));
	for (uint32_t i = 0; i < nosts; i++) {
		if (fs->osts[i].srv == NULL)
			continue;
		v[n].op = MSG_OP_OST_STATFS;
		v[n].ost = i;
		n++;
	}
	pthread_mutex_unlock(&fs->mu);
	fsc_oio_batch(fs, v, n);
	tcap = (size_t)(n + 1) * 160;
	text = xmalloc(tcap);
	tlen = (size_t)snprintf(text, tcap, "MDT 0 %" PRIu64 " %" PRIu64
	    " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", st.bsize,
	    st.blocks, st.bfree, st.bavail, st.files, st.ffree);
	for (int i = 0; i < n; i++) {
		if (v[i].rc < 0) {
			rc = v[i].rc;
			goto out;
		}
		tlen += (size_t)snprintf(text + tlen, tcap - tlen, "OST %u %"
		    PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
		    " %" PRIu64 "\n", v[i].ost, v[i].st.bsize, v[i].st.blocks,
		    v[i].st.bfree, v[i].st.bavail, v[i].st.files,
		    v[i].st.ffree);
	}
	rc = fsc_xattr_out(text, tlen, buf, cap, len);
out:
	free(text);
	free(v);
	return rc;
}

/*
 * POSIX ACLs are not enforced (permissions are the mode bits), so they are
 * refused rather than stored: cp -a and tar then fall back to chmod.
 */
static int
fsc_xattr_acl(const char *name)
{
	return strncmp(name, "system.posix_acl_", 17) == 0;
}

/* Fixed-struct + name body for xattr calls. */
static int
fsc_xattr_body(union fsc_body *b, uint64_t ino, const char *name,
    const struct msg_cred *cred, uint32_t flags, uint32_t size)
{
	size_t len;
	int rc;

	rc = fsc_name_len(name, &len);
	if (rc < 0)
		return rc == -ENAMETOOLONG ? -ERANGE : rc;
	memset(&b->x, 0, sizeof(b->x));
	b->x.ino = ino;
	b->x.cred = *cred;
	b->x.flags = flags;
	b->x.namelen = (uint32_t)len;
	b->x.size = size;
	memcpy(b->raw + sizeof(b->x), name, len);
	return (int)(sizeof(b->x) + len);
}

int
fsc_getxattr(struct fsc *fs, uint64_t ino, const char *name,
    const struct msg_cred *cred, void *buf, size_t cap, size_t *len)
{
	union fsc_body b;
	struct fsc_req r;
	struct iovec iov;
	char *val;
	int rc, blen;

	*len = 0;
	if (fsc_xattr_acl(name))
		return -EOPNOTSUPP;
	if (strcmp(name, FSC_XATTR_OSTDF) == 0)
		return fsc_ostdf(fs, buf, cap, len);
	if (strcmp(name, FSC_XATTR_LOV) == 0) {
		char lbuf[FSC_LAYOUT_BUF];
		struct msg_ino mi;

		memset(&mi, 0, sizeof(mi));
		mi.ino = ino;
		mi.cred = *cred;
		iov.iov_base = lbuf;
		iov.iov_len = sizeof(lbuf);
		fsc_req_init(&r, MSG_OP_MDS_GETLAYOUT, &mi, sizeof(mi));
		r.rbulk = &iov;
		r.nrbulk = 1;
		rc = fsc_mds_call(fs, &r);
		if (rc < 0)
			return rc;
		if (r.rbulk_len < sizeof(struct msg_layout))
			return -ENODATA;
		return fsc_xattr_out(lbuf, r.rbulk_len, buf, cap, len);
	}
	blen = fsc_xattr_body(&b, ino, name, cred, 0, MSG_XATTR_MAX);
	if (blen < 0)
		return blen;
	val = xmalloc(MSG_XATTR_MAX);
	iov.iov_base = val;
	iov.iov_len = MSG_XATTR_MAX;
	fsc_req_init(&r, MSG_OP_MDS_GETXATTR, &b, (uint32_t)blen);
	r.rbulk = &iov;
	r.nrbulk = 1;
	rc = fsc_mds_call(fs, &r);
	if (rc == 0)
		rc = fsc_xattr_out(val, r.rbulk_len, buf, cap, len);
	free(val);
	return rc;
}

int
fsc_setxattr(struct fsc *fs, uint64_t ino, const char *name, const void *val,
    size_t len, uint32_t flags, const struct msg_cred *cred)
{
	union fsc_body b;
	struct fsc_req r;
	struct iovec iov;
	int blen, rc;

	if (strcmp(name, FSC_XATTR_OSTDF) == 0)
		return -EPERM;
	if (fsc_xattr_acl(name))
		return -EOPNOTSUPP;
	if (len > MSG_XATTR_MAX)
		return -E2BIG;
	iov.iov_base = (void *)val;
	iov.iov_len = len;
	if (strcmp(name, FSC_XATTR_LOV) == 0) {
		struct msg_ino mi;
		struct msg_layout ml;

		if (len < sizeof(ml))
			return -EINVAL;
		memcpy(&ml, val, sizeof(ml));
		if (ml.magic != MSG_LOV_MAGIC)
			return -EINVAL;
		memset(&mi, 0, sizeof(mi));
		mi.ino = ino;
		mi.cred = *cred;
		fsc_req_init(&r, MSG_OP_MDS_SETLAYOUT, &mi, sizeof(mi));
		r.bulk = &iov;
		r.nbulk = 1;
		rc = fsc_dir_call(fs, ino, &r);
		if (rc == 0)
			fsc_inode_relayout(fs, ino, cred);
		return rc;
	}
	blen = fsc_xattr_body(&b, ino, name, cred, flags, (uint32_t)len);
	if (blen < 0)
		return blen;
	fsc_req_init(&r, MSG_OP_MDS_SETXATTR, &b, (uint32_t)blen);
	r.bulk = &iov;
	r.nbulk = 1;
	return fsc_dir_call(fs, ino, &r);
}

int
fsc_listxattr(struct fsc *fs, uint64_t ino, const struct msg_cred *cred,
    void *buf, size_t cap, size_t *len)
{
	struct msg_ino b;
	struct fsc_req r;
	struct iovec iov;
	char *val;
	int rc;

	*len = 0;
	memset(&b, 0, sizeof(b));
	b.ino = ino;
	b.cred = *cred;
	val = xmalloc(MSG_XATTR_MAX);
	iov.iov_base = val;
	iov.iov_len = MSG_XATTR_MAX;
	fsc_req_init(&r, MSG_OP_MDS_LISTXATTR, &b, sizeof(b));
	r.rbulk = &iov;
	r.nrbulk = 1;
	rc = fsc_mds_call(fs, &r);
	if (rc == 0 && r.rbulk_len > 0 && val[r.rbulk_len - 1] != '\0')
		rc = -EIO;
	if (rc == 0)
		rc = fsc_xattr_out(val, r.rbulk_len, buf, cap, len);
	free(val);
	return rc;
}

int
fsc_removexattr(struct fsc *fs, uint64_t ino, const char *name,
    const struct msg_cred *cred)
{
	union fsc_body b;
	struct fsc_req r;
	int blen;

	if (strcmp(name, FSC_XATTR_OSTDF) == 0 ||
	    strcmp(name, FSC_XATTR_LOV) == 0)
		return -EPERM;
	blen = fsc_xattr_body(&b, ino, name, cred, 0, 0);
	if (blen < 0)
		return blen;
	fsc_req_init(&r, MSG_OP_MDS_RMXATTR, &b, (uint32_t)blen);
	return fsc_dir_call(fs, ino, &r);
}

int
fsc_setlayout(struct fsc *fs, uint64_t ino, const struct msg_cred *cred,
    uint32_t stripe_size, int32_t stripe_count, int32_t stripe_offset)
{
	struct msg_layout ml;

	memset(&ml, 0, sizeof(ml));
	ml.magic = MSG_LOV_MAGIC;
	ml.stripe_size = stripe_size;
	ml.stripe_count = stripe_count;
	ml.stripe_offset = stripe_offset;
	return fsc_setxattr(fs, ino, FSC_XATTR_LOV, &ml, sizeof(ml), 0, cred);
}
