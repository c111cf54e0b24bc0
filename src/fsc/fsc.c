/*
 * libfsx operations: setup, the inode cache, namespace calls to the MDS,
 * truncation, glimpses and statfs. File I/O is in fsc_file.c, xattrs in
 * fsc_xattr.c; what they share with this file is in fsc_int.h.
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

static int
fsc_layout_differs(const struct fsc_layout *a, const struct fsc_layout *b)
{
	return a->count != b->count || a->stripe_size != b->stripe_size ||
	    memcmp(a->ent, b->ent, a->count * sizeof(a->ent[0])) != 0;
}

/* Install a new layout; the old one stays allocated (other threads may
 * still use it) until the inode goes. Caller holds in->mu. */
void
fsc_inode_swap(struct fsc_inode *in, struct fsc_layout *l)
{
	in->stale = realloc(in->stale, (in->nstale + 1) * sizeof(*in->stale));
	if (in->stale == NULL)
		fatal("%s: out of memory", __func__);
	in->stale[in->nstale++] = in->layout;
	in->layout = l;
}

/* Under fs->imu: the inode open here as ino, or NULL. */
static struct fsc_inode *
fsc_inode_find(struct fsc *fs, uint64_t ino)
{
	struct fsc_inode *in;

	for (in = fs->itab[ino % FSC_IHASH]; in != NULL; in = in->next)
		if (in->ino == ino)
			return in;
	return NULL;
}

/* Reference (creating) the open inode; takes `l` (may be NULL). */
static struct fsc_inode *
fsc_inode_ref(struct fsc *fs, uint64_t ino, struct fsc_layout *l,
    uint64_t size)
{
	struct fsc_inode *in;

	pthread_mutex_lock(&fs->imu);
	in = fsc_inode_find(fs, ino);
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
	if (in->refs == 1 || size > in->ok_end)
		in->ok_end = size;
	if (in->refs == 1)
		in->wb_bad_from = UINT64_MAX;
	pthread_mutex_unlock(&in->mu);
	pthread_mutex_unlock(&fs->imu);
	free(l);
	return in;
}

void
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

/* Wait for write-behind on an inode if it is open here. */
static void
fsc_wb_drain_ino(struct fsc *fs, uint64_t ino)
{
	struct fsc_inode *in;

	pthread_mutex_lock(&fs->imu);
	in = fsc_inode_find(fs, ino);
	if (in != NULL)
		in->refs++;
	pthread_mutex_unlock(&fs->imu);
	if (in == NULL)
		return;
	fsc_file_wb_drain(in);
	fsc_inode_unref(fs, in);
}

/* A layout set on an inode open here: handles use the new one. */
void
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

/*
 * A size change of an inode open here: step +1 when it begins, -1 when
 * it ends (0: neither); with `size`, our size becomes *size (the MDS took
 * it). Reads that overlap a change do not raise the size (fsc_file.c).
 */
void
fsc_inode_trunc_mark(struct fsc *fs, uint64_t ino, int step,
    const uint64_t *size)
{
	struct fsc_inode *in;

	pthread_mutex_lock(&fs->imu);
	for (in = fs->itab[ino % FSC_IHASH]; in != NULL; in = in->next) {
		if (in->ino != ino)
			continue;
		pthread_mutex_lock(&in->mu);
		in->truncating += step;
		if (in->truncating < 0)	/* opened after the change began */
			in->truncating = 0;
		in->tgen++;
		if (size != NULL) {
			in->size = in->ok_end = *size;
			in->wb_bad_from = UINT64_MAX;
			in->wgen++;
		}
		pthread_mutex_unlock(&in->mu);
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
int
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

void
fsc_dir_forget(struct fsc *fs, uint64_t ino)
{
	pthread_mutex_lock(&fs->dmu);
	if (fs->dtab[ino % FSC_DATTR].ino == ino)
		fs->dtab[ino % FSC_DATTR].ino = 0;
	pthread_mutex_unlock(&fs->dmu);
}

int
fsc_dir_note(struct fsc *fs, uint64_t ino, const struct msg_attr *attr)
{
	struct fsc_dattr *d = &fs->dtab[ino % FSC_DATTR];
	int kept = 0;

	pthread_mutex_lock(&fs->dmu);
	if (fs->dbusy == 0 && ino != 0 && attr->ino == ino &&
	    S_ISDIR(attr->mode)) {
		d->ino = ino;
		d->at_ns = now_mono_ns();
		d->attr = *attr;
		kept = 1;
	}
	pthread_mutex_unlock(&fs->dmu);
	return kept;
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


int
fsc_name_len(const char *name, size_t *len)
{
	*len = strlen(name);
	if (*len == 0)
		return -EINVAL;
	if (*len > MSG_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

void
fsc_req_init(struct fsc_req *r, uint16_t op, const void *body, uint32_t len)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->body = body;
	r->body_len = len;
}

/* A call whose reply is a msg_attr. */
int
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
int
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
	attr->blocks = blocks;	/* what the objects hold, holes excluded */
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
	if ((in = fsc_inode_find(fs, attr->ino)) != NULL) {
		pthread_mutex_lock(&in->mu);
		mine = in->size;
		writers = in->writers;
		pthread_mutex_unlock(&in->mu);
		found = 1;
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

/* Handles open for write here on ino (0 when it is not open here). */
static int
fsc_writers(struct fsc *fs, uint64_t ino)
{
	struct fsc_inode *in;
	int n = 0;

	pthread_mutex_lock(&fs->imu);
	if ((in = fsc_inode_find(fs, ino)) != NULL) {
		pthread_mutex_lock(&in->mu);
		n = in->writers;
		pthread_mutex_unlock(&in->mu);
	}
	pthread_mutex_unlock(&fs->imu);
	return n;
}

int
fsc_sole_writer(struct fsc *fs, const struct msg_attr *attr)
{
	return S_ISREG(attr->mode) && attr->open_writers > 0 &&
	    (uint32_t)fsc_writers(fs, attr->ino) >= attr->open_writers;
}

int
fsc_writing(struct fsc *fs, uint64_t ino)
{
	return fsc_writers(fs, ino) > 0;
}

/* stripes whose blocks fsc_writer_attr counts itself; wider files ask */
#define FSC_WATTR_STRIPES	64

int
fsc_writer_attr(struct fsc *fs, struct msg_attr *attr)
{
	struct msg_layout_ent ents[FSC_WATTR_STRIPES];
	struct fsc_inode *in;
	uint64_t size = 0, blocks;
	uint32_t n = 0;
	int ok = 0;

	pthread_mutex_lock(&fs->imu);
	if ((in = fsc_inode_find(fs, attr->ino)) != NULL) {
		pthread_mutex_lock(&in->mu);
		/* no writer left here: the MDS knows better; a truncate in
		 * progress: the size is moving */
		ok = in->writers > 0 && !in->truncating && in->layout != NULL &&
		    in->layout->count > 0 &&
		    in->layout->count <= FSC_WATTR_STRIPES;
		if (ok) {
			size = in->size;
			n = in->layout->count;
			memcpy(ents, in->layout->ent, n * sizeof(ents[0]));
		}
		pthread_mutex_unlock(&in->mu);
	}
	pthread_mutex_unlock(&fs->imu);
	if (!ok || fsc_local_blocks(fs, ents, n, &blocks) < 0)
		return 0;
	if (size > attr->size)
		attr->size = size;
	attr->blocks = blocks;
	return 1;
}

/* ---- namespace ---- */

/* b = msg_name for name in parent, then the name; its length in *blen.
 * 0, or -ENAMETOOLONG / -EINVAL (fsc_name_len). */
static int
fsc_name_body(union fsc_body *b, uint64_t parent, const char *name,
    const struct msg_cred *cred, size_t *blen)
{
	size_t len;
	int rc;

	rc = fsc_name_len(name, &len);
	if (rc < 0)
		return rc;
	memset(&b->n, 0, sizeof(b->n));
	b->n.parent = parent;
	b->n.cred = *cred;
	b->n.namelen = (uint32_t)len;
	memcpy(b->raw + sizeof(b->n), name, len);
	*blen = sizeof(b->n) + len;
	return 0;
}

int
fsc_lookup(struct fsc *fs, uint64_t parent, const char *name,
    const struct msg_cred *cred, struct msg_attr *attr)
{
	union fsc_body b;
	struct fsc_req r;
	size_t blen;
	int rc;

	rc = fsc_name_body(&b, parent, name, cred, &blen);
	if (rc < 0)
		return rc;
	fsc_req_init(&r, MSG_OP_MDS_LOOKUP, &b, blen);
	rc = fsc_attr_call(fs, &r, attr);
	if (rc == 0)
		rc = fsc_attr_fix(fs, cred, attr);
	else if (rc != -ENOENT || r.rbody_len < sizeof(*attr) ||
	    attr->ino != 0)
		memset(attr, 0, sizeof(*attr));	/* no negative lease */
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
	/* Reads in flight from here to the punch's end saw the old
	 * objects: they must not take the old size back. */
	if (sa->valid & MSG_SA_SIZE)
		fsc_inode_trunc_mark(fs, sa->ino, 1, NULL);
	rc = fsc_attr_call(fs, &r, attr);
	fsc_dir_changed(fs, t, sa->ino, NULL);
	if (rc < 0)
		goto out;
	if (sa->valid & MSG_SA_MTIME)
		fsc_inode_mtime(fs, sa);
	if (!(sa->valid & MSG_SA_SIZE)) {
		rc = fsc_attr_fix(fs, &sa->cred, attr);
		goto out;
	}
	fsc_inode_trunc_mark(fs, sa->ino, 0, &sa->size);
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
out:
	if (sa->valid & MSG_SA_SIZE)
		fsc_inode_trunc_mark(fs, sa->ino, -1, NULL);
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
	pthread_mutex_lock(&f->in->mu);
	f->eseq = f->in->wb_eseq;	/* older failures are not ours */
	pthread_mutex_unlock(&f->in->mu);
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
	if (rc < 0)
		return rc;
	if (r.rbody_len < sizeof(rep))
		return -EIO;
	*attr = rep.attr;
	rc = fsc_file_make(fs, &rep, lbuf, r.rbulk_len, flags, cred, fp);
	attr->lease &= ~MSG_ATTR_CREATED;	/* ours, not the caller's */
	if (rc < 0)
		return rc;
	if (rep.attr.lease & MSG_ATTR_CREATED) {	/* fresh, empty objects */
		pthread_mutex_lock(&(*fp)->in->mu);
		(*fp)->dense = 1;
		(*fp)->dense_tgen = (*fp)->in->tgen;
		(*fp)->dense_sgen = (*fp)->in->sgen;
		pthread_mutex_unlock(&(*fp)->in->mu);
	}
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
	return rc;
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
	return rc;
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
	if (rc == 0)
		rc = fsc_attr_fix(fs, cred, attr);
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
	size_t blen;
	int rc;

	rc = fsc_name_body(&b, parent, name, cred, &blen);
	if (rc < 0)
		return rc;
	fsc_req_init(&r, op, &b, blen);
	r.rbody = &dir;
	r.rbody_cap = sizeof(dir);
	/* rmdir also changes the directory it removes */
	t = fsc_dir_change(fs, op == MSG_OP_MDS_UNLINK ? parent : 0);
	rc = fsc_mds_call(fs, &r);
	fsc_dir_changed(fs, t, parent, rc == 0 && r.rbody_len >= sizeof(dir) ?
	    &dir : NULL);
	return rc;
}

int
fsc_unlink(struct fsc *fs, uint64_t parent, const char *name,
    const struct msg_cred *cred)
{
	return fsc_remove(fs, MSG_OP_MDS_UNLINK, parent, name, cred);
}

int
fsc_unlink_held(struct fsc *fs, uint64_t parent, const char *name,
    const struct msg_cred *cred, const struct msg_time *dir_time)
{
	union fsc_body b;
	struct msg_attr dir;
	struct fsc_req r;
	size_t blen;
	int rc;

	rc = fsc_name_body(&b, parent, name, cred, &blen);
	if (rc < 0)
		return rc;
	b.n.flags = MSG_NM_TIME;
	memcpy(b.raw + blen, dir_time, sizeof(*dir_time));
	fsc_req_init(&r, MSG_OP_MDS_UNLINK, &b, blen + sizeof(*dir_time));
	r.rbody = &dir;
	r.rbody_cap = sizeof(dir);
	return fsc_mds_call(fs, &r);
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
