/*
 * Open files of the MDS store: handles in memory (struct ofile per open
 * inode, struct ohandle per handle, hashed by inode and handle), OPEN,
 * CLOSE, APPEND and the release of a connection's handles.
 *
 * Contract:
 *  1. Handles live in memory only and belong to an owner (a connection):
 *     mds_open_drop_owner() closes them all without size updates.
 *  2. An inode whose last link goes while it is open stays with nlink 0
 *     and is destroyed at its last close (mds_ns.c, design note 5).
 *  3. CLOSE with an unknown handle (after an MDS restart) still applies
 *     the written size; explicit times set while open are not undone by a
 *     late CLOSE.
 *  4. An explicit atime outranks the reads of the handles open when it
 *     was set (their CLOSE may come after it), never those of handles
 *     opened later: each handle remembers the ofile's at_gen at open.
 * Every public function takes the store lock and commits as mds_tx.c says.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "mds/mds_int.h"
#include "mds/mds_reply.h"

/* ---- open handles ---- */

struct ofile *
mds_open_ofile(struct mds_ns *ns, uint64_t ino)
{
	struct ofile *f;

	for (f = ns->ofiles[ino % OHASH_SIZE]; f != NULL; f = f->next)
		if (f->ino == ino)
			return f;
	return NULL;
}

void
mds_open_truncated(struct mds_ns *ns, uint64_t ino)
{
	struct ofile *f = mds_open_ofile(ns, ino);

	if (f != NULL) {
		f->trunc_gen++;
		f->app_open = 0;	/* the size is this one */
	}
}

static struct ofile *
ofile_ref(struct mds_ns *ns, uint64_t ino)
{
	struct ofile *f = mds_open_ofile(ns, ino);

	if (f == NULL) {
		f = xcalloc(1, sizeof(*f));
		f->ino = ino;
		f->next = ns->ofiles[ino % OHASH_SIZE];
		ns->ofiles[ino % OHASH_SIZE] = f;
	}
	return f;
}

static void
ofile_drop_if_unused(struct mds_ns *ns, struct ofile *f)
{
	struct ofile **pp;

	if (f->opens > 0)
		return;
	for (pp = &ns->ofiles[f->ino % OHASH_SIZE]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			free(f);
			return;
		}
	}
}

static int
is_writer(uint32_t flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

uint64_t
mds_open_handle_new(struct mds_ns *ns, uint64_t ino, uint32_t flags,
    uint64_t owner)
{
	struct ofile *f = ofile_ref(ns, ino);
	struct ohandle *h = xcalloc(1, sizeof(*h));

	h->handle = ns->handle_next++;
	if (h->handle == 0)
		h->handle = ns->handle_next++;
	h->ino = ino;
	h->owner = owner;
	h->flags = flags;
	h->trunc_gen = f->trunc_gen;
	h->at_gen = f->at_gen;
	h->next = ns->handles[h->handle % OHASH_SIZE];
	ns->handles[h->handle % OHASH_SIZE] = h;
	f->opens++;
	if (is_writer(flags))
		f->writers++;
	return h->handle;
}

/* Remove a handle from the table; the caller frees it. */
static struct ohandle *
handle_take(struct mds_ns *ns, uint64_t handle, uint64_t ino)
{
	struct ohandle **pp, *h;

	for (pp = &ns->handles[handle % OHASH_SIZE]; *pp != NULL;
	    pp = &(*pp)->next) {
		h = *pp;
		if (h->handle == handle && h->ino == ino) {
			*pp = h->next;
			return h;
		}
	}
	return NULL;
}

uint32_t
mds_open_count(struct mds_ns *ns, uint64_t ino)
{
	struct ofile *f = mds_open_ofile(ns, ino);

	return f ? f->opens : 0;
}

/* ---- open, close, append ---- */

int
mds_open_file(struct mds_ns *ns, uint64_t ino, uint32_t flags,
    uint64_t owner, struct msg_attr *out, uint64_t *handle,
    struct mds_layout *lay)
{
	struct timespec now;
	struct mds_ino i;
	int rc, trunc = 0, killpriv = (flags & MDS_OPEN_KILLPRIV) != 0;

	flags &= ~MDS_OPEN_KILLPRIV;
	*handle = 0;
	memset(&lay->hdr, 0, sizeof(lay->hdr));
	mds_ns_now(&now);
	mds_tx_wlock(ns);
	/* Only O_TRUNC writes: other opens run without a transaction. */
	rc = mds_ns_ino_load(ns, ino, &i);
	if (rc < 0)
		goto out;
	if (S_ISLNK(i.mode)) {
		rc = -ELOOP;
		goto out;
	}
	if (S_ISDIR(i.mode) && is_writer(flags)) {
		rc = -EISDIR;
		goto out;
	}
	if (S_ISREG(i.mode)) {
		rc = mds_layout_load(ns, ino, lay);
		if (rc == 0)
			rc = -EIO;
		if (rc < 0)
			goto out;
		rc = 0;
	}
	if (S_ISREG(i.mode) && (flags & O_TRUNC) && is_writer(flags)) {
		rc = mds_tx_begin(ns);
		if (rc < 0)
			goto out;
		i.size = 0;
		i.blocks = 0;
		i.mt = i.ct = now;
		if (killpriv)
			i.mode &= ~msg_killpriv(i.mode);
		rc = mds_tx_end(ns, mds_ns_ino_store(ns, &i));
		trunc = 1;
	}
	if (rc == 0 && S_ISREG(i.mode)) {
		if (trunc)
			mds_open_truncated(ns, ino);
		*handle = mds_open_handle_new(ns, ino, flags, owner);
	}
	if (rc == 0)
		mds_ns_ino_to_attr(ns, &i, out);
out:
	rc = mds_tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

/*
 * relatime, as Linux mounts by default: a read moves atime only when it is
 * not newer than mtime or ctime, or is a day old. Reads are reported at
 * close (MSG_CLOSE_READ), so atime costs no round trip of its own.
 */
static int
atime_due(const struct mds_ino *i, const struct timespec *now)
{
	if (timespec_cmp(&i->at, &i->mt) <= 0 || timespec_cmp(&i->at, &i->ct) <= 0)
		return 1;
	return now->tv_sec - i->at.tv_sec >= 24 * 3600;
}

int
mds_open_close(struct mds_ns *ns, const struct msg_close *c,
    struct msg_attr *out)
{
	struct ohandle *h = NULL;
	struct timespec now, mt_set = { 0, 0 }, cmt;
	struct mds_ino i;
	struct ofile *f;
	int rc, truncated = 0, dirty = 0, gone, at_set = 1, lazy_at = 0;
	int lazy_due = 0;

	mds_ns_now(&now);
	mds_tx_wlock(ns);
	/* A read-only close changes nothing durable: no transaction. */
	rc = mds_ns_ino_load(ns, c->ino, &i);
	if (rc < 0)
		goto out;
	if ((c->written & MSG_CLOSE_WRITTEN) && S_ISREG(i.mode) &&
	    c->size > (uint64_t)INT64_MAX) {
		rc = -EFBIG;
		goto out;
	}
	f = mds_open_ofile(ns, c->ino);
	if (c->handle != 0)
		h = handle_take(ns, c->handle, c->ino);
	if (f != NULL)
		mt_set = f->mt_set;
	if (h != NULL && f != NULL) {
		/* Only an atime set after this handle opened outranks
		 * its reads; later handles read after it (invariant 4). */
		at_set = h->at_gen != f->at_gen;
		truncated = h->trunc_gen != f->trunc_gen;
		f->opens--;
		if (is_writer(h->flags) && f->writers > 0)
			f->writers--;
		/* the closer's data, appended or not, is written */
		if ((c->written & MSG_CLOSE_WRITTEN) && c->size > f->app_base)
			f->app_base = c->size;
		ofile_drop_if_unused(ns, f);
	}
	if ((c->written & MSG_CLOSE_READ) && h != NULL && !at_set &&
	    atime_due(&i, &now)) {
		i.at = now;
		lazy_at = 1;
	}
	free(h);
	if ((c->written & MSG_CLOSE_WRITTEN) && S_ISREG(i.mode)) {
		if (truncated || c->size > i.size)
			i.size = c->size;
		if ((c->written & MSG_CLOSE_BLOCKS) &&
		    c->blocks <= (uint64_t)INT64_MAX)
			i.blocks = (int64_t)c->blocks;
		/*
		 * The writer's last write time, unless an explicit mtime (or
		 * a truncate) came after it: cp -p, tar and rsync -t close
		 * and then utime, and FUSE sends our CLOSE (at release)
		 * asynchronously, so it may arrive after their SETATTR.
		 */
		if ((c->mtime_sec != 0 || c->mtime_nsec != 0) &&
		    mds_ns_ts_valid(c->mtime_sec, c->mtime_nsec)) {
			cmt.tv_sec = c->mtime_sec;
			cmt.tv_nsec = c->mtime_nsec;
			if (timespec_cmp(&mt_set, &cmt) <= 0)
				i.mt = cmt;
		} else if (mt_set.tv_sec == 0 && mt_set.tv_nsec == 0)
			i.mt = now;
		i.ct = now;
		i.written = 1;
		dirty = 1;
	}
	gone = i.nlink == 0 && mds_open_count(ns, i.ino) == 0;
	/* A read's atime alone is stored later (mds_ns.c, design note 7). */
	if (lazy_at && !dirty && !gone) {
		lazy_due = mds_ns_atime_defer(ns, i.ino, &i.at);
		if (lazy_due < 0)
			dirty = 1;
	}
	if (dirty || gone || lazy_due > 0) {
		rc = mds_tx_begin(ns);
		if (rc < 0)
			goto out;
		if (lazy_due > 0)
			rc = mds_ns_atime_store(ns);
		if (rc == 0 && gone)
			rc = mds_ns_ino_destroy(ns, &i);
		else if (rc == 0 && dirty)
			rc = mds_ns_ino_store(ns, &i);
		rc = mds_tx_end(ns, rc);
	}
	if (rc == 0)
		mds_ns_ino_to_attr(ns, &i, out);
out:
	rc = mds_tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

/* Forget one handle (already unlinked from the table) in a transaction. */
static int
handle_release(struct mds_ns *ns, struct ohandle *h)
{
	struct ofile *f = mds_open_ofile(ns, h->ino);
	struct mds_ino i;
	int rc;

	if (f == NULL)
		return 0;
	f->opens--;
	if (is_writer(h->flags) && f->writers > 0)
		f->writers--;
	ofile_drop_if_unused(ns, f);
	if (mds_open_count(ns, h->ino) > 0)
		return 0;
	rc = mds_ns_ino_load(ns, h->ino, &i);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0 && i.nlink == 0)
		rc = mds_ns_ino_destroy(ns, &i);
	return rc;
}

int
mds_open_drop_owner(struct mds_ns *ns, uint64_t owner)
{
	struct ohandle **pp, *h;
	int rc = 0, n = 0;

	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
	if (rc < 0)
		goto out;
	for (int b = 0; b < OHASH_SIZE && rc == 0; b++) {
		pp = &ns->handles[b];
		while (*pp != NULL && rc == 0) {
			h = *pp;
			if (h->owner != owner) {
				pp = &h->next;
				continue;
			}
			*pp = h->next;
			rc = handle_release(ns, h);
			free(h);
			n++;
		}
	}
	rc = mds_tx_end(ns, rc);
out:
	rc = mds_tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc < 0 ? rc : n;
}

int
mds_open_append(struct mds_ns *ns, uint64_t ino, uint64_t handle,
    uint64_t length, int killpriv, uint64_t *offset, int *mode_changed)
{
	struct timespec now;
	struct mds_ino i;
	struct ofile *f;
	uint32_t kill;
	int rc;

	(void)handle;
	*mode_changed = 0;
	mds_ns_now(&now);
	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = mds_ns_ino_load(ns, ino, &i);
	if (rc < 0)
		goto end;
	if (S_ISDIR(i.mode)) {
		rc = -EISDIR;
		goto end;
	}
	if (!S_ISREG(i.mode)) {
		rc = -EINVAL;
		goto end;
	}
	if (length > (uint64_t)INT64_MAX - i.size) {
		rc = -EFBIG;
		goto end;
	}
	f = mds_open_ofile(ns, ino);
	if (f != NULL && !f->app_open) {
		f->app_base = i.size;	/* the first range not yet written */
		f->app_open = 1;
	}
	*offset = i.size;
	i.size += length;
	i.written = 1;
	kill = msg_killpriv(i.mode);
	if (killpriv && kill != 0) {
		i.mode &= ~kill;
		*mode_changed = 1;
	}
	i.mt = i.ct = now;
	rc = mds_ns_ino_store(ns, &i);
	mds_reply_set_val(*offset);	/* a resend gets this range again */
end:
	rc = mds_tx_end(ns, rc);
out:
	rc = mds_tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}
