/*
 * MDS side of a backup's snapshot (mds_snap.h, docs/backups.md).
 *
 * Order, and why it gives one instant:
 *   1. take the store lock with no batch open: every acknowledged
 *      namespace change is committed, and none can start;
 *   2. FREEZE every OST: every acknowledged write is on disk, and none
 *      can start;
 *   3. start a read transaction on a second connection to the store
 *      (WAL: O(1), and it keeps seeing this committed state), and note
 *      the size files open for write have on their frozen objects (a
 *      glimpse);
 *   4. MARK every OST: its snapshot opens (O(1): no object is touched);
 *   5. THAW every OST, release the store lock.
 * Between 2 and 5 nothing of the file system changes, so the read
 * transaction and the marks are the same instant. After the pause the
 * store is copied through that transaction (sqlite3_backup) and the noted
 * sizes written into the copy. Meanwhile an OSS links each object
 * into its snapshot before changing it, and fsxd's LINK links the rest
 * (oss_snap.h). Writers see a pause of steps 2-5; namespace changes one
 * of steps 1-5; neither grows with the number of objects.
 */
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "mds/mds_int.h"
#include "mds/mds_snap.h"

static _Atomic unsigned long long last_hold_us;

unsigned long long
mds_snap_last_hold_us(void)
{
	return atomic_load(&last_hold_us);
}

static int
ost_phase(struct mds_osts *osts, uint32_t ost, uint32_t phase,
    const char *name)
{
	struct msg_snap sn;

	memset(&sn, 0, sizeof(sn));
	sn.ost = ost;
	sn.phase = phase;
	snprintf(sn.name, sizeof(sn.name), "%s", name);
	return mds_ost_call(osts, ost, MSG_OP_OST_SNAP, &sn, sizeof(sn), NULL,
	    0, NULL);
}

/* Copy the database as connection `src` sees it (its open read
 * transaction: the instant) to a new file `path`. */
static int
store_copy(sqlite3 *src, const char *path)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int rc;

	(void)unlink(path);
	rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK)
		goto out;
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (b == NULL) {
		rc = sqlite3_errcode(dst);
		goto out;
	}
	rc = sqlite3_backup_step(b, -1);
	(void)sqlite3_backup_finish(b);
	if (rc == SQLITE_DONE)
		rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL,
		    NULL, NULL);
out:
	if (rc != SQLITE_OK)
		log_err("%s: %s: %s", __func__, path, dst ?
		    sqlite3_errmsg(dst) : "out of memory");
	sqlite3_close(dst);
	return rc == SQLITE_OK ? 0 : -EIO;
}

/* The end of a file's data as OST `k` of its layout holds it (glimpse). */
static uint64_t
stripe_end(const struct mds_layout *l, uint32_t k, uint64_t obj_size)
{
	uint64_t s = l->hdr.stripe_size, c = l->hdr.nent, o = obj_size - 1;

	return obj_size == 0 ? 0 : ((o / s) * c + k) * s + o % s + 1;
}

struct osize {
	uint64_t	ino, size;
};

/*
 * Files open for write at the instant: their size in the store is the one
 * of their last close or size change, and of APPEND reservations, which
 * this leaves out (struct ofile); their data is on the (frozen) OSTs.
 * Their size as a stat would see it now (a glimpse), for the copy: data
 * written and acknowledged before the instant is in the backup. Called in
 * the pause; `rd` reads the instant. Returns how many (malloc'd into
 * *out), or -errno.
 */
static int
open_sizes(struct mds_ns *ns, struct mds_osts *osts, sqlite3 *rd,
    struct osize **out)
{
	static const char qs[] = "SELECT size, layout FROM inode WHERE ino = ?1";
	sqlite3_stmt *sel = NULL;
	struct osize *v = NULL;
	int n = 0, cap = 0;

	*out = NULL;
	for (int i = 0; i < OHASH_SIZE; i++) {
		for (struct ofile *of = ns->ofiles[i]; of != NULL; of = of->next) {
			struct mds_layout l;
			uint64_t size;

			if (of->writers == 0)
				continue;
			if (sel == NULL && sqlite3_prepare_v2(rd, qs, -1, &sel,
			    NULL) != SQLITE_OK) {
				free(v);
				return -EIO;
			}
			sqlite3_reset(sel);
			sqlite3_bind_int64(sel, 1, (sqlite3_int64)of->ino);
			if (sqlite3_step(sel) != SQLITE_ROW ||
			    mds_layout_decode(sqlite3_column_blob(sel, 1),
			    (size_t)sqlite3_column_bytes(sel, 1), &l) < 0 ||
			    l.hdr.nent == 0 || l.hdr.stripe_size == 0)
				continue;
			/* not the ranges APPENDs reserved and may not have
			 * written yet: the objects say what they hold */
			size = of->app_open ? of->app_base :
			    (uint64_t)sqlite3_column_int64(sel, 0);
			for (uint32_t k = 0; k < l.hdr.nent; k++) {
				struct msg_obj ob = { .ost = l.ent[k].ost,
				    .oid = l.ent[k].oid };
				struct msg_obj_attr oa;
				uint32_t rlen = 0;

				if (mds_ost_call(osts, ob.ost, MSG_OP_OST_GETATTR,
				    &ob, sizeof(ob), &oa, sizeof(oa), &rlen) == 0 &&
				    rlen >= sizeof(oa) &&
				    stripe_end(&l, k, oa.size) > size)
					size = stripe_end(&l, k, oa.size);
			}
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				v = realloc(v, (size_t)cap * sizeof(*v));
				if (v == NULL) {
					sqlite3_finalize(sel);
					return -ENOMEM;
				}
			}
			v[n].ino = of->ino;
			v[n++].size = size;
		}
	}
	sqlite3_finalize(sel);
	*out = v;
	return n;
}

/* Write the sizes open_sizes() found into the copy at `path`. */
static int
sizes_apply(const char *path, const struct osize *v, int n)
{
	static const char qu[] = "UPDATE inode SET size = ?2 WHERE ino = ?1";
	sqlite3_stmt *upd = NULL;
	sqlite3 *db = NULL;
	int rc;

	if (n == 0)
		return 0;
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, qu, -1, &upd, NULL);
	for (int i = 0; rc == SQLITE_OK && i < n; i++) {
		sqlite3_reset(upd);
		sqlite3_bind_int64(upd, 1, (sqlite3_int64)v[i].ino);
		sqlite3_bind_int64(upd, 2, (sqlite3_int64)v[i].size);
		rc = sqlite3_step(upd) == SQLITE_DONE ? SQLITE_OK :
		    sqlite3_errcode(db);
	}
	if (rc != SQLITE_OK)
		log_err("%s: %s: %s", __func__, path, db ? sqlite3_errmsg(db) :
		    "out of memory");
	sqlite3_finalize(upd);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -EIO;
}

/*
 * A second connection to the store for the snapshot's read transaction
 * (WAL: it keeps seeing the instant while the store goes on), opened
 * before the pause; BEGIN here, the first read in the pause starts it.
 */
static sqlite3 *
reader_open(const char *dbpath)
{
	sqlite3 *rd = NULL;

	if (sqlite3_open_v2(dbpath, &rd, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NS_VFS) != SQLITE_OK ||
	    sqlite3_exec(rd, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		log_err("%s: %s: %s", __func__, dbpath, rd ?
		    sqlite3_errmsg(rd) : "out of memory");
		sqlite3_close(rd);
		return NULL;
	}
	return rd;
}

int
mds_snap_take(struct mds_ns *ns, struct mds_osts *osts, const char *name)
{
	struct msg_ost_ent *v;
	char *dbpath, *dir, *path = NULL;
	unsigned n, frozen = 0;
	uint64_t t0, t1 = 0, t2 = 0, t3 = 0;
	struct osize *sz = NULL;
	sqlite3 *rd;
	int rc, nsz = 0;

	dbpath = xstrdup(sqlite3_db_filename(ns->db, "main"));
	rd = reader_open(dbpath);
	dir = xasprintf("%s/snap/%s", dirname(dbpath), name);
	rc = rd == NULL ? -EIO : mkdir_p(dir, 0700);
	if (rc < 0)
		goto out_free;
	path = xasprintf("%s/mds.db", dir);
	n = mds_ost_count(osts);
	v = xcalloc(n ? n : 1, sizeof(*v));
	n = mds_ost_list(osts, v, n);

	(void)mds_ns_atime_flush(ns);	/* read atimes into the instant */
	mds_tx_rlock(ns);
	t0 = now_mono_ns();
	for (; frozen < n; frozen++) {
		rc = ost_phase(osts, v[frozen].ost, MSG_SNAP_FREEZE, name);
		if (rc < 0) {
			log_err("%s: freeze ost %u: %s", __func__,
			    v[frozen].ost, strerror(-rc));
			break;
		}
	}
	t1 = now_mono_ns();
	/* the instant: a read transaction (O(1) in WAL), and open files */
	if (rc == 0 && sqlite3_exec(rd, "SELECT count(*) FROM sqlite_master",
	    NULL, NULL, NULL) != SQLITE_OK)
		rc = -EIO;
	if (rc == 0) {
		nsz = open_sizes(ns, osts, rd, &sz);
		rc = nsz < 0 ? nsz : 0;
	}
	t2 = now_mono_ns();
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		rc = ost_phase(osts, v[i].ost, MSG_SNAP_MARK, name);
		if (rc < 0)
			log_err("%s: mark ost %u: %s", __func__, v[i].ost,
			    strerror(-rc));
	}
	t3 = now_mono_ns();
	for (unsigned i = 0; i < frozen; i++)
		(void)ost_phase(osts, v[i].ost, MSG_SNAP_THAW, name);
	atomic_store(&last_hold_us, (now_mono_ns() - t0) / 1000);
	pthread_mutex_unlock(&ns->lock);

	/* after the pause: the copy, from the instant's read transaction */
	if (rc == 0)
		rc = store_copy(rd, path);
	if (rc == 0)
		rc = sizes_apply(path, sz, nsz);
	if (rc < 0)
		(void)rm_rf(dir);
	else
		log_info("%s: %s: %u OSTs, namespace held %llu us (freeze %llu,"
		    " instant %llu, mark %llu); %d open files", __func__, name, n,
		    mds_snap_last_hold_us(), (unsigned long long)(t1 - t0) / 1000,
		    (unsigned long long)(t2 - t1) / 1000,
		    (unsigned long long)(t3 - t2) / 1000, nsz);
	free(v);
	free(sz);
out_free:
	if (rd != NULL) {
		(void)sqlite3_exec(rd, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(rd);
	}
	free(path);
	free(dir);
	free(dbpath);
	return rc;
}
