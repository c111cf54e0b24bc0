/*
 * libfsx file I/O (see fsc.h): reads and writes mapped onto the objects of
 * a layout (in parallel over the worker threads), direct reads, the
 * write-behind window of an inode (writes in flight, their ordering and
 * their first error), append, flush, fsync and close.
 *
 * Contract:
 *  1. A read or write that overlaps a write in flight waits for it
 *     (fsc_file_wb_wait_range), so this client reads its own writes.
 *  2. A write-behind failure is reported once to every handle open for
 *     write when it happened (as Linux's errseq does for fsync): at its
 *     next flush, fsync or close (fsc_file_wb_take_err), and until then to
 *     each of its writes. A write's error does not count as reported: the
 *     kernel turns an error on a later piece of a split write(2) into a
 *     short count that covers the failed piece, so the application may
 *     never see it there. Another handle's flush, a reader's above all,
 *     cannot take it away.
 *  2a. A failed write does not leave its range in the size: the size
 *     falls back to the data known written (in->ok_end), the writes still
 *     in flight, or the failure's offset, whichever is largest.
 *  3. A handle that wrote sends its size and last mtime with its close.
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
#include "fsc/fsc_mcache.h"
#include "fsc/fsc_int.h"

/* ---- files ---- */

static const struct fsc_layout *fsc_file_layout_get(struct fsc *,
    struct fsc_file *);

int
fsc_file_close(struct fsc *fs, struct fsc_file *f)
{
	struct msg_attr a;

	return fsc_file_close_attr(fs, f, &a);
}

/*
 * The st_blocks of a dense file (fsc_file.dense) without asking the
 * OSSes: each object holds its share of the size in whole 4 KiB blocks.
 * 1 with *blocks set, 0 when the file is not known dense (then glimpse).
 * Another mount writing the new file at the same time is not seen here:
 * its own CLOSE glimpses, and the last CLOSE's count stays.
 */
static int
fsc_file_dense_blocks(struct fsc_file *f, const struct fsc_layout *l,
    uint64_t *blocks)
{
	struct fsc_inode *in = f->in;
	int ok;

	pthread_mutex_lock(&in->mu);
	ok = f->dense && in->writers == 1 && in->wb_n == 0 &&
	    in->tgen == f->dense_tgen && in->sgen == f->dense_sgen &&
	    f->dense_end == in->size &&
	    f->eseq == in->wb_eseq;
	if (ok) {
		*blocks = 0;
		for (uint32_t k = 0; k < l->count; k++)
			*blocks += (fsc_layout_obj_size(in->size, k,
			    l->stripe_size, l->count) + 4095) / 4096 * 8;
	}
	pthread_mutex_unlock(&in->mu);
	return ok;
}

/* Under in->mu: a write of [off, off + len) by f keeps it dense only if
 * it continues what f wrote (fsc_file.dense). */
static void
fsc_file_dense_note(struct fsc_file *f, uint64_t off, size_t len)
{
	if (!f->dense)
		return;
	if (off > f->dense_end)
		f->dense = 0;
	else if (off + len > f->dense_end)
		f->dense_end = off + len;
}

int
fsc_file_close_attr(struct fsc *fs, struct fsc_file *f, struct msg_attr *out)
{
	const struct fsc_layout *l;
	struct msg_close b;
	struct msg_attr a;
	struct fsc_req r;
	int rc, mrc;

	memset(out, 0, sizeof(*out));
	if (f == NULL)
		return 0;
	fsc_file_wb_drain(f->in);
	rc = fsc_file_wb_take_err(f);
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
			uint64_t end;

			b.written |= MSG_CLOSE_WRITTEN;
			/* st_blocks: what the objects hold (sparse files) */
			l = fsc_file_layout_get(fs, f);
			if (l->count > 0 && fsc_file_dense_blocks(f, l,
			    &b.blocks))
				b.written |= MSG_CLOSE_BLOCKS;
			else if (l->count > 0 &&
			    fsc_glimpse_layout(fs, l, &end, &b.blocks) == 0)
				b.written |= MSG_CLOSE_BLOCKS;
			pthread_mutex_lock(&f->in->mu);
			b.size = f->in->size;
			b.mtime_sec = f->in->mtime_sec;
			b.mtime_nsec = f->in->mtime_nsec;
			pthread_mutex_unlock(&f->in->mu);
		}
		fsc_req_init(&r, MSG_OP_MDS_CLOSE, &b, sizeof(b));
		mrc = fsc_attr_call(fs, &r, &a);
		if (mrc == 0)
			*out = a;
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
fsc_file_read(struct fsc *fs, struct fsc_file *f, void *buf, size_t len,
    uint64_t off, size_t *done)
{
	fsc_file_wb_wait_range(f->in, off, len);
	__atomic_store_n(&f->was_read, 1, __ATOMIC_RELAXED);
	if (fs->ra_bytes > 0)
		return fsc_ra_read(fs, f, buf, len, off, done);
	return fsc_file_read_direct(fs, f, buf, len, off, done);
}

int
fsc_file_read_direct(struct fsc *fs, struct fsc_file *f, void *buf, size_t len,
    uint64_t off, size_t *done)
{
	const struct fsc_layout *l;
	struct fsc_oio *v = NULL;
	uint64_t size, tgen, data_end = 0;
	int n, rc = 0;

	*done = 0;
	if (len == 0)
		return 0;
	if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
		return -EINVAL;
	pthread_mutex_lock(&f->in->mu);
	tgen = f->in->tgen;
	pthread_mutex_unlock(&f->in->mu);
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
	/* Data past our size was written elsewhere, unless a truncate
	 * overlapped this read (then it is the data it cut off). */
	if (data_end > f->in->size && f->in->tgen == tgen &&
	    f->in->truncating == 0)
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
fsc_file_write(struct fsc *fs, struct fsc_file *f, const void *buf, size_t len,
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
			pthread_mutex_lock(&f->in->mu);
			f->dense = 0;
			pthread_mutex_unlock(&f->in->mu);
			goto out;
		}
	}
	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&f->in->mu);
	fsc_file_dense_note(f, off, len);
	if (off + len > f->in->size)
		f->in->size = off + len;
	if (off + len > f->in->ok_end)
		f->in->ok_end = off + len;
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
void
fsc_file_wb_drain(struct fsc_inode *in)
{
	uint64_t seq;

	pthread_mutex_lock(&in->mu);
	seq = in->wb_seq;
	while (fsc_wb_before(in, seq))
		pthread_cond_wait(&in->wcv, &in->mu);
	pthread_mutex_unlock(&in->mu);
}

/* Wait for write-behind overlapping a range (reads). */
void
fsc_file_wb_wait_range(struct fsc_inode *in, uint64_t off, size_t len)
{
	pthread_mutex_lock(&in->mu);
	while (fsc_wb_overlaps(in, off, len))
		pthread_cond_wait(&in->wcv, &in->mu);
	pthread_mutex_unlock(&in->mu);
}

/* Under in->mu: the failure this handle has not been told of, or 0. */
static int
fsc_wb_err_locked(struct fsc_file *f)
{
	if (f->eseq == f->in->wb_eseq || (f->flags & O_ACCMODE) == O_RDONLY)
		return 0;
	f->eseq = f->in->wb_eseq;
	return f->in->wb_err;
}

int
fsc_file_wb_take_err(struct fsc_file *f)
{
	int rc;

	pthread_mutex_lock(&f->in->mu);
	rc = fsc_wb_err_locked(f);
	pthread_mutex_unlock(&f->in->mu);
	return rc;
}

int
fsc_file_write_begin(struct fsc *fs, struct fsc_file *f, uint64_t off,
    size_t len)
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
	while (f->eseq == in->wb_eseq && (in->wb_n >= FSC_WB_MAX ||
	    fsc_wb_overlaps(in, off, len)))
		pthread_cond_wait(&in->wcv, &in->mu);
	if (f->eseq != in->wb_eseq) {	/* told, not taken (contract 2) */
		rc = in->wb_err;
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
	fsc_file_dense_note(f, off, len);
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

/* Under in->mu: take a failed write's range out of the size (2a). */
static void
fsc_wb_fail_size(struct fsc_inode *in, uint64_t off, size_t len)
{
	uint64_t keep;

	if (off < in->wb_bad_from)
		in->wb_bad_from = off;
	if (in->size > off + len)
		return;		/* written past it since: keep the hole */
	keep = in->wb_bad_from > in->ok_end ? in->wb_bad_from : in->ok_end;
	for (int i = 0; i < FSC_WB_MAX; i++)
		if (in->wb_used[i] && in->wb_off[i] + in->wb_len[i] > keep)
			keep = in->wb_off[i] + in->wb_len[i];
	if (keep < in->size)
		in->size = keep;
}

void
fsc_file_write_end(struct fsc *fs, struct fsc_file *f, uint64_t off, size_t len,
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
	if (rc < 0) {
		fsc_wb_fail_size(in, off, len);
		in->wb_err = rc;
		in->wb_eseq++;
		f->dense = 0;
	}
	pthread_cond_broadcast(&in->wcv);
	pthread_mutex_unlock(&in->mu);
}

int
fsc_file_flush(struct fsc *fs, struct fsc_file *f)
{
	(void)fs;
	fsc_file_wb_drain(f->in);
	return fsc_file_wb_take_err(f);
}

int
fsc_file_append(struct fsc *fs, struct fsc_file *f, const void *buf, size_t len,
    int killpriv, uint64_t *off)
{
	struct msg_append b;
	struct msg_append_rep rep;
	struct fsc_req r;
	size_t done;
	int rc;

	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	pthread_mutex_lock(&f->in->mu);
	f->in->sgen++;		/* another mount's appends come between */
	pthread_mutex_unlock(&f->in->mu);
	memset(&b, 0, sizeof(b));
	b.ino = f->in->ino;
	b.handle = f->handle;
	b.length = len;
	/* a first piece of a split write (fsc.h): the MDS keeps the tail
	 * for its rest, so one write(2) stays one record */
	if (len > FSC_APPEND_SPLIT - 4096 && len < FSC_APPEND_SPLIT)
		b.flags |= MSG_AP_MORE;
	if (killpriv)
		b.flags |= MSG_AP_KILLPRIV;
	fsc_req_init(&r, MSG_OP_MDS_APPEND, &b, sizeof(b));
	r.rbody = &rep;
	r.rbody_cap = sizeof(rep);
	rc = fsc_mds_call(fs, &r);
	if (rc < 0)
		return rc;
	if (r.rbody_len < sizeof(rep) || rep.offset > (uint64_t)INT64_MAX)
		return -EIO;
	/* our own change of the size and times (and, with MSG_APR_MODE,
	 * of the mode) at the MDS: what the mount holds of them goes */
	fsc_mc_changed(f->in->ino);
	*off = rep.offset;
	return fsc_file_write(fs, f, buf, len, rep.offset, &done);
}

int
fsc_file_fallocate(struct fsc *fs, struct fsc_file *f, uint32_t mode,
    uint64_t off, uint64_t len)
{
	const struct fsc_layout *l;
	struct fsc_oio *v;
	struct timespec now;
	uint64_t end;
	int n = 0, rc = 0;

	if (mode != 0 && mode != MSG_FA_KEEP_SIZE &&
	    mode != (MSG_FA_PUNCH_HOLE | MSG_FA_KEEP_SIZE) &&
	    mode != MSG_FA_ZERO_RANGE &&
	    mode != (MSG_FA_ZERO_RANGE | MSG_FA_KEEP_SIZE))
		return -EOPNOTSUPP;
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (len == 0)
		return -EINVAL;
	if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
		return -EFBIG;
	end = off + len;
	pthread_mutex_lock(&f->in->mu);
	f->in->sgen++;		/* allocation no longer follows the size */
	pthread_mutex_unlock(&f->in->mu);
	/* Writes acknowledged before land before (a punch must win). */
	fsc_file_wb_drain(f->in);
	l = fsc_file_layout_get(fs, f);
	if (l->count == 0)
		return -EIO;
	/* A file range is one contiguous range of each object. */
	v = xcalloc(l->count, sizeof(*v));
	for (uint32_t k = 0; k < l->count; k++) {
		uint64_t lo = fsc_layout_obj_size(off, k, l->stripe_size,
		    l->count);
		uint64_t hi = fsc_layout_obj_size(end, k, l->stripe_size,
		    l->count);

		if (hi <= lo)
			continue;
		v[n].op = MSG_OP_OST_FALLOC;
		v[n].stripe = k;
		v[n].ost = l->ent[k].ost;
		v[n].oid = l->ent[k].oid;
		v[n].off = lo;
		v[n].len = hi - lo;
		v[n].mode = mode;
		n++;
	}
	fsc_oio_batch(fs, v, n);
	for (int i = 0; i < n; i++)
		if (v[i].rc < 0 && rc == 0)
			rc = v[i].rc;
	free(v);
	if (rc < 0)
		return rc;
	clock_gettime(CLOCK_REALTIME, &now);
	pthread_mutex_lock(&f->in->mu);
	f->in->wgen++;
	if ((!(mode & MSG_FA_KEEP_SIZE) && end > f->in->size) ||
	    (mode & (MSG_FA_PUNCH_HOLE | MSG_FA_ZERO_RANGE))) {
		if (!(mode & MSG_FA_KEEP_SIZE) && end > f->in->size)
			f->in->size = end;
		if (!(mode & MSG_FA_KEEP_SIZE) && end > f->in->ok_end)
			f->in->ok_end = end;
		f->dirty = 1;
		f->in->mtime_sec = now.tv_sec;
		f->in->mtime_nsec = now.tv_nsec;
	}
	pthread_mutex_unlock(&f->in->mu);
	return 0;
}

static int	fsc_fsync_objects(struct fsc *, struct fsc_file *);

int
fsc_file_fsync(struct fsc *fs, struct fsc_file *f)
{
	int err = fsc_file_flush(fs, f);
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
	fsc_mc_changed(f->in->ino);	/* the MDS's size and mtime moved */
	return rc == -EPERM || rc == -EACCES ? 0 : rc;
}
