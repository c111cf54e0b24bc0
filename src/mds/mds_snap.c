/*
 * MDS side of a backup's snapshot (mds_snap.h, docs/backups.md).
 *
 * Order, and why it gives one instant:
 *   1. take the store lock with no batch open: every acknowledged
 *      namespace change is committed, and none can start;
 *   2. FREEZE every OST: every acknowledged write is on disk, and none
 *      can start;
 *   3. copy the store (sqlite3_backup, page by page, from this
 *      connection: it sees exactly the committed state);
 *   4. LINK every OST (hard links: no data is copied in the pause);
 *   5. THAW every OST, release the store lock.
 * Between 2 and 5 nothing of the file system changes, so the copy and
 * the links are the same instant. Writers see a pause of steps 2-5;
 * namespace changes one of steps 1-5.
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

/* Copy the store, as this connection sees it, to `path`. */
static int
store_copy(struct mds_ns *ns, const char *path)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int rc;

	(void)unlink(path);
	rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK)
		goto out;
	b = sqlite3_backup_init(dst, "main", ns->db, "main");
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

int
mds_snap_take(struct mds_ns *ns, struct mds_osts *osts, const char *name)
{
	struct msg_ost_ent *v;
	char *dbpath, *dir, *path = NULL;
	unsigned n, frozen = 0;
	uint64_t t0;
	int rc;

	dbpath = xstrdup(sqlite3_db_filename(ns->db, "main"));
	dir = xasprintf("%s/snap/%s", dirname(dbpath), name);
	rc = mkdir_p(dir, 0700);
	if (rc < 0)
		goto out_free;
	path = xasprintf("%s/mds.db", dir);
	n = mds_ost_count(osts);
	v = xcalloc(n ? n : 1, sizeof(*v));
	n = mds_ost_list(osts, v, n);

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
	if (rc == 0)
		rc = store_copy(ns, path);
	for (unsigned i = 0; rc == 0 && i < n; i++) {
		rc = ost_phase(osts, v[i].ost, MSG_SNAP_LINK, name);
		if (rc < 0)
			log_err("%s: link ost %u: %s", __func__, v[i].ost,
			    strerror(-rc));
	}
	for (unsigned i = 0; i < frozen; i++)
		(void)ost_phase(osts, v[i].ost, MSG_SNAP_THAW, name);
	atomic_store(&last_hold_us, (now_mono_ns() - t0) / 1000);
	pthread_mutex_unlock(&ns->lock);

	if (rc < 0)
		(void)rm_rf(dir);
	else
		log_info("%s: %s: %u OSTs, namespace held %llu us", __func__,
		    name, n, mds_snap_last_hold_us());
	free(v);
out_free:
	free(path);
	free(dir);
	free(dbpath);
	return rc;
}
