/*
 * Layouts in the MDS store: the lustre.lov blob codec, defaults (a
 * directory's, the root's, the file system's), allocation of objects over
 * the pool of OSTs new layouts may use, GETLAYOUT and SETLAYOUT.
 *
 * Contract:
 *  1. Blobs are native-endian struct msg_layout + entries, validated each
 *     time they are read back (mds_layout_decode) (mds_ns.c, note 6).
 *  2. A directory's layout is its default for new files (nent 0), copied
 *     to new subdirectories; a file created where there is none takes the
 *     root's default, else 1 stripe of 1 MiB.
 *  3. SETLAYOUT on a regular file only while it has no data (else
 *     -EEXIST); its old objects are queued for destroy.
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

/* ---- layouts ---- */

size_t
mds_layout_size(const struct mds_layout *l)
{
	return sizeof(l->hdr) + l->hdr.nent * sizeof(l->ent[0]);
}

int
mds_layout_decode(const void *blob, size_t len, struct mds_layout *l)
{
	if (blob == NULL || len < sizeof(l->hdr))
		return -EINVAL;
	memcpy(&l->hdr, blob, sizeof(l->hdr));
	if (l->hdr.magic != MSG_LOV_MAGIC || l->hdr.nent > MSG_MAX_STRIPES)
		return -EINVAL;
	if (len != mds_layout_size(l))
		return -EINVAL;
	if (l->hdr.stripe_count < -1 ||
	    l->hdr.stripe_count > MSG_MAX_STRIPES)
		return -EINVAL;
	if (l->hdr.stripe_size % (64 * 1024) != 0)
		return -EINVAL;
	memcpy(l->ent, (const char *)blob + sizeof(l->hdr),
	    l->hdr.nent * sizeof(l->ent[0]));
	return 0;
}

/* The stored layout of an inode: 1 when there is one, 0 when none. */
int
mds_layout_load(struct mds_ns *ns, uint64_t ino, struct mds_layout *l)
{
	sqlite3_stmt *s = mds_tx_st(ns, Q_LAYOUT_GET);
	int rc;

	sqlite3_bind_int64(s, 1, (int64_t)ino);
	rc = mds_tx_row(ns, s);
	if (rc <= 0)
		return rc == 0 ? -ENOENT : rc;
	if (sqlite3_column_type(s, 0) == SQLITE_NULL) {
		sqlite3_reset(s);
		return 0;
	}
	rc = mds_layout_decode(sqlite3_column_blob(s, 0),
	    (size_t)sqlite3_column_bytes(s, 0), l);
	sqlite3_reset(s);
	if (rc < 0) {
		log_warn("mds_ns: inode %llu: corrupt layout",
		    (unsigned long long)ino);
		return -EIO;
	}
	return 1;
}

int
mds_layout_store(struct mds_ns *ns, uint64_t ino, const struct mds_layout *l)
{
	sqlite3_stmt *s = mds_tx_st(ns, Q_LAYOUT_SET);

	sqlite3_bind_int64(s, 1, (int64_t)ino);
	if (l != NULL)
		sqlite3_bind_blob(s, 2, l, (int)mds_layout_size(l),
		    SQLITE_STATIC);
	return mds_tx_exec(ns, s);
}

static void
layout_fs_default(struct mds_layout *l)
{
	memset(&l->hdr, 0, sizeof(l->hdr));
	l->hdr.magic = MSG_LOV_MAGIC;
	l->hdr.stripe_size = MDS_STRIPE_SIZE_DEF;
	l->hdr.stripe_count = 1;
	l->hdr.stripe_offset = -1;
}

/* The default layout new files in `dir` get. */
int
mds_layout_default(struct mds_ns *ns, uint64_t dir, struct mds_layout *l)
{
	int rc = mds_layout_load(ns, dir, l);

	if (rc < 0)
		return rc;
	if (rc == 0 && dir != MDS_ROOT_INO)
		rc = mds_layout_load(ns, MDS_ROOT_INO, l);
	if (rc < 0)
		return rc;
	if (rc == 0)
		layout_fs_default(l);
	l->hdr.nent = 0;
	return 0;
}

static int
pool_index(struct mds_ns *ns, int32_t ost)
{
	for (unsigned i = 0; i < ns->npool; i++)
		if ((int64_t)ns->pool[i] == ost)
			return (int)i;
	return -1;
}

/* Check a requested layout's header (stripe values, not entries). */
static int
layout_hdr_check(struct mds_ns *ns, const struct msg_layout *h)
{
	if (h->stripe_count < -1 || h->stripe_count > MSG_MAX_STRIPES)
		return -EINVAL;
	if (h->stripe_size % (64 * 1024) != 0)
		return -EINVAL;
	if (h->stripe_offset < -1)
		return -EINVAL;
	if (h->stripe_offset >= 0 && pool_index(ns, h->stripe_offset) < 0)
		return -EINVAL;
	return 0;
}

/* Allocate a file layout from a default: OSTs and object ids. */
int
mds_layout_alloc(struct mds_ns *ns, const struct mds_layout *def,
    struct mds_layout *out)
{
	int32_t count = def->hdr.stripe_count;
	int start, rc;

	if (ns->npool == 0)
		return -ENOSPC;
	if (count == 0)
		count = 1;
	if (count < 0 || (uint32_t)count > ns->npool)
		count = (int32_t)ns->npool;
	if (count > MSG_MAX_STRIPES)
		count = MSG_MAX_STRIPES;
	start = -1;
	if (def->hdr.stripe_offset >= 0)
		start = pool_index(ns, def->hdr.stripe_offset);
	if (start < 0)
		start = (int)(ns->rr++ % ns->npool);
	memset(&out->hdr, 0, sizeof(out->hdr));
	out->hdr.magic = MSG_LOV_MAGIC;
	out->hdr.stripe_size = def->hdr.stripe_size ? def->hdr.stripe_size :
	    MDS_STRIPE_SIZE_DEF;
	out->hdr.stripe_count = count;
	out->hdr.stripe_offset = (int32_t)ns->pool[start];
	out->hdr.nent = (uint32_t)count;
	for (int k = 0; k < count; k++) {
		struct msg_layout_ent *e = &out->ent[k];

		memset(e, 0, sizeof(*e));
		e->ost = ns->pool[((unsigned)start + (unsigned)k) % ns->npool];
		rc = mds_tx_oid_alloc(ns, e->ost, &e->oid);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
mds_layout_set_pool(struct mds_ns *ns, const uint32_t *osts, unsigned n)
{
	uint32_t *p;
	unsigned m = 0;

	p = xcalloc(n ? n : 1, sizeof(*p));
	memcpy(p, osts, n * sizeof(*p));
	qsort(p, n, sizeof(*p), u32_cmp);
	for (unsigned i = 0; i < n; i++)	/* drop duplicates */
		if (m == 0 || p[m - 1] != p[i])
			p[m++] = p[i];
	pthread_mutex_lock(&ns->lock);
	free(ns->pool);
	ns->pool = p;
	ns->npool = m;
	pthread_mutex_unlock(&ns->lock);
	return 0;
}

/* The effective default a directory hands out (for GETLAYOUT). */
int
mds_layout_get_locked(struct mds_ns *ns, const struct mds_ino *i,
    struct mds_layout *l)
{
	int rc;

	if (S_ISDIR(i->mode))
		return mds_layout_default(ns, i->ino, l);
	if (!S_ISREG(i->mode))
		return -ENODATA;
	rc = mds_layout_load(ns, i->ino, l);
	if (rc == 0)
		return -ENODATA;
	return rc < 0 ? rc : 0;
}

/* Set a layout (mds_layout_set's body); in a transaction. */
int
mds_layout_set_locked(struct mds_ns *ns, struct mds_ino *i, const void *blob,
    size_t len)
{
	struct mds_layout req, old, lay;
	int rc;

	if (len < sizeof(req.hdr) || len > MDS_LAYOUT_MAX)
		return -EINVAL;
	memcpy(&req.hdr, blob, sizeof(req.hdr));
	if (req.hdr.magic != MSG_LOV_MAGIC)
		return -EINVAL;
	rc = layout_hdr_check(ns, &req.hdr);
	if (rc < 0)
		return rc;
	req.hdr.nent = 0;
	if (S_ISDIR(i->mode)) {
		if (req.hdr.stripe_count == 0 && req.hdr.stripe_size == 0 &&
		    req.hdr.stripe_offset == -1)
			return mds_layout_store(ns, i->ino, NULL);
		return mds_layout_store(ns, i->ino, &req);
	}
	if (!S_ISREG(i->mode))
		return -EINVAL;
	if (i->size != 0 || i->written)
		return -EEXIST;
	rc = mds_layout_load(ns, i->ino, &old);
	if (rc < 0)
		return rc;
	rc = mds_layout_alloc(ns, &req, &lay);
	if (rc < 0)
		return rc;
	rc = mds_layout_store(ns, i->ino, &lay);
	if (rc == 0 && old.hdr.magic == MSG_LOV_MAGIC)
		rc = mds_destroy_queue(ns, &old);
	return rc;
}

/* ---- layouts ---- */

int
mds_layout_get(struct mds_ns *ns, uint64_t ino, struct mds_layout *lay)
{
	struct mds_ino i;
	int rc;

	mds_tx_rlock(ns);
	rc = mds_ns_ino_load(ns, ino, &i);
	if (rc == 0)
		rc = mds_layout_get_locked(ns, &i, lay);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}

int
mds_layout_set(struct mds_ns *ns, uint64_t ino, const void *blob,
    size_t len)
{
	struct mds_ino i;
	int rc;

	mds_tx_wlock(ns);
	rc = mds_tx_begin(ns);
	if (rc < 0)
		goto out;
	rc = mds_ns_ino_load(ns, ino, &i);
	if (rc == 0)
		rc = mds_layout_set_locked(ns, &i, blob, len);
	rc = mds_tx_end(ns, rc);
out:
	rc = mds_tx_sync(ns, rc);
	pthread_mutex_unlock(&ns->lock);
	return rc;
}
